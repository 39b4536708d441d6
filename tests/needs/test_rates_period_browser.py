"""The rates panel's period picker in a browser, on a 375-px phone and a desktop: the
presets and dates swap the panel (htmx) without a page load, and nothing scrolls sideways."""

from datetime import date, datetime, time

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from hongyan.orgs.loader import load_divisions

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def divisions(transactional_db):
    load_divisions()  # a transactional test starts from whatever the last one left


def session_page(browser, base, user, viewport, refused):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
    page = context.new_page()
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return page


def test_picking_a_period(browser, live_server, tree, alice, file_need, shot):
    today = timezone.localdate()
    file_need(at=timezone.make_aware(datetime.combine(today, time(10))))
    last_year = date(today.year - 1, 6, 15)
    file_need(at=timezone.make_aware(datetime.combine(last_year, time(10))))
    refused: list[str] = []
    page = session_page(browser, live_server.url, alice, {"width": 375, "height": 760}, refused)
    page.goto(f"{live_server.url}/units/{tree.community_a.code}/")
    page.locator("[data-test=need-rates]").wait_for()
    page.get_by_role("link", name="去年", exact=True).click()
    page.locator("[data-test=need-rates-period]").filter(
        has_text=f"{today.year - 1}年1月1日"
    ).wait_for()
    assert page.url.endswith(f"/units/{tree.community_a.code}/")  # swapped in place
    assert page.locator("[data-test=need-rates] .hy-fig-num").first.inner_text() == "1"
    page.fill("#need-rates-from", f"{today.year - 1}-01-01")
    page.fill("#need-rates-to", today.isoformat())
    page.get_by_role("button", name="查看", exact=True).click()
    page.locator("[data-test=need-rates-period]").filter(has_text=f"{today.year}年").wait_for()
    assert page.locator("[data-test=need-rates] .hy-fig-num").first.inner_text() == "2"
    for name, width in (("phone", 375), ("desktop", 1280)):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{overflow}px wider than the {name}"
        panel = page.locator("#need-rates")
        panel.screenshot(path=str(shot(page, f"needs-rates-period-{name}")))
    assert not refused
