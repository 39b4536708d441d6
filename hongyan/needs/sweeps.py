"""The worker's sweeps for needs (`hongyan worker` runs them every few minutes):

- **warn**: a need still running whose deadline is less than `NEED_WARN_HOURS` away →
  tell its handler (or the owning unit's staff);
- **escalate** (督办): a need past its deadline → its owner moves one level up the
  tree, and that unit is told; if it stays overdue another `NEED_ESCALATE_AFTER_DAYS`
  days, up again;
- **revisit** (回访): the day after a need closed → remind the owning unit to call back.

Each notice is a `NeedNotification` row, unique per (need, kind, level): the sweep
inserts it first, inside the same transaction as the step it announces, and an insert
that hits the unique key means another worker (or an earlier run) already did it. So
two workers at once, or a rerun, send nothing twice."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hongyan.core import audit
from hongyan.core.worker import register_sweep

from .models import (
    RUNNING_STATUSES,
    EventAction,
    Need,
    NeedEvent,
    NeedNotification,
    NotificationKind,
    Status,
)

BATCH = 500


def _setting(name, default):
    return getattr(settings, name, default)


def notify_once(
    *, need: Need, kind: str, level: int, unit, user=None, message: str, at=None
) -> bool:
    """Insert the notice; False when it exists already (the unique key is the lock)."""
    try:
        with transaction.atomic():
            NeedNotification.objects.create(
                need=need,
                kind=kind,
                level=level,
                unit=unit,
                user=user,
                message=message[:300],
                created_at=at or timezone.now(),
            )
    except IntegrityError:
        return False
    audit.record(
        "need.notify",
        obj=need,
        actor_name="worker",
        detail={"reference": need.reference, "kind": kind, "level": level, "to": unit.code},
    )
    return True


def _not_notified(kind: str, level_field: str):
    return ~Exists(
        NeedNotification.objects.filter(need=OuterRef("pk"), kind=kind, level=OuterRef(level_field))
    )


@register_sweep("need_deadline_warnings", every_seconds=300)
def warn_before_deadline(now: datetime | None = None) -> int:
    now = now or timezone.now()
    soon = now + timedelta(hours=_setting("NEED_WARN_HOURS", 24))
    rows = (
        Need.objects.filter(status__in=RUNNING_STATUSES, deadline__gt=now, deadline__lte=soon)
        .filter(_not_notified(NotificationKind.DEADLINE_WARNING, "reopen_count"))
        .select_related("owner", "handler")
        .order_by("deadline")[:BATCH]
    )
    sent = 0
    for need in rows:
        with transaction.atomic():
            message = _("需求 %(ref)s 将于 %(at)s 到期，请抓紧办理。") % {
                "ref": need.reference,
                "at": timezone.localtime(need.deadline).strftime("%Y-%m-%d %H:%M"),
            }
            if notify_once(
                need=need,
                kind=NotificationKind.DEADLINE_WARNING,
                level=need.reopen_count,
                unit=need.owner,
                user=need.handler or need.assignee,
                message=message,
                at=now,
            ):
                NeedEvent.objects.create(
                    need=need,
                    at=now,
                    action=EventAction.WARNED,
                    to_status=need.status,
                    note=message,
                    actor_name=_("系统"),
                )
                sent += 1
    return sent


@register_sweep("need_escalations", every_seconds=300)
def escalate_overdue(now: datetime | None = None) -> int:
    from .rules import NeedError
    from .services import need_escalate

    now = now or timezone.now()
    step = timedelta(days=_setting("NEED_ESCALATE_AFTER_DAYS", 3))
    last = (
        NeedNotification.objects.filter(need=OuterRef("pk"), kind=NotificationKind.ESCALATION)
        .values("need")
        .annotate(at=Max("created_at"))
        .values("at")
    )
    from django.db.models import Subquery

    rows = (
        Need.objects.filter(status__in=RUNNING_STATUSES, deadline__lt=now)
        .annotate(last_escalated=Subquery(last))
        .filter(Q(last_escalated__isnull=True) | Q(last_escalated__lt=now - step))
        .exclude(owner__kind="city")
        .select_related("owner", "owner__parent")
        .order_by("deadline")[:BATCH]
    )
    done = 0
    for need in rows:
        parent = need.owner.parent
        if parent is None:
            continue
        level = need.escalation_level + 1
        try:
            with transaction.atomic():
                message = _("需求 %(ref)s 已超期未办结，升级至%(unit)s督办。") % {
                    "ref": need.reference,
                    "unit": parent.name,
                }
                if not notify_once(
                    need=need,
                    kind=NotificationKind.ESCALATION,
                    level=level,
                    unit=parent,
                    message=message,
                    at=now,
                ):
                    continue
                escalated = need_escalate(actor=None, need=need, note=message)
                if escalated.escalation_level != level:  # another worker moved it meanwhile
                    raise IntegrityError("escalation level moved")
                done += 1
        except (IntegrityError, NeedError):
            continue
    return done


@register_sweep("need_revisit_reminders", every_seconds=600)
def remind_revisit(now: datetime | None = None) -> int:
    """回访 the day after closing: needs closed before today (local), within the last week."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    start_of_today = timezone.make_aware(datetime.combine(today, time.min))
    rows = (
        Need.objects.filter(
            status=Status.CLOSED,
            closed_at__lt=start_of_today,
            closed_at__gte=start_of_today - timedelta(days=7),
        )
        .filter(_not_notified(NotificationKind.REVISIT, "reopen_count"))
        .select_related("owner")
        .order_by("closed_at")[:BATCH]
    )
    sent = 0
    for need in rows:
        with transaction.atomic():
            message = _("需求 %(ref)s 已于昨日前办结，请回访居民%(name)s。") % {
                "ref": need.reference,
                "name": need.resident_name,
            }
            if notify_once(
                need=need,
                kind=NotificationKind.REVISIT,
                level=need.reopen_count,
                unit=need.owner,
                message=message,
                at=now,
            ):
                NeedEvent.objects.create(
                    need=need,
                    at=now,
                    action=EventAction.REVISIT,
                    to_status=need.status,
                    note=message,
                    actor_name=_("系统"),
                )
                sent += 1
    return sent
