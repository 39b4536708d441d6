"""Export control (等保: data leaving the system). Every export is an ExportRequest:

    req = export_request(actor=..., kind="members", unit=..., filters={...}, masked=True)
    export_approve(actor=other, export=req)   # when req.needs_approval
    data, filename = export_download(actor=req.requester, export=req)

A masked export of at most EXPORT_APPROVAL_ROWS rows is made at once; a bigger one, or
any unmasked one, waits until a second person approves it: someone else who holds
`export.approve` over the unit (the requester never approves their own). The file is
written encrypted (SM4-GCM) with a watermark row (who, when, the request's number), kept
EXPORT_EXPIRY_HOURS, then gone (410). Requests, decisions and every download are audited.
"""

import base64
import io
import json
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from hongyan.core import audit, pii
from hongyan.core.errors import DomainError
from hongyan.core.scope import can
from hongyan.core.spreadsheet import formula_safe

from . import kinds
from .models import ExportRequest

FILE_AAD = "exports.ExportRequest.file"
FILTERS_AAD = "exports.ExportRequest.filters"


def approval_rows() -> int:
    return int(getattr(settings, "EXPORT_APPROVAL_ROWS", 500))


def expiry() -> timedelta:
    return timedelta(hours=int(getattr(settings, "EXPORT_EXPIRY_HOURS", 24)))


def folder() -> Path:
    path = Path(settings.MEDIA_ROOT) / "exports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _who(user) -> str:
    return f"{user.display_name or user.username}（{user.username}）"


def _shown(filters: dict) -> dict:
    """Filters for lists and the audit log: a searched ID number or mobile masked."""
    out = dict(filters)
    q = out.get("q", "")
    if sum(ch.isdigit() for ch in q) >= 7:
        out["q"] = pii.mask_id_number(q) if len(q) > 11 else pii.mask_mobile(q)
    return out


def _filters(export: ExportRequest) -> dict:
    if not export.filters_enc:
        return {}
    return json.loads(pii.decrypt_bytes(base64.b64decode(export.filters_enc), FILTERS_AAD))


def watermark(export: ExportRequest, at) -> str:
    kind = kinds.get(export.kind)
    text = _(
        "%(unit)s %(kind)s · 申请人 %(who)s · 生成于 %(at)s · 申请编号 %(ref)s · "
        "内部资料，仅限工作使用，严禁外传"
    ) % {
        "unit": export.unit.name,
        "kind": kind.label,
        "who": _who(export.requester),
        "at": timezone.localtime(at).strftime("%Y-%m-%d %H:%M"),
        "ref": export.ref,
    }
    if export.approver_id:
        text += _(" · 审批人 %(who)s") % {"who": _who(export.approver)}
    if not export.masked:
        text += _(" · 含完整个人信息")
    return text


def _write(export: ExportRequest, at) -> tuple[bytes, int]:
    kind = kinds.get(export.kind)
    rows = kind.rows(export.requester, export.unit, _filters(export))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(str(kind.label)[:31])
    mark = WriteOnlyCell(ws, value=formula_safe(watermark(export, at)))
    mark.font = Font(bold=True, color="C00000")
    ws.append([mark])
    head = []
    for title in kind.headers(export.masked):
        cell = WriteOnlyCell(ws, value=title)
        cell.font = Font(bold=True)
        head.append(cell)
    ws.append(head)
    count = 0
    for row in rows.iterator(chunk_size=2000):
        ws.append([formula_safe(v) for v in kind.cells(row, export.masked)])
        count += 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), count


