"""Units, party organisations and coverage over JSON. Thin: access → service → schema."""

from datetime import date

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from hongyan.core.api import Pages
from hongyan.core.errors import DomainError
from hongyan.core.scope import access, scope

from . import selectors, services
from .models import CadreAssignment, OrgKind, PartyOrganization, Unit, UnitKind

router = Router(tags=["units"])


class UnitOut(Schema):
    code: str
    name: str
    short_name: str
    kind: str
    kind_label: str
    parent_code: str | None
    depth: int
    latitude: float | None = None
    longitude: float | None = None


class CoverageOut(Schema):
    compounds: int
    with_own_branch: int
    with_grid_branch: int
    with_cadre_only: int
    uncovered: int
    rate: float = Field(description="(with_own_branch + with_grid_branch) / compounds")


class OrgOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    unit_code: str = Field(alias="unit.code")
    secretary: str
    members_count: int
    term_years: int
    founded_on: date | None
    covers: list[str]

    @staticmethod
    def resolve_covers(org):
        return [c.code for c in org.covers.all()]


class PlanOut(Schema):
    code: str
    name: str
    full_members: int
    advice: str
    advice_label: str
    reason: str
    status: str
    matches: bool


class ChildIn(Schema):
    kind: str = Field(description="compound | natural_village | grid | building")
    name: str
    code: str = ""


class OrgIn(Schema):
    kind: str = Field(description=" | ".join(OrgKind.values))
    name: str
    secretary: str = ""
    members_count: int = Field(0, ge=0)
    term_years: int | None = Field(None, ge=1, le=10)
    covers: list[str] = Field(default_factory=list, description="compound codes")


class CadreIn(Schema):
    cadre_name: str = Field(max_length=CadreAssignment._meta.get_field("cadre_name").max_length)
    cadre_post: str = ""
    since: date | None = None


@router.get(
    "/units", response=list[UnitOut], summary="搜索单位（名称或代码），或列出可见的顶层单位"
)
@paginate(Pages)
def unit_list(request, q: str = ""):
    if q.strip():
        return selectors.unit_search(request.user, q)
    return selectors.unit_roots(request.user)


@router.get("/units/{code}", response=UnitOut, summary="单位详情")
def unit_detail(request, code: str):
    return selectors.unit_get(request.user, code)


@router.get("/units/{code}/children", response=list[UnitOut], summary="下级单位")
@paginate(Pages)
def unit_children(request, code: str):
    unit = selectors.unit_get(request.user, code)
    return selectors.unit_children(request.user, unit)


@router.post(
    "/units/{code}/children", response={201: UnitOut}, summary="添加小区、自然村、网格或楼栋"
)
def unit_add_child(request, code: str, payload: ChildIn):
    parent = selectors.unit_get(request.user, code, action="unit.create_child")
    return Status(
        201, services.unit_create_child(actor=request.user, parent=parent, **payload.dict())
    )


@router.get("/units/{code}/coverage", response=CoverageOut, summary="小区党组织覆盖情况")
def unit_coverage(request, code: str):
    unit = selectors.unit_get(request.user, code)
    return selectors.coverage_of(unit).as_dict()


@router.get("/units/{code}/branch-plan", response=list[PlanOut], summary="各小区组建党组织建议")
@paginate(Pages)
def unit_branch_plan(request, code: str, mismatched: bool = False):
    unit = selectors.unit_get(request.user, code)
    return [
        {
            "code": p.compound.code,
            "name": p.compound.name,
            "full_members": p.full_members,
            "advice": p.advice.advice,
            "advice_label": p.advice.label,
            "reason": p.advice.reason,
            "status": p.status,
            "matches": p.matches,
        }
        for p in selectors.compound_plans(unit, only_mismatched=mismatched)
    ]


@router.get(
    "/units/{code}/party-orgs", response=list[OrgOut], tags=["party-orgs"], summary="单位上的党组织"
)
@paginate(Pages)
def unit_party_orgs(request, code: str):
    unit = selectors.unit_get(request.user, code, action="org.view")
    return selectors.party_orgs_on(request.user, unit)


@router.post(
    "/units/{code}/party-orgs", response={201: OrgOut}, tags=["party-orgs"], summary="成立党组织"
)
def unit_party_org_create(request, code: str, payload: OrgIn):
    unit = selectors.unit_get(request.user, code, action="org.manage")
    data = payload.dict()
    codes = data.pop("covers")
    covers = list(scope(Unit.objects.filter(code__in=codes), request.user))
    if len(covers) != len(set(codes)):
        found = {c.code for c in covers}
        missing = ", ".join(c for c in codes if c not in found)
        raise DomainError(
            "unknown_unit", _("没有这些小区：%(codes)s") % {"codes": missing}, field="covers"
        )
    return Status(
        201, services.party_org_create(actor=request.user, unit=unit, covers=covers, **data)
    )


@router.get("/party-orgs/{org_id}", response=OrgOut, tags=["party-orgs"], summary="党组织详情")
def party_org_detail(request, org_id: int):
    return access(
        PartyOrganization.objects.select_related("unit"), request.user, action="org.view", pk=org_id
    )


@router.post(
    "/units/{code}/cadres",
    response={201: dict},
    tags=["party-orgs"],
    summary="安排干部联系包保小区",
)
def unit_cadre_assign(request, code: str, payload: CadreIn):
    compound = selectors.unit_get(request.user, code, action="cadre.assign")
    if compound.kind != UnitKind.COMPOUND:
        raise DomainError("not_compound", _("联系包保只针对小区。"))
    assignment = services.cadre_assign(actor=request.user, compound=compound, **payload.dict())
    return Status(
        201,
        {
            "id": assignment.pk,
            "compound_code": compound.code,
            "cadre_name": assignment.cadre_name,
            "cadre_post": assignment.cadre_post,
        },
    )
