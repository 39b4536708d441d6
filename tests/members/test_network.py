"""三户四长 (heads and the households they cover) and 双报到 (pairings, registration,
confirmation, figures per community)."""

from datetime import date

import pytest
from django.urls import reverse

from hongyan.core.errors import DomainError
from hongyan.core.models import AuditEntry
from hongyan.core.roles import Role
from hongyan.members import selectors, services
from hongyan.members.models import DualRegistration

pytestmark = pytest.mark.django_db


def test_building_head_needs_a_nomination_meeting_with_a_majority(people, bob, tree):
    assign = services.post_assign
    with pytest.raises(DomainError) as no_meeting:
        assign(actor=bob, member=people.shan, kind="building_head", unit=tree.building_a)
    assert no_meeting.value.field == "elected_on"
    with pytest.raises(DomainError) as no_majority:
        assign(
            actor=bob,
            member=people.shan,
            kind="building_head",
            unit=tree.building_a,
            elected_on=date(2026, 3, 1),
            votes_cast=20,
            votes_for=10,
        )
    assert no_majority.value.field == "votes_for"
    post = assign(
        actor=bob,
        member=people.shan,
        kind="building_head",
        unit=tree.building_a,
        elected_on=date(2026, 3, 1),
        votes_cast=20,
        votes_for=17,
    )
    assert post.building == "1号楼" and post.since == date(2026, 3, 1)
    assert AuditEntry.objects.filter(action="member.post_assign").count() == 1


def test_a_head_must_live_there_and_fit_the_place(people, bob, alice, tree):
    with pytest.raises(DomainError) as wrong_place:  # a grid head heads a grid
        services.post_assign(actor=bob, member=people.liang, kind="grid_head", unit=tree.compound_a)
    assert wrong_place.value.field == "unit"
    with pytest.raises(DomainError) as elsewhere:  # liang lives in compound_a, not compound_a2
        services.post_assign(
            actor=alice, member=people.liang, kind="compound_head", unit=tree.compound_a2
        )
    assert elsewhere.value.code == "not_resident"


def test_network_page_lists_who_covers_which_households(login, people, bob, tree):
    services.post_assign(actor=bob, member=people.liang, kind="compound_head", unit=tree.compound_a)
    services.post_assign(
        actor=bob,
        member=people.shan,
        kind="building_head",
        unit=tree.building_a,
        elected_on=date(2026, 3, 1),
        votes_cast=12,
        votes_for=9,
    )
    services.post_assign(
        actor=bob, member=people.shan, kind="entrance_head", unit=tree.building_a, entrance="2"
    )
    network = selectors.compound_network(tree.compound_a)
    row = next(r for r in network["rows"] if r["building"] == "1号楼" and r["entrance"] == "2")
    assert row["building_head"].member == people.shan and row["entrance_head"].member == people.shan
    assert [m.name for _room, ms in row["households"] for m in ms] == ["单雄信"]
    html = login(bob).get(reverse("members:network", args=[tree.compound_a.code])).content.decode()
    assert "梁艳荣" in html and "9/12" in html and "党员先锋户" in html
    assert people.liang_id not in html


def test_network_page_assigns_through_the_form(login, people, bob, tree):
    url = reverse("members:network", args=[tree.compound_a.code])
    response = login(bob).post(
        url,
        {
            "member": people.gao.pk,
            "kind": "entrance_head",
            "unit": tree.compound_a.code,
            "building": "2号楼",
            "entrance": "",
        },
    )
    assert response.status_code == 200 and "entrance" in response.context["form"].errors
    response = login(bob).post(
        url,
        {
            "member": people.gao.pk,
            "kind": "entrance_head",
            "unit": tree.compound_a.code,
            "building": "2号楼",
            "entrance": "1",
        },
    )
    assert response.status_code == 302
    assert people.gao.posts.get().entrance == "1"


def test_network_scope_and_roles(login, people, charlie, make_user, tree):
    url = reverse("members:network", args=[tree.compound_a.code])
    assert login(charlie).get(url).status_code == 404
    grid_worker = make_user(Role.GRID_WORKER, tree.compound_a)
    page = login(grid_worker).get(url)
    assert page.status_code == 200 and page.context["form"] is None  # may look, not assign
    above = login(grid_worker).get(reverse("members:network", args=[tree.compound_a.code]))
    assert above.status_code == 200


# --- 双报到 -------------------------------------------------------------------------------------


def test_worker_registers_and_community_confirms(login, people, bob, tree):
    client = login(bob)
    client.post(reverse("members:dual_register"), {"member_id": people.liang.pk})
    registration = DualRegistration.objects.get(member=people.liang)
    assert registration.community == tree.community_a and not registration.self_service
    client.post(reverse("members:dual_confirm"), {"registration": registration.pk})
    registration.refresh_from_db()
    assert registration.confirmed_by == bob
    figures = selectors.dual_figures(tree.street_a)
    assert figures == [
        {
            "code": tree.community_a.code,
            "name": tree.community_a.name,
            "registered": 1,
            "confirmed": 1,
            "active_this_quarter": 0,
        }
    ]
    page = client.get(reverse("members:dual")).content.decode()
    assert tree.community_a.name in page
    assert {"dual.register", "dual.confirm"} <= set(
        AuditEntry.objects.values_list("action", flat=True)
    )


