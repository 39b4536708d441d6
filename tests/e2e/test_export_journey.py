"""Export control on a phone (issue 6, item 5): the street admin asks for the member
register with full ID numbers and mobiles, steps up with a TOTP, waits; the district
admin (who holds export.approve over the street) approves it; the street admin downloads
the .xlsx — a red watermark row naming the request, the full values inside — and, once
the file's time is up, the same link answers 410 with the way forward."""

import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from hongyan.exports.models import ExportRequest
from hongyan.members.models import Member
from hongyan.orgs.models import Unit

from .test_totp_journey import PHONE, code_for, no_sideways_scroll, password_step, watch_csp

pytestmark = pytest.mark.e2e

STREET = "150902001"  # 新体路街道: street_admin's; jining_admin's district holds it


def test_unmasked_export_is_approved_downloaded_then_expires(
    browser, live_server, demo_city, shot, settings
):
    settings.RATE_LIMITS = {}
    base = live_server.url
    secrets = dict(demo_city["totp"])

    # the street admin asks for the full register: a TOTP first, then the request waits
    asker = browser.new_context(viewport=PHONE, locale="zh-CN", accept_downloads=True)
    page = asker.new_page()
    refused = watch_csp(page)
    password_step(page, base, "street_admin")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/exports/new/")

    def ask():
        page.select_option("select[name=unit]", STREET)
        page.uncheck("input[name=masked]")
        page.fill("[name=reason]", "核对党员组织关系转接名单")
        page.locator("#main button[type=submit]").first.click()

    ask()
    page.wait_for_url(re.compile(r"/account/step-up/\?next="))
    no_sideways_scroll(page, PHONE)
    shot(page, "phone-export-01-step-up")
    page.fill("input[name=code]", code_for(secrets["street_admin"]))
    page.locator("#main button[type=submit]").first.click()
    page.wait_for_url(f"{base}/exports/new/")
    shot(page, "phone-export-02-form")
    ask()
    page.wait_for_url(re.compile(r"/exports/\d+/$"))
    export = ExportRequest.objects.get(requester__username="street_admin")
    assert export.state == "pending" and not export.masked and export.needs_approval
    assert "等待" in page.inner_text("#main")
    assert page.get_by_role("link", name="下载").count() == 0
    no_sideways_scroll(page, PHONE)
    shot(page, "phone-export-03-waiting")

    # the district admin finds it among the approvals and approves it
    approver = browser.new_context(viewport=PHONE, locale="zh-CN")
    other = approver.new_page()
    refused += watch_csp(other)
    password_step(other, base, "jining_admin")
    other.wait_for_url(f"{base}/")
    other.goto(f"{base}/exports/approvals/")
    no_sideways_scroll(other, PHONE)
    shot(other, "phone-export-04-approvals")
    other.get_by_role("link", name=export.ref).click()
    other.wait_for_url(f"{base}/exports/{export.pk}/")
    assert "核对党员组织关系转接名单" in other.inner_text("#main")
    shot(other, "phone-export-05-decide")
    other.fill("input[name=note]", "同意，用后即删")
    other.get_by_role("button", name="批准").click()
    other.wait_for_url(f"{base}/exports/approvals/")
    assert "已批准" in other.inner_text("body")
    approver.close()

    # the street admin downloads the file: the watermark, then the full values
    page.goto(f"{base}/exports/{export.pk}/")
    shot(page, "phone-export-06-ready")
    with page.expect_download() as got:
        page.get_by_role("link", name="下载").click()
    download = got.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as file:  # saved without an extension: read the bytes
        sheet = load_workbook(io.BytesIO(file.read())).active
    rows = list(sheet.iter_rows(values_only=True))
    mark = rows[0][0]
    assert f"申请编号 {export.ref}" in mark and "含完整个人信息" in mark, mark
    assert "street_admin" in mark and "jining_admin" in mark, mark
    assert rows[1][4] == "身份证号码" and rows[1][5] == "手机号码"
    street = Unit.objects.get(code=STREET)
    members = Member.objects.filter(unit__path__startswith=street.path)
    assert len(rows) - 2 == members.count() > 0
    ids = {r[4] for r in rows[2:]}
    sample = members.order_by("pk").first()
    assert sample.id_number in ids and not any("*" in (i or "") for i in ids)
    export.refresh_from_db()
    assert export.downloads == 1

    # the file's time is up: the same link answers 410 and says what to do
    ExportRequest.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = page.goto(f"{base}/exports/{export.pk}/download/")
    assert response.status == 410
    body = page.inner_text("#main")
    assert "下载链接已过期" in body and "重新申请导出" in body
    no_sideways_scroll(page, PHONE)
    shot(page, "phone-export-07-expired")
    export.refresh_from_db()
    assert export.state == "expired" and export.stored == ""
    assert not refused, refused
    asker.close()
