"""The care registry and its visits over JSON. Thin: access → service → dict.

ID numbers and mobiles are masked in every answer; a child's name is masked in lists and
shown on their own record (that read is audited); children under 14 are absent for
roles without `care.minors` (404 on their record). Errors are `{code, message, field?}`:
422 names the field, 409 a state that does not allow the step, 404 outside the caller's
area, 403 a role that may not."""

from datetime import date

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status as HttpStatus

from hongyan.core.api import Pages
from hongyan.core.ratelimit import rate_limit
from hongyan.core.scope import can, visible_paths
from hongyan.core.stepup import require_fresh_step_up
from hongyan.orgs.models import Unit
from hongyan.orgs.selectors import unit_get

from . import selectors, services
from .models import CareGroup, CareRecipient, Visit, mask_name
from .services import invalid, today

router = Router(tags=["care"])
User = get_user_model()


# --- shaping ------------------------------------------------------------------------------


def _ref(obj) -> dict:
    return {"code": obj.code, "name": obj.name}


def _visitor(r: CareRecipient) -> dict | None:
    if r.visitor_user_id:
        return {"kind": "user", "id": r.visitor_user_id, "label": r.visitor_label}
    if r.visitor_post_id:
        return {"kind": "post", "id": r.visitor_post_id, "label": r.visitor_label}
    if r.visitor_team_id:
        return {"kind": "team", "id": r.visitor_team_id, "label": r.visitor_label}
    return None


def recipient_out(r: CareRecipient, day: date, *, full: bool = False) -> dict:
    """A recipient as the API shows it. A child's name and birth date only with `full`
    (their own record, whose read the caller audits)."""
    minor = r.is_minor(day)
    out = {
        "id": r.pk,
        "name": mask_name(r.name) if minor and not full else r.name,
        "minor": minor,
        "group": _ref(r.group),
        "unit": _ref(r.unit),
        "gender": r.gender,
        "age": r.age(day),
        "birth_date": r.birth_date if (full or not minor) else None,
        "id_number": r.id_number_masked,
        "mobile": r.mobile_masked,
        "address": r.address,
        "household": r.household,
        "interval_days": r.interval,
        "own_interval_days": r.interval_days,
        "visitor": _visitor(r),
        "registered_on": r.registered_on,
        "last_visit_on": r.last_visit_on,
        "last_seen_on": r.last_seen_on,
        "next_due": r.next_due,
        "overdue": r.is_overdue(day),
        "days_overdue": r.days_overdue(day) if r.active else 0,
        "active": r.active,
        "ended_reason": r.ended_reason,
    }
    if full and (minor or r.guardian_name):
        out["guardian"] = {
            "name": r.guardian_name,
            "relation": r.guardian_relation,
            "consent_on": r.consent_on,
            "consent_method": r.consent_method,
            "recorded_by": str(r.consent_recorded_by) if r.consent_recorded_by_id else "",
        }
    return out


def visit_out(v: Visit, day: date) -> dict:
    r = v.recipient
    return {
        "id": v.pk,
        "recipient": {
            "id": r.pk,
            "name": mask_name(r.name) if r.is_minor(day) else r.name,
            "unit": _ref(r.unit),
        },
        "visitor": v.visitor_name,
        "visited_on": v.visited_on,
        "seen": v.seen,
        "wellbeing": v.wellbeing,
        "services": v.services,
        "elderly_certification": v.elderly_certification,
        "elderly_allowance": v.elderly_allowance,
        "dibao_status": v.dibao_status,
        "finding_kind": v.finding_kind,
        "findings": v.findings,
        "note": v.note,
        "need": {"id": v.need_id, "reference": v.need.reference} if v.need_id else None,
        "created_at": v.created_at,
    }


def _unit_in_scope(user, code: str, action: str, field: str = "unit") -> Unit:
    unit = Unit.objects.filter(code=code).first()
    if unit is None or not can(user, action, unit.path):
        raise invalid(field, _("找不到单位 %(code)s，或不在您的管辖范围内。") % {"code": code})
    return unit


def _group(code: str) -> CareGroup:
    group = CareGroup.objects.filter(code=code, active=True).first()
    if group is None:
        raise invalid("group", _("未知的关爱群体：%(code)s。") % {"code": code})
    return group


def _resolve_visitors(data: dict) -> dict:
    from hongyan.members.models import CommunityPost
    from hongyan.volunteers.models import Team

    if "visitor_user" in data:
        name = data["visitor_user"]
        data["visitor_user"] = User.objects.filter(username=name).first() if name else None
        if name and data["visitor_user"] is None:
            raise invalid("visitor_user", _("没有这个账号：%(name)s。") % {"name": name})
    for field, model in (("visitor_post", CommunityPost), ("visitor_team", Team)):
        if field in data:
            pk = data[field]
            data[field] = model.objects.select_related("unit").filter(pk=pk).first() if pk else None
            if pk and data[field] is None:
                raise invalid(field, _("没有找到编号为 %(id)s 的走访人。") % {"id": pk})
    return data


# --- schemas ------------------------------------------------------------------------------


