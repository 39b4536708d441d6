"""Residents' needs over JSON. Thin: access → service → schema.

`POST /needs` is the public intake: no token needed (rate-limited per IP and per mobile,
429 with Retry-After); with a token it files as that account — a resident's own need,
or a staff member's desk/proxy/hotline entry. It takes JSON (photos as base64 strings)
or multipart/form-data (photos as files named `photos`). Every step on a need is one
POST; an illegal step answers 409 with the reason. The resident's mobile is masked in
every answer."""

import json
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.http import Http404
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status as HttpStatus

from hongyan.core import pii
from hongyan.core.api import BearerToken, ErrorOut, Pages
from hongyan.core.errors import DomainError
from hongyan.core.ratelimit import client_ip, hit, rate_limit
from hongyan.core.scope import can
from hongyan.core.stepup import require_fresh_step_up
from hongyan.orgs.models import PartyOrganization, Unit
from hongyan.orgs.selectors import unit_get

from . import matching, selectors, services
from .models import MOBILE_PURPOSE, Channel, EventAction, Need, NeedCategory, Status
from .rules import allowed_steps

router = Router(tags=["needs"])
User = get_user_model()


# --- optional authentication (public intake, follow links) ---------------------------


class _SessionIfValid:
    """The signed-in session user, only when the request passes the CSRF check."""

    def __call__(self, request):
        user = getattr(request, "user", None)
        if not getattr(user, "is_authenticated", False):
            return None
        if CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is not None:
            return None
        return user


def _anonymous(request):
    return "anonymous"


OPTIONAL_AUTH = [BearerToken(), _SessionIfValid(), _anonymous]


def actor_of(request):
    return request.auth if isinstance(request.auth, User) else None


# --- schemas --------------------------------------------------------------------------


class Ref(Schema):
    code: str
    name: str


class CategoryOut(Schema):
    code: str
    name: str
    description: str
    deadline_value: int
    deadline_unit: str
    deadline_label: str
    response_hours: int
    owner_level: str


class PhotoOut(Schema):
    id: int
    stage: str
    content_type: str
    size: int


class EventOut(Schema):
    at: datetime
    action: str
    action_label: str = Field(alias="get_action_display")
    actor_name: str
    from_status: str
    to_status: str
    note: str


class NeedOut(Schema):
    id: int
    reference: str
    status: str
    status_label: str = Field(alias="get_status_display")
    channel: str
    channel_label: str = Field(alias="get_channel_display")
    category: Ref
    text: str
    unit: Ref
    address: str
    owner: Ref
    resident_name: str
    resident_mobile: str = Field(alias="resident_mobile_masked", description="masked")
    proxy: bool
    filed_by: str
    assignee_kind: str
    assignee: str = Field(alias="assignee_label")
    handler: str
    created_at: datetime
    response_due: datetime
    deadline: datetime
    overdue: bool
    accepted_at: datetime | None
    dispatched_at: datetime | None
    claimed_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    paused_seconds: int
    escalation_level: int
    reopen_count: int
    reject_reason: str
    resolution: str
    rating: int | None
    rating_comment: str
    merged_into: str | None
    supporters: int

    @staticmethod
    def resolve_proxy(need):
        return need.channel == Channel.PROXY

    @staticmethod
    def resolve_filed_by(need):
        return str(need.filed_by) if need.filed_by_id else ""

    @staticmethod
    def resolve_handler(need):
        return str(need.handler) if need.handler_id else ""

    @staticmethod
    def resolve_overdue(need):
        return need.is_overdue()

    @staticmethod
    def resolve_merged_into(need):
        return need.merged_into.reference if need.merged_into_id else None


class NeedDetailOut(NeedOut):
    timeline: list[EventOut]
    photos: list[PhotoOut]
    allowed_steps: list[str]

    @staticmethod
    def resolve_photos(need):
        return list(need.photos.all())


class FiledOut(NeedOut):
    follow_token: str = Field(description="shown once: the resident's follow link key")


class NeedIn(Schema):
    category: str = Field(description="category code, e.g. public_facilities")
    unit: str = Field(description="unit code: compound, grid, building; or a community + address")
    text: str = Field(description="what is needed, ≤ 2,000 characters")
    resident_name: str = ""
    resident_mobile: str = ""
    address: str = ""
    channel: str = Field(
        "",
        description="for staff: desk | proxy | hotline | visit | meeting (default desk); "
        "ignored for the public and residents",
    )
    source_ref: str = ""
    photos: list[str] = Field(
        [], description="up to 3 images as base64 (or data: URLs), ≤ 5 MB each"
    )


