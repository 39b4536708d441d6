"""Volunteers' world: bob's community 恩和路社区 has a team (网格先锋队) led by 李队长, a
party member with an account; 王芳 is a resident who signs up by herself."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hongyan.core.roles import Role
from hongyan.members.models import Specialty
from hongyan.volunteers import services
from hongyan.volunteers.models import Service, TeamKind


def skill(name: str) -> Specialty:
    return Specialty.objects.get_or_create(name=name)[0]


@pytest.fixture
def leader_user(make_user, tree):
    return make_user(Role.PARTY_MEMBER, tree.community_a, username="leader", display_name="李队长")


@pytest.fixture
def resident(make_user, tree):
    return make_user(Role.RESIDENT, tree.building_a, username="wangfang", display_name="王芳")


@pytest.fixture
def leader(bob, leader_user, tree):
    return services.volunteer_register(
        actor=bob,
        unit=tree.grid_a,
        name="李队长",
        account=leader_user,
        specialty_ids=[skill("水电维修").pk],
    )


@pytest.fixture
def team(bob, leader, tree):
    return services.team_create(
        actor=bob,
        unit=tree.community_a,
        name="恩和路网格先锋队",
        kind=TeamKind.objects.get(name="网格先锋队"),
        leader=leader,
        skill_ids=[skill("水电维修").pk],
    )


@pytest.fixture
def publish(bob, team):
    """publish(days=3, capacity=5, hours=2, **kw) -> a service of the team."""

    def make(days=3, capacity=5, hours=2, **kw):
        start = timezone.now().replace(microsecond=0) + timedelta(days=days)
        fields = {
            "title": "楼道清理",
            "place": "御景华府1号楼",
            "starts_at": start,
            "ends_at": start + timedelta(hours=hours),
            "capacity": capacity,
            "team": team,
            "unit": team.unit,
        }
        fields.update(kw)
        return services.service_publish(actor=kw.pop("actor", bob), **fields)

    return make


def happening_now(service: Service, started_minutes_ago: int = 90) -> Service:
    """Time passes: the service (signed up days before) is now under way."""
    start = timezone.now() - timedelta(minutes=started_minutes_ago)
    Service.objects.filter(pk=service.pk).update(
        starts_at=start, ends_at=start + timedelta(hours=3)
    )
    service.refresh_from_db()
    return service
