"""Export pages: my requests, requests waiting for my approval, one request (approve,
refuse, download), and `start()` — what a module's "导出 Excel" button calls."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from hongyan.core.errors import DomainError
from hongyan.core.ratelimit import rate_limit
from hongyan.core.scope import access, can, visible_paths
from hongyan.core.stepup import has_fresh_step_up, step_up_url
from hongyan.orgs.models import Unit

from . import kinds, selectors, services
from .forms import DecisionForm, ExportForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 30


def default_unit(user, action: str) -> Unit:
    """The unit an export covers when none was chosen: the user's one subtree."""
    roots = visible_paths(user, action)
    if len(roots) != 1:
        raise DomainError(
            "unit_required",
            _("您管辖多个单位：请先选择要导出的单位。"),
            status=422,
            field="unit",
        )
    return Unit.objects.get(path=roots[0])


def file_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response


def start(request, *, kind: str, unit: Unit | None, filters: dict, fallback: str):
    """Request an export from a module's page: a small masked one downloads at once
    (through the same request, watermark and audit); otherwise the request waits for
    approval and the user lands on its page."""
    user = request.user
    try:
        spec = kinds.get(kind)
        unit = unit or default_unit(user, spec.action)
        export = services.export_request(actor=user, kind=kind, unit=unit, filters=filters)
        if export.state == export.State.READY:
            data, filename = services.export_download(actor=user, export=export)
            return file_response(data, filename)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(fallback)
    messages.info(
        request,
        _("共 %(rows)d 行，超过了 %(limit)d 行，需要一位有审批权限的同事批准后才能下载。")
        % {"rows": export.row_count, "limit": services.approval_rows()},
    )
    return redirect("exports:detail", export_id=export.pk)


@login_required
def export_list(request):
    user = request.user
    if not (visible_paths(user, "member.export") or visible_paths(user, "export.approve")):
        raise PermissionDenied(_("您的角色不能导出数据。"))
    page = Paginator(selectors.export_list_mine(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "exports/list.html",
        {
            "page": page,
            "waiting": selectors.export_list_to_approve(user).count(),
            "can_request": bool(visible_paths(user, "member.export")),
            "limit": services.approval_rows(),
            "hours": int(services.expiry().total_seconds() // 3600),
        },
    )


@login_required
def export_approvals(request):
    user = request.user
    if not visible_paths(user, "export.approve"):
        raise PermissionDenied(_("您的角色不能审批导出申请。"))
    rows = selectors.export_list_to_approve(user).order_by("created_at", "pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "exports/approvals.html", {"page": page})


def _targets(user, action: str):
    units = Unit.objects.filter(path__in=visible_paths(user, action)).order_by("path")
    return [(u.code, u.name) for u in units]


@login_required
@rate_limit(("export_user", "user"))
def export_new(request):
    """The form for an export that a button does not offer: an unmasked copy (with its
    reason), or a unit chosen by hand."""
    user = request.user
    if not visible_paths(user, "member.export"):
        raise PermissionDenied(_("您的角色不能导出数据。"))
    form = ExportForm(request.POST or None, units=_targets(user, "member.export"))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = access(Unit.objects, user, action="member.export", code=data["unit"])
        if not data["masked"] and not has_fresh_step_up(request):
            # full personal data leaves only after a fresh TOTP (core.stepup)
            messages.info(request, _("导出完整的个人信息前，请先验证动态口令，然后重新提交。"))
            return redirect(step_up_url(request.path))
        try:
            export = services.export_request(
                actor=user,
                kind="members",
                unit=unit,
                filters={},
                masked=data["masked"],
                reason=data["reason"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if export.state == export.State.READY:
                messages.success(request, _("导出文件已生成，可以下载。"))
            else:
                messages.info(request, _("已提交，等待有审批权限的同事批准。"))
            return redirect("exports:detail", export_id=export.pk)
    return render(request, "exports/new.html", {"form": form})


@login_required
def export_detail(request, export_id):
    """One request; an approver decides on it here (POST decision=approve|refuse)."""
    user = request.user
    export = selectors.export_get(user, export_id)
    if request.method == "POST":
        return _decide(request, export)
    decide = (
        export.state == export.State.PENDING
        and export.requester_id != user.pk
        and can(user, "export.approve", export.unit.path)
    )
    return render(
        request,
        "exports/detail.html",
        {
            "export": export,
            "mine": export.requester_id == user.pk,
            "expired": export.is_expired(),
            "form": DecisionForm() if decide else None,
        },
    )


def _decide(request, export):
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择批准或拒绝。"))
        return redirect("exports:detail", export_id=export.pk)
    decision, note = form.cleaned_data["decision"], form.cleaned_data["note"]
    try:
        if decision == "approve":
            services.export_approve(actor=request.user, export=export, note=note)
            messages.success(request, _("已批准，导出文件已生成，申请人可以下载。"))
        else:
            services.export_refuse(actor=request.user, export=export, note=note)
            messages.success(request, _("已拒绝这份导出申请。"))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("exports:detail", export_id=export.pk)
    return redirect(reverse("exports:approvals"))


@login_required
def export_download(request, export_id):
    user = request.user
    export = selectors.export_get(user, export_id)
    try:
        data, filename = services.export_download(actor=user, export=export)
    except DomainError as exc:
        return render(
            request,
            "exports/gone.html",
            {"export": export, "message": exc.message},
            status=exc.status,
        )
    return file_response(data, filename)
