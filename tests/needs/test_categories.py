"""Categories managed per city, and the notices the worker leaves for people."""

import json
from datetime import timedelta

import pytest

from hongyan.core.roles import Role
from hongyan.needs import clock, services, sweeps
from hongyan.needs.models import Need, NeedCategory

pytestmark = pytest.mark.django_db

CITY = "1509"  # 乌兰察布市
DEFAULT_CODES = {
    "public_facilities",
    "sanitation",
    "property",
    "neighbour_dispute",
    "safety_hazard",
    "elderly_disabled",
    "employment_social",
    "policy",
    "other",
}


def put(client, path, data):
    return client.client.put(path, json.dumps(data), content_type="application/json")


@pytest.fixture
def city_admin(make_user):
    return make_user(Role.CITY_ADMIN, CITY, username="city")


def test_seeded_categories_with_stable_codes(api, bob):
    assert set(NeedCategory.objects.filter(city=None).values_list("code", flat=True)) == (
        DEFAULT_CODES
    )
    hazard = NeedCategory.objects.get(code="safety_hazard")
    assert (hazard.deadline_value, hazard.deadline_unit, hazard.response_hours) == (24, "hours", 2)
    r = api(None).get("/api/v1/needs/categories")
    assert r.status_code == 200 and [c["name"] for c in r.json()][:2] == ["公共设施", "环境卫生"]


def test_a_city_overrides_a_default(api, city_admin, bob, tree, file_need):
    r = put(
        api(city_admin),
        f"/api/v1/units/{CITY}/need-categories/sanitation",
        {"name": "环境卫生", "deadline_value": 2, "specialties": []},
    )
    assert r.status_code == 200, r.content
    assert r.json()["deadline_label"] == "2 个工作日"
    r = put(
        api(city_admin),
        f"/api/v1/units/{CITY}/need-categories/heating",
        {"name": "供暖", "deadline_value": 24, "deadline_unit": "hours", "response_hours": 2},
    )
    assert r.status_code == 200
    codes = [c["code"] for c in api(bob).get(f"/api/v1/units/{CITY}/need-categories").json()]
    assert codes.count("sanitation") == 1 and "heating" in codes
    # filing in the city uses the city's own limit
    r = api(None).post(
        "/api/v1/needs",
        {
            "category": "sanitation",
            "unit": tree.compound_a.code,
            "text": "垃圾桶满了",
            "resident_name": "居民",
            "resident_mobile": "13600000000",
        },
    )
    assert r.status_code == 201
    need = Need.objects.select_related("category__city").get(pk=r.json()["id"])
    assert need.category.city.code == CITY and need.category.deadline_value == 2
    assert need.deadline == clock.deadline_for(need.category, need.created_at)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "deadline_value": 3}, "name"),
        ({"name": "x", "deadline_value": 0}, "deadline_value"),
        ({"name": "x", "deadline_value": 3, "deadline_unit": "weeks"}, "deadline_unit"),
        ({"name": "x", "deadline_value": 3, "owner_level": "building"}, "owner_level"),
        ({"name": "x", "deadline_value": 3, "specialties": ["飞行"]}, "specialties"),
    ],
)
def test_bad_category_input_names_the_field(api, city_admin, body, field):
    r = put(api(city_admin), f"/api/v1/units/{CITY}/need-categories/new_kind", body)
    assert r.status_code == 422 and r.json()["field"] == field


def test_only_a_city_admin_manages_categories(api, alice, charlie, make_user):
    body = {"name": "供暖", "deadline_value": 1}
    assert put(api(alice), f"/api/v1/units/{CITY}/need-categories/heat", body).status_code == 404
    fengzhen = make_user(Role.DISTRICT_ADMIN, "150981")
    assert put(api(fengzhen), f"/api/v1/units/{CITY}/need-categories/heat", body).status_code == 404
    r = put(api(alice), "/api/v1/units/150902001/need-categories/heat", body)
    assert r.status_code == 422 and r.json()["field"] == "city"
    district_admin = make_user(Role.DISTRICT_ADMIN, "150902")
    r = put(api(district_admin), "/api/v1/units/150902/need-categories/heat", body)
    assert r.status_code == 422  # not a city
    city_worker = make_user(Role.STREET_ADMIN, CITY)
    r = put(api(city_worker), f"/api/v1/units/{CITY}/need-categories/heat", body)
    assert r.status_code == 403


def test_notifications_reach_the_handler_and_the_unit(api, alice, bob, helper, charlie, file_need):
    need = services.need_dispatch(actor=bob, need=file_need(), person=helper)
    sweeps.warn_before_deadline(need.deadline - timedelta(hours=2))
    sweeps.escalate_overdue(need.deadline + timedelta(hours=1))
    mine = api(helper).get("/api/v1/needs/notifications").json()
    assert [n["kind"] for n in mine["items"]] == ["warn"]
    street = api(alice).get("/api/v1/needs/notifications", {"unread": "true"}).json()
    assert {n["kind"] for n in street["items"]} == {"warn", "escalate"}
    assert api(charlie).get("/api/v1/needs/notifications").json()["count"] == 0
    notice_id = mine["items"][0]["id"]
    assert api(charlie).post(f"/api/v1/needs/notifications/{notice_id}/read").status_code == 404
    assert api(helper).post(f"/api/v1/needs/notifications/{notice_id}/read").status_code == 204
    assert api(helper).get("/api/v1/needs/notifications", {"unread": "true"}).json()["count"] == 0


def test_defaults_come_back_after_a_flush_but_edits_stay(city_admin):
    from hongyan.needs.seed import ensure_default_categories

    NeedCategory.objects.filter(code="other", city=None).delete()
    NeedCategory.objects.filter(code="policy", city=None).update(deadline_value=9, active=False)
    assert ensure_default_categories() == 1
    assert set(NeedCategory.objects.filter(city=None).values_list("code", flat=True)) == (
        DEFAULT_CODES
    )
    policy = NeedCategory.objects.get(code="policy", city=None)
    assert (policy.deadline_value, policy.active) == (9, False)
    assert ensure_default_categories() == 0
    assert NeedCategory.objects.get(code="public_facilities").specialties.count() == 2
