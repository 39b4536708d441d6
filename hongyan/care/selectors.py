"""Scoped reads of the care registry: who sees which recipient, the visitor's list of
who is due, the figures.

A user sees a recipient when
- it lies in the subtree of one of their grants with `care.view` (staff, building heads), or
- they are its visitor: the named account, the member holding the 三户四长 post, or a
  member (or the leader) of the volunteer team;
and, for a child under 14 today, only when they hold `care.minors` over the child's
place. Anything else does not exist for them (404, absent from lists and figures' rows)."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.utils.translation import gettext as _

from hongyan.core import pii
from hongyan.core.scope import can, visible_paths
from hongyan.orgs.models import Unit

from .models import ID_PURPOSE, MOBILE_PURPOSE, CareGroup, CareRecipient, CareReminder, Visit
from .services import today

NOT_FOUND = "没有找到，或不在您的管辖范围内。"
SOON_DAYS = 7


def _under_any(paths, lookup="unit__path__under") -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{lookup: p})
    return q


def _teams_of(user):
    from hongyan.volunteers.models import Team

    return Team.objects.filter(
        Q(memberships__volunteer__account=user) | Q(leader__account=user)
    ).values("pk")


def assigned_to(user) -> Q:
    """Recipients whose visitor is this user (account, post or team)."""
    return (
        Q(visitor_user=user)
        | Q(visitor_post__member__account=user)
        | Q(visitor_team__in=_teams_of(user))
    )


def _visibility(user, day: date, prefix: str = "") -> Q:
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    p = prefix
    seen = _under_any(visible_paths(user, "care.view"), f"{p}unit__path__under")
    mine = assigned_to(user)
    if p:
        mine = Q(**{f"{p}pk__in": CareRecipient.objects.filter(mine).values("pk")})
    adults = Q(**{f"{p}minor_until__isnull": True}) | Q(**{f"{p}minor_until__lte": day})
    minors_ok = _under_any(visible_paths(user, "care.minors"), f"{p}unit__path__under")
    return (seen | mine) & (adults | minors_ok)


RELATED = ("unit", "group", "visitor_user", "visitor_post__member", "visitor_team")


def recipient_queryset(user, day: date | None = None):
    return CareRecipient.objects.filter(_visibility(user, day or today())).select_related(*RELATED)


def may(user, r: CareRecipient, step: str) -> bool:
    path = r.unit.path
    if step == "view":
        return True
    if step == "visit":
        return (
            can(user, "care.visit", path)
            or CareRecipient.objects.filter(assigned_to(user), pk=r.pk).exists()
        )
    if step == "edit":
        return can(user, "care.edit", path)
    if step == "reveal":
        return can(user, "care.reveal", path)
    raise KeyError(step)


def recipient_access(user, pk, step: str = "view") -> CareRecipient:
    """The recipient, or 404 when the user cannot see them, or 403 for a step they may not take."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_(NOT_FOUND)) from None
    r = recipient_queryset(user).filter(pk=pk).first()
    if r is None:
        raise Http404(_(NOT_FOUND))
    if not may(user, r, step):
        raise PermissionDenied(_("您的角色不能执行此操作。"))
    return r


def may_use_care(user) -> bool:
    """Asked on every page for the menu, so each way of being a visitor is its own
    indexed lookup (one OR across three joins would read the whole table)."""
    if visible_paths(user, "care.view"):
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    recipients = CareRecipient.objects
    return (
        recipients.filter(visitor_user=user).exists()
        or recipients.filter(visitor_post__member__account=user).exists()
        or recipients.filter(visitor_team__in=_teams_of(user)).exists()
    )


def _search(q: str) -> Q:
    q = (q or "").strip()
    if not q:
        return Q()
    id_number = pii.normalise_id_number(q)
    if len(id_number) == 18 and pii.ID_RE.fullmatch(id_number):
        return Q(id_number_index__in=pii.blind_indexes(id_number, ID_PURPOSE))
    mobile = pii.normalise_mobile(q)
    if pii.MOBILE_RE.fullmatch(mobile):
        return Q(mobile_index__in=pii.blind_indexes(mobile, MOBILE_PURPOSE))
    return Q(name__contains=q) | Q(address__contains=q)


STATUSES = ("overdue", "today", "due", "soon", "ok", "ended")


def recipient_list(
    user,
    *,
    unit: Unit | None = None,
    group: str = "",
    status: str = "",
    mine: bool = False,
    q: str = "",
    day: date | None = None,
):
    """Recipients the user may see, soonest due first. `status`: overdue (due before
    today), today, due (today or before), soon (within a week), ok (not yet due), ended."""
    day = day or today()
    qs = recipient_queryset(user, day)
    qs = qs.filter(active=status != "ended")
    if unit is not None:
        qs = qs.filter(unit__path__under=unit.path)
    if group:
        qs = qs.filter(group__code=group)
    if mine:
        qs = qs.filter(assigned_to(user))
    if status == "overdue":
        qs = qs.filter(next_due__lt=day)
    elif status == "today":
        qs = qs.filter(next_due=day)
    elif status == "due":
        qs = qs.filter(next_due__lte=day)
    elif status == "soon":
        qs = qs.filter(next_due__lte=day + timedelta(days=SOON_DAYS))
    elif status == "ok":
        qs = qs.filter(next_due__gt=day)
    if q:
        qs = qs.filter(_search(q))
    return qs.order_by("next_due", "unit__path", "pk")