class NoteIn(Schema):
    note: str = ""


class RejectIn(Schema):
    reason: str


class DispatchIn(Schema):
    unit: str | None = Field(None, description="a unit code")
    party_org: int | None = None
    team_id: int | None = None
    team_name: str = ""
    person: str | None = Field(None, description="a username")
    note: str = ""


class ResolveIn(Schema):
    resolution: str
    photos: list[str] = []


class RateIn(Schema):
    rating: int = Field(description="1–5")
    comment: str = ""
    follow_token: str = Field("", description="the resident's follow key, when not signed in")


class NeedTransferIn(Schema):
    unit: str
    category: str | None = None
    note: str


class MergeIn(Schema):
    into: int | str = Field(description="the id or reference of the need that carries on")
    note: str = ""


class JoinIn(Schema):
    name: str = ""
    mobile: str = ""
    note: str = ""


class JoinedOut(Schema):
    reference: str
    follow_token: str


class SimilarOut(Schema):
    id: int
    reference: str
    category: str
    excerpt: str
    status_label: str
    created_at: datetime
    supporters: int
    score: float


class NeedCandidateOut(Schema):
    member_id: int | None = Field(description="党员（双报到）；居民志愿者为空")
    volunteer_id: int | None = Field(None, description="志愿者（hongyan/volunteers）")
    name: str
    compound: str
    home: str
    specialties: list[str]
    matched: list[str]
    nearness: int
    load: int
    reason: str


class RateCount(Schema):
    code: str
    name: str
    count: int


class ChannelCount(Schema):
    channel: str
    name: str
    count: int


class RatesOut(Schema):
    unit: Ref
    date_from: date | None
    date_to: date | None
    total: int
    responded_in_time: int
    accepted: int
    resolved: int
    on_time: int
    rated: int
    satisfied: int
    open: int
    response_rate: float | None = Field(description="响应率")
    on_time_rate: float | None = Field(description="按时办结率")
    resolution_rate: float | None = Field(description="解决率")
    satisfaction_rate: float | None = Field(description="满意率")
    by_category: list[RateCount]
    by_channel: list[ChannelCount]


class Period(Schema):
    date_from: date | None = Field(None, alias="from", description="first day, e.g. 2026-01-01")
    date_to: date | None = Field(None, alias="to", description="last day (included)")


class FollowOut(Schema):
    reference: str
    status: str
    status_label: str
    category: str
    unit: str
    created_at: datetime
    deadline: datetime
    resolution: str
    rating: int | None
    can_rate: bool
    timeline: list[dict]


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- helpers --------------------------------------------------------------------------


def _unit(code: str, field: str = "unit") -> Unit:
    found = Unit.objects.filter(code=(code or "").strip()).first()
    if found is None:
        raise DomainError("invalid", _("没有代码为 %(c)s 的单位。") % {"c": code}, 422, field)
    return found


def _category(unit: Unit, code: str, field: str = "category") -> NeedCategory:
    found = services.category_for_city(unit, (code or "").strip())
    if found is None:
        raise DomainError("invalid", _("没有这个需求类别：%(c)s。") % {"c": code}, 422, field)
    return found


def _detail_out(user, need: Need) -> Need:
    """The need as `NeedDetailOut` shows it: re-read through the user's scope, with its
    timeline, photos and the steps the user may take now."""
    need = selectors.need_get(user, need.pk)
    need.timeline = list(selectors.need_timeline(need))
    need.allowed_steps = [s for s in allowed_steps(need) if selectors.may(user, need, s)]
    return need


def _intake_payload(request) -> tuple[dict, list]:
    """JSON or multipart: the fields and the photos (files or base64 strings)."""
    if request.content_type and request.content_type.startswith("multipart/"):
        data = {k: request.POST.get(k, "") for k in NeedIn.model_fields if k != "photos"}
        return data, request.FILES.getlist("photos")
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise DomainError("bad_request", _("请求体不是有效的 JSON。"), 400) from None
    if not isinstance(data, dict):
        raise DomainError("bad_request", _("请求体应为 JSON 对象。"), 400)
    payload = NeedIn.model_validate(data)
    return payload.model_dump(exclude={"photos"}), payload.photos


