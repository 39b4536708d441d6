"""Administrators sign in with a TOTP, on a phone: the audit administrator binds an
authenticator from the QR page's secret and saves the recovery codes, the system
administrator signs in with the demo's printed secret and creates an account, and a
community worker steps up with a TOTP before revealing a member's mobile."""

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp

from hongyan.core.models import User
from hongyan.members.models import Member

from .conftest import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

DESK = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}


def code_for(secret: str) -> str:
    raw = secret.replace(" ", "").upper()
    return f"{totp(b32decode(raw + '=' * (-len(raw) % 8))):06d}"


def submit(page):
    page.locator("#main button[type=submit]").first.click()


def password_step(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    submit(page)


def no_sideways_scroll(page, viewport):
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{page.url} is {overflow}px wider than {viewport['width']}px"


def watch_csp(page):
    refused = []
    page.on(
        "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
    )
    return refused


def test_administrators_sign_in_with_a_totp(browser, live_server, demo_city, shot):
    base = live_server.url
    secrets = dict(demo_city["totp"])
    assert {"system_admin", "security_admin", "audit_admin", "community_worker"} <= set(secrets)
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    refused = watch_csp(page)

    # the audit administrator binds a new authenticator (the demo's one was reset)
    from hongyan.core import factors

    factors.remove_all(User.objects.get(username="audit_admin"))
    password_step(page, base, "audit_admin")
    page.wait_for_url(f"{base}/login/verify/")
    page.get_by_role("img", name="绑定身份验证器的二维码").wait_for()
    secret = page.inner_text("#totp-secret")
    no_sideways_scroll(page, PHONE)
    shot(page, "phone-totp-01-enrol")
    page.fill("input[name=code]", "000000")
    submit(page)
    page.get_by_text("动态口令不正确").wait_for()
    page.fill("input[name=code]", code_for(secret))
    submit(page)
    page.wait_for_url(f"{base}/account/recovery-codes/")
    assert len(page.inner_text("#recovery-codes").split()) == 10
    shot(page, "phone-totp-02-recovery-codes")
    page.get_by_role("link", name="我已保存，继续").click()
    page.wait_for_url(f"{base}/")
    page.locator("#admin-tools").wait_for()  # the administrators' home: their tools
    no_sideways_scroll(page, PHONE)
    shot(page, "phone-totp-02b-admin-home")
    page.goto(f"{base}/audit/")
    page.get_by_role("heading", name="审计日志").wait_for()
    assert "auth.totp_enrol" in page.inner_text("body")
    context.clear_cookies()

    # the system administrator signs in with the secret `hongyan demo` printed
    password_step(page, base, "system_admin")
    page.wait_for_url(f"{base}/login/verify/")
    assert page.locator("img").count() == 0  # already bound: no QR code
    page.fill("input[name=code]", code_for(secrets["system_admin"]))
    submit(page)
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/accounts/")
    page.get_by_role("heading", name="账号管理").wait_for()
    no_sideways_scroll(page, PHONE)
    shot(page, "phone-totp-03-accounts")
    page.get_by_role("link", name="新建账号").click()
    page.fill("input[name=username]", "wang_fang")
    page.fill("input[name=display_name]", "王芳")
    submit(page)
    page.locator("#issued-password").wait_for()
    assert re.search(r"Hy\w{12}-\d\d", page.inner_text("#issued-password"))
    shot(page, "phone-totp-04-issued-password")
    assert User.objects.get(username="wang_fang").must_change_password
    context.clear_cookies()

    # a community worker reveals a mobile after a step-up
    worker = User.objects.get(username="community_worker")
    unit = worker.grants.get().unit
    member = (
        Member.objects.filter(unit__path__startswith=unit.path)
        .exclude(mobile_enc="")
        .order_by("pk")
        .first()
    )
    password_step(page, base, "community_worker")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/members/{member.pk}/reveal/")
    page.select_option("select[name=field]", "mobile")
    page.fill("[name=reason]", "电话通知开会事宜")
    page.get_by_role("button", name="查看", exact=True).click()
    page.wait_for_url(re.compile(r"/account/step-up/\?next="))
    no_sideways_scroll(page, PHONE)
    shot(page, "phone-totp-05-step-up")
    page.fill("input[name=code]", code_for(secrets["community_worker"]))
    submit(page)
    page.wait_for_url(f"{base}/members/{member.pk}/reveal/")
    page.select_option("select[name=field]", "mobile")
    page.fill("[name=reason]", "电话通知开会事宜")
    page.get_by_role("button", name="查看", exact=True).click()
    page.locator("#mobile mark").wait_for()
    assert page.inner_text("#mobile mark") == member.mobile
    shot(page, "phone-totp-06-revealed")
    assert not refused, refused
    context.close()

    # the security administrator's account page, on a desk
    page = browser.new_page(viewport=DESK)
    password_step(page, base, "security_admin")
    page.wait_for_url(f"{base}/login/verify/")
    page.fill("input[name=code]", code_for(secrets["security_admin"]))
    submit(page)
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/accounts/detail/?username=community_worker")
    page.get_by_role("heading", name="角色和授权").wait_for()
    shot(page, "desk-totp-07-account")
    page.close()
