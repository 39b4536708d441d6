"""Property (issue 6, item 10): for random unit trees, members, grants and users, every
list endpoint returns exactly the objects inside the user's subtrees — no more (a leak),
no fewer (a hidden row) — and refuses (403) a user whose roles may not read the list.

The oracle walks parent links, not the materialised paths the application filters on,
and knows the permission map only as plain role sets, so a wrong path prefix, a missing
scope() or a role mix-up each shows up as a difference."""

import itertools
from dataclasses import dataclass

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongyan.core import pii
from hongyan.core.models import ApiToken, Grant
from hongyan.core.roles import PERMISSIONS, Role
from hongyan.exports.models import ExportRequest
from hongyan.members import services as member_services
from hongyan.members.models import Member, WorkUnitPairing
from hongyan.orgs import services as org_services
from hongyan.orgs.models import Unit, UnitKind
from tests.conftest import ApiClient
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BASE = [  # real divisions: the city, two districts, streets and communities below them
    "1509",
    "150902",
    "150981",
    "150902001",
    "150902002",
    "150902001001",
    "150902001002",
    "150902002001",
]
COMMUNITIES = ["150902001001", "150902001002", "150902002001"]
ROLES = [
    Role.CITY_ADMIN,
    Role.DISTRICT_ADMIN,
    Role.STREET_ADMIN,
    Role.COMMUNITY_WORKER,
    Role.GRID_WORKER,
    Role.BUILDING_HEAD,
    Role.PARTY_MEMBER,
    Role.RESIDENT,
]
MARK = "演练"
_ids = itertools.count(1)


@st.composite
def plans(draw):
    compounds = draw(
        st.lists(
            st.tuples(
                st.sampled_from(range(len(COMMUNITIES))),  # its community
                st.lists(st.integers(0, 2), max_size=2),  # its grids, each with n buildings
            ),
            min_size=1,
            max_size=4,
        )
    )
    places = sum(1 + len(grids) + sum(grids) for _c, grids in compounds)
    units = len(BASE) + places
    return {
        "compounds": compounds,
        "members": draw(st.lists(st.integers(0, places - 1), max_size=8)),
        "users": draw(
            st.lists(
                st.lists(
                    st.tuples(st.sampled_from(ROLES), st.integers(0, units - 1)),
                    min_size=1,
                    max_size=3,
                ),
                min_size=1,
                max_size=3,
            )
        ),
        "exports": draw(
            st.lists(st.tuples(st.integers(0, places - 1), st.integers(0, 2)), max_size=4)
        ),
        "pairings": draw(st.lists(st.sampled_from(range(len(COMMUNITIES))), max_size=3)),
    }


@dataclass
class World:
    parent: dict[int, int | None]
    places: list[Unit]
    units: list[Unit]


def build(plan, admin) -> World:
    communities = [Unit.objects.get(code=c) for c in COMMUNITIES]
    places: list[Unit] = []
    for n, (community, grids) in enumerate(plan["compounds"]):
        add = org_services.unit_create_child
        compound = add(
            actor=admin,
            parent=communities[community],
            kind=UnitKind.COMPOUND,
            name=f"{MARK}小区{n}",
        )
        places.append(compound)
        for g, buildings in enumerate(grids):
            grid = add(actor=admin, parent=compound, kind=UnitKind.GRID, name=f"{MARK}网格{n}-{g}")
            places.append(grid)
            for b in range(buildings):
                places.append(
                    add(
                        actor=admin,
                        parent=grid,
                        kind=UnitKind.BUILDING,
                        name=f"{MARK}楼{n}-{g}-{b}",
                    )
                )
    for place in plan["members"]:
        seq = next(_ids)
        first17 = f"150902{1950 + seq % 50}0{1 + seq % 9}1{seq % 10}{seq % 1000:03d}"
        member_services.member_create(
            actor=admin,
            unit=places[place],
            name=f"王{'明华强伟芳军'[seq % 6]}",
            id_number=first17 + pii.id_check_char(first17),
        )
    for c in plan["pairings"]:
        WorkUnitPairing.objects.get_or_create(
            community=communities[c], work_unit=f"{MARK}单位{c}", party_org_name="机关党支部"
        )
    parent = dict(Unit.objects.values_list("pk", "parent_id"))
    units = [Unit.objects.get(code=c) for c in BASE] + places
    return World(parent, places, units)


