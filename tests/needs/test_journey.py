"""On a 375-px phone: a resident files a need on the public page, a grid worker
dispatches it, a registered (双报到) member claims and resolves it, the resident rates it
on the follow page, and the grid's rates change."""

import re

import pytest
from django.utils import timezone

from hongyan.core.models import Grant, User
from hongyan.core.roles import Role
from hongyan.members.models import DualRegistration, Member
from hongyan.needs.models import Need, Status
from hongyan.orgs import services as org_services
from hongyan.orgs.loader import load_divisions
from hongyan.orgs.models import Unit, UnitKind

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 375, "height": 760}
PASSWORD = "Needs-Journey-2026"


def account(username, display, role, unit):
    user = User.objects.create_user(
        username, password=PASSWORD, display_name=display, password_changed_at=timezone.now()
    )
    Grant.objects.create(user=user, role=role, unit=unit)
    return user


@pytest.fixture
def world():
    load_divisions()  # a transactional test starts from whatever the last one left
    community = Unit.objects.get(code="150902001001")
    admin = account("street", "街道管理员", Role.STREET_ADMIN, community.parent)
    add = org_services.unit_create_child
    compound = add(actor=admin, parent=community, kind=UnitKind.COMPOUND, name="御景华府")
    grid = add(actor=admin, parent=compound, kind=UnitKind.GRID, name="御景华府第一网格")
    building = add(actor=admin, parent=grid, kind=UnitKind.BUILDING, name="3号楼")
    account("gridw", "网格员小王", Role.GRID_WORKER, grid)
    member_user = account("hanshifu", "韩师傅", Role.PARTY_MEMBER, building)
    member = Member.objects.create(
        unit=building,
        compound=compound,
        name="韩师傅",
        gender="male",
        id_number_enc="x",
        id_number_index="journey-member",
        account=member_user,
    )
    DualRegistration.objects.create(
        member=member,
        community=community,
        registered_at=timezone.now(),
        confirmed_at=timezone.now(),
    )
    return {"compound": compound, "grid": grid, "building": building}


def phone(browser, refused):
    page = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return page


