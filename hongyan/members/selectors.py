"""Scoped reads of the member register. Every read starts from core.scope."""

import re

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from hongyan.core import pii
from hongyan.core.pinyin import KEY_LENGTH, is_pinyin_query
from hongyan.core.scope import access, scope, visible_paths
from hongyan.orgs.models import Unit, UnitKind

from .models import (
    ID_PURPOSE,
    MOBILE_PURPOSE,
    Category,
    Member,
    MemberSearchKey,
    Specialty,
)

COMPOUND_KINDS = (UnitKind.COMPOUND, UnitKind.NATURAL_VILLAGE)


def may_view_members(user) -> bool:
    return bool(visible_paths(user, "member.view"))


def _base() -> QuerySet:
    return Member.objects.select_related("unit", "compound", "party_org").prefetch_related(
        "specialties"
    )


def search_filter(query: str) -> Q:
    """What `q` matches: a full ID number or mobile (by blind index), pinyin initials or
    full pinyin (prefix, every heteronym reading), a specialty, or part of the name."""
    query = (query or "").strip()
    if not query:
        return Q()
    id_number = pii.normalise_id_number(query)
    if len(id_number) == 18 and pii.ID_RE.fullmatch(id_number):
        return Q(id_number_index__in=pii.blind_indexes(id_number, ID_PURPOSE))
    mobile = pii.normalise_mobile(query)
    if pii.MOBILE_RE.fullmatch(mobile):
        return Q(mobile_index__in=pii.blind_indexes(mobile, MOBILE_PURPOSE))
    compact = query.replace(" ", "").lower()
    if is_pinyin_query(compact):
        keys = MemberSearchKey.objects.filter(key__under=compact[:KEY_LENGTH]).values("member_id")
        return Q(pk__in=keys)
    return Q(name__contains=query) | Q(specialties__name=query)


def _leaves(q: Q):
    for child in q.children:
        if isinstance(child, Q):
            yield from _leaves(child)
        else:
            yield child


def member_list(
    user,
    *,
    unit: Unit | None = None,
    q: str = "",
    specialty: str = "",
    compound: Unit | None = None,
    status: str = "",
    category: str = "",
    plate: str = "",
) -> QuerySet:
    """Members the user may see, filtered. The caller has resolved `unit` and
    `compound` through access(); without a unit, everything in the user's scope."""
    if not may_view_members(user):
        raise PermissionDenied(_("您的角色不能查看党员名册。"))
    qs = scope(Member.objects.all(), user, action="member.view")
    if unit is not None:
        qs = qs.filter(unit__path__under=unit.path)
    if compound is not None:
        qs = qs.filter(compound=compound)
    if specialty:
        qs = qs.filter(specialties__name=specialty)
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    if plate:
        qs = qs.filter(plate=plate)
    if q.strip():
        match = search_filter(q)
        if any(isinstance(c, tuple) and c[0].startswith("specialties") for c in _leaves(match)):
            # a name-or-specialty match joins the specialties: keep each member once
            qs = qs.filter(pk__in=Member.objects.filter(match).values("pk"))
        else:
            qs = qs.filter(match)
    return (
        qs.select_related("unit", "compound", "party_org")
        .prefetch_related("specialties")
        .order_by("compound__path", "name", "pk")
    )


def member_get(user, member_id: int, action: str = "member.view") -> Member:
    return access(_base(), user, action=action, pk=member_id)


def specialty_list() -> QuerySet:
    return Specialty.objects.all()


def compound_of(unit: Unit) -> Unit | None:
    """The compound (or natural village) a home unit lies in."""
    if unit.kind in COMPOUND_KINDS:
        return unit
    return (
        Unit.objects.filter(path__in=unit.ancestor_paths(), kind__in=COMPOUND_KINDS)
        .order_by("-depth")
        .first()
    )


def member_counts(unit: Unit) -> dict[str, int]:
    """Register figures for a unit's subtree, in one query."""
    return Member.objects.filter(unit__path__under=unit.path).aggregate(
        total=Count("pk"),
        full=Count("pk", filter=Q(category=Category.FULL)),
        in_service=Count("pk", filter=Q(status="in_service")),
        plates=Count("pk", filter=~Q(plate="")),
    )


# --- 三户四长 --------------------------------------------------------------------------------


