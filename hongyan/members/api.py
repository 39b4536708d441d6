"""The member register over JSON. Thin: access → service → schema. ID numbers and
mobiles are masked in every response; `POST /members/{id}/reveal` returns one value
to a permitted user, with the reason recorded in the audit log."""

from datetime import date, datetime
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from hongyan.core.api import Pages
from hongyan.core.errors import DomainError
from hongyan.core.ratelimit import rate_limit
from hongyan.core.scope import access, scope
from hongyan.core.stepup import require_fresh_step_up
from hongyan.orgs.models import PartyOrganization, Unit

from . import selectors, services
from .models import DualRegistration, Member

router = Router(tags=["members"])


class MemberOut(Schema):
    id: int
    name: str
    gender: str
    gender_label: str = Field(alias="get_gender_display")
    ethnicity: str
    birth_date: date | None
    id_number: str = Field(alias="id_number_masked", description="masked: 150902********1234")
    mobile: str = Field(alias="mobile_masked", description="masked: 138****5678")
    category: str
    category_label: str = Field(alias="get_category_display")
    joined_on: date | None
    party_org_id: int | None
    party_org_name: str | None = Field(None, alias="party_org.name")
    unit_code: str = Field(alias="unit.code")
    unit_name: str = Field(alias="unit.name")
    compound_code: str = Field(alias="compound.code")
    compound_name: str = Field(alias="compound.name")
    building: str
    entrance: str
    room: str
    work_unit: str
    work_unit_org: str
    status: str
    status_label: str = Field(alias="get_status_display")
    education: str
    profession: str
    specialties: list[str]
    plate: str
    plate_label: str = Field(alias="get_plate_display")
    note: str

    @staticmethod
    def resolve_specialties(member):
        return [s.name for s in member.specialties.all()]


class MemberFields(Schema):
    name: str | None = None
    gender: str | None = Field(
        None, description="male | female (or 男/女); blank: from the ID number"
    )
    ethnicity: str | None = None
    birth_date: str | None = Field(None, description="1988-11-02, 1988.11 or 1988年11月")
    id_number: str | None = None
    mobile: str | None = None
    category: str | None = Field(None, description="full | probationary")
    joined_on: str | None = None
    building: str | None = None
    entrance: str | None = None
    room: str | None = None
    work_unit: str | None = None
    work_unit_org: str | None = None
    status: str | None = Field(None, description="in_service | retired | flowing | other")
    education: str | None = None
    profession: str | None = None
    specialties: list[str] | None = None
    plate: str | None = Field(None, description="'' | pioneer | bastion | centre")
    note: str | None = None
    party_org_id: int | None = None


class MemberIn(MemberFields):
    unit: str = Field(description="code of the home unit: compound, grid or building")
    name: str
    id_number: str


class MemberPatch(MemberFields):
    unit: str | None = Field(None, description="code of a new home unit")


class MemberRevealIn(Schema):
    field: Literal["id_number", "mobile"]
    reason: str = Field(description="why the value is needed; recorded in the audit log")


class MemberRevealOut(Schema):
    field: str
    value: str


class SpecialtyOut(Schema):
    id: int
    name: str


def _home_unit(user, code: str) -> Unit:
    unit = scope(Unit.objects.filter(code=code), user, action="member.edit").first()
    if unit is None:
        raise DomainError(
            "unknown_unit",
            _("居住单位 %(code)s 不存在，或不在您可以登记党员的范围内。") % {"code": code},
            status=422,
            field="unit",
        )
    return unit


def _party_org(user, org_id: int | None):
    if org_id is None:
        return None
    org = scope(PartyOrganization.objects.filter(pk=org_id), user).first()
    if org is None:
        raise DomainError("unknown_org", _("没有这个党组织。"), status=422, field="party_org_id")
    return org


