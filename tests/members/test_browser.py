"""In Chromium: a community worker imports the community's sheet, reads the report,
fixes row 57, imports again, and finds a member by the initials "lyr"."""

import io
import os
import re
from pathlib import Path

import pytest
from openpyxl import Workbook

from hongyan.core.roles import Role

from .test_import import HEADERS, sheet_rows

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("HONGYAN_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "Members-E2e-2026"


@pytest.fixture
def job_threads(transactional_db, settings):
    """Import jobs run in their own thread with their own connection. On PostgreSQL
    they do so here too; the SQLite test database lives in memory with a shared cache,
    which refuses a second connection at once instead of waiting as a WAL file does, so
    there the job runs within the request (test_import_job_runs_in_a_thread covers the
    thread, test_progress_page_polls_until_done the page's polling)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        settings.HONGYAN_IMPORT_INLINE = True


@pytest.fixture
def worker(transactional_db, job_threads):
    from hongyan.core.models import Grant, User
    from hongyan.orgs.loader import load_divisions
    from hongyan.orgs.models import Unit

    load_divisions()  # a transactional test starts from whatever the last one left
    user = User.objects.create_user(
        "enhe_worker", password=PASSWORD, display_name="恩和路社区工作者"
    )
    Grant.objects.create(
        user=user, role=Role.COMMUNITY_WORKER, unit=Unit.objects.get(code="150902001001")
    )
    return user


def register(bad_row=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["新体路街道恩和路社区党员花名册"])
    ws.append(HEADERS)
    rows = sheet_rows(60, bad_row=None if bad_row is None else bad_row - 1, compound="恩和花园")
    rows[0] = [
        1,
        "梁艳荣",
        "女",
        "汉族",
        "150902196203101007",
        "13530246633",
        "1985.07",
        "恩和花园",
        "文艺",
    ]
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_worker_imports_fixes_row_57_and_finds_lyr(browser, live_server, worker, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    bad, good = tmp_path / "花名册.xlsx", tmp_path / "花名册-改正.xlsx"
    bad.write_bytes(register(bad_row=57))  # the title row shifts data: Excel row 57
    good.write_bytes(register())
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "enhe_worker")
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/members/import/")
    page.set_input_files("input[type=file]", str(bad))
    page.click("#import-form button[type=submit]")
    page.wait_for_url(re.compile(r"/members/import/\?batch=\d+"))
    # the check runs as a job outside the request; the page polls it, then shows the report
    page.locator("#import-problems").wait_for()
    report = page.inner_text("#import-problems")
    assert re.search(r"57\s+身份证号码\s+身份证号码校验位不正确", report), report[:400]
    assert page.get_by_role("button", name="确认导入").count() == 0
    page.screenshot(path=str(ARTIFACTS / "members-01-report.png"), full_page=True)

    page.goto(f"{base}/members/import/")
    page.set_input_files("input[type=file]", str(good))
    page.click("#import-form button[type=submit]")
    page.wait_for_url(re.compile(r"/members/import/\?batch=\d+"))
    page.get_by_text("每一行都通过了检查").wait_for()
    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("已导入：新增 60 名，更新 0 名").wait_for()
    page.get_by_role("link", name="查看名册").click()
    page.wait_for_url(re.compile(r"/members/\?unit=150902001001"))

    page.fill("#member-q", "lyr")
    page.keyboard.press("Enter")
    # a locator wait, not wait_for_function: the strict CSP forbids evaluating strings
    page.locator("#member-rows", has_text="共 1 名党员").wait_for()
    rows = page.inner_text("#member-rows")
    assert "梁艳荣" in rows and "135****6633" in rows and "13530246633" not in rows
    page.screenshot(path=str(ARTIFACTS / "members-02-found-lyr.png"), full_page=True)
