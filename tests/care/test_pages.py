"""The care pages: the phone list, the registry, a record, the visit log, raising a need,
the unit page's panel; the outsider (404), children hidden, errors on the form."""

import pytest

from hongyan.care.models import CareRecipient, Visit
from hongyan.core.models import AuditEntry
from hongyan.core.roles import Role

pytestmark = pytest.mark.django_db


def test_phone_list_overdue_first_and_my_tab(login, elder, make_recipient, gw, today):
    from datetime import timedelta

    from .conftest import group

    soon = make_recipient(
        name="孙大爷",
        group=group("disabled"),
        visitor_user=gw,
        registered_on=today - timedelta(days=27),
    )
    make_recipient(name="别人的", registered_on=today - timedelta(days=40))  # not gw's
    page = login(gw).get("/care/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("王奶奶") < html.index("孙大爷") and "别人的" not in html
    assert "超期 13 天" in html and f"/care/recipients/{elder.pk}/visit/" in html
    assert f'data-test="due-{soon.pk}"' in html


def test_registry_list_filters_and_query_bound(
    login, bob, elder, child, make_recipient, django_assert_max_num_queries
):
    for i in range(12):
        make_recipient(name=f"居民{i}")
    client = login(bob)
    with django_assert_max_num_queries(14):
        page = client.get("/care/recipients/")
    html = page.content.decode()
    assert "王奶奶" in html and "李**" in html and "李小明" not in html  # a child's name masked
    assert "138****1234" in html and "13800001234" not in html
    overdue = client.get("/care/recipients/", {"status": "overdue"}).content.decode()
    assert "王奶奶" in overdue and "居民1" not in overdue


def test_childs_page_for_community_worker_audited_and_404_for_the_grid_worker(
    login, bob, gw, child, elder
):
    before = AuditEntry.objects.filter(action="care.minor.read").count()
    page = login(bob).get(f"/care/recipients/{child.pk}/")
    assert page.status_code == 200 and "李小明" in page.content.decode()
    assert "李奶奶" in page.content.decode()
    assert AuditEntry.objects.filter(action="care.minor.read").count() == before + 1
    assert login(gw).get(f"/care/recipients/{child.pk}/").status_code == 404
    assert login(gw).get(f"/care/recipients/{child.pk}/visit/").status_code == 404
    listed = login(gw).get("/care/recipients/").content.decode()
    assert "李**" not in listed and "王奶奶" in listed


def test_outsider_gets_404_on_every_page(login, charlie, elder, gw):
    visit = Visit.objects.create(
        recipient=elder, visitor=gw, visitor_name="x", visited_on=elder.registered_on
    )
    client = login(charlie)
    for url in (
        f"/care/recipients/{elder.pk}/",
        f"/care/recipients/{elder.pk}/edit/",
        f"/care/recipients/{elder.pk}/visit/",
        f"/care/visits/{visit.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            f"/care/visits/{visit.pk}/need/", {"category": "other", "text": "x"}
        ).status_code
        == 404
    )


def test_a_resident_may_not_open_care(login, make_user, tree):
    resident = make_user(Role.RESIDENT, tree.building_a, username="res")
    assert login(resident).get("/care/").status_code == 403


def test_log_a_visit_on_the_page_then_raise_a_need(login, gw, elder):
    client = login(gw)
    bad = client.post(
        f"/care/recipients/{elder.pk}/visit/", {"seen": "1", "finding_kind": "hazard"}
    )
    assert bad.status_code == 422
    html = bad.content.decode()
    assert "请选择身体和生活状况" in html or "请简要描述" in html
    r = client.post(
        f"/care/recipients/{elder.pk}/visit/",
        {
            "seen": "1",
            "wellbeing": "fair",
            "services": ["chat", "medicine"],
            "dibao_status": "normal",
            "finding_kind": "dispute",
            "findings": "楼上漏水，邻居协商不成",
        },
    )
    visit = Visit.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/care/visits/{visit.pk}/"
    page = client.get(r["Location"]).content.decode()
    assert 'data-test="raise-form"' in page and "neighbour_dispute" in page
    r = client.post(
        f"/care/visits/{visit.pk}/need/",
        {"category": "neighbour_dispute", "text": "楼上漏水，邻居协商不成"},
    )
    assert r.status_code == 302
    visit.refresh_from_db()
    assert visit.need.channel == "visit"
    assert visit.need.reference in client.get(r["Location"]).content.decode()


