"""Hours and stars: sign-up rules, check-in and -out, approval once, the record."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from hongyan.core.models import AuditEntry
from hongyan.volunteers import selectors, services
from hongyan.volunteers.models import Participation, Service, Volunteer
from hongyan.volunteers.services import VolunteerError

from .conftest import happening_now

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "hours, star",
    [
        (0, 0),
        (99.99, 0),
        (100, 1),
        (299.5, 1),
        (300, 2),
        (599.99, 2),
        (600, 3),
        (999.9, 3),
        (1000, 4),
        (1499.99, 4),
        (1500, 5),
        (5000, 5),
    ],
)
def test_star_levels_at_the_boundaries(hours, star):
    assert selectors.star_level(hours) == star


def test_next_star():
    assert selectors.next_star(0) == 100
    assert selectors.next_star(100) == 300
    assert selectors.next_star(1500) is None


def test_resident_signs_up_checks_in_and_out_and_the_leader_approves_once(
    publish, resident, leader_user
):
    service = publish()
    p = services.service_signup(actor=resident, service=service)
    assert p.volunteer.account == resident and not p.assigned
    assert Volunteer.objects.get(account=resident).unit.name == "1号楼"
    service = happening_now(service)
    services.service_checkin(actor=resident, service=service)
    Participation.objects.filter(pk=p.pk).update(checkin_at=timezone.now() - timedelta(minutes=75))
    p = services.service_checkout(actor=resident, service=service)
    assert p.minutes == 75 and not p.entered_by_leader

    first = services.service_approve(actor=leader_user, service=service)
    second = services.service_approve(actor=leader_user, service=service)
    assert (first["approved"], first["minutes"]) == (1, 75)
    assert (second["approved"], second["already"], second["minutes"]) == (0, 1, 0)
    totals = selectors.volunteer_totals(p.volunteer)
    assert totals["hours"] == 1.25 and totals["deeds"] == 1
    assert AuditEntry.objects.filter(action="volunteer.service.approve").count() == 2


def test_sign_up_beyond_capacity_is_refused(publish, resident, make_user, tree):
    service = publish(capacity=1)
    services.service_signup(actor=resident, service=service)
    other = make_user("resident", tree.building_a, username="other")
    with pytest.raises(VolunteerError) as e:
        services.service_signup(actor=other, service=service)
    assert e.value.code == "full" and e.value.status == 409


def test_changes_allowed_until_the_day_before(publish, resident, bob):
    early = publish(days=3)
    services.service_signup(actor=resident, service=early)
    services.service_withdraw(actor=resident, service=early)
    services.service_signup(actor=resident, service=early)  # again, after withdrawing
    tomorrow_start = timezone.localtime() + timedelta(days=1)
    late = publish(days=0, hours=1)
    Service.objects.filter(pk=late.pk).update(
        starts_at=tomorrow_start, ends_at=tomorrow_start + timedelta(hours=1)
    )
    late.refresh_from_db()
    with pytest.raises(VolunteerError) as e:
        services.service_signup(actor=resident, service=late)
    assert e.value.code == "signup_closed"
    # the leader (or staff) may still assign
    volunteer = Volunteer.objects.get(account=resident)
    assert services.service_signup(actor=bob, service=late, volunteer=volunteer).assigned


def test_checkout_before_checkin_is_refused(publish, resident):
    service = publish()
    services.service_signup(actor=resident, service=service)
    service = happening_now(service)
    with pytest.raises(VolunteerError) as e:
        services.service_checkout(actor=resident, service=service)
    assert e.value.code == "not_checked_in" and e.value.status == 409


def test_more_than_24_hours_in_a_day_is_refused(publish, resident, leader_user, bob):
    volunteer = services.volunteer_join(actor=resident)
    day = timezone.localtime().replace(hour=0, minute=30, second=0, microsecond=0) - timedelta(
        days=2
    )
    a = publish(days=3, hours=20)
    b = publish(days=3, hours=20, title="第二项")
    for s in (a, b):
        services.service_signup(actor=bob, service=s, volunteer=volunteer)
        Service.objects.filter(pk=s.pk).update(starts_at=day, ends_at=day + timedelta(hours=20))
        s.refresh_from_db()
    services.service_checkin(actor=leader_user, service=a, volunteer=volunteer, at=day)
    p = services.service_checkout(
        actor=leader_user, service=a, volunteer=volunteer, at=day + timedelta(hours=20)
    )
    assert p.entered_by_leader and p.minutes == 20 * 60
    services.service_checkin(
        actor=leader_user, service=b, volunteer=volunteer, at=day + timedelta(hours=1)
    )
    with pytest.raises(VolunteerError) as e:
        services.service_checkout(
            actor=leader_user, service=b, volunteer=volunteer, at=day + timedelta(hours=6)
        )
    assert e.value.field == "at" and e.value.status == 422
    # 4 hours fit
    services.service_checkout(
        actor=leader_user, service=b, volunteer=volunteer, at=day + timedelta(hours=5)
    )


def test_only_the_leader_or_staff_approve(publish, resident, make_user, tree):
    service = publish()
    services.service_signup(actor=resident, service=service)
    with pytest.raises(PermissionDenied):
        services.service_approve(actor=resident, service=service)


def test_resolved_needs_count_as_deeds_once(publish, bob, tree, resident, alice):
    from hongyan.members import services as member_services
    from hongyan.needs.models import Need, Status
    from hongyan.needs.services import need_file
    from tests.needs.conftest import make_id

    member = member_services.member_create(
        actor=alice, unit=tree.building_a, name="韩师傅", id_number=make_id(901)
    )
    volunteer = services.volunteer_register(actor=bob, unit=tree.building_a, member=member)
    need = need_file(
        actor=bob,
        channel="desk",
        unit=tree.building_a,
        category=_category(),
        text="楼道灯坏了",
        resident_name="张三",
        resident_mobile="13800000001",
    )
    now = timezone.now()
    Need.objects.filter(pk=need.pk).update(
        handler_member=member, claimed_at=now, resolved_at=now, status=Status.CLOSED
    )
    totals = selectors.volunteer_totals(volunteer)
    assert (totals["deeds"], totals["need_deeds"], totals["hours"]) == (1, 1, 0)
    figures = selectors.unit_figures(tree.community_a)
    assert figures["need_deeds"] == 1
    # the member register's 办实事 tally counts the need once, and approved services too
    from hongyan.members.selectors import SERVICE_SOURCES

    counted = sum(
        s([member.pk], now.date() - timedelta(days=1)).get(member.pk, 0) for s in SERVICE_SOURCES
    )
    assert counted == 1


def _category():
    from hongyan.needs.models import NeedCategory

    return NeedCategory.objects.get(city=None, code="public_facilities")


def test_record_by_year_and_kind(publish, resident, leader_user):
    service = publish(kind="elderly")
    services.service_signup(actor=resident, service=service)
    service = happening_now(service)
    volunteer = Volunteer.objects.get(account=resident)
    start = service.starts_at
    services.service_checkin(actor=leader_user, service=service, volunteer=volunteer, at=start)
    services.service_checkout(
        actor=leader_user, service=service, volunteer=volunteer, at=start + timedelta(hours=1)
    )
    services.service_approve(actor=leader_user, service=service)
    record = selectors.volunteer_record(volunteer)
    year = timezone.localtime(start).year
    assert record["years"][0]["year"] == year and record["years"][0]["hours"] == 1
    assert record["kinds"] == [{"kind": "elderly", "label": "助老助残", "hours": 1.0, "deeds": 1}]
    figures = selectors.unit_figures(service.unit)
    assert (figures["hours"], figures["service_deeds"], figures["active_volunteers"]) == (
        1.0,
        1,
        1,
    )
    assert figures["services_held"] == 1
