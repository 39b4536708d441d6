"""Volunteer teams, services and hours over JSON. Thin: access → service → schema.

A refused step answers 409 (full, not checked in, sign-up closed), a wrong value 422
naming the field, someone else's area 404, a role that may not 403."""

from datetime import date, datetime

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status as HttpStatus

from hongyan.core.api import ErrorOut, Pages
from hongyan.core.errors import DomainError
from hongyan.core.scope import scope
from hongyan.members.models import Member
from hongyan.orgs.selectors import unit_get

from . import selectors, services
from .models import Certificate, ServiceKind, TeamKind, Volunteer

router = Router(tags=["volunteers"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- schemas ------------------------------------------------------------------------------


class Ref(Schema):
    code: str
    name: str


class PersonRef(Schema):
    id: int
    name: str


class TeamOut(Schema):
    id: int
    name: str
    kind: str = Field(alias="kind.name")
    unit: Ref
    leader: PersonRef | None
    status: str
    status_label: str = Field(alias="get_status_display")
    skills: list[str]
    member_count: int = 0
    note: str

    @staticmethod
    def resolve_skills(obj):
        return [s.name for s in obj.skills.all()]


class TeamDetailOut(TeamOut):
    members: list[PersonRef]
    hours: float
    deeds: int

    @staticmethod
    def resolve_members(obj):
        return [
            {"id": m.volunteer.pk, "name": m.volunteer.name}
            for m in obj.memberships.select_related("volunteer").order_by("pk")
        ]

    @staticmethod
    def resolve_member_count(obj):
        return obj.memberships.count()

    @staticmethod
    def resolve_hours(obj):
        return selectors.team_totals(obj)["hours"]

    @staticmethod
    def resolve_deeds(obj):
        return selectors.team_totals(obj)["deeds"]


class TeamIn(Schema):
    unit: str
    name: str = Field(max_length=60)
    kind: str = Field(description="队伍类别名称，见 GET /volunteer-team-kinds")
    leader_id: int | None = None
    member_ids: list[int] = []
    skill_ids: list[int] = []
    note: str = Field("", max_length=200)


class KindOut(Schema):
    id: int
    name: str


class VolunteerIn(Schema):
    unit: str
    name: str = Field("", max_length=40)
    member_id: int | None = None
    mobile: str = ""
    specialty_ids: list[int] = []


class VolunteerOut(Schema):
    id: int
    name: str
    unit: Ref
    member_id: int | None
    mobile: str = Field(alias="mobile_masked", description="masked")
    specialties: list[str]

    @staticmethod
    def resolve_specialties(obj):
        return [s.name for s in obj.specialties.all()]


class WithdrawIn(Schema):
    reason: str = Field(max_length=200, description="退出原因（必填）")


class WithdrawOut(VolunteerOut):
    active: bool
    withdrawn_at: datetime | None
    withdrawn_reason: str


class ServiceIn(Schema):
    unit: str | None = Field(None, description="发布的社区（不填则为服务队所属单位）")
    team_id: int | None = None
    title: str = Field(max_length=100)
    kind: str = ServiceKind.OTHER
    place: str = Field(max_length=100)
    starts_at: datetime
    ends_at: datetime
    capacity: int
    skill_ids: list[int] = []


class ServiceOut(Schema):
    id: int
    title: str
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    unit: Ref
    team: PersonRef | None
    place: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    taken: int = 0
    status: str
    skills: list[str]
    signups_open: bool

    @staticmethod
    def resolve_skills(obj):
        return [s.name for s in obj.skills.all()]

    @staticmethod
    def resolve_signups_open(obj):
        return services.signups_open(obj)


class ParticipationOut(Schema):
    volunteer: PersonRef
    assigned: bool
    checkin_at: datetime | None
    checkout_at: datetime | None
    entered_by_leader: bool
    hours: float
    approved: bool

    @staticmethod
    def resolve_approved(obj):
        return obj.approved_at is not None


class ServiceDetailOut(ServiceOut):
    participants: list[ParticipationOut] = []


class SignupIn(Schema):
    volunteer_id: int | None = Field(None, description="指派某人（队长或工作人员）；不填为本人报名")


class ClockIn(Schema):
    volunteer_id: int | None = Field(None, description="队长补录某人的签到/签退")
    at: datetime | None = Field(None, description="补录的时间；不填为现在")


class ApproveIn(Schema):
    volunteer_ids: list[int] | None = None


class ApproveOut(Schema):
    approved: int
    already: int
    waiting: int
    minutes: int


class CandidateOut(Schema):
    volunteer_id: int
    name: str
    home: str
    specialties: list[str]
    matched: list[str]
    nearness: int
    available: bool
    load: int
    reason: str


class YearOut(Schema):
    year: int
    hours: float
    deeds: int


class KindTotalOut(Schema):
    kind: str
    label: str
    hours: float
    deeds: int


class TotalsOut(Schema):
    hours: float
    deeds: int
    service_deeds: int
    need_deeds: int
    star: int
    next_star_hours: int | None
    first_on: date | None
    last_on: date | None


class RecordOut(Schema):
    id: int
    name: str
    unit: Ref
    totals: TotalsOut
    years: list[YearOut]
    kinds: list[KindTotalOut]


class CertificateOut(Schema):
    code: str
    name: str
    hours: float
    deeds: int
    star: int
    issued_at: datetime
    verify_url: str
    pdf_url: str


class FiguresOut(Schema):
    unit: Ref
    start: date
    end: date
    volunteers: int
    active_volunteers: int
    hours: float
    deeds: int
    service_deeds: int
    need_deeds: int
    services_held: int
    teams: int


# --- helpers -------------------------------------------------------------------------------


def _unit(user, code: str | None, field: str = "unit"):
    if not code:
        raise DomainError("invalid", _("请填写单位代码。"), 422, field)
    try:
        return unit_get(user, code.strip())
    except Http404:
        raise DomainError(
            "invalid",
            _("没有代码为 %(c)s 的单位，或不在您的管辖范围内。") % {"c": code},
            422,
            field,
        ) from None


def _volunteer(user, pk: int | None, field: str) -> Volunteer | None:
    if pk is None:
        return None
    found = scope(Volunteer.objects.filter(pk=pk), user).first()
    if found is None:
        raise DomainError("invalid", _("志愿者不存在，或不在您的管辖范围内。"), 422, field)
    return found


def _service_detail(user, service):
    service = selectors.service_list(user).get(pk=service.pk)
    service.participants = (
        list(selectors.participations(service)) if services.may_lead(user, service) else []
    )
    return service


def _certificate_out(request, c: Certificate):
    from django.urls import reverse

    return {
        "code": c.code,
        "name": c.name,
        "hours": float(c.hours),
        "deeds": c.deeds,
        "star": c.star,
        "issued_at": c.issued_at,
        "verify_url": request.build_absolute_uri(reverse("certificate_verify", args=[c.code])),
        "pdf_url": request.build_absolute_uri(reverse("volunteers:certificate_pdf", args=[c.code])),
    }


# --- teams -----------------------------------------------------------------------------------


@router.get(
    "/volunteer-team-kinds", response=list[KindOut], summary="志愿服务队类别（可维护的列表）"
)
def team_kinds(request):
    return list(TeamKind.objects.filter(active=True))


@router.get("/volunteer-teams", response=list[TeamOut], summary="志愿服务队")
@paginate(Pages)
def team_list(request, unit: str | None = None, status: str | None = None):
    target = unit_get(request.user, unit) if unit else None
    return selectors.team_list(request.user, unit=target, status=status)


@router.post("/volunteer-teams", response={201: TeamDetailOut, **ERRORS}, summary="组建志愿服务队")
def team_create(request, payload: TeamIn):
    unit = _unit(request.user, payload.unit)
    kind = TeamKind.objects.filter(name=payload.kind.strip()).first()
    if kind is None:
        raise DomainError("invalid", _("没有这个队伍类别。"), 422, "kind")
    team = services.team_create(
        actor=request.user,
        unit=unit,
        name=payload.name,
        kind=kind,
        leader=_volunteer(request.user, payload.leader_id, "leader_id"),
        member_ids=payload.member_ids,
        skill_ids=payload.skill_ids,
        note=payload.note,
    )
    return HttpStatus(201, selectors.team_get(request.user, team.pk))


@router.get("/volunteer-teams/{pk}", response={200: TeamDetailOut, **ERRORS}, summary="服务队详情")
def team_detail(request, pk: int):
    return selectors.team_get(request.user, pk)


@router.post(
    "/volunteer-teams/{pk}/join", response={200: TeamDetailOut, **ERRORS}, summary="本人加入服务队"
)
def team_join(request, pk: int):
    team = selectors.team_get(request.user, pk, action="volunteer.join")
    services.team_join(actor=request.user, team=team)
    return team


# --- volunteers --------------------------------------------------------------------------------


@router.post("/volunteers", response={201: VolunteerOut, **ERRORS}, summary="登记志愿者")
def volunteer_register(request, payload: VolunteerIn):
    unit = _unit(request.user, payload.unit)
    member = None
    if payload.member_id is not None:
        member = scope(Member.objects.filter(pk=payload.member_id), request.user).first()
        if member is None:
            raise DomainError("invalid", _("党员不存在，或不在您的管辖范围内。"), 422, "member_id")
    volunteer = services.volunteer_register(
        actor=request.user,
        unit=unit,
        name=payload.name,
        member=member,
        mobile=payload.mobile,
        specialty_ids=payload.specialty_ids,
    )
    return HttpStatus(201, volunteer)


@router.get("/volunteers", response=list[VolunteerOut], summary="志愿者（手机号脱敏）")
@paginate(Pages)
def volunteer_list(request, unit: str | None = None):
    target = unit_get(request.user, unit) if unit else None
    return selectors.volunteer_list(request.user, unit=target)


@router.post(
    "/volunteers/{pk}/withdraw",
    response={200: WithdrawOut, **ERRORS},
    summary="退出志愿者队伍（本人，或管辖其住址的工作人员）：退出服务队、取消未开始的报名，时长与证明保留",
)
def volunteer_withdraw(request, pk: int, payload: WithdrawIn):
    volunteer = selectors.volunteer_get(request.user, pk)
    return services.volunteer_withdraw(
        actor=request.user, volunteer=volunteer, reason=payload.reason
    )


# --- services ------------------------------------------------------------------------------------


@router.get("/services", response=list[ServiceOut], summary="志愿服务活动")
@paginate(Pages)
def service_list(
    request, unit: str | None = None, team_id: int | None = None, upcoming: bool = False
):
    target = unit_get(request.user, unit) if unit else None
    team = selectors.team_get(request.user, team_id) if team_id else None
    return selectors.service_list(request.user, unit=target, team=team, upcoming=upcoming)


@router.post("/services", response={201: ServiceDetailOut, **ERRORS}, summary="发布志愿服务")
def service_publish(request, payload: ServiceIn):
    team = None
    if payload.team_id is not None:
        try:
            team = selectors.team_get(request.user, payload.team_id)
        except Http404:
            raise DomainError("invalid", _("服务队不存在。"), 422, "team_id") from None
    unit = team.unit if team else _unit(request.user, payload.unit)
    service = services.service_publish(
        actor=request.user,
        unit=unit,
        team=team,
        title=payload.title,
        kind=payload.kind,
        place=payload.place,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        capacity=payload.capacity,
        skill_ids=payload.skill_ids,
    )
    return HttpStatus(201, _service_detail(request.user, service))


@router.get("/services/{pk}", response={200: ServiceDetailOut, **ERRORS}, summary="服务详情")
def service_detail(request, pk: int):
    return _service_detail(request.user, selectors.service_get(request.user, pk))


@router.post(
    "/services/{pk}/signup",
    response={200: ParticipationOut, **ERRORS},
    summary="报名（本人，截至服务前一天）或指派（队长/工作人员）",
)
def service_signup(request, pk: int, payload: SignupIn | None = None):
    service = selectors.service_get(request.user, pk, action="volunteer.join")
    volunteer = _volunteer(request.user, payload.volunteer_id if payload else None, "volunteer_id")
    return services.service_signup(actor=request.user, service=service, volunteer=volunteer)


@router.post(
    "/services/{pk}/withdraw", response={200: ParticipationOut, **ERRORS}, summary="取消报名"
)
def service_withdraw(request, pk: int):
    service = selectors.service_get(request.user, pk, action="volunteer.join")
    return services.service_withdraw(actor=request.user, service=service)


@router.post(
    "/services/{pk}/checkin",
    response={200: ParticipationOut, **ERRORS},
    summary="签到（手机上本人签到，或队长补录）",
)
def service_checkin(request, pk: int, payload: ClockIn | None = None):
    service = selectors.service_get(request.user, pk, action="volunteer.join")
    payload = payload or ClockIn()
    return services.service_checkin(
        actor=request.user,
        service=service,
        volunteer=_volunteer(request.user, payload.volunteer_id, "volunteer_id"),
        at=payload.at,
    )


@router.post(
    "/services/{pk}/checkout",
    response={200: ParticipationOut, **ERRORS},
    summary="签退（须先签到；一天不超过 24 小时）",
)
def service_checkout(request, pk: int, payload: ClockIn | None = None):
    service = selectors.service_get(request.user, pk, action="volunteer.join")
    payload = payload or ClockIn()
    return services.service_checkout(
        actor=request.user,
        service=service,
        volunteer=_volunteer(request.user, payload.volunteer_id, "volunteer_id"),
        at=payload.at,
    )


@router.post(
    "/services/{pk}/approve",
    response={200: ApproveOut, **ERRORS},
    summary="审核时长（重复审核只计一次）",
)
def service_approve(request, pk: int, payload: ApproveIn | None = None):
    service = selectors.service_get(request.user, pk)
    return services.service_approve(
        actor=request.user,
        service=service,
        volunteer_ids=payload.volunteer_ids if payload else None,
    )


@router.get(
    "/services/{pk}/candidates",
    response={200: list[CandidateOut], **ERRORS},
    summary="推荐志愿者：技能相符、住得近、该时段有空、近期服务少（附理由）",
)
def service_candidates(request, pk: int, limit: int = 10):
    service = selectors.service_get(request.user, pk)
    if not services.may_lead(request.user, service):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("您的角色不能执行此操作。"))
    return [
        {
            "volunteer_id": c.member.pk,
            "name": c.member.name,
            "home": c.member.unit.name,
            "specialties": [s.name for s in c.member.specialties.all()],
            "matched": c.matched,
            "nearness": c.nearness,
            "available": c.available,
            "load": c.load,
            "reason": c.reason,
        }
        for c in selectors.service_candidates(service, limit=max(1, min(limit, 50)))
    ]


# --- records and certificates ------------------------------------------------------------------


@router.get(
    "/people/{pk}/volunteer-record",
    response={200: RecordOut, **ERRORS},
    summary="个人志愿服务记录：按年、按类别的时长与件数，星级",
)
def volunteer_record(request, pk: int):
    volunteer = selectors.volunteer_get(request.user, pk)
    record = selectors.volunteer_record(volunteer)
    return {"id": volunteer.pk, "name": volunteer.name, "unit": volunteer.unit, **record}


@router.post(
    "/people/{pk}/certificates",
    response={201: CertificateOut, **ERRORS},
    summary="出具志愿服务证明（免费，留痕），附核验码",
)
def certificate_issue(request, pk: int):
    volunteer = selectors.volunteer_get(request.user, pk)
    certificate = services.certificate_issue(actor=request.user, volunteer=volunteer)
    return HttpStatus(201, _certificate_out(request, certificate))


@router.get(
    "/units/{code}/volunteer-figures",
    response={200: FiguresOut, **ERRORS},
    summary="志愿服务统计：志愿者、活跃志愿者、时长、件数、开展服务次数",
)
def unit_figures(request, code: str, start: date | None = None, end: date | None = None):
    unit = unit_get(request.user, code, action="volunteer.record")
    if start and end and end < start:
        raise DomainError("invalid", _("结束日期须不早于开始日期。"), 422, "end")
    return selectors.unit_figures(unit, start, end)