class RecipientIn(Schema):
    unit: str = Field(description="the place: a compound, natural village, grid or building code")
    group: str = Field(description="a care group code (GET /care-groups)")
    name: str
    gender: str = ""
    birth_date: date | None = None
    id_number: str = ""
    mobile: str = ""
    address: str = ""
    household: str = ""
    interval_days: int | None = Field(None, description="own visit frequency; empty = the group's")
    visitor_user: str | None = Field(None, description="username of the visiting account")
    visitor_post: int | None = Field(None, description="id of a 三户四长 post (community-posts)")
    visitor_team: int | None = Field(None, description="id of a volunteer team")
    guardian_name: str = ""
    guardian_relation: str = ""
    consent_on: date | None = None
    consent_method: str = Field("", description="written | oral | electronic")
    registered_on: date | None = None


class RecipientPatch(Schema):
    unit: str | None = None
    group: str | None = None
    name: str | None = None
    gender: str | None = None
    birth_date: date | None = None
    id_number: str | None = None
    mobile: str | None = None
    address: str | None = None
    household: str | None = None
    interval_days: int | None = None
    visitor_user: str | None = None
    visitor_post: int | None = None
    visitor_team: int | None = None
    guardian_name: str | None = None
    guardian_relation: str | None = None
    consent_on: date | None = None
    consent_method: str | None = None
    active: bool | None = None
    ended_reason: str | None = None


class CareRevealIn(Schema):
    field: str = Field(description="id_number | mobile")
    reason: str


class CareRevealOut(Schema):
    field: str
    value: str


class VisitIn(Schema):
    recipient: int
    visited_on: date | None = Field(None, description="default today; at most 31 days back")
    seen: bool = True
    wellbeing: str = Field("", description="good | fair | poor | urgent (required when seen)")
    services: list[str] = Field(
        [], description="chat, cleaning, medicine, meal, certification, errand, repair, homework"
    )
    elderly_certification: str = Field("", description="高龄认证: done | due")
    elderly_allowance: str = Field("", description="高龄补贴: received | missing")
    dibao_status: str = Field("", description="低保: normal | problem")
    finding_kind: str = Field("", description="hazard | dispute | hardship")
    findings: str = ""
    note: str = ""


class RaiseNeedIn(Schema):
    category: str = Field("", description="a needs category code; default from the finding")
    text: str = Field("", description="default: the visit's findings")


class GroupIn(Schema):
    interval_days: int
    name: str | None = None
    active: bool | None = None


class RecipientFilters(Schema):
    unit: str = ""
    group: str = ""
    status: str = Field("", description="overdue | today | due | soon | ok | ended")
    mine: bool = False
    q: str = ""


class VisitFilters(Schema):
    recipient: int | None = None
    unit: str = ""
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")
    findings: bool = False


class PeriodFilters(Schema):
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")


def _filter_unit(user, code: str) -> Unit | None:
    if not code:
        return None
    return unit_get(user, code)


# --- recipients ---------------------------------------------------------------------------


@router.get("/care-groups", summary="关爱群体及其默认走访周期")
def group_list(request):
    return [
        {
            "code": g.code,
            "name": g.name,
            "interval_days": g.interval_days,
            "children": g.children,
            "active": g.active,
        }
        for g in selectors.groups(active_only=False)
    ]


@router.put("/care-groups/{code}", summary="修改关爱群体的默认走访周期（市级管理员）")
def group_save(request, code: str, payload: GroupIn):
    if not visible_paths(request.user, "care.groups"):
        raise PermissionDenied(_("只有市级管理员可以修改关爱群体。"))
    group = CareGroup.objects.filter(code=code).first()
    if group is None:
        raise invalid("code", _("未知的关爱群体：%(code)s。") % {"code": code})
    g = services.group_save(actor=request.user, group=group, **payload.model_dump())
    return {"code": g.code, "name": g.name, "interval_days": g.interval_days, "active": g.active}


@router.get("/care-recipients", response=list[dict], summary="关爱对象（按下次走访日期排序）")
@paginate(Pages)
def recipient_list(request, filters: Query[RecipientFilters]):
    if filters.status and filters.status not in selectors.STATUSES:
        raise invalid("status", _("状态可选：%(s)s。") % {"s": "、".join(selectors.STATUSES)})
    day = today()
    rows = selectors.recipient_list(
        request.user,
        unit=_filter_unit(request.user, filters.unit),
        group=filters.group,
        status=filters.status,
        mine=filters.mine,
        q=filters.q,
        day=day,
    )
    return _Shaped(rows, lambda r: recipient_out(r, day))


class _Shaped:
    """A queryset that the paginator slices, shaped row by row afterwards."""

    def __init__(self, qs, shape):
        self.qs, self.shape = qs, shape

    def count(self):
        return self.qs.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, item):
        return [self.shape(r) for r in self.qs[item]]


@router.post("/care-recipients", response={201: dict}, summary="登记关爱对象")
def recipient_create(request, payload: RecipientIn):
    data = payload.model_dump()
    data["unit"] = _unit_in_scope(request.user, data["unit"], "care.edit")
    data["group"] = _group(data["group"])
    data = _resolve_visitors(data)
    r = services.recipient_create(actor=request.user, **data)
    return HttpStatus(201, recipient_out(r, today(), full=True))