@dataclass
class DueList:
    overdue: list = field(default_factory=list)
    today: list = field(default_factory=list)
    soon: list = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.soon)


def due_list(user, *, mine: bool = True, unit: Unit | None = None, day=None, limit=200) -> DueList:
    """The visitor's phone list: overdue first (oldest first), then today, then the next
    week. `mine`: only those the user visits; otherwise everyone in their area."""
    day = day or today()
    rows = recipient_list(user, unit=unit, status="soon", mine=mine, day=day)[:limit]
    out = DueList()
    for r in rows:
        (out.overdue if r.next_due < day else out.today if r.next_due == day else out.soon).append(
            r
        )
    return out


def reminders_for(user, *, area: bool = False, limit: int = 20):
    """The worker's unread reminders for the user; with `area`, also those for nobody in
    particular (recipients without a visitor's account) in the places they may edit —
    never about anyone they may not see (a child, for most)."""
    q = Q(user=user)
    if area:
        q |= Q(user__isnull=True) & _under_any(visible_paths(user, "care.edit"))
    return (
        CareReminder.objects.filter(q, read_at__isnull=True)
        .filter(recipient__in=recipient_queryset(user).values("pk"))
        .order_by("-due_on", "-pk")[:limit]
    )


def visit_queryset(user, day: date | None = None):
    return Visit.objects.filter(_visibility(user, day or today(), "recipient__")).select_related(
        "recipient__unit", "recipient__group", "need"
    )


def visit_access(user, pk, step: str = "view") -> Visit:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_(NOT_FOUND)) from None
    visit = visit_queryset(user).filter(pk=pk).first()
    if visit is None:
        raise Http404(_(NOT_FOUND))
    if not may(user, visit.recipient, step):
        raise PermissionDenied(_("您的角色不能执行此操作。"))
    return visit


def visit_list(
    user,
    *,
    recipient: CareRecipient | None = None,
    unit: Unit | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    findings: bool = False,
):
    qs = visit_queryset(user)
    if recipient is not None:
        qs = qs.filter(recipient=recipient)
    if unit is not None:
        qs = qs.filter(recipient__unit__path__under=unit.path)
    if date_from:
        qs = qs.filter(visited_on__gte=date_from)
    if date_to:
        qs = qs.filter(visited_on__lte=date_to)
    if findings:
        qs = qs.exclude(finding_kind="")
    return qs.order_by("-visited_on", "-pk")


def groups(active_only=True):
    qs = CareGroup.objects.all()
    return qs.filter(active=True) if active_only else qs


# --- figures ------------------------------------------------------------------------------


def visits_expected(days: int, interval: int) -> int:
    """How many visits `days` days need at one every `interval` days (whole intervals)."""
    return days // interval if days > 0 and interval > 0 else 0


def care_figures(unit: Unit, date_from: date, date_to: date, *, day: date | None = None) -> dict:
    """For the recipients at or under `unit`: how many in each group (now), and over the
    period the visits done (seen) against those due (whole intervals of each recipient's
    frequency while registered), plus how many are overdue today. Aggregates only: no
    names, so children count here like everyone else. Three queries whatever the size."""
    day = day or today()
    base = CareRecipient.objects.filter(unit__path__under=unit.path)
    group_rows = {
        g.pk: {"code": g.code, "name": g.name, "recipients": 0, "overdue": 0, "due": 0, "done": 0}
        for g in CareGroup.objects.all()
    }
    rows = base.filter(active=True).values_list(
        "pk", "group_id", "group__interval_days", "interval_days", "registered_on", "next_due"
    )
    done_by = dict(
        Visit.objects.filter(
            recipient__unit__path__under=unit.path,
            seen=True,
            visited_on__gte=date_from,
            visited_on__lte=date_to,
        )
        .values_list("recipient_id")
        .annotate(n=Count("pk"))
        .values_list("recipient_id", "n")
    )
    totals = {"recipients": 0, "overdue": 0, "due": 0, "done": 0, "done_within_due": 0}
    for pk, group_id, group_interval, own_interval, registered_on, next_due in rows:
        g = group_rows[group_id]
        start = max(date_from, registered_on)
        due = visits_expected((date_to - start).days + 1, own_interval or group_interval)
        done = done_by.get(pk, 0)
        g["recipients"] += 1
        g["due"] += due
        g["done"] += done
        g["overdue"] += next_due < day
        totals["recipients"] += 1
        totals["due"] += due
        totals["done"] += done
        totals["done_within_due"] += min(done, due)
        totals["overdue"] += next_due < day
    rate = totals["done_within_due"] / totals["due"] if totals["due"] else None
    return {
        "unit": unit.code,
        "from": date_from,
        "to": date_to,
        **totals,
        "completion_rate": None if rate is None else round(rate, 4),
        "by_group": [g for g in group_rows.values() if g["recipients"]],
    }


def default_period(day: date | None = None) -> tuple[date, date]:
    day = day or today()
    return day - timedelta(days=29), day
