"""Two people claim the same need at the same moment: exactly one wins, the other gets 409.

Needs two real connections, so it runs on PostgreSQL only (SQLite serialises writers
anyway): two threads, each with its own connection to the test database, both inside
`need_claim`'s transaction at once, meeting at the row lock."""

import threading

import pytest
from django.db import connection, connections

from hongyan.needs import services
from hongyan.needs.models import Need, NeedEvent, Status
from hongyan.needs.rules import NeedError

from ..helpers import postgres_only


@pytest.fixture(autouse=True)
def world(request):
    """A transactional test starts from whatever the one before it left (a flushed
    database: the categories and specialties come back with the flush's post_migrate,
    the divisions do not)."""
    if connection.vendor != "postgresql":
        return
    request.getfixturevalue("transactional_db")
    from hongyan.orgs.loader import load_divisions

    load_divisions()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_claims_one_winner(file_need, bob, helper, neighbour, tree):
    need = services.need_dispatch(actor=bob, need=file_need(), unit=tree.compound_a)
    start = threading.Barrier(2)
    results: dict[str, object] = {}

    def claim(user):
        try:
            start.wait(timeout=10)
            services.need_claim(actor=user, need=Need.objects.get(pk=need.pk))
            results[user.username] = "won"
        except NeedError as exc:
            results[user.username] = exc
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=claim, args=(u,)) for u in (helper, neighbour)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    outcomes = sorted(results.values(), key=lambda r: r != "won")
    assert outcomes[0] == "won", results
    assert isinstance(outcomes[1], NeedError) and outcomes[1].status == 409, results
    need.refresh_from_db()
    assert need.status == Status.CLAIMED
    assert need.handler.username == next(k for k, v in results.items() if v == "won")
    assert NeedEvent.objects.filter(need=need, action="claimed").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_escalate_once(file_need, tree):
    from datetime import timedelta

    from hongyan.needs import sweeps
    from hongyan.needs.models import NeedNotification

    need = file_need()
    now = need.deadline + timedelta(hours=1)
    start = threading.Barrier(2)
    done = []

    def worker():
        try:
            start.wait(timeout=10)
            done.append(sweeps.escalate_overdue(now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(done) == [0, 1]
    need.refresh_from_db()
    assert need.escalation_level == 1 and need.owner == tree.street_a
    assert NeedNotification.objects.filter(need=need).count() == 1