def _limit_public(request, mobile: str) -> None:
    hit("need_intake_ip", client_ip(request))
    normalised = pii.normalise_mobile(mobile)
    if normalised:
        hit("need_intake_mobile", pii.blind_index(normalised, MOBILE_PURPOSE))


def _is_staff_at(user, unit: Unit) -> bool:
    return user is not None and can(user, "need.file", unit.path)


# --- intake ---------------------------------------------------------------------------


@router.get(
    "/needs/categories",
    auth=OPTIONAL_AUTH,
    response=list[CategoryOut],
    summary="需求类别（按单位所在市）",
)
def category_list(request, unit: str = ""):
    place = _unit(unit) if unit else None
    return selectors.categories_for(place)


@router.post(
    "/needs",
    auth=OPTIONAL_AUTH,
    response={201: FiledOut, **ERRORS, 429: ErrorOut},
    summary="登记需求（公开：无需令牌，按 IP 与手机号限流；带令牌则按账号登记）",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": NeedIn.model_json_schema()},
                "multipart/form-data": {"schema": {"type": "object"}},
            },
            "required": True,
        }
    },
)
def need_create(request):
    actor = actor_of(request)
    data, photos = _intake_payload(request)
    unit = _unit(data["unit"])
    category = _category(unit, data["category"])
    if actor is not None and _is_staff_at(actor, unit):
        channel = data.get("channel") or Channel.DESK
        if channel not in services.STAFF_CHANNELS:
            raise DomainError(
                "invalid",
                _("工作人员登记的渠道应为窗口、代办、热线、走访或会议。"),
                422,
                "channel",
            )
    else:
        _limit_public(request, data.get("resident_mobile", ""))
        channel = Channel.RESIDENT_ACCOUNT if actor is not None else Channel.PUBLIC_WEB
    need = services.need_file(
        actor=actor,
        channel=channel,
        category=category,
        unit=unit,
        text=data.get("text", ""),
        resident_name=data.get("resident_name", ""),
        resident_mobile=data.get("resident_mobile", ""),
        address=data.get("address", ""),
        photos=photos,
        source_ref=data.get("source_ref", "") if channel in services.STAFF_CHANNELS else "",
    )
    token = need.follow_token
    need = Need.objects.select_related("category", "unit", "owner").get(pk=need.pk)
    need.follow_token = token
    return HttpStatus(201, need)


@router.get(
    "/needs/similar",
    auth=OPTIONAL_AUTH,
    response={200: list[SimilarOut], **ERRORS},
    summary="同一小区内内容相近的未办结需求（登记前查重）",
)
def need_similar(request, unit: str, text: str):
    place = _unit(unit)
    return [
        {
            "id": n.pk,
            "reference": n.reference,
            "category": n.category.name,
            "excerpt": n.text[:60],
            "status_label": n.get_status_display(),
            "created_at": n.created_at,
            "supporters": n.supporters,
            "score": round(score, 3),
        }
        for n, score in selectors.need_similar(place, text)
    ]


@router.post(
    "/needs/{pk}/join",
    auth=OPTIONAL_AUTH,
    response={201: JoinedOut, **ERRORS, 429: ErrorOut},
    summary="附议一条未办结的需求（代替重复登记）",
)
def need_join(request, pk: int, payload: JoinIn):
    actor = actor_of(request)
    need = Need.objects.filter(pk=pk, status__in=Status.values).first()
    if need is None or not need.is_open:
        raise Http404(_("没有找到这条未办结的需求。"))
    if actor is None or not _is_staff_at(actor, need.unit):
        _limit_public(request, payload.mobile)
    supporter = services.need_join(
        actor=actor, need=need, name=payload.name, mobile=payload.mobile, note=payload.note
    )
    return HttpStatus(201, {"reference": need.reference, "follow_token": supporter.follow_token})


