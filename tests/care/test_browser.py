"""In Chromium on a 375-px phone: a grid worker opens today's visits, logs one (seen,
wellbeing, services, 高龄补贴 checked, a hazard found), and raises a need from it in one
tap; the need lands in the needs queue with channel "visit"."""

import importlib
import re
from datetime import date, timedelta

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from hongyan.core.roles import Role
from tests.browser import ARTIFACTS

pytestmark = pytest.mark.e2e

PASSWORD = "Care-E2e-2026"
PHONE = {"width": 375, "height": 740}


def _seed(module: str) -> None:
    """A transactional test starts from a flushed database: the seeded lists again."""
    importlib.import_module(module).add(django_apps, None)


@pytest.fixture
def world(transactional_db):
    from hongyan.care import services
    from hongyan.care.models import CareGroup
    from hongyan.core.models import Grant, User
    from hongyan.orgs import services as org_services
    from hongyan.orgs.loader import load_divisions
    from hongyan.orgs.models import Unit, UnitKind

    load_divisions()
    _seed("hongyan.care.migrations.0002_default_groups")
    _seed("hongyan.needs.migrations.0002_default_categories")
    community = Unit.objects.get(code="150902001001")
    admin = User.objects.create_user("enhe_admin", password=PASSWORD, display_name="社区书记")
    Grant.objects.create(user=admin, role=Role.COMMUNITY_WORKER, unit=community)
    add = org_services.unit_create_child
    compound = add(actor=admin, parent=community, kind=UnitKind.COMPOUND, name="御景华府")
    grid = add(actor=admin, parent=compound, kind=UnitKind.GRID, name="御景华府第一网格")
    building = add(actor=admin, parent=grid, kind=UnitKind.BUILDING, name="3号楼")
    worker = User.objects.create_user("li_grid", password=PASSWORD, display_name="网格员李")
    Grant.objects.create(user=worker, role=Role.GRID_WORKER, unit=grid)
    today = timezone.localdate()
    weekly = CareGroup.objects.get(code="elderly_alone")
    couple = CareGroup.objects.get(code="elderly_couple")
    due_today = services.recipient_create(
        actor=admin,
        unit=building,
        group=weekly,
        name="高桂兰",
        birth_date=date(1939, 3, 8),
        mobile="13847401234",
        address="3号楼1单元402",
        household="独居，子女在呼和浩特",
        visitor_user=worker,
        registered_on=today - timedelta(days=7),
    )
    overdue = services.recipient_create(
        actor=admin,
        unit=building,
        group=couple,
        name="周福",
        birth_date=date(1936, 10, 1),
        address="3号楼2单元101",
        visitor_user=worker,
        registered_on=today - timedelta(days=35),
    )
    return {"worker": worker, "today_one": due_today, "overdue": overdue}


def test_grid_worker_visits_and_raises_a_need_on_a_phone(browser, live_server, world, shot):
    from hongyan.care.models import Visit

    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    refused = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "li_grid")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    # the menu leads to today's visits: overdue first, then today
    page.goto(f"{live_server.url}/care/")
    overdue = page.locator("[data-test=overdue]")
    today_list = page.locator("[data-test=today]")
    assert "周福" in overdue.inner_text() and "超期 5 天" in overdue.inner_text()
    assert "高桂兰" in today_list.inner_text()
    assert page.locator("main").inner_text().index("周福") < page.locator(
        "main"
    ).inner_text().index("高桂兰")
    shot(page, "care-phone-01-today")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page is {overflow}px wider than the phone"

    # log today's visit: big toggles, a hazard found
    today_list.get_by_role("link", name=re.compile("走访登记")).click()
    page.wait_for_url(re.compile(r"/care/recipients/\d+/visit/$"))
    form = page.locator("[data-test=visit-form]")
    form.get_by_text("一般", exact=True).click()
    form.get_by_text("打扫卫生", exact=True).click()
    form.get_by_text("送药", exact=True).click()
    form.get_by_text("未到账", exact=True).click()
    form.get_by_text("安全隐患", exact=True).click()
    page.fill("textarea[name=findings]", "厨房燃气软管老化开裂，有漏气风险")
    shot(page, "care-phone-02-visit-form")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the visit form is {overflow}px wider than the phone"
    page.get_by_role("button", name="保存走访").click()
    page.wait_for_url(re.compile(r"/care/visits/\d+/$"))
    assert "厨房燃气软管老化开裂" in page.locator("[data-test=finding]").inner_text()
    shot(page, "care-phone-03-visit")

    # one tap: the finding becomes a need (category and text already filled in)
    page.get_by_role("button", name="转为居民需求").click()
    raised = page.locator("[data-test=raised]")
    raised.wait_for()
    reference = re.search(r"XQ\w+", raised.inner_text()).group(0)
    shot(page, "care-phone-04-need-raised")

    visit = Visit.objects.get()
    assert visit.recipient == world["today_one"] and visit.services == ["cleaning", "medicine"]
    assert visit.elderly_allowance == "missing" and visit.need.reference == reference
    assert visit.need.channel == "visit" and visit.need.category.code == "safety_hazard"

    # the list now shows only the overdue one; the need opens from the visit
    page.goto(f"{live_server.url}/care/")
    assert page.locator("[data-test=today]").count() == 0
    assert "周福" in page.locator("[data-test=overdue]").inner_text()
    page.goto(f"{live_server.url}/needs/{visit.need_id}/")
    assert reference in page.locator("main").inner_text()
    shot(page, "care-phone-05-need")
    assert not refused, refused
    context.close()


def test_community_worker_reads_the_register_and_the_unit_panel_on_a_phone(
    browser, live_server, world, shot
):
    from hongyan.care import services
    from hongyan.care.models import CareGroup
    from hongyan.core.models import AuditEntry, User

    admin = User.objects.get(username="enhe_admin")
    today = timezone.localdate()
    child = services.recipient_create(
        actor=admin,
        unit=world["today_one"].unit,
        group=CareGroup.objects.get(code="left_behind_child"),
        name="刘小雨",
        birth_date=today.replace(year=today.year - 8),
        guardian_name="刘奶奶",
        guardian_relation="祖母",
        consent_on=today,
        consent_method="written",
    )
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "enhe_admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/care/recipients/")
    table = page.locator("[data-test=recipients]")
    assert "刘**" in table.inner_text() and "刘小雨" not in table.inner_text()
    assert "周福" in table.inner_text()
    shot(page, "care-phone-06-register")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the register is {overflow}px wider than the phone"

    before = AuditEntry.objects.filter(action="care.minor.read").count()
    page.goto(f"{live_server.url}/care/recipients/{child.pk}/")
    assert "刘小雨" in page.locator("h1").inner_text()
    assert "刘奶奶" in page.locator("[data-test=guardian]").inner_text()
    assert AuditEntry.objects.filter(action="care.minor.read").count() == before + 1
    shot(page, "care-phone-07-child")

    page.goto(f"{live_server.url}/units/150902001001/#care")
    panel = page.locator("#care")
    assert "超期未走访（1 人）" in panel.inner_text() and "周福" in panel.inner_text()
    panel.screenshot(path=str(ARTIFACTS / "care-phone-08-unit-panel.png"))
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the unit page is {overflow}px wider than the phone"

    # the same register on a desk: a table, filters in a row
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/care/recipients/")
    assert page.locator("[data-test=recipients] thead").is_visible()
    shot(page, "care-desk-01-register")
    page.goto(f"{live_server.url}/care/?tab=area")
    assert "周福" in page.locator("[data-test=overdue]").inner_text()
    shot(page, "care-desk-02-area")
    context.close()