def _read(request, pk, step="view", how="api") -> CareRecipient:
    r = selectors.recipient_access(request.user, pk, step)
    if r.is_minor(today()):
        services.minor_read(actor=request.user, recipient=r, how=how)
    return r


@router.get(
    "/care-recipients/{recipient_id}", summary="一位关爱对象（儿童的记录每次查看都记入审计）"
)
def recipient_get(request, recipient_id: int):
    r = _read(request, recipient_id)
    day = today()
    out = recipient_out(r, day, full=True)
    out["visits"] = [visit_out(v, day) for v in r.visits.select_related("need")[:20]]
    out["may_visit"] = selectors.may(request.user, r, "visit")
    return out


@router.patch("/care-recipients/{recipient_id}", summary="修改关爱对象（只改给出的字段）")
def recipient_update(request, recipient_id: int, payload: RecipientPatch):
    r = selectors.recipient_access(request.user, recipient_id, "edit")
    data = payload.model_dump(exclude_unset=True)
    if "unit" in data:
        data["unit"] = _unit_in_scope(request.user, data["unit"] or "", "care.edit")
    if "group" in data:
        data["group"] = _group(data["group"] or "")
    data = _resolve_visitors(data)
    r = services.recipient_update(actor=request.user, recipient=r, **data)
    return recipient_out(r, today(), full=True)


@router.post(
    "/care-recipients/{recipient_id}/reveal",
    response=CareRevealOut,
    summary="查看完整身份证号或手机号（需说明原因，记入审计）",
)
@rate_limit(("reveal_user", "user"))
def recipient_reveal(request, recipient_id: int, payload: CareRevealIn):
    r = selectors.recipient_access(request.user, recipient_id, "reveal")
    require_fresh_step_up(request)  # 403 step_up_required: POST /api/v1/auth/step-up first
    value = services.recipient_reveal(
        actor=request.user, recipient=r, field=payload.field, reason=payload.reason
    )
    return {"field": payload.field, "value": value}


# --- visits -------------------------------------------------------------------------------


@router.get("/visits/due", summary="走访人的待走访名单：超期在前，然后是今天、未来一周")
def visits_due(request, mine: bool = True, unit: str = ""):
    day = today()
    due = selectors.due_list(
        request.user, mine=mine, unit=_filter_unit(request.user, unit), day=day
    )
    return {
        "date": day,
        "overdue": [recipient_out(r, day) for r in due.overdue],
        "today": [recipient_out(r, day) for r in due.today],
        "soon": [recipient_out(r, day) for r in due.soon],
    }


@router.get("/visits", response=list[dict], summary="走访记录")
@paginate(Pages)
def visit_list(request, filters: Query[VisitFilters]):
    recipient = (
        selectors.recipient_access(request.user, filters.recipient) if filters.recipient else None
    )
    day = today()
    rows = selectors.visit_list(
        request.user,
        recipient=recipient,
        unit=_filter_unit(request.user, filters.unit),
        date_from=filters.date_from,
        date_to=filters.date_to,
        findings=filters.findings,
    )
    return _Shaped(rows, lambda v: visit_out(v, day))


@router.post("/visits", response={201: dict}, summary="登记一次走访")
def visit_log(request, payload: VisitIn):
    data = payload.model_dump()
    r = selectors.recipient_access(request.user, data.pop("recipient"), "visit")
    visit = services.visit_log(actor=request.user, recipient=r, **data)
    return HttpStatus(201, visit_out(visit, today()))


@router.get("/visits/{visit_id}", summary="一次走访")
def visit_get(request, visit_id: int):
    return visit_out(selectors.visit_access(request.user, visit_id), today())


@router.post(
    "/visits/{visit_id}/need", response={201: dict}, summary="把走访发现的问题转为居民需求"
)
def visit_raise_need(request, visit_id: int, payload: RaiseNeedIn):
    visit = selectors.visit_access(request.user, visit_id, "visit")
    need = services.visit_raise_need(actor=request.user, visit=visit, **payload.model_dump())
    return HttpStatus(
        201,
        {
            "id": need.pk,
            "reference": need.reference,
            "status": need.status,
            "channel": need.channel,
        },
    )


# --- figures ------------------------------------------------------------------------------


@router.get("/units/{code}/care-figures", summary="关爱对象按群体统计，走访完成数与应走访数")
def care_figures(request, code: str, period: Query[PeriodFilters]):
    date_from, date_to = period.date_from, period.date_to
    unit = unit_get(request.user, code)
    if not can(request.user, "care.figures", unit.path):
        raise PermissionDenied(_("您的角色不能查看关爱走访统计。"))
    start, end = selectors.default_period()
    date_from, date_to = date_from or start, date_to or end
    if date_from > date_to:
        raise invalid("from", _("开始日期不能晚于结束日期。"))
    if (date_to - date_from).days > 3660:
        raise invalid("to", _("统计区间不能超过 10 年。"))
    return selectors.care_figures(unit, date_from, date_to)
