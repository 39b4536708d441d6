"""At 375 px: the city admin changes a care group's frequency (a slip first, shown on
its row); a compound head holding only a party-member grant finds 关爱走访 in the menu."""

import importlib
import re
from datetime import date, timedelta

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from hongyan.core.roles import Role

pytestmark = pytest.mark.e2e

PASSWORD = "Care-Groups-2026"
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def world(transactional_db):
    from hongyan.care import services
    from hongyan.care.models import CareGroup
    from hongyan.core.models import Grant, User
    from hongyan.members import services as member_services
    from hongyan.orgs import services as org_services
    from hongyan.orgs.loader import load_divisions
    from hongyan.orgs.models import Unit, UnitKind

    from .conftest import make_id

    load_divisions()
    importlib.import_module("hongyan.care.migrations.0002_default_groups").add(django_apps, None)

    def account(username, role, unit):
        user = User.objects.create_user(
            username, password=PASSWORD, password_changed_at=timezone.now()
        )
        Grant.objects.create(user=user, role=role, unit=unit)
        return user

    city = Unit.objects.get(code="1509")
    community = Unit.objects.get(code="150902001001")
    account("city", Role.CITY_ADMIN, city)
    admin = account("street", Role.STREET_ADMIN, community.parent)
    compound = org_services.unit_create_child(
        actor=admin, parent=community, kind=UnitKind.COMPOUND, name="御景华府"
    )
    head = account("head", Role.PARTY_MEMBER, compound)
    member = member_services.member_create(
        actor=admin, unit=compound, name="孟院长", id_number=make_id(701, date(1962, 1, 1))
    )
    member.account = head
    member.save(update_fields=["account"])
    post = member_services.post_assign(
        actor=admin, member=member, kind="compound_head", unit=compound
    )
    services.recipient_create(
        actor=admin,
        unit=compound,
        group=CareGroup.objects.get(code="elderly_alone"),
        name="冯奶奶",
        visitor_post=post,
        registered_on=timezone.localdate() - timedelta(days=20),
    )


def _phone(browser, live_server, username, refused):
    page = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def _fits(page):
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the phone"


def test_city_admin_changes_a_frequency_and_the_head_sees_the_menu(
    browser, live_server, world, shot
):
    from hongyan.care.models import CareGroup

    refused = []
    page = _phone(browser, live_server, "city", refused)
    page.goto(f"{live_server.url}/care/groups/")
    row = page.locator("[data-test=group-elderly_alone]")
    row.locator("input[name=interval_days]").fill("400")
    row.get_by_role("button", name="保存").click()
    error = page.locator("#id_elderly_alone_interval_days_error")
    error.wait_for()
    assert "走访周期应为 1 到 366 天" in error.inner_text()
    _fits(page)
    shot(page, "care-phone-10-groups-error")
    row = page.locator("[data-test=group-elderly_alone]")
    row.locator("input[name=interval_days]").fill("10")
    row.get_by_role("button", name="保存").click()
    page.locator(".alert-success, [role=alert]").first.wait_for()
    assert "每 10 天走访一次" in page.locator("main").inner_text()
    _fits(page)
    shot(page, "care-phone-11-groups-saved")
    assert CareGroup.objects.get(code="elderly_alone").interval_days == 10

    head = _phone(browser, live_server, "head", refused)
    link = head.locator("a[href='/care/']").first
    assert link.count() == 1
    head.goto(f"{live_server.url}/care/")
    assert "冯奶奶" in head.locator("main").inner_text()
    _fits(head)
    shot(head, "care-phone-12-head-visits")
    assert not refused, refused
    assert re.search("关爱走访", head.content())
