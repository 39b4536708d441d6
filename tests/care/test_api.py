"""/api/v1/care-recipients and /api/v1/visits: happy paths, wrong role (403), the outsider
(404), children hidden without care.minors, bad input naming the field (never a 500)."""

from datetime import date, timedelta

import pytest
from django.test import Client

from hongyan.care.models import CareRecipient, Visit
from hongyan.core.models import AuditEntry
from hongyan.core.roles import Role

from ..conftest import token_for
from .conftest import make_id

pytestmark = pytest.mark.django_db


def test_register_list_and_read(api, bob, tree, gw, today):
    client = api(bob)
    r = client.post(
        "/api/v1/care-recipients",
        {
            "unit": tree.building_a.code,
            "group": "elderly_alone",
            "name": "赵爷爷",
            "id_number": make_id(302, date(1938, 5, 6)),
            "mobile": "13800005678",
            "visitor_user": "gw",
        },
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["mobile"] == "138****5678" and body["id_number"].startswith("150902")
    assert "*" in body["id_number"] and body["next_due"] == (today + timedelta(days=7)).isoformat()
    assert body["visitor"]["kind"] == "user"
    assert "13800005678" not in r.content.decode()
    listed = client.get("/api/v1/care-recipients", {"status": "ok"}).json()
    assert listed["count"] == 1 and listed["items"][0]["name"] == "赵爷爷"
    assert client.get(f"/api/v1/care-recipients/{body['id']}").json()["name"] == "赵爷爷"


@pytest.mark.parametrize(
    ("data", "field", "status"),
    [
        ({"group": "astronauts"}, "group", 422),
        ({"unit": "999999999999999"}, "unit", 422),
        ({"unit": "150902002001"}, "unit", 422),  # charlie's community: outside bob's
        ({"birth_date": "1938-02-30"}, "birth_date", 422),
        ({"interval_days": "weekly"}, "interval_days", 422),
        ({"mobile": "1234"}, "mobile", 422),
        ({"visitor_user": "nobody"}, "visitor_user", 422),
    ],
)
def test_bad_registration_names_the_field(api, bob, tree, data, field, status):
    payload = {"unit": tree.building_a.code, "group": "other", "name": "某人", **data}
    r = api(bob).post("/api/v1/care-recipients", payload)
    assert r.status_code == status, r.json()
    assert r.json()["field"] == field
    assert not CareRecipient.objects.exists()


def test_malformed_json_is_400(api, bob):
    r = api(bob).post("/api/v1/care-recipients", raw="{not json")
    assert r.status_code == 400


def test_a_grid_worker_logs_a_visit_and_raises_a_need(api, elder, gw, today):
    client = api(gw)
    due = client.get("/api/v1/visits/due").json()
    assert [r["id"] for r in due["overdue"]] == [elder.pk] and due["overdue"][0][
        "days_overdue"
    ] == 13
    r = client.post(
        "/api/v1/visits",
        {
            "recipient": elder.pk,
            "wellbeing": "fair",
            "services": ["cleaning", "certification"],
            "elderly_certification": "done",
            "elderly_allowance": "missing",
            "finding_kind": "hazard",
            "findings": "厨房燃气软管老化开裂",
        },
    )
    assert r.status_code == 201, r.json()
    visit = r.json()
    assert visit["visited_on"] == today.isoformat() and visit["need"] is None
    assert client.get("/api/v1/visits/due").json()["overdue"] == []
    r = client.post(f"/api/v1/visits/{visit['id']}/need", {})
    assert r.status_code == 201, r.json()
    assert r.json()["channel"] == "visit" and r.json()["reference"].startswith("XQ")
    again = client.post(f"/api/v1/visits/{visit['id']}/need", {})
    assert again.status_code == 409 and again.json()["code"] == "already_raised"
    listed = client.get("/api/v1/visits", {"recipient": elder.pk}).json()
    assert listed["count"] == 1 and listed["items"][0]["need"]["reference"] == r.json()["reference"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"visited_on": "tomorrow"}, "visited_on"),
        ({"wellbeing": "sad"}, "wellbeing"),
        ({"wellbeing": "good", "services": ["flying"]}, "services"),
        ({"wellbeing": "good", "finding_kind": "dispute"}, "findings"),
        ({"wellbeing": "good", "seen": "perhaps"}, "seen"),
    ],
)
def test_bad_visit_names_the_field(api, elder, gw, data, field):
    r = api(gw).post("/api/v1/visits", {"recipient": elder.pk, **data})
    assert r.status_code == 422, r.json()
    assert r.json()["field"] == field
    assert not Visit.objects.exists()


