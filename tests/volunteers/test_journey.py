"""On a 375-px phone: a resident signs up for a service of her community's team, checks
in and out on the day, the team's leader approves her hours; her record shows them, a
certificate is issued and anyone checks its code on the public page."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from hongyan.core.models import Grant, User
from hongyan.core.roles import Role
from hongyan.orgs import services as org_services
from hongyan.orgs.loader import load_divisions
from hongyan.orgs.models import Unit, UnitKind
from hongyan.volunteers import services
from hongyan.volunteers.models import Participation, Service, TeamKind

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 375, "height": 760}
PASSWORD = "Volunteer-Journey-2026"


def account(username, display, role, unit):
    user = User.objects.create_user(
        username, password=PASSWORD, display_name=display, password_changed_at=timezone.now()
    )
    Grant.objects.create(user=user, role=role, unit=unit)
    return user


@pytest.fixture
def world():
    load_divisions()
    community = Unit.objects.get(code="150902001001")
    admin = account("street", "街道管理员", Role.STREET_ADMIN, community.parent)
    worker = account("cworker", "社区小刘", Role.COMMUNITY_WORKER, community)
    add = org_services.unit_create_child
    compound = add(actor=admin, parent=community, kind=UnitKind.COMPOUND, name="御景华府")
    grid = add(actor=admin, parent=compound, kind=UnitKind.GRID, name="御景华府第一网格")
    building = add(actor=admin, parent=grid, kind=UnitKind.BUILDING, name="3号楼")
    leader_user = account("lidz", "李队长", Role.PARTY_MEMBER, grid)
    account("wangfang", "王芳", Role.RESIDENT, building)
    leader = services.volunteer_register(
        actor=worker, unit=grid, name="李队长", account=leader_user
    )
    team = services.team_create(
        actor=worker,
        unit=community,
        name="恩和路暖心小分队",
        kind=TeamKind.objects.get(name="暖心小分队"),
        leader=leader,
    )
    return {"team": team, "community": community}


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


def test_sign_up_check_in_out_and_approve_on_a_phone(browser, live_server, world, shot):
    base = live_server.url
    refused: list[str] = []

    # 0. the community worker publishes the team's service on her phone
    desk = phone(browser, refused)
    log_in(desk, base, "cworker")
    desk.goto(f"{base}/volunteers/")
    desk.get_by_role("link", name="发布服务").click()
    desk.select_option("#id_team", str(world["team"].pk))
    desk.fill("#id_title", "为独居老人打扫卫生")
    desk.select_option("#id_kind", "elderly")
    desk.fill("#id_place", "御景华府3号楼")
    day = timezone.localdate() + timedelta(days=3)
    desk.fill("#id_starts_at", f"{day:%Y-%m-%d}T09:00")
    desk.fill("#id_ends_at", f"{day:%Y-%m-%d}T08:00")  # a slip: ends before it starts
    desk.fill("#id_capacity", "4")
    desk.get_by_role("button", name="发布", exact=True).click()
    desk.locator("#id_ends_at_error").wait_for()
    assert "结束时间须晚于开始时间" in desk.inner_text("#id_ends_at_error")
    no_sideways_scroll(desk)
    shot(desk, "volunteers-phone-00-publish-error")
    desk.fill("#id_ends_at", f"{day:%Y-%m-%d}T12:00")
    desk.get_by_role("button", name="发布", exact=True).click()
    desk.wait_for_url(re.compile(r"/volunteers/services/\d+/$"))
    service = Service.objects.get(title="为独居老人打扫卫生")
    assert service.team == world["team"] and service.capacity == 4

    # 1. the resident finds the service in her menu and signs up (three days ahead)
    me = phone(browser, refused)
    log_in(me, base, "wangfang")
    me.goto(f"{base}/volunteers/")
    me.get_by_text("为独居老人打扫卫生").click()
    me.wait_for_url(re.compile(rf"/volunteers/services/{service.pk}/$"))
    no_sideways_scroll(me)
    shot(me, "volunteers-phone-01-service")
    me.get_by_role("button", name="我要报名").click()
    me.locator("#my-state").wait_for()
    assert "已报名" in me.inner_text("#my-state")
    assert "已报名 1 / 4 人" in me.inner_text("#taken")

    # 2. the day comes: she checks in, and 80 minutes later checks out
    start = timezone.now() - timedelta(minutes=30)
    Service.objects.filter(pk=service.pk).update(
        starts_at=start, ends_at=start + timedelta(hours=3)
    )
    me.reload()
    me.get_by_role("button", name="签到").click()
    me.get_by_text("已签到。").first.wait_for()
    shot(me, "volunteers-phone-02-checked-in")
    Participation.objects.filter(service=service).update(
        checkin_at=timezone.now() - timedelta(minutes=80)
    )
    me.get_by_role("button", name="签退").click()
    me.get_by_text("等待审核").first.wait_for()
    assert "1.33 小时" in me.inner_text("#my-state")
    no_sideways_scroll(me)
    shot(me, "volunteers-phone-03-checked-out")

    # 3. the leader opens the service and approves; approving again changes nothing
    lead = phone(browser, refused)
    log_in(lead, base, "lidz")
    lead.goto(f"{base}/volunteers/services/{service.pk}/")
    assert "待审核" in lead.inner_text("[data-test=participants]")
    no_sideways_scroll(lead)
    shot(lead, "volunteers-phone-04-leader")
    lead.get_by_role("button", name="审核时长").click()
    lead.get_by_text("已审核 1 人").wait_for()
    lead.get_by_role("button", name="审核时长").click()
    lead.get_by_text("已审核 0 人").wait_for()
    p = Participation.objects.get(service=service)
    assert p.approved_at is not None and p.minutes == 80

    # 4. her record shows the hours; she has a certificate issued and anyone checks it
    me.goto(f"{base}/volunteers/me/")
    me.locator("#total-hours").wait_for()
    assert me.inner_text("#total-hours").strip() == "1.33"
    me.get_by_role("button", name="出具志愿服务证明").click()
    me.get_by_text("证明已出具").wait_for()
    code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", me.content()).group(0)
    no_sideways_scroll(me)
    shot(me, "volunteers-phone-05-record")
    anyone = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    anyone.goto(f"{base}/certificates/verify/{code}")
    assert "证明有效" in anyone.inner_text("#verdict")
    no_sideways_scroll(anyone)
    shot(anyone, "volunteers-phone-06-verify")
    anyone.goto(f"{base}/certificates/verify/FAKE-CODE-0000")
    assert "无效的核验码" in anyone.inner_text("#verdict")

    # 5. the community worker sees the figures on the community's page
    desk.goto(f"{base}/units/{world['community'].code}/")
    figures = desk.inner_text("[data-test=volunteer-figures]")
    assert "1\n件实事" in figures and "1\n名活跃志愿者" in figures
    desk.locator("#volunteer-figures").scroll_into_view_if_needed()
    shot(desk, "volunteers-phone-07-unit-figures")
    assert not refused, refused