@router.get(
    "/needs/follow/{token}",
    auth=OPTIONAL_AUTH,
    response={200: FollowOut, 404: ErrorOut},
    summary="居民凭跟踪码查看需求进度",
)
def need_follow(request, token: str):
    need = services.need_by_follow_token(token)
    if need is None:
        raise Http404(_("跟踪码无效。"))
    public_notes = {EventAction.REJECTED, EventAction.RESOLVED, EventAction.PAUSED}
    return {
        "reference": need.reference,
        "status": need.status,
        "status_label": need.get_status_display(),
        "category": need.category.name,
        "unit": need.unit.name,
        "created_at": need.created_at,
        "deadline": need.deadline,
        "resolution": need.resolution,
        "rating": need.rating,
        "can_rate": need.status == Status.RESOLVED,
        "timeline": [
            {
                "at": e.at.isoformat(),
                "action": e.action,
                "label": e.get_action_display(),
                "note": e.note if e.action in public_notes else "",
            }
            for e in need.events.filter(
                action__in=[a for a in EventAction.values if a not in ("warned", "revisit")]
            )
        ],
    }


# --- notifications (before /needs/{pk}, which would match the word) ----------------


class NotificationOut(Schema):
    id: int
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    level: int
    need_id: int
    reference: str = Field(alias="need.reference")
    unit: Ref
    message: str
    created_at: datetime
    read_at: datetime | None


@router.get(
    "/needs/notifications",
    response=list[NotificationOut],
    summary="需求提醒：临期、督办、回访（发给本人或本人管理的单位）",
)
@paginate(Pages)
def notification_list(request, unread: bool = False):
    return selectors.notification_list(request.user, unread=unread)


@router.post(
    "/needs/notifications/{pk}/read",
    response={204: None, **ERRORS},
    summary="标记提醒为已读",
)
def notification_read(request, pk: int):
    notice = selectors.notification_list(request.user).filter(pk=pk).first()
    if notice is None:
        raise Http404(_("没有找到，或不在您的管辖范围内。"))
    services.notification_read(actor=request.user, notification=notice)
    return HttpStatus(204, None)


# --- reading ---------------------------------------------------------------------------


@router.get("/needs", response=list[NeedOut], summary="需求列表（按单位、状态等筛选）")
@paginate(Pages)
def need_list(
    request,
    unit: str = "",
    status: str = Query("", description="a status, several comma-separated, or 'open'"),
    category: str = "",
    channel: str = "",
    mine: bool = False,
    claimable: bool = False,
    overdue: bool = False,
    q: str = "",
):
    place = unit_get(request.user, unit, action="need.view") if unit else None
    statuses = [s for s in status.split(",") if s] if status else None
    bad = [s for s in statuses or [] if s not in Status.values and s != "open"]
    if bad:
        raise DomainError(
            "invalid", _("未知的状态：%(s)s。") % {"s": ", ".join(bad)}, 422, "status"
        )
    return selectors.need_list(
        request.user,
        unit=place,
        status=statuses,
        category=category,
        channel=channel,
        mine=mine,
        claimable=claimable,
        overdue=overdue,
        q=q,
    ).select_related("filed_by", "merged_into")


@router.get("/needs/{pk}", response={200: NeedDetailOut, **ERRORS}, summary="需求详情与办理时间线")
def need_detail(request, pk: int):
    return _detail_out(request.user, selectors.need_get(request.user, pk))


@router.get(
    "/needs/{pk}/candidates",
    response={200: list[NeedCandidateOut], **ERRORS},
    summary="推荐派单对象：特长相符、住得近、手头事少的双报到党员和居民志愿者（附理由）",
)
def need_candidate_list(request, pk: int, limit: int = 10):
    from hongyan.volunteers.selectors import need_volunteer_candidates

    need = selectors.need_access(request.user, pk, "dispatch")
    limit = max(1, min(limit, 50))
    members = matching.need_candidates(need, limit=limit)
    # residents who volunteer (not on the member register), ranked by the same function
    volunteers = need_volunteer_candidates(need, limit=limit)
    ranked = sorted(members + volunteers, key=lambda c: c.score)[:limit]
    is_member = {id(c) for c in members}
    return [
        {
            "member_id": c.member.pk if id(c) in is_member else None,
            "volunteer_id": None if id(c) in is_member else c.member.pk,
            "name": c.member.name,
            "compound": c.member.compound.name if c.member.compound_id else "",
            "home": c.member.unit.name,
            "specialties": [s.name for s in c.member.specialties.all()],
            "matched": c.matched,
            "nearness": c.nearness,
            "load": c.load,
            "reason": c.reason,
        }
        for c in ranked
    ]


