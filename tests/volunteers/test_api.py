"""The volunteers API: teams, services and their steps, records, certificates, figures.
Every endpoint: the happy path, the wrong role (403), the outsider charlie (404), bad
input (4xx naming the field)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hongyan.volunteers.models import Participation, Volunteer

from .conftest import happening_now, skill

pytestmark = pytest.mark.django_db


def _service_body(team=None, unit=None, **kw):
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    body = {
        "title": "义务理发",
        "kind": "elderly",
        "place": "社区服务站",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "capacity": 2,
        "skill_ids": [skill("理发").pk],
    }
    if team is not None:
        body["team_id"] = team.pk
    if unit is not None:
        body["unit"] = unit
    body.update(kw)
    return body


def test_teams_list_create_and_scope(api, bob, charlie, resident, leader, tree, team):
    r = api(bob).post(
        "/api/v1/volunteer-teams",
        {
            "unit": tree.community_a.code,
            "name": "法律援助队",
            "kind": "法律援助队",
            "leader_id": leader.pk,
            "skill_ids": [skill("法律").pk],
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind"] == "法律援助队" and body["leader"]["name"] == "李队长"
    assert body["members"] == [{"id": leader.pk, "name": "李队长"}]
    names = [t["name"] for t in api(bob).get("/api/v1/volunteer-teams").json()["items"]]
    assert names == ["恩和路网格先锋队", "法律援助队"]
    # a resident of a building in the community sees the community's teams
    assert api(resident).get("/api/v1/volunteer-teams").json()["count"] == 2
    assert api(charlie).get("/api/v1/volunteer-teams").json()["count"] == 0
    assert api(charlie).get(f"/api/v1/volunteer-teams/{team.pk}").status_code == 404
    # wrong role: a resident may not form a team
    r = api(resident).post(
        "/api/v1/volunteer-teams",
        {"unit": tree.building_a.code, "name": "x", "kind": "暖心小分队"},
    )
    assert r.status_code == 403
    # bad input names the field
    r = api(bob).post(
        "/api/v1/volunteer-teams",
        {"unit": tree.community_a.code, "name": "y", "kind": "不存在的队"},
    )
    assert r.status_code == 422 and r.json()["field"] == "kind"
    kinds = [k["name"] for k in api(bob).get("/api/v1/volunteer-team-kinds").json()]
    assert kinds[:4] == ["网格先锋队", "法律援助队", "知识科普宣讲队", "暖心小分队"]


def test_resident_joins_a_team(api, resident, team):
    r = api(resident).post(f"/api/v1/volunteer-teams/{team.pk}/join")
    assert r.status_code == 200
    assert "王芳" in [m["name"] for m in r.json()["members"]]


def test_publish_signup_checkin_checkout_approve(api, bob, leader_user, resident, team, charlie):
    r = api(leader_user).post("/api/v1/services", _service_body(team))
    assert r.status_code == 201, r.content
    sid = r.json()["id"]
    assert r.json()["signups_open"] is True and r.json()["skills"] == ["理发"]
    assert api(charlie).get(f"/api/v1/services/{sid}").status_code == 404
    assert api(charlie).post(f"/api/v1/services/{sid}/signup").status_code == 404

    r = api(resident).post(f"/api/v1/services/{sid}/signup")
    assert r.status_code == 200 and r.json()["volunteer"]["name"] == "王芳"
    assert api(resident).post(f"/api/v1/services/{sid}/signup").json()["code"] == "already"

    from hongyan.volunteers.models import Service

    happening_now(Service.objects.get(pk=sid))
    r = api(resident).post(f"/api/v1/services/{sid}/checkout")
    assert r.status_code == 409 and r.json()["code"] == "not_checked_in"
    assert api(resident).post(f"/api/v1/services/{sid}/checkin").status_code == 200
    Participation.objects.filter(service_id=sid).update(
        checkin_at=timezone.now() - timedelta(minutes=90)
    )
    r = api(resident).post(f"/api/v1/services/{sid}/checkout")
    assert r.status_code == 200 and r.json()["hours"] == 1.5

    assert api(resident).post(f"/api/v1/services/{sid}/approve").status_code == 403
    r = api(leader_user).post(f"/api/v1/services/{sid}/approve")
    assert r.json() == {"approved": 1, "already": 0, "waiting": 0, "minutes": 90}
    r = api(leader_user).post(f"/api/v1/services/{sid}/approve")
    assert r.json()["approved"] == 0 and r.json()["already"] == 1

    volunteer = Volunteer.objects.get(account=resident)
    record = api(resident).get(f"/api/v1/people/{volunteer.pk}/volunteer-record").json()
    assert record["totals"]["hours"] == 1.5 and record["totals"]["deeds"] == 1
    assert record["kinds"][0]["label"] == "助老助残"
    assert api(bob).get(f"/api/v1/people/{volunteer.pk}/volunteer-record").status_code == 200
    assert api(charlie).get(f"/api/v1/people/{volunteer.pk}/volunteer-record").status_code == 404
    # another resident (no staff role) may not read her record
    assert (
        api(leader_user).get(f"/api/v1/people/{volunteer.pk}/volunteer-record").status_code == 403
    )


def test_signup_beyond_capacity_is_409(api, bob, team, resident, make_user, tree):
    sid = api(bob).post("/api/v1/services", _service_body(team, capacity=1)).json()["id"]
    assert api(resident).post(f"/api/v1/services/{sid}/signup").status_code == 200
    other = make_user("resident", tree.compound_a, username="zhao")
    r = api(other).post(f"/api/v1/services/{sid}/signup")
    assert r.status_code == 409 and r.json()["code"] == "full" and r.json()["field"] == "capacity"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"capacity": 0}, "capacity"),
        ({"title": ""}, "title"),
        ({"kind": "party"}, "kind"),
        ({"starts_at": "not a date"}, "starts_at"),
        ({"ends_at": "2020-01-01T00:00:00+08:00"}, "ends_at"),
        ({"skill_ids": [999999]}, "skill_ids"),
    ],
)
def test_publish_bad_input_names_the_field(api, bob, team, change, field):
    r = api(bob).post("/api/v1/services", _service_body(team, **change))
    assert r.status_code == 422, r.content
    assert r.json()["field"] == field


def test_publish_by_community_and_outsider(api, bob, charlie, resident, tree):
    r = api(bob).post("/api/v1/services", _service_body(unit=tree.community_a.code))
    assert r.status_code == 201 and r.json()["team"] is None
    r = api(charlie).post("/api/v1/services", _service_body(unit=tree.community_a.code))
    assert r.status_code == 422 and r.json()["field"] == "unit"
    r = api(resident).post("/api/v1/services", _service_body(unit=tree.building_a.code))
    assert r.status_code == 403


def test_leader_entry_afterwards_and_24_hours(api, bob, leader_user, resident, team):
    sid = api(bob).post("/api/v1/services", _service_body(team)).json()["id"]
    api(resident).post(f"/api/v1/services/{sid}/signup")
    volunteer = Volunteer.objects.get(account=resident)
    from hongyan.volunteers.models import Service

    service = happening_now(Service.objects.get(pk=sid), started_minutes_ago=170)
    start = service.starts_at
    r = api(leader_user).post(
        f"/api/v1/services/{sid}/checkin",
        {"volunteer_id": volunteer.pk, "at": start.isoformat()},
    )
    assert r.status_code == 200 and r.json()["entered_by_leader"] is True
    r = api(leader_user).post(
        f"/api/v1/services/{sid}/checkout",
        {"volunteer_id": volunteer.pk, "at": (start - timedelta(minutes=5)).isoformat()},
    )
    assert r.status_code == 422 and r.json()["field"] == "at"
    r = api(leader_user).post(
        f"/api/v1/services/{sid}/checkout",
        {"volunteer_id": volunteer.pk, "at": (start + timedelta(hours=25)).isoformat()},
    )
    assert r.status_code == 422 and r.json()["field"] == "at"
    # a resident may not enter times for someone else
    r = api(resident).post(f"/api/v1/services/{sid}/checkin", {"volunteer_id": volunteer.pk})
    assert r.status_code == 403


def test_candidates_for_a_service(api, bob, team, leader, resident, tree, charlie):
    from hongyan.volunteers import services

    haircut = services.volunteer_register(
        actor=bob, unit=tree.compound_a, name="理发师傅", specialty_ids=[skill("理发").pk]
    )
    sid = api(bob).post("/api/v1/services", _service_body(team)).json()["id"]
    r = api(bob).get(f"/api/v1/services/{sid}/candidates")
    assert r.status_code == 200
    ranked = r.json()
    assert ranked[0]["volunteer_id"] == haircut.pk and ranked[0]["matched"] == ["理发"]
    assert api(resident).get(f"/api/v1/services/{sid}/candidates").status_code == 403
    assert api(charlie).get(f"/api/v1/services/{sid}/candidates").status_code == 404


def test_figures_api(api, bob, charlie, tree, resident):
    r = api(bob).get(f"/api/v1/units/{tree.community_a.code}/volunteer-figures")
    assert r.status_code == 200 and r.json()["deeds"] == 0
    assert (
        api(resident).get(f"/api/v1/units/{tree.building_a.code}/volunteer-figures").status_code
        == 403
    )
    assert (
        api(charlie).get(f"/api/v1/units/{tree.community_a.code}/volunteer-figures").status_code
        == 404
    )
    r = api(bob).get(
        f"/api/v1/units/{tree.community_a.code}/volunteer-figures",
        {"start": "2026-05-01", "end": "2026-01-01"},
    )
    assert r.status_code == 422 and r.json()["field"] == "end"
    r = api(bob).get(
        f"/api/v1/units/{tree.community_a.code}/volunteer-figures", {"start": "yesterday"}
    )
    assert r.status_code == 422 and r.json()["field"] == "start"


def test_register_volunteer(api, bob, charlie, tree):
    r = api(bob).post(
        "/api/v1/volunteers",
        {"unit": tree.building_a.code, "name": "张三", "mobile": "13912345678"},
    )
    assert r.status_code == 201 and r.json()["mobile"] == "139****5678"
    r = api(bob).post("/api/v1/volunteers", {"unit": tree.building_a.code, "mobile": "123"})
    assert r.status_code == 422 and r.json()["field"] == "name"
    r = api(charlie).post("/api/v1/volunteers", {"unit": tree.building_a.code, "name": "x"})
    assert r.status_code == 422 and r.json()["field"] == "unit"


def test_lists_take_a_fixed_number_of_queries(
    api, bob, team, publish, leader, tree, django_assert_max_num_queries
):
    from hongyan.volunteers import services

    for i in range(5):
        publish(title=f"服务{i}")
        services.team_create(
            actor=bob,
            unit=tree.community_a,
            name=f"队{i}",
            kind=team.kind,
            leader=leader,
            skill_ids=[skill("法律").pk],
        )
    client = api(bob)
    with django_assert_max_num_queries(12):
        assert client.get("/api/v1/services").json()["count"] == 5
    with django_assert_max_num_queries(12):
        assert client.get("/api/v1/volunteer-teams").json()["count"] == 6
