"""The worker's periodic sweeps: expired sessions and tokens, run when due."""

from datetime import timedelta

from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from hongyan.core import worker
from hongyan.core.models import ApiToken


def test_expired_sessions_are_swept(db):
    live, dead = SessionStore(), SessionStore()
    live.create()
    dead.create()
    Session.objects.filter(session_key=dead.session_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    assert worker.delete_expired_sessions() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
    assert worker.delete_expired_sessions() == 0  # idempotent


def test_expired_tokens_are_swept(alice, bob):
    ApiToken.issue(alice)
    old, _ = ApiToken.issue(bob)
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert worker.delete_expired_tokens() == 1
    assert list(ApiToken.objects.values_list("user__username", flat=True)) == ["alice"]


def test_run_due_runs_each_sweep_once_per_interval(db):
    last: dict[str, float] = {}
    first = worker.run_due(last, now=10_000.0)
    assert set(first) == {s.name for s in worker.SWEEPS}
    assert worker.run_due(last, now=10_001.0) == {}
    hourly = {s.name for s in worker.SWEEPS if s.every_seconds <= 3600}
    assert set(worker.run_due(last, now=10_000.0 + 3600)) >= hourly


def test_run_worker_once_returns_zero(db, capsys):
    assert worker.run_worker(once=True) == 0
    out = capsys.readouterr().out
    assert f"{len(worker.SWEEPS)} sweeps" in out
