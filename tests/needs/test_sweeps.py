"""The worker's sweeps: deadline warnings, escalation (督办), revisit reminders — each
idempotent: a rerun, or a second worker, sends nothing twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hongyan.core.worker import SWEEPS
from hongyan.needs import services, sweeps
from hongyan.needs.models import EventAction, Need, NeedNotification, NotificationKind

pytestmark = pytest.mark.django_db


def test_sweeps_are_registered():
    names = {s.name for s in SWEEPS}
    assert {"need_deadline_warnings", "need_escalations", "need_revisit_reminders"} <= names


def test_warning_before_the_deadline_once(file_need, bob, helper):
    need = services.need_dispatch(actor=bob, need=file_need(), person=helper)
    far = file_need()  # due in days: no warning yet
    now = need.deadline - timedelta(hours=3)
    Need.objects.filter(pk=far.pk).update(deadline=now + timedelta(days=5))
    assert sweeps.warn_before_deadline(now) == 1
    assert sweeps.warn_before_deadline(now) == 0  # rerun
    notice = NeedNotification.objects.get()
    assert (notice.need, notice.kind, notice.user) == (
        need,
        NotificationKind.DEADLINE_WARNING,
        helper,
    )
    assert need.events.filter(action=EventAction.WARNED).count() == 1


def test_overdue_needs_escalate_one_level_and_again_later(file_need, tree):
    need = file_need()
    now = need.deadline + timedelta(hours=1)
    assert sweeps.escalate_overdue(now) == 1
    assert sweeps.escalate_overdue(now) == 0  # rerun: nothing twice
    need.refresh_from_db()
    assert need.owner == tree.street_a and need.escalation_level == 1
    notice = NeedNotification.objects.get(kind=NotificationKind.ESCALATION)
    assert notice.unit == tree.street_a and notice.level == 1
    # still overdue three days after: up to the district
    later = now + timedelta(days=3, hours=1)
    NeedNotification.objects.filter(pk=notice.pk).update(created_at=now)
    assert sweeps.escalate_overdue(later) == 1
    need.refresh_from_db()
    assert need.owner == tree.district and need.escalation_level == 2
    assert need.events.filter(action=EventAction.ESCALATED).count() == 2


def test_a_second_worker_cannot_send_the_same_notice(file_need, tree):
    need = file_need()
    args = {"need": need, "kind": NotificationKind.ESCALATION, "level": 1, "unit": tree.street_a}
    assert sweeps.notify_once(**args, message="督办") is True
    assert sweeps.notify_once(**args, message="督办") is False  # the unique key says no
    assert NeedNotification.objects.count() == 1


def test_paused_needs_neither_warn_nor_escalate(file_need, bob, helper):
    need = services.need_dispatch(actor=bob, need=file_need(), person=helper)
    services.need_pause(actor=helper, need=need, note="等待居民回家")
    now = need.deadline + timedelta(hours=1)
    assert sweeps.escalate_overdue(now) == 0
    assert sweeps.warn_before_deadline(need.deadline - timedelta(hours=1)) == 0


def test_revisit_the_day_after_closing(file_need, bob, helper):
    need = services.need_dispatch(actor=bob, need=file_need(), person=helper)
    services.need_start(actor=helper, need=need)
    services.need_resolve(actor=helper, need=need, resolution="已修好")
    need = services.need_close(actor=bob, need=need)
    assert sweeps.remind_revisit(need.closed_at + timedelta(minutes=5)) == 0  # same day
    next_day = timezone.localtime(need.closed_at) + timedelta(days=1)
    assert sweeps.remind_revisit(next_day) == 1
    assert sweeps.remind_revisit(next_day) == 0
    assert NeedNotification.objects.get(kind=NotificationKind.REVISIT).unit == need.owner