def log_in(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{base}/")


def no_sideways_scroll(page):
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the phone"


def test_need_from_phone_to_rating(browser, live_server, world, shot):
    base = live_server.url
    refused: list[str] = []

    # 1. a resident, no account, files on the public page (the tree picker runs on htmx)
    resident = phone(browser, refused)
    resident.goto(f"{base}/report/")
    resident.fill("#id_resident_name", "李大妈")
    resident.fill("#id_resident_mobile", "13812345678")
    resident.select_option("#id_county", "150902")
    resident.locator("#id_township option[value='150902001']").wait_for(state="attached")
    resident.select_option("#id_township", "150902001")
    resident.locator("#id_community option[value='150902001001']").wait_for(state="attached")
    resident.select_option("#id_community", "150902001001")
    code = world["compound"].code
    resident.locator(f"#id_compound option[value='{code}']").wait_for(state="attached")
    resident.select_option("#id_compound", code)
    building = world["building"].code
    resident.locator(f"#id_building option[value='{building}']").wait_for(state="attached")
    resident.select_option("#id_building", building)
    resident.select_option("#id_category", "public_facilities")
    resident.fill("#id_text", "3号楼2单元楼道灯坏了一个星期，晚上上下楼看不见台阶")
    no_sideways_scroll(resident)
    shot(resident, "needs-phone-01-report")
    resident.get_by_role("button", name="提交", exact=True).click()
    resident.locator("[data-test=filed]").wait_for()
    reference = resident.inner_text("[data-test=reference]").strip()
    follow_url = resident.inner_text("[data-test=follow-link]").strip()
    assert re.fullmatch(r"XQ\d{8}[0-9A-Z]{6}", reference)
    need = Need.objects.get(reference=reference)
    assert need.unit == world["building"] and need.status == Status.SUBMITTED
    no_sideways_scroll(resident)
    shot(resident, "needs-phone-02-filed")

    # 2. the grid worker sees it in the queue and dispatches it to the grid
    worker = phone(browser, refused)
    log_in(worker, base, "gridw")
    worker.goto(f"{base}/units/{world['grid'].code}/")
    worker.locator("[data-test=need-rates]").wait_for()  # loaded after the page (htmx)
    assert "满意率" in worker.inner_text("#need-rates")
    rates_before = worker.inner_text("[data-test=need-rates]")
    worker.goto(f"{base}/needs/")
    worker.get_by_text(reference).click()
    worker.wait_for_url(re.compile(rf"/needs/{need.pk}/$"))
    assert "韩师傅" in worker.inner_text("[data-test=suggestions]")  # registered, same building
    no_sideways_scroll(worker)
    shot(worker, "needs-phone-03-need")
    worker.locator("details[data-step=dispatch] summary").click()
    worker.select_option("#id_dispatch-target", f"unit:{world['grid'].code}")
    worker.locator("[data-step-button=dispatch]").click()
    worker.get_by_text("已派单").first.wait_for()
    need.refresh_from_db()
    assert need.status == Status.DISPATCHED and need.assigned_unit == world["grid"]

    # 3. the registered member claims it from their queue, then resolves it
    helper = phone(browser, refused)
    log_in(helper, base, "hanshifu")
    helper.goto(f"{base}/needs/?tab=claimable")
    helper.get_by_text(reference).click()
    helper.locator("[data-step-button=claim]").click()
    helper.locator("[data-test=handler]", has_text="韩师傅").wait_for()
    helper.locator("details[data-step=resolve] summary").click()
    helper.fill("#id_resolve-resolution", "已更换楼道灯泡，亮了")
    helper.locator("[data-step-button=resolve]").click()
    helper.get_by_text("已办结待评价").first.wait_for()
    shot(helper, "needs-phone-04-resolved")
    need.refresh_from_db()
    assert need.status == Status.RESOLVED and need.handler.username == "hanshifu"

    # 4. the resident rates it on the follow page
    resident.goto(follow_url)
    assert "已更换楼道灯泡" in resident.inner_text("body")
    resident.get_by_label("5 星 · 非常满意").check()
    resident.fill("#id_comment", "修得很快，谢谢")
    resident.get_by_role("button", name="提交评价").click()
    resident.get_by_text("谢谢您的评价").wait_for()
    shot(resident, "needs-phone-05-rated")
    need.refresh_from_db()
    assert need.status == Status.CLOSED and need.rating == 5

    # 5. the grid's rates have changed: one need, resolved, satisfied
    worker.goto(f"{base}/units/{world['grid'].code}/")
    worker.locator("[data-test=need-rates]").wait_for()
    rates_after = worker.inner_text("[data-test=need-rates]")
    assert rates_after != rates_before
    assert "100.0%" in rates_after
    no_sideways_scroll(worker)
    shot(worker, "needs-phone-06-rates")
    assert refused == []


def test_every_needs_page_fits_a_phone(browser, live_server, world, shot):
    """The other pages at 375 px: no sideways scrolling, nothing refused by the CSP."""
    from hongyan.needs import services
    from hongyan.needs.models import Channel, NeedCategory
    from hongyan.needs.sweeps import notify_once

    base = live_server.url
    community = Unit.objects.get(code="150902001001")
    account("cityadm", "市管理员", Role.CITY_ADMIN, Unit.objects.get(code="1509"))
    account("jumin", "钱阿姨", Role.RESIDENT, world["building"])
    need = services.need_file(
        actor=None,
        channel=Channel.PUBLIC_WEB,
        category=NeedCategory.objects.get(city=None, code="safety_hazard"),
        unit=world["building"],
        text="消防通道被电动车堵死了，" * 8,
        resident_name="李大妈",
        resident_mobile="13812345678",
    )
    notify_once(need=need, kind="warn", level=0, unit=community, message="临近期限")
    refused: list[str] = []
    pages = {
        "cityadm": [
            "/needs/",
            "/needs/notices/",
            "/needs/categories/",
            "/needs/categories/sanitation/",
            "/needs/new/",
            "/workdays/?year=2027",
            f"/needs/{need.pk}/",
        ],
        "jumin": ["/needs/mine/", "/needs/mine/new/"],
    }
    for username, paths in pages.items():
        page = phone(browser, refused)
        log_in(page, base, username)
        for path in paths:
            page.goto(base + path)
            assert page.locator("main h1").count() == 1, path
            no_sideways_scroll(page)
            name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-") or "root"
            shot(page, f"needs-phone-{username}-{name}")
    assert refused == []