@router.get(
    "/members",
    response=list[MemberOut],
    summary="党员名册（可按单位、姓名、拼音首字母、身份证号、特长查找）",
)
@paginate(Pages)
@rate_limit(("search_user", "user"), methods=("GET",), when=lambda r: bool(r.GET.get("q")))
def member_list(
    request,
    unit: str = "",
    q: str = "",
    specialty: str = "",
    compound: str = "",
    status: str = "",
    category: str = "",
    plate: str = "",
):
    user = request.user
    unit_obj = access(Unit.objects, user, action="member.view", code=unit) if unit else None
    compound_obj = (
        access(Unit.objects, user, action="member.view", code=compound) if compound else None
    )
    return selectors.member_list(
        user,
        unit=unit_obj,
        q=q,
        specialty=specialty,
        compound=compound_obj,
        status=status,
        category=category,
        plate=plate,
    )


@router.get("/members/specialties", response=list[SpecialtyOut], summary="特长列表")
def specialty_list(request):
    if not selectors.may_view_members(request.user):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("您的角色不能查看党员名册。"))
    return list(selectors.specialty_list())


@router.get(
    "/members/{member_id}", response=MemberOut, summary="党员详情（身份证号、手机号已脱敏）"
)
def member_detail(request, member_id: int):
    return selectors.member_get(request.user, member_id)


@router.post("/members", response={201: MemberOut}, summary="登记党员")
def member_create(request, payload: MemberIn):
    data = payload.dict(exclude_none=True)
    unit = _home_unit(request.user, data.pop("unit"))
    party_org = _party_org(request.user, data.pop("party_org_id", None))
    member = services.member_create(actor=request.user, unit=unit, party_org=party_org, **data)
    return Status(201, selectors.member_get(request.user, member.pk))


@router.patch("/members/{member_id}", response=MemberOut, summary="修改党员信息（只改给出的字段）")
def member_update(request, member_id: int, payload: MemberPatch):
    member = selectors.member_get(request.user, member_id, action="member.edit")
    data = payload.dict(exclude_unset=True)
    code = data.pop("unit", None)
    unit = _home_unit(request.user, code) if code else None
    party_org = _party_org(request.user, data.pop("party_org_id", None))
    data = {k: ("" if v is None else v) for k, v in data.items()}
    services.member_update(
        actor=request.user, member=member, unit=unit, party_org=party_org, **data
    )
    return selectors.member_get(request.user, member_id)


@router.post(
    "/members/{member_id}/reveal",
    response=MemberRevealOut,
    summary="查看完整身份证号或手机号（需说明原因，记入审计）",
)
@rate_limit(("reveal_user", "user"))
def member_reveal(request, member_id: int, payload: MemberRevealIn):
    member = selectors.member_get(request.user, member_id, action="member.reveal")
    require_fresh_step_up(request)  # 403 step_up_required: POST /api/v1/auth/step-up first
    value = services.member_reveal(
        actor=request.user, member=member, field=payload.field, reason=payload.reason
    )
    return {"field": payload.field, "value": value}


class DualFiguresOut(Schema):
    code: str
    name: str
    registered: int
    confirmed: int
    active_this_quarter: int


@router.get(
    "/units/{code}/dual-registration",
    response=list[DualFiguresOut],
    tags=["members"],
    summary="双报到：各社区已报到、已确认、本季度参与服务的在职党员数",
)
@paginate(Pages)
def unit_dual_figures(request, code: str):
    unit = access(Unit.objects, request.user, action="member.view", code=code)
    return selectors.dual_figures(unit)


class DualOut(Schema):
    member_id: int
    community_code: str = Field(alias="community.code")
    self_service: bool
    registered_at: datetime
    confirmed_at: datetime | None
    work_unit: str | None = Field(None, alias="pairing.work_unit")


@router.post(
    "/members/{member_id}/dual-registration",
    response={201: DualOut},
    summary="双报到：在职党员向居住地社区报到（本人账号，或社区工作者代为办理）",
)
def member_dual_register(request, member_id: int):
    user = request.user
    own = Member.objects.filter(pk=member_id, account=user).select_related("compound").first()
    member = own or selectors.member_get(user, member_id, action="dual.manage")
    registration = services.dual_register(actor=user, member=member)
    return Status(201, registration)