def test_register_on_the_page_errors_on_the_field(login, bob, tree):
    client = login(bob)
    form = client.get("/care/recipients/new/")
    assert form.status_code == 200 and tree.building_a.code in form.content.decode()
    r = client.post(
        "/care/recipients/new/",
        {"unit": tree.building_a.code, "group": "other", "name": "钱大妈", "mobile": "555"},
    )
    assert r.status_code == 422 and "手机号码应为 11 位" in r.content.decode()
    r = client.post(
        "/care/recipients/new/",
        {"unit": tree.building_a.code, "group": "other", "name": "钱大妈", "mobile": "13912345678"},
    )
    r_obj = CareRecipient.objects.get(name="钱大妈")
    assert r.status_code == 302 and r["Location"] == f"/care/recipients/{r_obj.pk}/"


def test_unit_page_panel_shows_figures_and_overdue(login, bob, gw, elder, child, tree, make_user):
    html = login(bob).get(f"/units/{tree.community_a.code}/").content.decode()
    assert 'id="care"' in html and "王奶奶" in html and "超期未走访（1 人）" in html
    head = make_user(Role.BUILDING_HEAD, tree.building_a, username="head")
    assert 'id="care"' not in login(head).get(f"/units/{tree.building_a.code}/").content.decode()


def test_reveal_on_the_page_needs_a_step_up_and_a_reason(login, bob, gw, elder, stepped_up):
    client = login(bob)
    assert "查看完整身份证号或电话" in client.get(f"/care/recipients/{elder.pk}/").content.decode()
    url = f"/care/recipients/{elder.pk}/reveal/"
    r = client.post(url, {"field": "mobile", "reason": "核对高龄补贴"})
    assert r.status_code == 302 and "/step-up/" in r["Location"]
    stepped_up(client)
    r = client.post(url, {"field": "mobile", "reason": "x"})
    assert "13800001234" not in r.content.decode() and "请写明查看原因" in r.content.decode()
    r = client.post(url, {"field": "mobile", "reason": "核对高龄补贴"})
    assert "13800001234" in r.content.decode() and r["Cache-Control"] == "no-store"
    assert AuditEntry.objects.filter(action="care.recipient.reveal").count() == 1
    # a grid worker has no reveal form and may not post one
    assert (
        "查看完整身份证号或电话"
        not in login(gw).get(f"/care/recipients/{elder.pk}/").content.decode()
    )
    assert login(gw).post(url, {"field": "mobile", "reason": "核对高龄补贴"}).status_code == 403


def test_reminders_on_the_phone_list(login, bob, gw, elder, child, make_recipient, today):
    from datetime import timedelta

    from hongyan.care.sweeps import remind_due_visits

    nobody = make_recipient(name="无人走访的", registered_on=today - timedelta(days=40))
    assert remind_due_visits() == 2  # elder (gw's account) and nobody (for the place)
    mine = login(gw).get("/care/").content.decode()
    assert 'data-test="reminders"' in mine and "王奶奶" in mine.split('data-test="reminders"')[1]
    area = login(bob).get("/care/?tab=area").content.decode()
    reminders = area.split('data-test="reminders"')[1].split("</div>")[0]
    assert nobody.name in reminders and "王奶奶" not in reminders
    # a child's reminder, later, reaches bob but never the grid worker
    assert remind_due_visits(today + timedelta(days=30)) == 1
    from hongyan.care import selectors

    assert [m.recipient for m in selectors.reminders_for(bob, area=True)][:1] == [child]
    assert child not in [m.recipient for m in selectors.reminders_for(gw, area=True)]