def under(world: World, unit_id: int, root_id: int) -> bool:
    """Is the unit inside root's subtree? (walking parent links)"""
    while unit_id is not None:
        if unit_id == root_id:
            return True
        unit_id = world.parent[unit_id]
    return False


def visible(world, grants, unit_id, action=None) -> bool:
    allowed = PERMISSIONS[action] if action else set(Role)
    return any(role in allowed and under(world, unit_id, root) for role, root in grants)


def fetch_all(client, path, **params) -> tuple[int, list]:
    items, offset = [], 0
    while True:
        response = client.get(path, {**params, "limit": 200, "offset": offset})
        if response.status_code != 200:
            return response.status_code, []
        page = response.json()
        items += page["items"]
        offset += 200
        if offset >= page["count"]:
            return 200, items


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(plan=plans())
def test_every_list_returns_exactly_the_users_subtree(db, plan, settings):
    settings.RATE_LIMITS = {}
    with transaction.atomic():
        admin = UserFactory()
        Grant.objects.create(user=admin, role=Role.CITY_ADMIN, unit=Unit.objects.get(code="1509"))
        world = build(plan, admin)
        users = []
        for grants in plan["users"]:
            user = UserFactory()
            for role, unit in grants:
                Grant.objects.get_or_create(user=user, role=role, unit=world.units[unit])
            users.append((user, {(r, world.units[u].pk) for r, u in grants}))
        for place, who in plan["exports"]:
            requester = users[who % len(users)][0]
            ExportRequest.objects.create(
                ref=f"P{next(_ids):015d}",
                kind="members",
                requester=requester,
                unit=world.places[place],
                state=ExportRequest.State.PENDING,
                needs_approval=True,
            )
        for user, grants in users:
            check_user(world, user, grants)
        transaction.set_rollback(True)


def check_user(world, user, grants):
    client = ApiClient(ApiToken.issue(user)[1])
    who = f"{user.username} {sorted(grants)}"

    # units: a search finds exactly the generated units inside any grant's subtree
    status, found = fetch_all(client, "/api/v1/units", q=MARK)
    expected = {u.code for u in world.places if visible(world, grants, u.pk)}
    assert status == 200 and {u["code"] for u in found} == expected, who
    # …and without a query, the top of each subtree, nested grants folded in
    status, roots = fetch_all(client, "/api/v1/units")
    tops = {
        root
        for _r, root in grants
        if not any(under(world, root, o) and o != root for _r2, o in grants)
    }
    assert {u["code"] for u in roots} == set(
        Unit.objects.filter(pk__in=tops).values_list("code", flat=True)
    ), who

    # members: those living inside a subtree where the user's role may read the register
    readers = any(role in PERMISSIONS["member.view"] for role, _u in grants)
    status, members = fetch_all(client, "/api/v1/members")
    if not readers:
        assert status == 403, who
    else:
        expected = {
            m.pk for m in Member.objects.all() if visible(world, grants, m.unit_id, "member.view")
        }
        assert status == 200 and {m["id"] for m in members} == expected, who

    # 双报到 pairings: the same rule, on the community
    status, pairings = fetch_all(client, "/api/v1/pairings")
    if not readers:
        assert status == 403, who
    else:
        expected = {
            (p.community.code, p.work_unit)
            for p in WorkUnitPairing.objects.select_related("community")
            if visible(world, grants, p.community_id, "member.view")
        }
        assert {(p["community_code"], p["work_unit"]) for p in pairings} == expected, who

    # exports waiting for approval: someone else's, inside a subtree the user approves in
    status, waiting = fetch_all(client, "/api/v1/exports/approvals")
    expected = {
        e.ref
        for e in ExportRequest.objects.filter(state="pending")
        if e.requester_id != user.pk and visible(world, grants, e.unit_id, "export.approve")
    }
    assert status == 200 and {e["ref"] for e in waiting} == expected, who
