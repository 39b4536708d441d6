"""Skill matching: the needs' `rank_candidates()` ranks volunteers by skill fit, then
nearness (same building → grid → compound → community), then availability, then recent
load. Table-driven: each row is a volunteer and where they must land."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hongyan.needs.matching import rank_candidates
from hongyan.volunteers import selectors, services
from hongyan.volunteers.models import Volunteer

from .conftest import skill

pytestmark = pytest.mark.django_db

# name, home (attribute of `tree`), skills, busy at the time, recent load
ROWS = [
    ("楼里电工", "building_a", ["水电维修"], False, 3),
    ("楼里电工忙", "building_a", ["水电维修"], True, 0),
    ("网格电工", "grid_a", ["水电维修"], False, 0),
    ("小区双能手", "compound_a", ["水电维修", "法律"], False, 9),
    ("社区电工", "community_a", ["水电维修"], False, 0),
    ("楼里闲人", "building_a", [], False, 0),
    ("楼里闲人忙", "building_a", [], False, 5),
    ("社区闲人", "community_a", [], False, 0),
]
# wanted 水电维修 + 法律: two matches first, then one (near to far; free before busy;
# lighter load first), then none
EXPECTED = [
    "小区双能手",
    "楼里电工",
    "楼里电工忙",
    "网格电工",
    "社区电工",
    "楼里闲人",
    "楼里闲人忙",
    "社区闲人",
]


@pytest.fixture
def pool(bob, tree):
    made = {}
    for name, home, skills, busy, load in ROWS:
        v = services.volunteer_register(
            actor=bob,
            unit=getattr(tree, home),
            name=name,
            specialty_ids=[skill(s).pk for s in skills],
        )
        made[name] = (v, busy, load)
    return made


def test_ranking_table(pool, tree):
    ranked = rank_candidates(
        place=tree.building_a,
        specialty_ids=[skill("水电维修").pk, skill("法律").pk],
        pool=Volunteer.objects.filter(pk__in=[v.pk for v, _b, _l in pool.values()]),
        load=lambda ids: {v.pk: n for v, _b, n in pool.values() if v.pk in ids},
        busy=lambda ids: {v.pk for v, b, _n in pool.values() if b and v.pk in ids},
        limit=20,
    )
    assert [c.member.name for c in ranked] == EXPECTED
    by_name = {c.member.name: c for c in ranked}
    assert [by_name[n].nearness for n in ("楼里电工", "网格电工", "小区双能手", "社区电工")] == [
        0,
        1,
        2,
        3,
    ]
    assert not by_name["楼里电工忙"].available
    assert "该时段已有安排" in by_name["楼里电工忙"].reason
    assert set(by_name["小区双能手"].matched) == {"水电维修", "法律"}
    assert by_name["小区双能手"].reason.startswith("特长：")


def test_service_candidates_use_real_availability_and_load(bob, tree, pool):
    start = timezone.now() + timedelta(days=5)
    here = services.service_publish(
        actor=bob,
        unit=tree.building_a,
        title="检修楼道电路",
        place="1号楼",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=3,
        skill_ids=[skill("水电维修").pk],
    )
    clash = services.service_publish(
        actor=bob,
        unit=tree.community_a,
        title="同一时间的另一项服务",
        place="社区",
        starts_at=start + timedelta(hours=1),
        ends_at=start + timedelta(hours=3),
        capacity=3,
    )
    busy = pool["网格电工"][0]
    services.service_signup(actor=bob, service=clash, volunteer=busy)
    taken = pool["楼里电工"][0]
    services.service_signup(actor=bob, service=here, volunteer=taken)
    ranked = selectors.service_candidates(here, limit=20)
    names = [c.member.name for c in ranked]
    assert "楼里电工" not in names  # already signed up
    assert names.index("楼里电工忙") < names.index("网格电工")  # nearer first
    grid = next(c for c in ranked if c.member.name == "网格电工")
    assert not grid.available and grid.load == 1


def test_need_candidates_include_resident_volunteers(api, bob, tree, charlie, pool):
    from hongyan.needs.models import NeedCategory
    from hongyan.needs.services import need_file

    need = need_file(
        actor=bob,
        channel="desk",
        unit=tree.building_a,
        category=NeedCategory.objects.get(city=None, code="public_facilities"),
        text="1号楼楼道灯不亮",
        resident_name="张三",
        resident_mobile="13800000002",
    )
    r = api(bob).get(f"/api/v1/needs/{need.pk}/candidates")
    assert r.status_code == 200, r.content
    rows = r.json()
    assert rows[0]["name"] == "楼里电工" and rows[0]["member_id"] is None
    assert rows[0]["volunteer_id"] == pool["楼里电工"][0].pk
    assert api(charlie).get(f"/api/v1/needs/{need.pk}/candidates").status_code == 404