def test_future_visit_date_is_refused(api, elder, gw, today):
    r = api(gw).post(
        "/api/v1/visits",
        {"recipient": elder.pk, "wellbeing": "good", "visited_on": str(today + timedelta(days=1))},
    )
    assert r.status_code == 422 and r.json()["field"] == "visited_on"


def test_outsider_gets_404_everywhere(api, charlie, elder, gw):
    visit_id = (
        api(gw).post("/api/v1/visits", {"recipient": elder.pk, "wellbeing": "good"}).json()["id"]
    )
    client = api(charlie)
    assert client.get(f"/api/v1/care-recipients/{elder.pk}").status_code == 404
    r = client.post("/api/v1/visits", {"recipient": elder.pk, "wellbeing": "good"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert client.get(f"/api/v1/visits/{visit_id}").status_code == 404
    assert client.post(f"/api/v1/visits/{visit_id}/need", {}).status_code == 404
    assert client.get("/api/v1/care-recipients").json()["count"] == 0
    assert client.get("/api/v1/visits").json()["count"] == 0
    assert Visit.objects.count() == 1


def test_wrong_role_gets_403(api, elder, gw, make_user, tree):
    # a building head sees the register of the building but may not change it
    head = make_user(Role.BUILDING_HEAD, tree.building_a, username="head")
    client = Client(headers={"Authorization": f"Bearer {token_for(head)}"})
    r = client.patch(
        f"/api/v1/care-recipients/{elder.pk}", '{"name": "改名"}', content_type="application/json"
    )
    assert r.status_code == 403
    assert api(head).get(f"/api/v1/care-recipients/{elder.pk}").status_code == 200
    # a grid worker may not reveal numbers
    r = api(gw).post(
        f"/api/v1/care-recipients/{elder.pk}/reveal", {"field": "mobile", "reason": "核对电话号码"}
    )
    assert r.status_code == 403
    # a resident of the building sees no register at all
    resident = make_user(Role.RESIDENT, tree.building_a, username="res")
    assert api(resident).get(f"/api/v1/care-recipients/{elder.pk}").status_code == 404
    assert (
        api(resident)
        .post("/api/v1/visits", {"recipient": elder.pk, "wellbeing": "good"})
        .status_code
        == 404
    )
    # figures: staff only (a building head sees the building, not its figures)
    figures = api(head).get(f"/api/v1/units/{tree.building_a.code}/care-figures")
    assert figures.status_code == 403


def test_children_hidden_without_the_permission(api, child, elder, gw, bob, make_user, tree):
    head = make_user(Role.BUILDING_HEAD, tree.building_a, username="head")
    for user in (gw, head):
        client = api(user)
        assert client.get(f"/api/v1/care-recipients/{child.pk}").status_code == 404
        ids = [r["id"] for r in client.get("/api/v1/care-recipients").json()["items"]]
        assert child.pk not in ids and elder.pk in ids
        assert (
            client.post("/api/v1/visits", {"recipient": child.pk, "wellbeing": "good"}).status_code
            == 404
        )
        assert "小明" not in client.get("/api/v1/visits/due?mine=false").content.decode()
    # bob may: masked in lists, whole on the record, and that read is audited
    client = api(bob)
    listed = {r["id"]: r for r in client.get("/api/v1/care-recipients").json()["items"]}
    assert listed[child.pk]["name"] == "李**" and listed[child.pk]["birth_date"] is None
    before = AuditEntry.objects.filter(action="care.minor.read").count()
    record = client.get(f"/api/v1/care-recipients/{child.pk}").json()
    assert record["name"] == "李小明" and record["guardian"]["name"] == "李奶奶"
    assert record["guardian"]["consent_method"] == "written" and record["guardian"]["recorded_by"]
    assert AuditEntry.objects.filter(action="care.minor.read").count() == before + 1


def test_patch_changes_the_frequency_and_ends(api, bob, elder, today):
    client = api(bob)
    raw = Client(headers={"Authorization": f"Bearer {token_for(bob)}"})
    r = raw.patch(
        f"/api/v1/care-recipients/{elder.pk}",
        '{"interval_days": 30}',
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["next_due"] == str(today + timedelta(days=10))
    r = raw.patch(
        f"/api/v1/care-recipients/{elder.pk}", '{"active": false}', content_type="application/json"
    )
    assert r.status_code == 422 and r.json()["field"] == "ended_reason"
    assert client.get("/api/v1/care-recipients").json()["count"] == 1


def test_reveal_needs_a_reason_and_a_fresh_step_up(api, bob, elder, stepped_up):
    client = api(bob)
    r = client.post(
        f"/api/v1/care-recipients/{elder.pk}/reveal", {"field": "mobile", "reason": "核对"}
    )
    assert r.status_code == 403 and r.json()["code"] == "step_up_required"
    stepped_up(client)
    r = client.post(
        f"/api/v1/care-recipients/{elder.pk}/reveal", {"field": "mobile", "reason": "x"}
    )
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = client.post(
        f"/api/v1/care-recipients/{elder.pk}/reveal", {"field": "mobile", "reason": "核对高龄补贴"}
    )
    assert r.status_code == 200 and r.json()["value"] == "13800001234"
    assert AuditEntry.objects.filter(action="care.recipient.reveal").exists()


def test_figures_and_groups(api, bob, alice, elder, child, gw, tree, make_user, today):
    api(gw).post("/api/v1/visits", {"recipient": elder.pk, "wellbeing": "good"})
    r = api(alice).get(
        f"/api/v1/units/{tree.street_a.code}/care-figures",
        {"from": str(today - timedelta(days=27)), "to": str(today)},
    )
    assert r.status_code == 200, r.json()
    body = r.json()
    assert (
        body["recipients"] == 2 and body["done"] == 1 and body["due"] == 3
    )  # registered 20 days ago: 21 days, 3 weeks; the child none yet
    assert body["overdue"] == 0
    bad = api(alice).get(f"/api/v1/units/{tree.street_a.code}/care-figures", {"from": "2026-02-30"})
    assert bad.status_code == 422 and bad.json()["field"] == "from"
    reversed_ = api(alice).get(
        f"/api/v1/units/{tree.street_a.code}/care-figures", {"from": str(today), "to": "2020-01-01"}
    )
    assert reversed_.status_code == 422 and reversed_.json()["field"] == "from"
    assert api(alice).get(f"/api/v1/units/{tree.street_b.code}/care-figures").status_code == 404
    groups = api(bob).get("/api/v1/care-groups").json()
    assert {g["code"] for g in groups} >= {"elderly_alone", "left_behind_child"}
    bob_raw = Client(headers={"Authorization": f"Bearer {token_for(bob)}"})
    put = bob_raw.put(
        "/api/v1/care-groups/other", '{"interval_days": 14}', content_type="application/json"
    )
    assert put.status_code == 403
    admin = make_user(Role.CITY_ADMIN, "1509", username="cityadmin")
    admin_raw = Client(headers={"Authorization": f"Bearer {token_for(admin)}"})
    put = admin_raw.put(
        "/api/v1/care-groups/other", '{"interval_days": 0}', content_type="application/json"
    )
    assert put.status_code == 422 and put.json()["field"] == "interval_days"
    put = admin_raw.put(
        "/api/v1/care-groups/other", '{"interval_days": 14}', content_type="application/json"
    )
    assert put.status_code == 200 and put.json()["interval_days"] == 14


def test_lists_take_a_fixed_number_of_queries(
    api, bob, gw, make_recipient, django_assert_max_num_queries
):
    from hongyan.care import services

    for i in range(15):
        r = make_recipient(name=f"老人{i}", mobile=f"1390000{i:04d}", visitor_user=gw)
        services.visit_log(actor=gw, recipient=r, wellbeing="good")
    client = api(bob)
    with django_assert_max_num_queries(10):
        body = client.get("/api/v1/care-recipients").json()
    assert body["count"] == 15
    with django_assert_max_num_queries(10):
        assert client.get("/api/v1/visits").json()["count"] == 15
    with django_assert_max_num_queries(10):
        assert len(api(gw).get("/api/v1/visits/due?mine=false").json()["soon"]) == 0


def test_a_compound_head_visits_the_people_assigned_to_their_post(
    api, alice, bob, tree, make_user, make_recipient, elder, today
):
    from hongyan.members import services as member_services

    from .conftest import make_id

    account = make_user(Role.PARTY_MEMBER, tree.compound_a, username="head_member")
    member = member_services.member_create(
        actor=alice, unit=tree.building_a, name="孟楼长", id_number=make_id(401, date(1960, 1, 1))
    )
    member.account = account
    member.save(update_fields=["account"])
    post = member_services.post_assign(
        actor=alice, member=member, kind="compound_head", unit=tree.compound_a
    )
    mine = make_recipient(  # monthly, registered 25 days ago: due within the week
        name="冯奶奶", visitor_post=post, registered_on=today - timedelta(days=25)
    )
    client = api(account)
    due = client.get("/api/v1/visits/due").json()
    assert [r["id"] for r in due["soon"] + due["today"] + due["overdue"]] == [mine.pk]
    r = client.post("/api/v1/visits", {"recipient": mine.pk, "wellbeing": "good"})
    assert r.status_code == 201, r.json()
    # someone else in the same compound is not theirs: not there at all
    assert (
        client.post("/api/v1/visits", {"recipient": elder.pk, "wellbeing": "good"}).status_code
        == 404
    )
    # a post in another community cannot be chosen
    r = api(bob).post(
        "/api/v1/care-recipients",
        {"unit": tree.building_a.code, "group": "other", "name": "某人", "visitor_post": 999999},
    )
    assert r.status_code == 422 and r.json()["field"] == "visitor_post"


def test_a_volunteer_team_visits_the_people_assigned_to_it(
    api, bob, tree, make_user, make_recipient, today
):
    from hongyan.volunteers.models import Team, TeamKind, TeamMembership, Volunteer

    account = make_user(Role.RESIDENT, tree.building_a, username="vol")
    volunteer = Volunteer.objects.create(unit=tree.building_a, name="暖心志愿者", account=account)
    kind = TeamKind.objects.first()
    team = Team.objects.create(name="暖心小分队", kind=kind, unit=tree.community_a)
    TeamMembership.objects.create(team=team, volunteer=volunteer)
    far = Team.objects.create(name="龙湾先锋队", kind=kind, unit=tree.community_b)
    r = make_recipient(name="蒋爷爷", visitor_team=team, registered_on=today - timedelta(days=30))
    client = api(account)
    assert [x["id"] for x in client.get("/api/v1/visits/due").json()["today"]] == [r.pk]
    assert (
        client.post("/api/v1/visits", {"recipient": r.pk, "wellbeing": "good"}).status_code == 201
    )
    bad = api(bob).post(
        "/api/v1/care-recipients",
        {"unit": tree.building_a.code, "group": "other", "name": "某人", "visitor_team": far.pk},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "visitor_team"