# --- steps ---------------------------------------------------------------------------


def _done(request, need):
    return _detail_out(request.user, need)


STEP = {"response": {200: NeedDetailOut, **ERRORS}}


@router.post("/needs/{pk}/accept", **STEP, summary="受理")
def need_accept(request, pk: int, payload: NoteIn | None = None):
    need = selectors.need_access(request.user, pk, "accept")
    note = payload.note if payload else ""
    return _done(request, services.need_accept(actor=request.user, need=need, note=note))


@router.post("/needs/{pk}/reject", **STEP, summary="不予受理（须写明原因）")
def need_reject(request, pk: int, payload: RejectIn):
    need = selectors.need_access(request.user, pk, "reject")
    return _done(
        request, services.need_reject(actor=request.user, need=need, reason=payload.reason)
    )


@router.post(
    "/needs/{pk}/dispatch", **STEP, summary="派单：给单位、党组织、志愿服务队或个人（选一）"
)
def need_dispatch(request, pk: int, payload: DispatchIn):
    need = selectors.need_access(request.user, pk, "dispatch")
    kwargs = {"note": payload.note}
    if payload.unit:
        kwargs["unit"] = _unit(payload.unit)
    if payload.party_org is not None:
        org = PartyOrganization.objects.select_related("unit").filter(pk=payload.party_org).first()
        if org is None:
            raise DomainError("invalid", _("没有这个党组织。"), 422, "party_org")
        kwargs["party_org"] = org
    if payload.team_id is not None or payload.team_name:
        kwargs.update(team_id=payload.team_id, team_name=payload.team_name)
    if payload.person:
        person = User.objects.filter(username=payload.person, is_active=True).first()
        if person is None:
            raise DomainError("invalid", _("没有这个账号。"), 422, "person")
        kwargs["person"] = person
    return _done(request, services.need_dispatch(actor=request.user, need=need, **kwargs))


def _simple_step(step: str, func, summary: str, *, note_required=False):
    if note_required:

        def handler(request, pk: int, payload: NoteIn):
            need = selectors.need_access(request.user, pk, step)
            return _done(request, func(actor=request.user, need=need, note=payload.note))

    else:

        def handler(request, pk: int, payload: NoteIn | None = None):
            need = selectors.need_access(request.user, pk, step)
            note = payload.note if payload else ""
            return _done(request, func(actor=request.user, need=need, note=note))

    handler.__name__ = f"need_{step}"
    router.post(f"/needs/{{pk}}/{step}", **STEP, summary=summary)(handler)


_simple_step("claim", services.need_claim, "认领（双报到党员、志愿者；同时认领只有一人成功）")
_simple_step("start", services.need_start, "开始办理")
_simple_step("pause", services.need_pause, "暂停（等待居民，计时停止）", note_required=True)
_simple_step("resume", services.need_resume, "恢复办理（时限顺延暂停的工作时间）")
_simple_step("close", services.need_close, "关闭（已办结、居民未评价时）")
_simple_step("reopen", services.need_reopen, "重新办理", note_required=True)
_simple_step("escalate", services.need_escalate, "督办：承办单位上移一级")


@router.post("/needs/{pk}/resolve", **STEP, summary="办结（办理结果，可附照片）")
def need_resolve(request, pk: int, payload: ResolveIn):
    need = selectors.need_access(request.user, pk, "resolve")
    return _done(
        request,
        services.need_resolve(
            actor=request.user, need=need, resolution=payload.resolution, photos=payload.photos
        ),
    )


@router.post(
    "/needs/{pk}/rate",
    auth=OPTIONAL_AUTH,
    response={200: FollowOut | NeedDetailOut, **ERRORS},
    summary="居民评价 1–5 星（居民账号，或凭跟踪码）；≤ 2 星重新办理",
)
def need_rate(request, pk: int, payload: RateIn):
    actor = actor_of(request)
    if payload.follow_token:
        need = services.need_by_follow_token(payload.follow_token)
        if need is None or need.pk != pk:
            raise Http404(_("跟踪码无效。"))
        services.need_rate(actor=None, need=need, rating=payload.rating, comment=payload.comment)
        return need_follow(request, payload.follow_token)
    if actor is None:
        raise DomainError("unauthenticated", _("请登录居民账号，或提供跟踪码 follow_token。"), 401)
    need = selectors.need_access(actor, pk, "rate")
    need = services.need_rate(
        actor=actor, need=need, rating=payload.rating, comment=payload.comment
    )
    return _detail_out(actor, need)


