"""Scoped reads of the unit tree, its party organisations and coverage."""

from dataclasses import asdict, dataclass

from django.apps import apps
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Substr

from hongyan.core.scope import access, scope, visible_paths

from .models import (
    PATH_STEP,
    SHARED_BRANCH_KINDS,
    CadreAssignment,
    OrgKind,
    PartyOrganization,
    Unit,
    UnitKind,
)
from .rules import compound_advice

OWN_BRANCH_KINDS = (OrgKind.BRANCH, OrgKind.GENERAL_BRANCH, OrgKind.COMMITTEE)


def unit_get(user, code: str, action: str = "unit.view") -> Unit:
    return access(Unit.objects.select_related("parent"), user, action=action, code=code)


def unit_roots(user) -> list[Unit]:
    """The top units a user may see (one per grant, without nested duplicates)."""
    return list(Unit.objects.filter(path__in=visible_paths(user)).select_related("parent"))


def unit_children(user, unit: Unit):
    return scope(Unit.objects.filter(parent=unit), user).select_related("parent")


def unit_child_counts(units) -> dict[int, int]:
    rows = Unit.objects.filter(parent__in=units).values("parent").annotate(n=Count("pk"))
    return {row["parent"]: row["n"] for row in rows}


def unit_search(user, query: str):
    """Units whose name contains `query`, or whose code starts with it (callers page)."""
    query = query.strip()
    if not query:
        return Unit.objects.none()
    match = Q(name__icontains=query)
    if query.isdigit():
        match |= Q(code__startswith=query)
    return scope(Unit.objects.filter(match), user).select_related("parent")


def unit_breadcrumbs(user, unit: Unit) -> list[tuple[Unit, bool]]:
    """Ancestors from the city down, each with whether the user may open it."""
    ancestors = Unit.objects.filter(path__in=unit.ancestor_paths()).order_by("depth")
    roots = visible_paths(user)
    return [
        (a, any(a.path.startswith(root) for root in roots))
        for a in ancestors
        if a.kind != UnitKind.PROVINCE
    ]


def party_orgs_on(user, unit: Unit):
    """Organisations attached to the unit itself."""
    return (
        scope(PartyOrganization.objects.filter(unit=unit), user)
        .select_related("unit")
        .prefetch_related("covers")
    )


def orgs_serving_home(user, compound: Unit | None) -> list[PartyOrganization]:
    """The party organisations serving the compound a resident or member lives in: its
    own branch, or the grid (joint) branch covering it. A resident's grant covers only
    their building, so the branch attached higher up is outside their scope — but the
    branch serving one's own home is theirs to know. Only for a compound above one of
    the user's grants."""
    if compound is None or not any(p.startswith(compound.path) for p in visible_paths(user)):
        return []
    return list(
        PartyOrganization.objects.filter(
            Q(unit=compound, kind__in=OWN_BRANCH_KINDS) | Q(covers=compound)
        ).distinct()
    )


def party_org_counts(unit: Unit) -> dict[str, int]:
    """Organisations in the unit's subtree, by kind (the caller has checked access)."""
    rows = (
        PartyOrganization.objects.filter(unit__path__under=unit.path)
        .values("kind")
        .annotate(n=Count("pk"))
    )
    return {row["kind"]: row["n"] for row in rows}


@dataclass(frozen=True)
class Coverage:
    compounds: int
    with_own_branch: int
    with_grid_branch: int
    with_cadre_only: int
    uncovered: int

    @property
    def covered(self) -> int:
        return self.with_own_branch + self.with_grid_branch

    @property
    def rate(self) -> float:
        return round(self.covered / self.compounds, 4) if self.compounds else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "rate": self.rate}


def _compound_status_annotations():
    return {
        "has_own": Exists(
            PartyOrganization.objects.filter(unit=OuterRef("pk"), kind__in=OWN_BRANCH_KINDS)
        ),
        "has_grid": Exists(
            PartyOrganization.covers.through.objects.filter(
                unit=OuterRef("pk"), partyorganization__kind__in=SHARED_BRANCH_KINDS
            )
        ),
        "has_cadre": Exists(CadreAssignment.objects.filter(compound=OuterRef("pk"))),
    }


def _coverage_counts():
    own, grid, cadre = Q(has_own=True), Q(has_grid=True), Q(has_cadre=True)
    return {
        "compounds": Count("pk"),
        "with_own_branch": Count("pk", filter=own),
        "with_grid_branch": Count("pk", filter=grid & ~own),
        "with_cadre_only": Count("pk", filter=cadre & ~own & ~grid),
    }


def _coverage(totals: dict) -> Coverage:
    classified = totals["with_own_branch"] + totals["with_grid_branch"] + totals["with_cadre_only"]
    return Coverage(
        compounds=totals["compounds"],
        with_own_branch=totals["with_own_branch"],
        with_grid_branch=totals["with_grid_branch"],
        with_cadre_only=totals["with_cadre_only"],
        uncovered=totals["compounds"] - classified,
    )


def _compounds_under(unit: Unit):
    return Unit.objects.filter(kind=UnitKind.COMPOUND, path__under=unit.path).annotate(
        **_compound_status_annotations()
    )


def coverage_of(unit: Unit) -> Coverage:
    """Branch coverage of the compounds in the unit's subtree, in one query.

    Each compound counts once, in the first bucket that applies: own branch, grid
    (joint) branch, cadre assigned only, uncovered."""
    return _coverage(_compounds_under(unit).aggregate(**_coverage_counts()))


def coverage_by_child(unit: Unit) -> list[tuple[Unit, Coverage]]:
    """Coverage of each child of the unit, in one query grouped by the child's path."""
    child_path_length = len(unit.path) + PATH_STEP + 1
    rows = (
        _compounds_under(unit)
        .annotate(child_path=Substr("path", 1, child_path_length))
        .values("child_path")
        .annotate(**_coverage_counts())
        .order_by()
    )
    by_path = {row["child_path"]: _coverage(row) for row in rows}
    empty = Coverage(0, 0, 0, 0, 0)
    return [(child, by_path.get(child.path, empty)) for child in Unit.objects.filter(parent=unit)]


@dataclass(frozen=True)
class CompoundPlan:
    compound: Unit
    full_members: int
    advice: object
    status: str  # own_branch | grid_branch | cadre_only | uncovered

    @property
    def matches(self) -> bool:
        """Whether what is in place is what the rules ask for."""
        return {
            "own_branch": "own_branch",
            "grid_branch": "grid_branch",
            "cadre_only": "cadre",
        }.get(self.status) == self.advice.advice


def _living_full_members():
    """Full members living in the compound, counted from the member register: a
    subquery grouped on the register's (compound, category) index, so that listing
    plans stays one query."""
    member = apps.get_model("members", "Member")
    counts = (
        member.objects.filter(compound=OuterRef("pk"), category="full")
        .order_by()
        .values("compound")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def compound_plans(unit: Unit, only_mismatched: bool = False) -> list[CompoundPlan]:
    """For each compound under the unit: the full members living there (from the
    register), what the rules advise and what is in place."""
    compounds = (
        _compounds_under(unit).annotate(living=_living_full_members()).select_related("parent")
    )
    plans = []
    for c in compounds:
        status = (
            "own_branch"
            if c.has_own
            else "grid_branch"
            if c.has_grid
            else "cadre_only"
            if c.has_cadre
            else "uncovered"
        )
        plan = CompoundPlan(c, c.living, compound_advice(c.living), status)
        if not only_mismatched or not plan.matches:
            plans.append(plan)
    return plans