def compound_network(compound: Unit) -> dict:
    """Who covers which households in a compound (the caller has checked access):
    the compound and grid heads, and per building and entrance the member households
    with their plates, the building head and the entrance head."""
    from .models import CommunityPost, PostKind

    posts = list(
        CommunityPost.objects.filter(unit__path__under=compound.path)
        .select_related("member", "unit")
        .order_by("kind", "building", "entrance")
    )
    members = list(
        Member.objects.filter(compound=compound).only(
            "pk", "name", "building", "entrance", "room", "plate", "category"
        )
    )
    building_heads = {p.building: p for p in posts if p.kind == PostKind.BUILDING_HEAD}
    entrance_heads = {
        (p.building, p.entrance): p for p in posts if p.kind == PostKind.ENTRANCE_HEAD
    }
    households: dict[tuple[str, str], dict[str, list]] = {}
    for m in members:
        households.setdefault((m.building, m.entrance), {}).setdefault(m.room, []).append(m)
    places = set(households) | set(entrance_heads)
    with_rows = {b for b, _e in places}
    places |= {(b, "") for b in building_heads if b not in with_rows}  # a head, no households yet

    def natural(place):
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", f"{place[0]}|{place[1]}")]

    places = sorted(places, key=natural)
    rows = []
    for building, entrance in places:
        homes = households.get((building, entrance), {})
        if not homes and (building, entrance) not in entrance_heads and entrance:
            continue
        rows.append(
            {
                "building": building,
                "entrance": entrance,
                "households": sorted(homes.items()),
                "building_head": building_heads.get(building),
                "entrance_head": entrance_heads.get((building, entrance)),
            }
        )
    return {
        "compound_heads": [p for p in posts if p.kind == PostKind.COMPOUND_HEAD],
        "grid_heads": [p for p in posts if p.kind == PostKind.GRID_HEAD],
        "rows": rows,
        "households": sum(len(h) for h in households.values()),
        "plates": sum(1 for m in members if m.plate),
    }


# --- 双报到 ---------------------------------------------------------------------------------

# Other apps (needs, volunteers) register where a member's service records come from:
# a function (member ids, since) -> {member id: number of tasks done since then}.
SERVICE_SOURCES: list = []


def register_service_source(func):
    SERVICE_SOURCES.append(func)
    return func


def quarter_start(today=None):
    from django.utils import timezone

    today = today or timezone.localdate()
    return today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)


def dual_figures(unit: Unit) -> list[dict]:
    """Per community under `unit`: registered members, confirmed, active this quarter
    (one grouped query, plus one per registered service source)."""
    from .models import DualRegistration

    rows = list(
        DualRegistration.objects.filter(community__path__under=unit.path)
        .values("community", "community__code", "community__name")
        .annotate(
            registered=Count("pk"),
            confirmed=Count("pk", filter=Q(confirmed_at__isnull=False)),
        )
        .order_by("community__code")
    )
    active: dict[int, int] = {}
    if SERVICE_SOURCES and rows:
        registered = DualRegistration.objects.filter(community__path__under=unit.path)
        ids = dict(registered.values_list("member_id", "community_id"))
        since = quarter_start()
        done_by = set()
        for source in SERVICE_SOURCES:
            done_by |= {m for m, n in source(list(ids), since).items() if n}
        for member_id in done_by:
            active[ids[member_id]] = active.get(ids[member_id], 0) + 1
    return [
        {
            "code": r["community__code"],
            "name": r["community__name"],
            "registered": r["registered"],
            "confirmed": r["confirmed"],
            "active_this_quarter": active.get(r["community"], 0),
        }
        for r in rows
    ]


def dual_registrations(user, *, community: Unit | None = None, pending: bool = False):
    from .models import DualRegistration

    qs = scope(DualRegistration.objects.all(), user, action="member.view")
    if community is not None:
        qs = qs.filter(community=community)
    if pending:
        qs = qs.filter(confirmed_at__isnull=True)
    return qs.select_related("member", "member__compound", "community", "pairing")


def pairings(user, community: Unit):
    from .models import WorkUnitPairing

    return scope(WorkUnitPairing.objects.filter(community=community), user)


def pairing_list(user, *, unit: Unit | None = None):
    """Pairings the user may see (under `unit`), with how many members registered
    through each."""
    from .models import WorkUnitPairing

    qs = scope(WorkUnitPairing.objects.all(), user, action="member.view")
    if unit is not None:
        qs = qs.filter(community__path__under=unit.path)
    return (
        qs.select_related("community")
        .annotate(member_count=Count("members"))
        .order_by("community__path", "work_unit", "pk")
    )