@router.post(
    "/members/{member_id}/dual-registration/confirm",
    response=DualOut,
    summary="双报到：社区确认党员的报到",
)
def member_dual_confirm(request, member_id: int):
    member = selectors.member_get(request.user, member_id, action="dual.manage")
    registration = (
        DualRegistration.objects.filter(member=member)
        .select_related("community", "pairing")
        .first()
    )
    if registration is None:
        raise DomainError(
            "not_registered", _("%(name)s 还没有报到。") % {"name": member.name}, status=409
        )
    return services.dual_confirm(actor=request.user, registration=registration)


# --- 三户四长: the heads of a compound and the households they cover -------------------------


class CommunityPostOut(Schema):
    id: int
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    member_id: int
    member_name: str = Field(alias="member.name")
    unit_code: str = Field(alias="unit.code")
    unit_name: str = Field(alias="unit.name")
    building: str
    entrance: str
    since: date | None
    elected_on: date | None = Field(None, description="the nomination meeting (building heads)")
    votes_for: int | None
    votes_cast: int | None = Field(None, description="households present at the meeting")


class ResidentOut(Schema):
    id: int
    name: str
    plate: str
    category: str


class HouseholdOut(Schema):
    room: str
    members: list[ResidentOut]


class CommunityNetworkRowOut(Schema):
    building: str
    entrance: str
    households: list[HouseholdOut]
    building_head: CommunityPostOut | None
    entrance_head: CommunityPostOut | None


class CommunityNetworkOut(Schema):
    code: str
    name: str
    households: int = Field(description="member households in the compound")
    plates: int = Field(description="members with a household plate")
    compound_heads: list[CommunityPostOut]
    grid_heads: list[CommunityPostOut]
    rows: list[CommunityNetworkRowOut] = Field(description="per building and entrance")


class CommunityPostIn(Schema):
    member_id: int
    kind: Literal["compound_head", "grid_head", "building_head", "entrance_head"]
    unit: str | None = Field(
        None, description="code of the place headed (the compound, a grid or a building)"
    )
    building: str = ""
    entrance: str = ""
    since: date | None = None
    elected_on: date | None = Field(None, description="building heads: the nomination meeting")
    votes_for: int | None = Field(None, ge=0)
    votes_cast: int | None = Field(None, ge=0)


def _compound(user, code: str, action: str) -> Unit:
    unit = access(Unit.objects, user, action=action, code=code)
    if unit.kind not in selectors.COMPOUND_KINDS:
        raise DomainError(
            "not_compound",
            _("三户四长按小区（或自然村）查看：%(name)s 是%(kind)s。")
            % {"name": unit.name, "kind": unit.get_kind_display()},
            status=422,
            field="code",
        )
    return unit


@router.get(
    "/units/{code}/community-posts",
    response=CommunityNetworkOut,
    summary="三户四长：小区的小区长、网格长、楼栋长、单元长和党员户",
)
def community_posts(request, code: str):
    compound = _compound(request.user, code, "member.view")
    network = selectors.compound_network(compound)
    return {
        "code": compound.code,
        "name": compound.name,
        **network,
        "rows": [
            {
                **row,
                "households": [
                    {"room": room, "members": members} for room, members in row["households"]
                ],
            }
            for row in network["rows"]
        ],
    }


@router.post(
    "/units/{code}/community-posts",
    response={201: CommunityPostOut},
    summary="三户四长：任命小区长、网格长、楼栋长（需推选会）或单元长",
)
def community_post_assign(request, code: str, payload: CommunityPostIn):
    user = request.user
    compound = _compound(user, code, "member.roles")
    place = compound
    if payload.unit and payload.unit != compound.code:
        place = scope(
            Unit.objects.filter(code=payload.unit, path__under=compound.path), user
        ).first()
        if place is None:
            raise DomainError(
                "unknown_unit",
                _("%(code)s 不是这个小区里的网格或楼栋。") % {"code": payload.unit},
                status=422,
                field="unit",
            )
    member = selectors.member_get(user, payload.member_id)
    post = services.post_assign(
        actor=user,
        member=member,
        kind=payload.kind,
        unit=place,
        building=payload.building,
        entrance=payload.entrance,
        since=payload.since,
        elected_on=payload.elected_on,
        votes_for=payload.votes_for,
        votes_cast=payload.votes_cast,
    )
    return Status(201, post)


