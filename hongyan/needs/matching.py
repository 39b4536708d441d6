"""Who to dispatch a need to: registered (双报到) members ranked by fit, nearness and load.

`rank_candidates()` knows nothing of needs: it takes a place, the specialties wanted, a
pool of members and a load function, so the volunteers app can rank its volunteers for
a task the same way. `need_candidates()` is the needs' use of it.

Ranking, best first: more of the wanted specialties; then nearer home (same building,
same grid, same compound, same community — the deepest unit of the tree shared with
the place); then free at the time (when a `busy` function is given: the volunteers app
passes one for a service's hours); then fewer open tasks in hand; then name. Each
candidate carries the reason in words. The pool may hold members or volunteers (anything
with `unit`, `compound`, `name` and `specialties`)."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from hongyan.members.models import DualRegistration, Member
from hongyan.orgs.models import Unit, UnitKind

from .models import OPEN_STATUSES, Need

# nearness by the kind of the deepest unit shared with the place (lower is nearer)
NEARNESS = {
    UnitKind.BUILDING: 0,
    UnitKind.GRID: 1,
    UnitKind.COMPOUND: 2,
    UnitKind.NATURAL_VILLAGE: 2,
    UnitKind.COMMUNITY: 3,
    UnitKind.VILLAGE: 3,
}
FAR = 9


def nearness_label(rank: int) -> str:
    return {
        0: _("同楼栋"),
        1: _("同网格"),
        2: _("同小区"),
        3: _("同社区"),
    }.get(rank, _("社区外"))


@dataclass
class Candidate:
    member: Member
    matched: list[str]  # the wanted specialties the member has
    nearness: int
    load: int
    reason: str = ""
    available: bool = True
    score: tuple = field(default=(), repr=False)


def open_needs_load(member_ids: list[int]) -> dict[int, int]:
    """Open needs each member is handling (one grouped query)."""
    rows = (
        Need.objects.filter(handler_member_id__in=member_ids, status__in=OPEN_STATUSES)
        .values("handler_member_id")
        .annotate(n=Count("pk"))
    )
    return {r["handler_member_id"]: r["n"] for r in rows}


def rank_candidates(
    *,
    place: Unit,
    specialty_ids: Iterable[int],
    pool: QuerySet | None = None,
    load: Callable[[list[int]], dict[int, int]] = open_needs_load,
    limit: int = 10,
    exclude: Iterable[int] = (),
    busy: Callable[[list[int]], set[int]] | None = None,
) -> list[Candidate]:
    """Rank `pool` (default: members registered 双报到 and confirmed in the community of
    `place`) for work at `place` wanting `specialty_ids`. A fixed number of queries."""
    ancestors = {
        u.path: u.kind
        for u in Unit.objects.filter(path__in=place.ancestor_paths()).only("path", "kind")
    }
    if pool is None:
        community = next(
            (
                p
                for p, k in sorted(ancestors.items(), key=lambda kv: -len(kv[0]))
                if k in (UnitKind.COMMUNITY, UnitKind.VILLAGE)
            ),
            None,
        )
        if community is None:
            return []
        pool = Member.objects.filter(
            pk__in=DualRegistration.objects.filter(
                community__path=community, confirmed_at__isnull=False
            ).values("member_id")
        )
    wanted = set(specialty_ids)
    members = list(
        pool.exclude(pk__in=list(exclude))
        .select_related("unit", "compound")
        .prefetch_related("specialties")
    )
    loads = load([m.pk for m in members]) if members else {}
    taken = busy([m.pk for m in members]) if busy and members else set()
    ranked = []
    for m in members:
        shared = [p for p in ancestors if m.unit.path.startswith(p)]
        deepest = max(shared, key=len) if shared else None
        near = NEARNESS.get(ancestors.get(deepest), FAR) if deepest else FAR
        matched = [s.name for s in m.specialties.all() if s.pk in wanted]
        n_load = loads.get(m.pk, 0)
        parts = []
        if matched:
            parts.append(_("特长：%(s)s") % {"s": "、".join(matched)})
        parts.append(nearness_label(near))
        if m.pk in taken:
            parts.append(_("该时段已有安排"))
        parts.append(_("在办 %(n)d 件") % {"n": n_load})
        ranked.append(
            Candidate(
                member=m,
                matched=matched,
                nearness=near,
                load=n_load,
                reason="；".join(parts),
                available=m.pk not in taken,
                score=(-len(matched), near, m.pk in taken, n_load, m.name, m.pk),
            )
        )
    ranked.sort(key=lambda c: c.score)
    return ranked[:limit]


def need_candidates(need: Need, *, limit: int = 10) -> list[Candidate]:
    specialty_ids = list(need.category.specialties.values_list("pk", flat=True))
    exclude = [need.handler_member_id] if need.handler_member_id else []
    return rank_candidates(
        place=need.unit, specialty_ids=specialty_ids, limit=limit, exclude=exclude
    )
