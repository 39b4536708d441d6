"""A district admin checks branch coverage of 集宁区, on a desk and on a phone."""

import re

import pytest

from hongyan.orgs.models import Unit
from hongyan.orgs.selectors import coverage_of

from .conftest import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

DESK = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}


def log_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


@pytest.mark.parametrize("viewport", [DESK, PHONE], ids=["desk", "phone"])
def test_district_admin_sees_coverage_and_drills_down(
    browser, live_server, demo_city, shot, viewport
):
    jining = Unit.objects.get(code="150902")
    coverage = coverage_of(jining)
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    refused = []  # the strict CSP must never block our own pages
    page.on(
        "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
    )
    name = "desk" if viewport is DESK else "phone"

    log_in(page, live_server.url, "jining_admin")
    shot(page, f"{name}-01-home")
    # the home page leads with the district's figure
    body = page.inner_text("body")
    assert "集宁区" in body
    assert f"{coverage.with_own_branch}" in body and "个小区党支部" in body

    page.goto(f"{live_server.url}/units/150902/")
    body = page.inner_text("body")
    assert "734" in body and "个小区党支部" in body
    assert re.search(r"覆盖\s*9[5-9]\.\d%", body), body[:500]
    shot(page, f"{name}-02-jining")

    # drill down: street → community, breadcrumbs follow
    page.get_by_role("link", name=re.compile("新体路街道")).first.click()
    page.wait_for_url(re.compile(r"/units/150902001/$"))
    page.get_by_role("link", name=re.compile("恩和路社区")).first.click()
    page.wait_for_url(re.compile(r"/units/150902001001/$"))
    crumbs = page.inner_text("nav[aria-label]")
    assert "集宁区" in crumbs and "新体路街道" in crumbs
    shot(page, f"{name}-03-community")

    # nothing overflows the viewport sideways
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page is {overflow}px wider than the {viewport['width']}px viewport"

    # live search in the tree browser (htmx, under the CSP): rows change as one types
    page.goto(f"{live_server.url}/units/")
    page.fill("input[name=q]", "恩和路")
    page.wait_for_selector("#unit-rows >> text=恩和路社区")
    assert "150902001001" in page.inner_text("#unit-rows")
    shot(page, f"{name}-04-search")

    # an outsider's district is not there for this account
    response = page.goto(f"{live_server.url}/units/150981/")
    assert response.status == 404
    assert not refused, refused
    context.close()


def test_wrong_password_then_lockout_message(browser, live_server, demo_city, shot):
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{live_server.url}/login/")
    for _ in range(5):
        page.fill("input[name=username]", "community_worker")
        page.fill("input[name=password]", "not-the-password")
        page.click("button[type=submit]")
    assert "锁定" in page.inner_text("body")
    shot(page, "phone-04-locked")
    # even the right password is refused while locked
    page.fill("input[name=username]", "community_worker")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    assert "/login/" in page.url and "锁定" in page.inner_text("body")
    page.close()
