"""Scoped reads of needs: who sees which need, the queues, similar needs, the rates.

A user sees a need when
- it lies in the subtree of one of their grants (staff, building heads: `need.view`), or
- they filed it with their resident account, or
- they handle it or it was dispatched to them by name, or
- it lies in a community where they may claim (双报到 members: `services.CLAIMANT_SOURCES`).
Anything else does not exist for them (404)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from hongyan.core.errors import DomainError
from hongyan.core.scope import can, visible_paths
from hongyan.orgs.models import Unit, UnitKind

from .models import (
    OPEN_STATUSES,
    RESOLVED_STATUSES,
    RUNNING_STATUSES,
    AssigneeKind,
    Channel,
    Need,
    NeedCategory,
    Status,
)
from .services import claimable_communities

MANAGE_ACTIONS = {
    "accept",
    "reject",
    "dispatch",
    "transfer",
    "merge",
    "escalate",
    "close",
    "reopen",
}
HANDLER_ACTIONS = {"start", "resolve", "pause", "resume"}


def _under_any(paths, lookup="unit__path__under") -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{lookup: p})
    return q


def _visibility(user) -> Q:
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    q = _under_any(visible_paths(user, "need.view"))
    q |= Q(resident_account=user) | Q(handler=user) | Q(assignee=user)
    communities = claimable_communities(user)
    if communities:
        paths = Unit.objects.filter(pk__in=communities).values_list("path", flat=True)
        q |= _under_any(paths)
    return q


LIST_RELATED = ("category", "unit", "owner", "handler", "assignee", "assigned_unit", "assigned_org")


def need_queryset(user):
    return Need.objects.filter(_visibility(user)).select_related(*LIST_RELATED)


def may(user, need: Need, step: str) -> bool:
    """Whether `user` (who can see the need) may take `step` on it."""
    path = need.unit.path
    if step == "view":
        return True
    if step in MANAGE_ACTIONS:
        return can(user, "need.manage", path)
    if step == "claim":
        if can(user, "need.claim", path):
            return True
        communities = claimable_communities(user)
        return (
            bool(communities)
            and Unit.objects.filter(
                pk__in=communities, path__in=need.unit.ancestor_paths()
            ).exists()
        )
    if step in HANDLER_ACTIONS:
        return (
            need.handler_id == user.pk
            or (need.assignee_kind == AssigneeKind.PERSON and need.assignee_id == user.pk)
            or can(user, "need.manage", path)
        )
    if step == "rate":
        return need.resident_account_id == user.pk or can(user, "need.manage", path)
    if step == "join":
        return True
    raise KeyError(step)


def need_access(user, pk, step: str = "view") -> Need:
    """The need, or 404 when the user cannot see it, or 403 when they may not take `step`."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_("没有找到，或不在您的管辖范围内。")) from None
    need = need_queryset(user).filter(pk=pk).first()
    if need is None:
        raise Http404(_("没有找到，或不在您的管辖范围内。"))
    if not may(user, need, step):
        raise PermissionDenied(_("您的角色不能执行此操作。"))
    return need


def need_get(user, pk) -> Need:
    return need_access(user, pk, "view")


def need_list(
    user,
    *,
    unit: Unit | None = None,
    status: str | list[str] | None = None,
    category: str = "",
    channel: str = "",
    mine: bool = False,
    claimable: bool = False,
    overdue: bool = False,
    q: str = "",
):
    """Needs the user may see, newest first; filters as the queue pages offer them.
    `mine`: handled by or dispatched to the user; `claimable`: waiting for a claim in a
    community where the user may claim."""
    if unit is not None and any(unit.path.startswith(p) for p in visible_paths(user, "need.view")):
        # the whole subtree is visible through a grant: no need for the other ways in
        qs = Need.objects.filter(unit__path__under=unit.path).select_related(*LIST_RELATED)
    else:
        qs = need_queryset(user)
        if unit is not None:
            qs = qs.filter(unit__path__under=unit.path)
    if status:
        statuses = [status] if isinstance(status, str) else list(status)
        if "open" in statuses:
            statuses = [s for s in statuses if s != "open"] + list(OPEN_STATUSES)
        qs = qs.filter(status__in=statuses)
    if category:
        qs = qs.filter(category__code=category)
    if channel:
        qs = qs.filter(channel=channel)
    if mine:
        qs = qs.filter(Q(handler=user) | Q(assignee=user))
    if claimable:
        qs = qs.filter(status__in=(Status.ACCEPTED, Status.DISPATCHED)).exclude(
            assignee_kind=AssigneeKind.PERSON
        )
    if overdue:
        qs = qs.filter(
            status__in=[s for s in OPEN_STATUSES if s != Status.PAUSED],
            deadline__lt=timezone.now(),
        )
    if q:
        q = q.strip()
        qs = qs.filter(Q(reference__iexact=q) | Q(text__icontains=q) | Q(resident_name=q))
    return qs