def test_only_in_service_members_register_once(people, bob):
    with pytest.raises(DomainError):  # retired
        services.dual_register(actor=bob, member=people.shan)
    services.dual_register(actor=bob, member=people.liang)
    with pytest.raises(DomainError) as twice:
        services.dual_register(actor=bob, member=people.liang)
    assert twice.value.status == 409


def test_a_member_registers_from_their_own_account(login, people, make_user, tree):
    account = make_user(Role.PARTY_MEMBER, tree.compound_a, username="liang")
    people.liang.account = account
    people.liang.save(update_fields=["account"])
    client = login(account)
    page = client.get(reverse("members:dual"))
    assert page.status_code == 200 and "向社区报到" in page.content.decode()
    client.post(reverse("members:dual_register"))
    registration = DualRegistration.objects.get(member=people.liang)
    assert registration.self_service and registration.registered_by == account
    # a member account cannot register somebody else, nor see the register
    assert (
        client.post(reverse("members:dual_register"), {"member_id": people.gao.pk}).status_code
        == 403
    )
    assert client.get(reverse("members:list")).status_code == 403


def test_service_records_count_as_active_this_quarter(people, bob, tree):
    services.dual_register(actor=bob, member=people.liang)

    def deeds(member_ids, since):
        return {people.liang.pk: 2}

    selectors.SERVICE_SOURCES.append(deeds)
    try:
        assert selectors.dual_figures(tree.community_a)[0]["active_this_quarter"] == 1
    finally:
        selectors.SERVICE_SOURCES.remove(deeds)


def test_charlie_cannot_register_confirm_or_pair_in_bobs_community(
    login, people, bob, charlie, tree
):
    client = login(charlie)
    assert (
        client.post(reverse("members:dual_register"), {"member_id": people.liang.pk}).status_code
        == 404
    )
    registration = services.dual_register(actor=bob, member=people.liang)
    assert (
        client.post(reverse("members:dual_confirm"), {"registration": registration.pk}).status_code
        == 404
    )
    url = reverse("members:dual_pairing", args=[tree.community_a.code])
    assert client.post(url, {"work_unit": "x", "party_org_name": "y"}).status_code == 404
    assert client.get(reverse("members:dual"), {"unit": tree.community_a.code}).status_code == 404


def test_pairing(login, people, bob, tree):
    url = reverse("members:dual_pairing", args=[tree.community_a.code])
    response = login(bob).post(
        url,
        {
            "work_unit": "集宁区第一中学",
            "party_org_name": "集宁一中党委",
            "signed_on": "2026-03-05",
            "services": "课后托管",
        },
    )
    assert response.status_code == 302
    registration = services.dual_register(actor=bob, member=people.liang)  # works there
    assert registration.pairing.work_unit == "集宁区第一中学"
    again = login(bob).post(url, {"work_unit": "集宁区第一中学", "party_org_name": "集宁一中党委"})
    assert again.status_code == 200 and again.context["form"].errors


def test_dual_figures_api(api, people, bob, charlie, tree):
    services.dual_register(actor=bob, member=people.liang)
    body = api(bob).get(f"/api/v1/units/{tree.community_a.code}/dual-registration").json()
    assert body["count"] == 1 and body["items"][0]["registered"] == 1
    url = f"/api/v1/units/{tree.community_a.code}/dual-registration"
    assert api(charlie).get(url).status_code == 404


def test_dual_registration_over_the_api(api, people, bob, charlie, make_user, tree):
    url = f"/api/v1/members/{people.liang.pk}/dual-registration"
    assert api(charlie).post(url).status_code == 404
    created = api(bob).post(url)
    assert created.status_code == 201, created.content
    assert created.json()["community_code"] == tree.community_a.code
    assert created.json()["confirmed_at"] is None
    assert api(bob).post(url).status_code == 409
    assert api(charlie).post(url + "/confirm").status_code == 404
    grid_worker = make_user(Role.GRID_WORKER, tree.compound_a)
    assert api(grid_worker).post(url + "/confirm").status_code == 403
    confirmed = api(bob).post(url + "/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_at"]
    not_yet = api(bob).post(f"/api/v1/members/{people.gao.pk}/dual-registration/confirm")
    assert not_yet.status_code == 409


def test_a_member_registers_themselves_over_the_api(api, people, make_user, tree):
    account = make_user(Role.PARTY_MEMBER, tree.compound_a)
    people.gao.account = account
    people.gao.status = "in_service"
    people.gao.save(update_fields=["account", "status"])
    response = api(account).post(f"/api/v1/members/{people.gao.pk}/dual-registration")
    assert response.status_code == 201 and response.json()["self_service"] is True
    # not for somebody else
    other = api(account).post(f"/api/v1/members/{people.liang.pk}/dual-registration")
    assert other.status_code == 403