# --- 双报到 of organisations: work units pairing with communities ----------------------------


class PairingOut(Schema):
    id: int
    community_code: str = Field(alias="community.code")
    community_name: str = Field(alias="community.name")
    work_unit: str
    party_org_name: str
    agreement: str
    signed_on: date | None
    contact: str
    services: str
    members: int = Field(description="members of the work unit registered with the community")

    @staticmethod
    def resolve_members(pairing):
        return getattr(pairing, "member_count", 0)


class PairingIn(Schema):
    community: str = Field(description="code of the community (社区 or 嘎查村)")
    work_unit: str
    party_org_name: str
    agreement: str = ""
    signed_on: date | None = None
    contact: str = ""
    services: str = ""


@router.get(
    "/pairings",
    response=list[PairingOut],
    summary="双报到：单位党组织与社区的结对（可按社区或其上级单位筛选）",
)
@paginate(Pages)
def pairing_list(request, unit: str = ""):
    user = request.user
    if not selectors.may_view_members(user):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("您的角色不能查看双报到。"))
    under = access(Unit.objects, user, action="member.view", code=unit) if unit else None
    return selectors.pairing_list(user, unit=under)


@router.post("/pairings", response={201: PairingOut}, summary="双报到：登记单位党组织向社区报到")
def pairing_create(request, payload: PairingIn):
    data = payload.dict()
    community = access(Unit.objects, request.user, action="dual.manage", code=data.pop("community"))
    pairing = services.pairing_create(actor=request.user, community=community, **data)
    return Status(201, selectors.pairing_list(request.user).get(pk=pairing.pk))


# --- moving and removing ------------------------------------------------------------------


class MemberTransferIn(Schema):
    unit: str = Field(description="code of the new home: a compound, or a grid or building in one")
    building: str = ""
    entrance: str = ""
    room: str = ""


class MemberRemoveIn(Schema):
    kind: Literal["transferred_out", "deceased", "other"] = Field(
        description="transferred_out (组织关系转出) | deceased (去世) | other (reason required)"
    )
    reason: str = Field("", description="recorded in the audit log")


class MemberRemovedOut(Schema):
    id: int
    name: str
    removed_at: datetime
    removed_kind: str
    removed_kind_label: str = Field(alias="get_removed_kind_display")
    removed_reason: str


@router.post(
    "/members/{member_id}/transfer",
    response=MemberOut,
    summary="迁居：把党员的住址迁到另一个小区（两处都须在管辖范围内）",
)
def member_transfer(request, member_id: int, payload: MemberTransferIn):
    user = request.user
    member = selectors.member_get(user, member_id, action="member.edit")
    if not payload.unit.isdigit():  # unit codes are digits (150902001001001)
        raise DomainError(
            "invalid", _("单位代码应为数字，如 150902001001001。"), status=422, field="unit"
        )
    unit = access(Unit.objects, user, action="member.edit", code=payload.unit)
    services.member_transfer(
        actor=user,
        member=member,
        unit=unit,
        building=payload.building,
        entrance=payload.entrance,
        room=payload.room,
    )
    return selectors.member_get(user, member_id)


@router.post(
    "/members/{member_id}/remove",
    response=MemberRemovedOut,
    summary="移出名册（组织关系转出、去世或其他，写明说明；记录保留供审计）",
)
def member_remove(request, member_id: int, payload: MemberRemoveIn):
    member = selectors.member_get(request.user, member_id, action="member.edit")
    return services.member_remove(
        actor=request.user, member=member, kind=payload.kind, reason=payload.reason
    )
