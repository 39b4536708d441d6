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

    # a full ID number is posted, never put into an address
    sent = []
    page.on("request", lambda request: sent.append(request.url))
    with page.expect_response(lambda r: r.request.method == "POST" and "/members/" in r.url):
        page.fill("#member-q", "150902196203101007")
        page.keyboard.press("Enter")
    page.locator("#member-rows", has_text="梁艳荣").wait_for()
    assert "150902196203101007" not in page.url
    assert not [url for url in sent if "196203101007" in url]

    phone = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN")
    phone.add_cookies(page.context.cookies())
    small = phone.new_page()
    small.goto(f"{base}/members/import/")
    small.screenshot(path=str(ARTIFACTS / "members-03-import-375.png"), full_page=True)
    small.goto(f"{base}/members/?q=lyr")
    small.screenshot(path=str(ARTIFACTS / "members-04-list-375.png"), full_page=True)
    phone.close()


def test_progress_page_polls_until_done(browser, live_server, worker, settings, tmp_path):
    """A running job's page shows its progress, follows it, then shows the report."""
    from hongyan.members import imports
    from hongyan.members.models import ImportBatch
    from hongyan.orgs.models import Unit

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    settings.MEDIA_ROOT = tmp_path
    batch = ImportBatch.objects.create(
        actor=worker,
        unit=Unit.objects.get(code="150902001001"),
        filename="花名册.xlsx",
        kind="xlsx",
        sha256="0" * 64,
        size=1,
        stored="job.bin",
        state=ImportBatch.State.CHECKING,
    )
    progress = imports.Progress(batch)
    progress("check", 3000, 12000, force=True)
    page = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN").new_page()
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "enhe_worker")
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/members/import/?batch={batch.pk}")
    page.locator("#import-job-count", has_text="3000 / 12000 行（25%）").wait_for()
    assert page.get_by_text("正在检查每一行").is_visible()
    page.screenshot(path=str(ARTIFACTS / "members-05-job-progress-375.png"), full_page=True)
    progress("check", 9000, 12000, force=True)
    page.locator("#import-job-count", has_text="9000 / 12000 行（75%）").wait_for()
    ImportBatch.objects.filter(pk=batch.pk).update(
        state=ImportBatch.State.CHECKED,
        summary={"rows": 12000, "errors": 0, "create": 12000, "update": 0, "notices": 0},
    )
    page.get_by_role("button", name="确认导入").wait_for()
    assert "12000" in page.inner_text("#import-summary")


def test_worker_moves_and_removes_a_member_on_a_phone(browser, live_server, worker):
    """On a phone: a community worker moves a member to another compound, then removes
    another one (去世) with a note; the register no longer lists them."""
    from hongyan.members import services
    from hongyan.members.models import Member
    from hongyan.orgs import services as org_services
    from hongyan.orgs.models import Unit, UnitKind

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    community = Unit.objects.get(code="150902001001")
    old = org_services.unit_create_child(
        actor=worker, parent=community, kind=UnitKind.COMPOUND, name="恩和花园"
    )
    new = org_services.unit_create_child(
        actor=worker, parent=community, kind=UnitKind.COMPOUND, name="御景华府"
    )
    liang = services.member_create(
        actor=worker, unit=old, name="梁艳荣", id_number="150902196203101007"
    )
    from .conftest import make_id

    gao = services.member_create(actor=worker, unit=old, name="高娃", id_number=make_id(seq=186))
    page = browser.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN").new_page()
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "enhe_worker")
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/members/{liang.pk}/")
    page.get_by_role("link", name="迁居").click()
    page.select_option("select[name=unit]", new.code)
    page.fill("input[name=building]", "3号楼")
    page.fill("input[name=room]", "502")
    page.screenshot(path=str(ARTIFACTS / "members-06-transfer-375.png"), full_page=True)
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已将 梁艳荣 迁至御景华府").wait_for()
    assert "御景华府 3号楼502" in page.inner_text("main")

    page.goto(f"{base}/members/{gao.pk}/")
    page.get_by_role("link", name="移出名册").click()
    page.get_by_label("其他").check()
    page.get_by_role("button", name="确认移出").click()
    page.get_by_text("至少 4 个字").wait_for()  # "other" needs a reason
    page.get_by_label("去世").check()
    page.fill("input[name=reason]", "2026年11月病故")
    page.screenshot(path=str(ARTIFACTS / "members-07-remove-375.png"), full_page=True)
    page.get_by_role("button", name="确认移出").click()
    page.get_by_text("已将 高娃 移出名册").wait_for()
    rows = page.inner_text("#member-rows")
    assert "高娃" not in rows and "梁艳荣" not in rows  # the list is of 恩和花园 now
    assert Member.records.get(pk=gao.pk).removed_kind == "deceased"
