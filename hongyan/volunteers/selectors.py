"""Reads of teams, services and volunteer records, always through `core.scope`.

A deed (我为群众办实事) is one approved participation in a service, or one need that a
member claimed and resolved (counted from the need itself, so each need once). Hours
come only from approved participations: actual service, not travel or waiting."""

from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Sum
from django.db.models.functions import ExtractYear
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from hongyan.core.scope import access, can, scope, visible_paths
from hongyan.members.selectors import register_service_source
from hongyan.needs.models import RESOLVED_STATUSES, Need
from hongyan.orgs.models import PATH_STEP, Unit, UnitKind

from .models import (
    STAR_HOURS,
    Participation,
    Service,
    ServiceKind,
    ServiceStatus,
    Team,
    TeamStatus,
    Volunteer,
)


def aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def star_level(hours: float) -> int:
    """0 below 100 hours; 1★ from 100, 2★ 300, 3★ 600, 4★ 1,000, 5★ 1,500."""
    return sum(1 for h in STAR_HOURS if hours >= h)


def next_star(hours: float) -> int | None:
    return next((h for h in STAR_HOURS if hours < h), None)


def resolved_needs(member_ids=None) -> "Q":
    """Needs that count as deeds: claimed by a member and resolved (or closed after)."""
    q = Q(handler_member__isnull=False, claimed_at__isnull=False, status__in=RESOLVED_STATUSES)
    if member_ids is not None:
        q &= Q(handler_member_id__in=member_ids)
    return q


# --- the area a person serves in ----------------------------------------------------------------

# a resident or member granted on their building still sees the teams and services of
# their grid, compound and community (not those of the street above)
LOCAL_KINDS = (
    UnitKind.COMMUNITY,
    UnitKind.VILLAGE,
    UnitKind.COMPOUND,
    UnitKind.NATURAL_VILLAGE,
    UnitKind.GRID,
)


def local_paths(user) -> list[str]:
    """The community-level ancestors of the units the user holds grants on."""
    paths = {a for p in visible_paths(user, "volunteer.view") for a in _ancestors(p)}
    if not paths:
        return []
    return list(
        Unit.objects.filter(path__in=paths, kind__in=LOCAL_KINDS).values_list("path", flat=True)
    )


def _ancestors(path: str) -> list[str]:
    step = PATH_STEP + 1
    return [path[: i + step] for i in range(0, len(path) - step, step)]


def in_area(queryset, user):
    """Rows under the user's grants, or on a community-level unit above them."""
    inside = scope(queryset, user, action="volunteer.view")
    above = local_paths(user)
    if not above:
        return inside
    return queryset.filter(Q(pk__in=inside.values("pk")) | Q(unit__path__in=above))


def _get_in_area(queryset, user, pk: int, action: str):
    obj = in_area(queryset, user).filter(pk=pk).first()
    if obj is None:
        raise Http404(_("没有找到，或不在您的管辖范围内。"))
    if action not in ("volunteer.view", "volunteer.join") and not can(user, action, obj.unit.path):
        raise PermissionDenied(_("您的角色不能执行此操作。"))
    return obj


def may_join(user, obj) -> bool:
    return in_area(type(obj).objects.filter(pk=obj.pk), user).exists()


# --- teams and services ----------------------------------------------------------------------


def team_list(user, *, unit: Unit | None = None, status: str | None = None):
    qs = in_area(Team.objects.all(), user)
    if unit is not None:
        qs = qs.filter(unit__path__under=unit.path)
    if status:
        qs = qs.filter(status=status)
    return (
        qs.select_related("kind", "unit", "leader")
        .prefetch_related("skills")
        .annotate(member_count=Count("memberships", distinct=True))
        .order_by("unit__path", "name", "pk")
    )


def team_get(user, pk: int, action: str = "volunteer.view") -> Team:
    qs = Team.objects.select_related("kind", "unit", "leader", "leader__account")
    return _get_in_area(qs, user, pk, action)


def team_totals(team: Team) -> dict:
    row = Participation.objects.filter(service__team=team, approved_at__isnull=False).aggregate(
        minutes=Sum("minutes"), deeds=Count("pk")
    )
    return {"hours": round((row["minutes"] or 0) / 60, 1), "deeds": row["deeds"]}


def service_list(
    user, *, unit: Unit | None = None, team: Team | None = None, upcoming: bool = False
):
    qs = in_area(Service.objects.all(), user)
    if unit is not None:
        qs = qs.filter(unit__path__under=unit.path)
    if team is not None:
        qs = qs.filter(team=team)
    if upcoming:
        qs = qs.filter(ends_at__gte=timezone.now(), status=ServiceStatus.PUBLISHED).order_by(
            "starts_at", "pk"
        )
    return (
        qs.select_related("unit", "team")
        .prefetch_related("skills")
        .annotate(taken=Count("participations", filter=Q(participations__cancelled_at=None)))
    )


