"""Exports over JSON: request, list mine, list waiting for my approval, approve, refuse,
download. Thin: access → service → schema."""

from datetime import datetime

from ninja import Field, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from hongyan.core.api import Pages
from hongyan.core.ratelimit import rate_limit
from hongyan.core.scope import access
from hongyan.core.stepup import require_fresh_step_up
from hongyan.orgs.models import Unit

from . import kinds, selectors, services, views

router = Router(tags=["exports"])


class ExportIn(Schema):
    kind: str = Field("members", description="what to export: members (党员名册)")
    unit: str = Field("", description="unit code (its whole subtree); blank: your one unit")
    filters: dict[str, str] = Field(
        default_factory=dict, description="members: q, specialty, status, category, plate"
    )
    masked: bool = Field(True, description="false: full ID numbers and mobiles (needs approval)")
    reason: str = Field("", max_length=500, description="why; required when masked is false")


class DecisionIn(Schema):
    note: str = Field("", max_length=500)


class ExportOut(Schema):
    id: int
    ref: str
    kind: str
    unit_code: str = Field(alias="unit.code")
    unit_name: str = Field(alias="unit.name")
    requester: str = Field(alias="requester.username")
    masked: bool
    reason: str
    filters: dict = Field(alias="filters_shown", description="ID numbers and mobiles masked")
    row_count: int
    needs_approval: bool
    state: str = Field(description="pending | refused | ready | expired")
    approver: str | None = Field(None, alias="approver.username")
    decided_at: datetime | None
    decision_note: str
    created_at: datetime
    expires_at: datetime | None
    downloads: int
    download_url: str | None = None

    @staticmethod
    def resolve_state(export):
        return export.State.EXPIRED.value if export.is_expired() else export.state

    @staticmethod
    def resolve_download_url(export):
        if export.state == export.State.READY and not export.is_expired():
            return f"/api/v1/exports/{export.pk}/download"
        return None


@router.post(
    "/exports",
    response={201: ExportOut},
    summary="申请导出（脱敏且不超过审批行数时立即生成；否则等待他人审批）",
)
@rate_limit(("export_user", "user"))
def export_create(request, payload: ExportIn):
    user = request.user
    spec = kinds.get(payload.kind)
    unit = (
        access(Unit.objects, user, action=spec.action, code=payload.unit)
        if payload.unit
        else views.default_unit(user, spec.action)
    )
    if not payload.masked:  # full personal data: a fresh TOTP first (core.stepup)
        require_fresh_step_up(request)
    export = services.export_request(
        actor=user,
        kind=spec.name,
        unit=unit,
        filters=payload.filters,
        masked=payload.masked,
        reason=payload.reason,
    )
    return Status(201, export)


@router.get("/exports", response=list[ExportOut], summary="我的导出申请")
@paginate(Pages)
def export_list_mine(request):
    return selectors.export_list_mine(request.user)


@router.get("/exports/approvals", response=list[ExportOut], summary="等待我审批的导出申请")
@paginate(Pages)
def export_list_to_approve(request):
    return selectors.export_list_to_approve(request.user).order_by("created_at", "pk")


@router.get("/exports/{export_id}", response=ExportOut, summary="一份导出申请")
def export_detail(request, export_id: int):
    return selectors.export_get(request.user, export_id)


@router.post(
    "/exports/{export_id}/approve",
    response=ExportOut,
    summary="批准导出申请（不能批准自己的申请）",
)
def export_approve(request, export_id: int, payload: DecisionIn):
    export = selectors.export_get(request.user, export_id)
    return services.export_approve(actor=request.user, export=export, note=payload.note)


@router.post("/exports/{export_id}/refuse", response=ExportOut, summary="拒绝导出申请")
def export_refuse(request, export_id: int, payload: DecisionIn):
    export = selectors.export_get(request.user, export_id)
    return services.export_refuse(actor=request.user, export=export, note=payload.note)


@router.get(
    "/exports/{export_id}/download",
    summary="下载导出文件（仅申请人；每次下载记入审计；过期返回 410）",
    openapi_extra={
        "responses": {
            "200": {
                "description": "the .xlsx file",
                "content": {views.XLSX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def export_download(request, export_id: int):
    export = selectors.export_get(request.user, export_id)
    data, filename = services.export_download(actor=request.user, export=export)
    return views.file_response(data, filename)