class NeedRevealIn(Schema):
    reason: str


class NeedRevealOut(Schema):
    field: str
    value: str


@router.post(
    "/needs/{pk}/reveal",
    response={200: NeedRevealOut, **ERRORS, 429: ErrorOut},
    summary="查看居民的完整手机号（工作人员或办理人；需说明原因并验证动态口令，记入审计）",
)
@rate_limit(("reveal_user", "user"))
def need_reveal(request, pk: int, payload: NeedRevealIn):
    need = selectors.need_get(request.user, pk)
    require_fresh_step_up(request)  # 403 step_up_required: POST /api/v1/auth/step-up first
    value = services.need_reveal_mobile(actor=request.user, need=need, reason=payload.reason)
    return {"field": "resident_mobile", "value": value}


@router.post("/needs/{pk}/transfer", **STEP, summary="转办到另一单位（可改类别）")
def need_transfer(request, pk: int, payload: NeedTransferIn):
    need = selectors.need_access(request.user, pk, "transfer")
    to_unit = _unit(payload.unit)
    if not can(request.user, "need.view", to_unit.path):
        raise DomainError("invalid", _("只能转办到您辖区内的单位。"), 422, "unit")
    category = _category(to_unit, payload.category, "category") if payload.category else None
    return _done(
        request,
        services.need_transfer(
            actor=request.user, need=need, to_unit=to_unit, category=category, note=payload.note
        ),
    )


@router.post("/needs/{pk}/merge", **STEP, summary="合并到重复的另一条需求")
def need_merge(request, pk: int, payload: MergeIn):
    need = selectors.need_access(request.user, pk, "merge")
    into_q = selectors.need_queryset(request.user)
    into_key = str(payload.into).strip()
    into = (
        into_q.filter(pk=int(into_key)).first()
        if into_key.isdigit()
        else into_q.filter(reference=into_key).first()
    )
    if into is None:
        raise DomainError("invalid", _("没有找到要合并进去的需求。"), 422, "into")
    return _done(
        request, services.need_merge(actor=request.user, need=need, into=into, note=payload.note)
    )


# --- rates -----------------------------------------------------------------------------


@router.get(
    "/units/{code}/need-rates",
    response={200: RatesOut, **ERRORS},
    tags=["needs"],
    summary="需求办理指标：响应率、按时办结率、解决率、满意率，按类别与渠道计数",
)
def need_rates(
    request,
    code: str,
    period: Query[Period],
):
    """Without `to`, up to today; without `from`, the 365 days before `to`. A period
    ending after today, starting after it ends, or longer than three years → 422."""
    unit = unit_get(request.user, code, action="need.rates")
    date_from, date_to = selectors.rates_period_check(period.date_from, period.date_to)
    rates = selectors.need_rates(unit, date_from, date_to)
    rates["unit"] = {"code": unit.code, "name": unit.name}
    return rates


# --- categories per city, notifications ------------------------------------------------


class CategoryIn(Schema):
    name: str
    deadline_value: int = Field(description="the limit, in deadline_unit")
    deadline_unit: str = Field("days", description="days (working days) | hours (working hours)")
    response_hours: int = Field(24, description="accepted within this many working hours")
    owner_level: str = Field("community", description="community | township | county")
    description: str = ""
    specialties: list[str] = Field([], description="names from the specialty list")
    active: bool = True


@router.get(
    "/units/{code}/need-categories",
    response={200: list[CategoryOut], **ERRORS},
    summary="某市使用的需求类别（本市类别覆盖同代码的默认类别）",
)
def city_categories(request, code: str):
    # the categories are the city's public service list (Open311 publishes them too)
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        raise Http404(_("没有找到，或不在您的管辖范围内。"))
    return selectors.categories_for(unit)


@router.put(
    "/units/{code}/need-categories/{category_code}",
    response={200: CategoryOut, **ERRORS},
    summary="新增或修改本市的需求类别（市级管理员）",
)
def city_category_save(request, code: str, category_code: str, payload: CategoryIn):
    city = unit_get(request.user, code)
    return services.category_save(
        actor=request.user, city=city, code=category_code, **payload.model_dump()
    )