def need_timeline(need: Need):
    return need.events.select_related("actor").order_by("at", "pk")


def categories_for(unit: Unit | None = None) -> list[NeedCategory]:
    """The active categories a city uses: its own, then the defaults it does not override."""
    city = None
    if unit is not None:
        city = Unit.objects.filter(path__in=unit.ancestor_paths(), kind=UnitKind.CITY).first()
    rows = list(
        NeedCategory.objects.filter(Q(city=None) | Q(city=city) if city else Q(city=None))
        .filter(active=True)
        .prefetch_related("specialties")
    )
    own = {c.code for c in rows if c.city_id}
    return [c for c in rows if c.city_id or c.code not in own]


# --- duplicates -----------------------------------------------------------------------

SIMILAR_THRESHOLD = 0.3
SIMILAR_DAYS = 90


def bigrams(text: str) -> set[str]:
    chars = [c for c in text.lower() if c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)} or set(chars)


def similarity(a: str, b: str) -> float:
    """Dice coefficient over character bigrams (good enough for short Chinese texts)."""
    x, y = bigrams(a), bigrams(b)
    if not x or not y:
        return 0.0
    return 2 * len(x & y) / (len(x) + len(y))


def compound_of(unit: Unit) -> Unit:
    """The compound a place lies in; for a community (typed address) the community."""
    if unit.kind in (UnitKind.COMPOUND, UnitKind.NATURAL_VILLAGE, UnitKind.COMMUNITY):
        return unit
    found = (
        Unit.objects.filter(
            path__in=unit.ancestor_paths(),
            kind__in=(UnitKind.COMPOUND, UnitKind.NATURAL_VILLAGE),
        )
        .order_by("-depth")
        .first()
    )
    return found or unit


def need_similar(unit: Unit, text: str, *, limit: int = 5, threshold=SIMILAR_THRESHOLD):
    """Open needs in the same compound, filed in the last 90 days, whose text is similar:
    [(need, score)], best first. Not scoped: the public page shows only what
    `SimilarOut` carries (reference, category, a short excerpt, supporters)."""
    text = (text or "").strip()
    if not text:
        return []
    place = compound_of(unit)
    since = timezone.now() - timedelta(days=SIMILAR_DAYS)
    rows = (
        Need.objects.filter(
            unit__path__under=place.path, status__in=OPEN_STATUSES, created_at__gte=since
        )
        .select_related("category")
        .order_by("-created_at")[:300]
    )
    scored = [(n, similarity(text, n.text)) for n in rows]
    scored = [(n, s) for n, s in scored if s >= threshold]
    scored.sort(key=lambda pair: (-pair[1], -pair[0].pk))
    return scored[:limit]


# --- rates ------------------------------------------------------------------------------


def _bounds(date_from: date | None, date_to: date | None):
    tz = timezone.get_current_timezone()
    start = datetime.combine(date_from, time.min, tzinfo=tz) if date_from else None
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz) if date_to else None
    return start, end


def _ratio(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


RATES_MAX_YEARS = 3
RATES_RECENT_DAYS = 365  # the period when only `to`, or nothing, is given


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 3, 1)


def rates_period_check(
    date_from: date | None = None, date_to: date | None = None, *, today: date | None = None
) -> tuple[date, date]:
    """The one rule for a rates period, used by the page's picker and the API alike.

    `to` defaults to today and `from` to 365 days before `to` (local dates). A period
    must end today at the latest, start no later than it ends, and be at most three
    years long: `to` before the same day three years after `from`. Returns (from, to),
    or raises DomainError 422 naming the problem and the field."""
    today = today or timezone.localdate()
    date_to = date_to or today
    date_from = date_from or date_to - timedelta(days=RATES_RECENT_DAYS)
    if date_to > today:
        raise DomainError("invalid", _("结束日期不能晚于今天。"), 422, "to")
    if date_from > date_to:
        raise DomainError("invalid", _("开始日期不能晚于结束日期。"), 422, "from")
    if date_to >= _years_after(date_from, RATES_MAX_YEARS):
        raise DomainError("invalid", _("时间段最长三年，请缩短后再查看。"), 422, "from")
    return date_from, date_to


