"""Two people take the last place at the same moment: one gets it, the other 409 `full`;
a leader double-clicks "approve": the hours count once. Two real connections, so
PostgreSQL only (SQLite serialises writers anyway)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from hongyan.volunteers import services
from hongyan.volunteers.models import Participation, Service
from hongyan.volunteers.services import VolunteerError

from ..helpers import postgres_only
from .conftest import happening_now


@pytest.fixture(autouse=True)
def world(request):
    if connection.vendor != "postgresql":
        return
    request.getfixturevalue("transactional_db")
    from hongyan.orgs.loader import load_divisions

    load_divisions()


def _race(fn, args_list):
    start = threading.Barrier(len(args_list))
    results = []

    def run(*args):
        try:
            start.wait(timeout=10)
            results.append(fn(*args))
        except VolunteerError as exc:
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=a) for a in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_last_place_goes_once(publish, resident, make_user, tree):
    service = publish(capacity=1)
    other = make_user("resident", tree.building_a, username="other")

    def signup(user):
        return services.service_signup(actor=user, service=Service.objects.get(pk=service.pk))

    results = _race(signup, [(resident,), (other,)])
    errors = [r for r in results if isinstance(r, VolunteerError)]
    assert len(errors) == 1 and errors[0].code == "full", results
    assert Participation.objects.filter(service=service, cancelled_at=None).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_count_once(publish, resident, leader_user, bob):
    service = publish()
    services.service_signup(actor=resident, service=service)
    service = happening_now(service)
    volunteer = services.volunteer_of(resident)
    start = service.starts_at
    services.service_checkin(actor=bob, service=service, volunteer=volunteer, at=start)
    services.service_checkout(
        actor=bob, service=service, volunteer=volunteer, at=start + timedelta(hours=1)
    )

    def approve(user):
        return services.service_approve(actor=user, service=Service.objects.get(pk=service.pk))

    results = _race(approve, [(leader_user,), (bob,)])
    assert sorted(r["approved"] for r in results) == [0, 1], results
    assert sum(r["minutes"] for r in results) == 60
