"""The care groups page (city admins change a group's default frequency) and the menu
entry for a 三户四长 head who holds only a party-member role."""

from datetime import date, timedelta

import pytest

from hongyan.care.models import CareGroup
from hongyan.core.models import AuditEntry
from hongyan.core.roles import Role

from .conftest import group, make_id

pytestmark = pytest.mark.django_db

URL = "/care/groups/"


@pytest.fixture
def city_admin(make_user, tree):
    return make_user(Role.CITY_ADMIN, "1509", username="city")


def test_city_admin_lists_and_changes_a_groups_frequency(login, city_admin, elder, today):
    client = login(city_admin)
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-test="group-elderly_alone"' in html and "留守儿童" in html
    before = elder.next_due
    r = client.post(URL, {"code": "elderly_alone", "interval_days": "14", "active": "on"})
    assert r.status_code == 302 and r["Location"] == URL
    assert CareGroup.objects.get(code="elderly_alone").interval_days == 14
    elder.refresh_from_db()
    assert elder.next_due == before + timedelta(days=7)  # moved with the group's frequency
    assert AuditEntry.objects.filter(action="care.group.save").exists()
    assert "每 14 天走访一次" in client.get(URL).content.decode()
    # switching a group off
    r = client.post(URL, {"code": "other", "interval_days": "30"})
    assert r.status_code == 302 and not CareGroup.objects.get(code="other").active


def test_bad_interval_shown_on_that_row(login, city_admin):
    client = login(city_admin)
    r = client.post(URL, {"code": "disabled", "interval_days": "400", "active": "on"})
    assert r.status_code == 422
    html = r.content.decode()
    assert "走访周期应为 1 到 366 天" in html and 'id="id_disabled_interval_days_error"' in html
    assert CareGroup.objects.get(code="disabled").interval_days == 30
    r = client.post(URL, {"code": "disabled", "interval_days": "", "active": "on"})
    assert r.status_code == 422 and 'id="id_disabled_interval_days_error"' in r.content.decode()
    r = client.post(URL, {"code": "no_such", "interval_days": "7"})
    assert r.status_code == 422 and "未知的关爱群体" in r.content.decode()


def test_wrong_role_403(login, alice, bob, gw):
    for user in (alice, bob, gw):
        assert login(user).get(URL).status_code == 403
        r = login(user).post(URL, {"code": "other", "interval_days": "7", "active": "on"})
        assert r.status_code == 403
    assert group("other").interval_days == 30


def test_the_list_links_to_the_groups_for_city_admins_only(login, city_admin, bob):
    assert URL in login(city_admin).get("/care/recipients/").content.decode()
    assert URL not in login(bob).get("/care/recipients/").content.decode()


def test_a_head_with_only_a_member_role_sees_the_care_menu(
    login, alice, tree, make_user, make_recipient, django_assert_max_num_queries
):
    from hongyan.members import services as member_services

    account = make_user(Role.PARTY_MEMBER, tree.compound_a, username="head_member")
    client = login(account)
    menu = 'href="/care/"'
    assert menu not in client.get("/volunteers/").content.decode()  # nothing assigned yet
    member = member_services.member_create(
        actor=alice, unit=tree.building_a, name="孟楼长", id_number=make_id(401, date(1960, 1, 1))
    )
    member.account = account
    member.save(update_fields=["account"])
    post = member_services.post_assign(
        actor=alice, member=member, kind="compound_head", unit=tree.compound_a
    )
    make_recipient(name="冯奶奶", visitor_post=post)
    assert menu in client.get("/volunteers/").content.decode()
    assert client.get("/care/").status_code == 200
    # the check costs one query, and only for those whose roles do not open the entry
    from django.test import RequestFactory

    from hongyan.core.context_processors import navigation

    request = RequestFactory().get("/")
    request.user = account
    account._scope_grants = None
    list(account.grants.all())  # warm nothing else: grants are cached on first use
    with django_assert_max_num_queries(4):  # the grants, then up to three indexed EXISTS
        assert navigation(request)["nav"]["care"] is True


def test_groups_page_query_bound(login, city_admin, django_assert_max_num_queries):
    client = login(city_admin)
    with django_assert_max_num_queries(9):
        assert client.get(URL).status_code == 200