def service_get(user, pk: int, action: str = "volunteer.view") -> Service:
    qs = Service.objects.select_related("unit", "team", "team__leader", "team__kind")
    return _get_in_area(qs, user, pk, action)


def participations(service: Service):
    return (
        service.participations.filter(cancelled_at=None)
        .select_related("volunteer", "volunteer__unit")
        .order_by("signed_up_at", "pk")
    )


def volunteer_list(user, *, unit: Unit | None = None):
    qs = scope(Volunteer.objects.filter(active=True), user, action="volunteer.view")
    if unit is not None:
        qs = qs.filter(unit__path__under=unit.path)
    return qs.select_related("unit").prefetch_related("specialties")


def volunteer_get(user, pk: int) -> Volunteer:
    """One's own record always; someone else's needs `volunteer.record` over their home."""
    found = Volunteer.objects.select_related("unit", "member").filter(pk=pk).first()
    if found is not None and found.account_id and found.account_id == getattr(user, "pk", None):
        return found
    return access(
        Volunteer.objects.select_related("unit", "member"),
        user,
        pk=pk,
        action="volunteer.record",
    )


# --- a person's record -------------------------------------------------------------------------


def volunteer_totals(volunteer: Volunteer) -> dict:
    approved = Participation.objects.filter(volunteer=volunteer, approved_at__isnull=False)
    row = approved.aggregate(
        minutes=Sum("minutes"),
        deeds=Count("pk"),
        first=Min("service__starts_at"),
        last=Max("service__starts_at"),
    )
    needs = Need.objects.none()
    if volunteer.member_id:
        needs = Need.objects.filter(resolved_needs([volunteer.member_id]))
    need_deeds = needs.count()
    hours = round((row["minutes"] or 0) / 60, 2)
    return {
        "hours": hours,
        "deeds": row["deeds"] + need_deeds,
        "service_deeds": row["deeds"],
        "need_deeds": need_deeds,
        "star": star_level(hours),
        "next_star_hours": next_star(hours),
        "first_on": timezone.localtime(row["first"]).date() if row["first"] else None,
        "last_on": timezone.localtime(row["last"]).date() if row["last"] else None,
    }


def volunteer_record(volunteer: Volunteer) -> dict:
    """Hours and deeds by year and by kind, the totals and star level, recent services."""
    approved = Participation.objects.filter(volunteer=volunteer, approved_at__isnull=False)
    by_year: dict[int, dict] = {}
    for r in (
        approved.annotate(year=ExtractYear("service__starts_at"))
        .values("year")
        .annotate(minutes=Sum("minutes"), deeds=Count("pk"))
    ):
        by_year[r["year"]] = {"year": r["year"], "minutes": r["minutes"] or 0, "deeds": r["deeds"]}
    kinds = dict(ServiceKind.choices)
    by_kind = [
        {
            "kind": r["service__kind"],
            "label": str(kinds.get(r["service__kind"], r["service__kind"])),
            "hours": round((r["minutes"] or 0) / 60, 2),
            "deeds": r["deeds"],
        }
        for r in approved.values("service__kind")
        .annotate(minutes=Sum("minutes"), deeds=Count("pk"))
        .order_by("-minutes")
    ]
    if volunteer.member_id:
        needs = Need.objects.filter(resolved_needs([volunteer.member_id]))
        for r in (
            needs.annotate(year=ExtractYear("resolved_at")).values("year").annotate(n=Count("pk"))
        ):
            entry = by_year.setdefault(r["year"], {"year": r["year"], "minutes": 0, "deeds": 0})
            entry["deeds"] += r["n"]
            entry["need_deeds"] = r["n"]
        n = needs.count()
        if n:
            by_kind.append({"kind": "need", "label": _("办理居民需求"), "hours": 0, "deeds": n})
    years = [
        {
            "year": y["year"],
            "hours": round(y["minutes"] / 60, 2),
            "deeds": y["deeds"],
            "star": None,
        }
        for y in sorted(by_year.values(), key=lambda y: -y["year"])
    ]
    recent = list(
        volunteer.participations.filter(cancelled_at=None)
        .select_related("service", "service__team")
        .order_by("-service__starts_at")[:20]
    )
    return {
        "totals": volunteer_totals(volunteer),
        "years": years,
        "kinds": by_kind,
        "recent": recent,
    }


# --- figures per unit and period ------------------------------------------------------------


def period_bounds(start: date | None, end: date | None) -> tuple[date, date]:
    """Default period: this year so far (end inclusive)."""
    today = timezone.localdate()
    return start or today.replace(month=1, day=1), end or today