def _generate(export: ExportRequest) -> None:
    """Write the file (encrypted) and mark the request ready. Inside the caller's
    transaction: if anything fails, the request stays as it was and no file is left."""
    at = timezone.now()
    data, count = _write(export, at)
    stored = f"{export.ref}.bin"
    path = folder() / stored
    try:
        path.write_bytes(pii.encrypt_bytes(data, FILE_AAD))
        kind = kinds.get(export.kind)
        stamp = timezone.localtime(at).strftime("%Y%m%d-%H%M")
        export.stored, export.row_count = stored, count
        export.filename = f"{kind.label}-{export.unit.short_name}-{stamp}.xlsx"
        export.generated_at, export.expires_at = at, at + expiry()
        export.state = ExportRequest.State.READY
        export.save(
            update_fields=[
                "stored",
                "row_count",
                "filename",
                "generated_at",
                "expires_at",
                "state",
            ]
        )
        audit.record(
            kind.audit_action,
            actor=export.requester,
            obj=export,
            unit=export.unit,
            detail={
                "rows": count,
                "masked": export.masked,
                "filters": export.filters_shown,
                "request": export.ref,
                "approver": export.approver.username if export.approver_id else "",
            },
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise


@transaction.atomic
def export_request(
    *, actor, kind: str, unit, filters: dict | None = None, masked: bool = True, reason: str = ""
) -> ExportRequest:
    """Ask for an export of `unit`'s subtree (the caller resolved `unit` through access()).
    Made at once when it is masked and small; otherwise it waits for approval."""
    spec = kinds.get(kind)
    if not can(actor, spec.action, unit.path):
        raise PermissionDenied(_("您的角色不能导出%(kind)s。") % {"kind": spec.label})
    reason = (reason or "").strip()
    if not masked:
        if not can(actor, spec.unmasked_action, unit.path):
            raise PermissionDenied(_("您的角色不能导出完整的个人信息。"))
        if not reason:
            raise DomainError(
                "reason_required",
                _("导出完整的个人信息须说明用途。"),
                status=422,
                field="reason",
            )
    clean = spec.clean_filters(filters or {})
    count = spec.rows(actor, unit, clean).count()
    needs = (not masked) or count > approval_rows()
    export = ExportRequest.objects.create(
        ref=uuid.uuid4().hex[:16].upper(),
        kind=spec.name,
        requester=actor,
        unit=unit,
        filters_enc=base64.b64encode(
            pii.encrypt_bytes(json.dumps(clean).encode(), FILTERS_AAD)
        ).decode(),
        filters_shown=_shown(clean),
        masked=masked,
        reason=reason[:500],
        row_count=count,
        needs_approval=needs,
        state=ExportRequest.State.PENDING,
    )
    audit.record(
        "export.request",
        actor=actor,
        obj=export,
        unit=unit,
        detail={
            "kind": spec.name,
            "request": export.ref,
            "rows": count,
            "masked": masked,
            "needs_approval": needs,
            "filters": export.filters_shown,
            "reason": export.reason,
        },
    )
    if not needs:
        _generate(export)
    return export


def _decide_check(actor, export: ExportRequest) -> ExportRequest:
    locked = ExportRequest.objects.select_for_update().select_related("unit").get(pk=export.pk)
    if locked.state != ExportRequest.State.PENDING:
        raise DomainError(
            "already_decided",
            _("这份导出申请已经处理过了（%(state)s）。") % {"state": locked.get_state_display()},
            status=409,
        )
    if locked.requester_id == actor.pk:
        raise PermissionDenied(_("不能审批自己的导出申请：请由有审批权限的另一位同事审批。"))
    if not can(actor, "export.approve", locked.unit.path):
        raise PermissionDenied(_("您的角色不能审批导出申请。"))
    return locked


@transaction.atomic
def export_approve(*, actor, export: ExportRequest, note: str = "") -> ExportRequest:
    export = _decide_check(actor, export)
    export.approver, export.decided_at = actor, timezone.now()
    export.decision_note = (note or "").strip()[:500]
    export.save(update_fields=["approver", "decided_at", "decision_note"])
    audit.record(
        "export.approve",
        actor=actor,
        obj=export,
        unit=export.unit,
        detail={"request": export.ref, "requester": export.requester.username},
    )
    _generate(export)
    return export


@transaction.atomic
def export_refuse(*, actor, export: ExportRequest, note: str = "") -> ExportRequest:
    export = _decide_check(actor, export)
    export.approver, export.decided_at = actor, timezone.now()
    export.decision_note = (note or "").strip()[:500]
    export.state = ExportRequest.State.REFUSED
    export.save(update_fields=["approver", "decided_at", "decision_note", "state"])
    audit.record(
        "export.refuse",
        actor=actor,
        obj=export,
        unit=export.unit,
        detail={"request": export.ref, "requester": export.requester.username},
    )
    return export


def _expire(export: ExportRequest) -> None:
    if export.stored:
        (folder() / export.stored).unlink(missing_ok=True)
    ExportRequest.objects.filter(pk=export.pk).update(state=ExportRequest.State.EXPIRED, stored="")


def export_download(*, actor, export: ExportRequest) -> tuple[bytes, str]:
    """The file, for its requester only (the caller fetched `export` through
    selectors.export_get). Every download is audited; an expired one answers 410."""
    if export.requester_id != actor.pk:
        raise PermissionDenied(_("只有申请人可以下载这份导出。"))
    if export.state == ExportRequest.State.PENDING:
        raise DomainError("pending", _("这份导出还在等待审批，审批通过后才能下载。"), status=409)
    if export.state == ExportRequest.State.REFUSED:
        raise DomainError("refused", _("这份导出申请已被拒绝，不能下载。"), status=409)
    if export.is_expired():
        _expire(export)
        raise DomainError(
            "expired",
            _("下载链接已过期（导出文件只保留 %(hours)d 小时）：如仍需要，请重新申请导出。")
            % {"hours": expiry().total_seconds() // 3600},
            status=410,
        )
    path = folder() / export.stored
    if not export.stored or not path.exists():
        _expire(export)
        raise DomainError("expired", _("导出文件已不存在：请重新申请导出。"), status=410)
    data = pii.decrypt_bytes(path.read_bytes(), FILE_AAD)
    with transaction.atomic():
        ExportRequest.objects.filter(pk=export.pk).update(downloads=F("downloads") + 1)
        audit.record(
            "export.download",
            actor=actor,
            obj=export,
            unit=export.unit,
            detail={
                "request": export.ref,
                "kind": export.kind,
                "rows": export.row_count,
                "masked": export.masked,
                "download": export.downloads + 1,
            },
        )
    export.downloads += 1
    return data, export.filename


def sweep_expired() -> int:
    """Delete the files of exports past their time (the worker runs this)."""
    done = 0
    for export in ExportRequest.objects.filter(
        state=ExportRequest.State.READY, expires_at__lte=timezone.now()
    ):
        _expire(export)
        done += 1
    return done
