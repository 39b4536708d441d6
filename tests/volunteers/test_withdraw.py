"""Withdrawing a volunteer (退出): by staff or by the person, with a reason; teams and
future sign-ups end, hours and certificates stay; twice, or leading an active team, 409;
joining again puts them back on the register."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hongyan.core.models import AuditEntry
from hongyan.volunteers import selectors, services
from hongyan.volunteers.models import Participation, TeamMembership, Volunteer

from .conftest import happening_now, skill

pytestmark = pytest.mark.django_db


@pytest.fixture
def wang(resident):
    """王芳 signs up to a service by herself and so becomes a volunteer."""
    return services.volunteer_join(actor=resident)


def _served(bob, publish, resident, wang):
    """王芳 served two hours that were approved; she holds a certificate."""
    service = publish()
    services.service_signup(actor=resident, service=service)
    happening_now(service)
    now = timezone.now()
    at = now - timedelta(minutes=80)
    services.service_checkin(actor=bob, service=service, volunteer=wang, at=at)
    services.service_checkout(actor=bob, service=service, volunteer=wang, at=now)
    services.service_approve(actor=bob, service=service)
    return services.certificate_issue(actor=resident, volunteer=wang)


def test_staff_withdraw_ends_teams_and_future_signups_keeps_hours(
    api, bob, team, publish, resident, wang
):
    certificate = _served(bob, publish, resident, wang)
    hours = selectors.volunteer_totals(wang)["hours"]
    services.team_add_member(actor=bob, team=team, volunteer=wang)
    future = publish(days=5)
    services.service_signup(actor=resident, service=future)

    r = api(bob).post(f"/api/v1/volunteers/{wang.pk}/withdraw", {"reason": "搬离本社区"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["active"] is False and body["withdrawn_reason"] == "搬离本社区"
    wang.refresh_from_db()
    assert not wang.active and wang.withdrawn_at is not None
    assert not TeamMembership.objects.filter(volunteer=wang).exists()
    assert Participation.objects.get(service=future, volunteer=wang).cancelled_at is not None
    # the record stays true: hours and certificate kept, the past service not cancelled
    assert selectors.volunteer_totals(wang)["hours"] == hours > 0
    assert wang.certificates.filter(pk=certificate.pk).exists()
    assert Participation.objects.filter(volunteer=wang, approved_at__isnull=False).count() == 1
    entry = AuditEntry.objects.get(action="volunteer.withdraw")
    assert entry.detail["reason"] == "搬离本社区" and entry.detail["services"] == [future.pk]

    # twice: 409
    r = api(bob).post(f"/api/v1/volunteers/{wang.pk}/withdraw", {"reason": "再次"})
    assert r.status_code == 409, r.content


def test_self_withdraw_on_the_record_page(login, resident, wang):
    client = login(resident)
    page = client.get(f"/volunteers/people/{wang.pk}/").content.decode()
    assert f"/volunteers/people/{wang.pk}/withdraw/" in page
    r = client.post(f"/volunteers/people/{wang.pk}/withdraw/", {"reason": " "})
    assert r.status_code == 422
    assert "is-invalid" in r.content.decode()
    r = client.post(f"/volunteers/people/{wang.pk}/withdraw/", {"reason": "身体原因"})
    assert r.status_code == 302
    page = client.get(f"/volunteers/people/{wang.pk}/").content.decode()
    assert 'id="withdrawn"' in page and "身体原因" in page
    assert f"/volunteers/people/{wang.pk}/withdraw/" not in page  # no second button


def test_self_withdraw_api(api, resident, wang):
    r = api(resident).post(f"/api/v1/volunteers/{wang.pk}/withdraw", {"reason": "工作太忙"})
    assert r.status_code == 200, r.content
    assert not Volunteer.objects.get(pk=wang.pk).active


def test_wrong_role_403_outsider_404_empty_reason_422(api, bob, charlie, leader_user, wang):
    url = f"/api/v1/volunteers/{wang.pk}/withdraw"
    # the leader, a party member of the community, sees 王芳 but may not withdraw her
    assert api(leader_user).post(url, {"reason": "x"}).status_code == 403
    assert api(charlie).post(url, {"reason": "x"}).status_code == 404
    r = api(bob).post(url, {"reason": "  "})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = api(bob).post(url, {})
    assert r.status_code == 422 and "reason" in r.content.decode()
    assert Volunteer.objects.get(pk=wang.pk).active


def test_the_leader_of_an_active_team_is_refused_naming_the_team(api, bob, leader, team):
    r = api(bob).post(f"/api/v1/volunteers/{leader.pk}/withdraw", {"reason": "搬家"})
    assert r.status_code == 409
    assert team.name in r.json()["message"]
    assert Volunteer.objects.get(pk=leader.pk).active
    # once the team has paused, they may go; the team keeps its record
    services.team_set_status(actor=bob, team=team, status="paused")
    r = api(bob).post(f"/api/v1/volunteers/{leader.pk}/withdraw", {"reason": "搬家"})
    assert r.status_code == 200, r.content
    team.refresh_from_db()
    assert team.pk and team.status == "paused"


def test_not_a_candidate_nor_assignable_any_more(bob, publish, resident, wang):
    wang.specialties.set([skill("水电维修")])
    service = publish()
    ids = [c.member.pk for c in selectors.service_candidates(service)]
    assert wang.pk in ids
    services.volunteer_withdraw(actor=bob, volunteer=wang, reason="搬离本社区")
    assert wang.pk not in [c.member.pk for c in selectors.service_candidates(service)]
    assert wang.pk not in selectors.volunteer_list(bob).values_list("pk", flat=True)
    assert not selectors.community_pool(service.unit).filter(pk=wang.pk).exists()
    wang.refresh_from_db()
    with pytest.raises(services.VolunteerError) as e:
        services.service_signup(actor=bob, service=service, volunteer=wang)
    assert e.value.status == 409


def test_rejoin_puts_them_back_on_the_register(bob, publish, resident, wang):
    services.volunteer_withdraw(actor=resident, volunteer=wang, reason="暂时离开")
    again = services.volunteer_join(actor=resident)
    assert again.pk == wang.pk and again.active
    assert again.withdrawn_at is None and again.withdrawn_reason == ""
    assert AuditEntry.objects.filter(action="volunteer.rejoin").count() == 1
    # and may be withdrawn again later
    services.volunteer_withdraw(actor=bob, volunteer=again, reason="搬离本社区")
    assert not Volunteer.objects.get(pk=wang.pk).active


def test_staff_register_a_withdrawn_member_again(alice, bob, tree):
    from datetime import date

    from hongyan.members import services as member_services
    from tests.care.conftest import make_id

    member = member_services.member_create(
        actor=alice, unit=tree.building_a, name="赵党员", id_number=make_id(502, date(1970, 2, 3))
    )
    volunteer = services.volunteer_register(actor=bob, unit=tree.community_a, member=member)
    services.volunteer_withdraw(actor=bob, volunteer=volunteer, reason="外出务工")
    again = services.volunteer_register(actor=bob, unit=tree.community_a, member=member)
    assert again.pk == volunteer.pk and again.active
    # registering an active volunteer twice is still refused
    with pytest.raises(services.VolunteerError):
        services.volunteer_register(actor=bob, unit=tree.community_a, member=member)


def test_the_page_button_only_for_the_person_and_staff(login, bob, charlie, leader_user, wang):
    url = f"/volunteers/people/{wang.pk}/withdraw/"
    assert url in login(bob).get(f"/volunteers/people/{wang.pk}/").content.decode()
    assert login(leader_user).post(url, {"reason": "x"}).status_code == 403
    assert login(charlie).post(url, {"reason": "x"}).status_code == 404
    r = login(bob).post(url, {"reason": "搬离本社区"})
    assert r.status_code == 302 and not Volunteer.objects.get(pk=wang.pk).active