def need_rates(unit: Unit, date_from: date | None = None, date_to: date | None = None) -> dict:
    """Rates for needs filed at or under `unit` in [date_from, date_to] (local dates), in
    one grouped query (by category and channel, summed here):

    - 响应率 response_rate: responded (accepted or rejected) within the response limit
      ÷ needs whose response limit has passed or that were responded to;
    - 按时办结率 on_time_rate: resolved by the deadline ÷ accepted needs resolved or past
      their deadline;
    - 解决率 resolution_rate: resolved ÷ accepted (not rejected) needs;
    - 满意率 satisfaction_rate: rated 4 or 5 ÷ rated.
    Duplicates merged into another need are not counted."""
    now = timezone.now()
    start, end = _bounds(date_from, date_to)
    qs = Need.objects.filter(unit__path__under=unit.path).exclude(status=Status.MERGED)
    if start:
        qs = qs.filter(created_at__gte=start)
    if end:
        qs = qs.filter(created_at__lt=end)
    accepted = ~Q(status=Status.REJECTED)
    resolved = Q(resolved_at__isnull=False) & accepted
    rows = qs.values("category__code", "category__name", "channel").annotate(
        total=Count("pk"),
        response_counted=Count(
            "pk", filter=Q(responded_at__isnull=False) | Q(response_due__lt=now)
        ),
        responded_in_time=Count("pk", filter=Q(responded_at__lte=F("response_due"))),
        accepted=Count("pk", filter=accepted),
        resolved=Count("pk", filter=resolved),
        deadline_counted=Count(
            "pk", filter=accepted & (Q(resolved_at__isnull=False) | Q(deadline__lt=now))
        ),
        on_time=Count("pk", filter=resolved & Q(resolved_at__lte=F("deadline"))),
        rated=Count("pk", filter=Q(rating__isnull=False)),
        satisfied=Count("pk", filter=Q(rating__gte=4)),
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        closed=Count("pk", filter=Q(status__in=RESOLVED_STATUSES)),
    )
    keys = (
        "total",
        "response_counted",
        "responded_in_time",
        "accepted",
        "resolved",
        "deadline_counted",
        "on_time",
        "rated",
        "satisfied",
        "open",
        "closed",
    )
    totals = dict.fromkeys(keys, 0)
    by_category: dict[str, dict] = {}
    by_channel: dict[str, int] = {}
    for r in rows:
        for k in keys:
            totals[k] += r[k]
        c = by_category.setdefault(
            r["category__code"],
            {"code": r["category__code"], "name": r["category__name"], "count": 0},
        )
        c["count"] += r["total"]
        by_channel[r["channel"]] = by_channel.get(r["channel"], 0) + r["total"]
    labels = dict(Channel.choices)
    return {
        "unit": unit,
        "date_from": date_from,
        "date_to": date_to,
        **totals,
        "response_rate": _ratio(totals["responded_in_time"], totals["response_counted"]),
        "on_time_rate": _ratio(totals["on_time"], totals["deadline_counted"]),
        "resolution_rate": _ratio(totals["resolved"], totals["accepted"]),
        "satisfaction_rate": _ratio(totals["satisfied"], totals["rated"]),
        "by_category": sorted(by_category.values(), key=lambda c: -c["count"]),
        "by_channel": [
            {"channel": k, "name": str(labels.get(k, k)), "count": v}
            for k, v in sorted(by_channel.items(), key=lambda kv: -kv[1])
        ],
    }


@dataclass
class Queue:
    """Counts for a unit's or a person's queue tabs."""

    submitted: int
    open: int
    overdue: int
    resolved: int


def need_queue_counts(user, unit: Unit | None = None) -> Queue:
    """The queue's tab figures. Only rows in the states it reports (open, resolved) are
    counted, so a district of a million mostly closed needs is read from the status index
    rather than by scanning its whole subtree (4.7 s → tens of ms in bench/needs_pages.py)."""
    qs = need_queryset(user)
    if unit is not None:
        qs = qs.filter(unit__path__under=unit.path)
    qs = qs.filter(status__in=(*OPEN_STATUSES, Status.RESOLVED)).select_related(None)
    row = qs.aggregate(
        submitted=Count("pk", filter=Q(status=Status.SUBMITTED)),
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        overdue=Count("pk", filter=Q(status__in=RUNNING_STATUSES, deadline__lt=timezone.now())),
        resolved=Count("pk", filter=Q(status=Status.RESOLVED)),
    )
    return Queue(**row)


# --- notifications ---------------------------------------------------------------------


def notification_list(user, *, unread: bool = False):
    """Notices for the user: addressed to them, or to a unit where they manage needs."""
    from .models import NeedNotification

    if not getattr(user, "is_authenticated", False):
        return NeedNotification.objects.none()
    q = Q(user=user) | _under_any(visible_paths(user, "need.manage"), "unit__path__under")
    qs = NeedNotification.objects.filter(q).select_related("need", "unit")
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs
