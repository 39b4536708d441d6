"""Signing in and out, changing the password, and each role's home page."""

import csv
import json
from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hongyan.core.spreadsheet import formula_safe
from hongyan.orgs import selectors as org_selectors
from hongyan.orgs.models import UnitKind

from . import audit, services
from .account_views import complete_login, start_second_factor
from .errors import DomainError
from .forms import LoginForm, PasswordChangeForm
from .ratelimit import rate_limit
from .scope import visible_paths


@rate_limit(("login_user_ip", "username_ip"), ("login_ip", "ip"))
def login_view(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = ""
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login_check(**form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if services.second_factor_required(user):
                return start_second_factor(request, user, next_url)
            complete_login(request, user, second_factor=False)
            return redirect(next_url or "core:home")
    return render(request, "core/login.html", {"form": form, "next": next_url})


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        services.logout_record(actor=request.user)
    logout(request)
    return redirect("core:login")


@login_required
def password_change_view(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                actor=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except DomainError as exc:
            form.add_error(exc.field, exc.message)
        except ValidationError as exc:
            form.add_error("new_password", exc)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, _("密码已修改。"))
            return redirect("core:home")
    return render(request, "core/password_change.html", {"form": form})


HOME_KINDS = (UnitKind.COMPOUND, UnitKind.BUILDING)


@login_required
def home(request):
    """The figures of each unit the user holds a grant on; the three administrators (who
    see no figures) get their tools instead."""
    if services.second_factor_required(request.user):
        return render(request, "core/admin_home.html")
    cards = []
    units = org_selectors.unit_roots(request.user)
    child_counts = org_selectors.unit_child_counts(units)
    for unit in units:
        breadcrumbs = org_selectors.unit_breadcrumbs(request.user, unit)
        card = {
            "unit": unit,
            "roles": sorted(
                {g.get_role_display() for g in request.user.grants.all() if g.unit_id == unit.pk}
            ),
            "coverage": org_selectors.coverage_of(unit),
            "org_counts": org_selectors.party_org_counts(unit),
            "orgs": list(org_selectors.party_orgs_on(request.user, unit)[:5]),
            # for the page: where the unit sits, and how many units are under it
            "breadcrumbs": breadcrumbs,
            "children": child_counts.get(unit.pk, 0),
            "is_home": unit.kind in HOME_KINDS,
        }
        if card["is_home"]:
            compound = next(
                (u for u, _may_open in breadcrumbs if u.kind == UnitKind.COMPOUND), None
            )
            card["compound"] = compound
            card["serving_orgs"] = org_selectors.orgs_serving_home(request.user, compound)
        cards.append(card)
    return render(request, "core/home.html", {"cards": cards})


class AuditSearchForm(forms.Form):
    actor = forms.CharField(label=_("操作人"), required=False, max_length=150)
    unit = forms.CharField(label=_("单位代码"), required=False, max_length=24)
    action = forms.CharField(label=_("操作"), required=False, max_length=60)
    object_type = forms.CharField(label=_("对象类型"), required=False, max_length=60)
    object_id = forms.CharField(label=_("对象编号"), required=False, max_length=60)
    since = forms.DateField(label=_("起始日期"), required=False)
    until = forms.DateField(label=_("截止日期（含）"), required=False)


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min)) if day else None


def _audit_filters(form) -> dict:
    if not form.is_valid():
        return {}
    data = form.cleaned_data
    filters = {k: data[k].strip() for k in ("actor", "unit", "action", "object_type", "object_id")}
    filters["since"] = _day_start(data["since"])
    filters["until"] = _day_start(data["until"] + timedelta(days=1)) if data["until"] else None
    return filters


@login_required
def audit_log(request):
    """The audit log, searchable by actor, unit, action, object and dates; 50 a page."""
    if not audit.may_view(request.user):
        raise PermissionDenied(_("只有市级管理员可以查阅审计日志。"))
    form = AuditSearchForm(request.GET or None)
    page = Paginator(audit.search(**_audit_filters(form)), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/audit_log.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "may_export": bool(visible_paths(request.user, "audit.export")),
        },
    )


AUDIT_EXPORT_MAX = 100_000


@login_required
def audit_export(request):
    """The audit admin's CSV of the rows matching the search (newest first, at most
    100,000); the export is itself an audit row."""
    if not visible_paths(request.user, "audit.export"):
        raise PermissionDenied(_("只有审计管理员可以导出审计日志。"))
    form = AuditSearchForm(request.GET or None)
    filters = _audit_filters(form)
    rows = audit.search(**filters)[:AUDIT_EXPORT_MAX]
    audit.record(
        "audit.export",
        actor=request.user,
        detail={k: str(v) for k, v in filters.items() if v},
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM
    writer = csv.writer(response)
    writer.writerow(["seq", "at", "actor", "unit", "ip", "action", "object", "result", "detail"])
    for row in rows.iterator():
        writer.writerow(
            formula_safe(cell)
            for cell in [
                row.seq,
                timezone.localtime(row.at).isoformat(),
                row.actor_name,
                row.unit_code,
                row.ip or "",
                row.action,
                f"{row.object_type}#{row.object_id}" if row.object_id else row.object_type,
                row.result,
                json.dumps(row.detail, ensure_ascii=False),
            ]
        )
    return response