def unit_figures(unit: Unit, start: date | None = None, end: date | None = None) -> dict:
    """Volunteers living under `unit`, how many served in the period, approved hours,
    deeds (approved participations + claimed-and-resolved needs) and services held
    under it. A handful of grouped queries."""
    start, end = period_bounds(start, end)
    lo, hi = aware(start), aware(end + timedelta(days=1))
    volunteers = Volunteer.objects.filter(unit__path__under=unit.path, active=True)
    in_period = Participation.objects.filter(
        approved_at__isnull=False,
        service__unit__path__under=unit.path,
        service__starts_at__gte=lo,
        service__starts_at__lt=hi,
    )
    row = in_period.aggregate(minutes=Sum("minutes"), deeds=Count("pk"))
    active = volunteers.filter(
        Exists(
            Participation.objects.filter(
                volunteer=OuterRef("pk"),
                approved_at__isnull=False,
                service__starts_at__gte=lo,
                service__starts_at__lt=hi,
            )
        )
    ).count()
    need_deeds = Need.objects.filter(
        resolved_needs(), unit__path__under=unit.path, resolved_at__gte=lo, resolved_at__lt=hi
    ).count()
    held = Service.objects.filter(
        unit__path__under=unit.path,
        status=ServiceStatus.PUBLISHED,
        starts_at__gte=lo,
        starts_at__lt=min(hi, timezone.now()),
    ).count()
    return {
        "unit": unit,
        "start": start,
        "end": end,
        "volunteers": volunteers.count(),
        "active_volunteers": active,
        "hours": round((row["minutes"] or 0) / 60, 1),
        "service_deeds": row["deeds"],
        "need_deeds": need_deeds,
        "deeds": row["deeds"] + need_deeds,
        "services_held": held,
        "teams": Team.objects.filter(unit__path__under=unit.path, status=TeamStatus.ACTIVE).count(),
    }


# --- matching -----------------------------------------------------------------------------------

RECENT_DAYS = 30


def recent_load(volunteer_ids: list[int]) -> dict[int, int]:
    """Services each volunteer took part in over the last 30 days (one grouped query)."""
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    rows = (
        Participation.objects.filter(
            volunteer_id__in=volunteer_ids, cancelled_at=None, service__starts_at__gte=since
        )
        .values("volunteer_id")
        .annotate(n=Count("pk"))
    )
    return {r["volunteer_id"]: r["n"] for r in rows}


def busy_between(starts_at: datetime, ends_at: datetime, exclude_service: int | None = None):
    """A function (volunteer ids) -> those signed up to another service overlapping."""

    def busy(volunteer_ids: list[int]) -> set[int]:
        qs = Participation.objects.filter(
            volunteer_id__in=volunteer_ids,
            cancelled_at=None,
            service__status=ServiceStatus.PUBLISHED,
            service__starts_at__lt=ends_at,
            service__ends_at__gt=starts_at,
        )
        if exclude_service:
            qs = qs.exclude(service_id=exclude_service)
        return set(qs.values_list("volunteer_id", flat=True))

    return busy


def community_of(unit: Unit) -> Unit:
    """The community (or village) a unit lies in; the unit itself above that level."""
    found = (
        Unit.objects.filter(
            path__in=unit.ancestor_paths(), kind__in=(UnitKind.COMMUNITY, UnitKind.VILLAGE)
        )
        .order_by("-depth")
        .first()
    )
    return found or unit


def community_pool(place: Unit):
    """Active volunteers living in the community (or village) of `place`."""
    community = community_of(place)
    if community.kind not in (UnitKind.COMMUNITY, UnitKind.VILLAGE):
        return Volunteer.objects.none()
    return Volunteer.objects.filter(unit__path__under=community.path, active=True)


def service_candidates(service: Service, *, limit: int = 10):
    """Volunteers ranked for a published service by the needs' `rank_candidates()`:
    skill fit, nearness, availability at that time, recent load."""
    from hongyan.needs.matching import rank_candidates

    taken = service.participations.filter(cancelled_at=None).values_list("volunteer_id", flat=True)
    return rank_candidates(
        place=service.unit,
        specialty_ids=list(service.skills.values_list("pk", flat=True)),
        pool=community_pool(service.unit),
        load=recent_load,
        busy=busy_between(service.starts_at, service.ends_at, exclude_service=service.pk),
        limit=limit,
        exclude=list(taken),
    )


def need_volunteer_candidates(need: Need, *, limit: int = 10):
    """Volunteers who are not on the member register (residents) for an open need; the
    registered members are ranked by the needs app itself."""
    from hongyan.needs.matching import rank_candidates

    return rank_candidates(
        place=need.unit,
        specialty_ids=list(need.category.specialties.values_list("pk", flat=True)),
        pool=community_pool(need.unit).filter(member__isnull=True),
        load=recent_load,
        busy=busy_between(timezone.now(), timezone.now() + timedelta(hours=2)),
        limit=limit,
    )


# --- 我为群众办实事: approved service hours count as a member's service records ---------


@register_service_source
def approved_services_by_member(member_ids, since) -> dict[int, int]:
    rows = (
        Participation.objects.filter(
            volunteer__member_id__in=member_ids,
            approved_at__isnull=False,
            service__starts_at__gte=aware(since),
        )
        .values("volunteer__member_id")
        .annotate(n=Count("pk"))
    )
    return {r["volunteer__member_id"]: r["n"] for r in rows}
