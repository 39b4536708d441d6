"""At 375 px (and at a desk): a community worker registers a volunteer. She finds a
party member by name (htmx swaps the list in place); a slip (no member chosen, no name,
no home) comes back next to the fields with the search kept; she picks him and his
record opens."""

import re
from datetime import date

import pytest

from hongyan.core.roles import Role
from hongyan.orgs import services as org_services
from hongyan.orgs.loader import load_divisions
from hongyan.orgs.models import Unit, UnitKind
from hongyan.volunteers.models import Volunteer

from .test_journey import PASSWORD, account, log_in, no_sideways_scroll, phone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def world():
    from hongyan.members import services as member_services
    from tests.care.conftest import make_id

    load_divisions()
    community = Unit.objects.get(code="150902001001")
    admin = account("street", "街道管理员", Role.STREET_ADMIN, community.parent)
    account("cworker", "社区小刘", Role.COMMUNITY_WORKER, community)
    compound = org_services.unit_create_child(
        actor=admin, parent=community, kind=UnitKind.COMPOUND, name="御景华府"
    )
    grid = org_services.unit_create_child(
        actor=admin, parent=compound, kind=UnitKind.GRID, name="御景华府第一网格"
    )
    building = org_services.unit_create_child(
        actor=admin, parent=grid, kind=UnitKind.BUILDING, name="3号楼"
    )
    member = member_services.member_create(
        actor=admin, unit=building, name="赵建国", id_number=make_id(601, date(1968, 4, 5))
    )
    member_services.member_create(
        actor=admin, unit=building, name="赵建华", id_number=make_id(602, date(1972, 6, 7))
    )
    return {"community": community, "member": member}


def test_register_a_volunteer_on_a_phone(browser, live_server, world, shot):
    assert PASSWORD
    refused = []
    base = live_server.url
    page = phone(browser, refused)
    log_in(page, base, "cworker")
    page.goto(f"{base}/volunteers/")
    page.get_by_role("link", name="登记志愿者").click()
    page.wait_for_url(re.compile(r"/volunteers/people/new/"))
    # the search swaps the list in place (htmx); taken before any screenshot, whose
    # caret hiding leaves style="" on the inputs that htmx would then copy (a CSP report)
    page.fill("#member-q", "赵")
    choice = page.get_by_label(re.compile("赵建国"))
    choice.wait_for()
    assert page.get_by_label(re.compile("赵建华")).count() == 1
    no_sideways_scroll(page)
    shot(page, "volunteers-phone-11-register-search")

    # a slip: neither a member nor a resident's name; the search stays
    page.get_by_role("button", name="登记", exact=True).click()
    page.locator("#id_name_error").wait_for()
    assert "请选择一名党员，或填写居民姓名" in page.locator("#id_name_error").inner_text()
    assert "请选择居民的居住单位" in page.locator("#id_home_error").inner_text()
    no_sideways_scroll(page)
    shot(page, "volunteers-phone-10-register-error")

    page.get_by_label(re.compile("赵建国")).check()
    page.fill("#id_mobile", "13900002222")
    page.get_by_role("button", name="登记", exact=True).click()
    page.wait_for_url(re.compile(r"/volunteers/people/\d+/$"))
    assert "已登记 赵建国 为志愿者" in page.locator("main").inner_text()
    shot(page, "volunteers-phone-12-registered")
    volunteer = Volunteer.objects.get(member=world["member"])
    assert volunteer.mobile == "13900002222"

    assert not refused, refused
    desk = phone(browser, refused)
    desk.set_viewport_size({"width": 1280, "height": 900})
    log_in(desk, base, "cworker")
    desk.goto(f"{base}/volunteers/people/new/?q=赵")
    desk.get_by_label(re.compile("赵建华")).wait_for()  # 赵建国 is a volunteer now
    shot(desk, "volunteers-desk-13-register")
    assert not refused, refused
