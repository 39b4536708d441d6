"""The care pages: the visitor's phone list (overdue first, today, the next week), the
registry with its filters, a recipient's page with their visits, the quick visit log and
"turn a finding into a need". Thin: access → form → service → redirect; a service's
refusal (422 naming a field, 409, 403) comes back on the form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hongyan.core.errors import DomainError
from hongyan.core.forms import RevealForm
from hongyan.core.models import Grant
from hongyan.core.ratelimit import rate_limit
from hongyan.core.roles import roles_for
from hongyan.core.scope import visible_paths
from hongyan.core.stepup import has_fresh_step_up, step_up_url
from hongyan.orgs.models import PLACE_KINDS, Unit

from . import selectors, services
from .forms import (
    GroupForm,
    ListFilterForm,
    RaiseNeedForm,
    RecipientForm,
    VisitForm,
)
from .models import FINDING_CATEGORY, CareRecipient
from .services import today

PAGE_SIZE = 30
CHOICES_MAX = 300


def _put_error(form, exc: DomainError) -> None:
    field = exc.field
    if field in ("visitor_user", "visitor_post", "visitor_team"):
        field = "visitor"
    form.add_error(field if field in form.fields else None, exc.message)


def _under(paths, lookup="path__under") -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{lookup: p})
    return q


def _edit_units(user, current: Unit | None = None) -> list[Unit]:
    """The places the user may register people at, labelled with their compound."""
    paths = visible_paths(user, "care.edit")
    units = list(
        Unit.objects.filter(_under(paths), kind__in=PLACE_KINDS)
        .select_related("parent")
        .order_by("path")[:CHOICES_MAX]
    )
    if current is not None and current not in units:
        units.insert(0, current)
    for u in units:
        u.label = (
            u.name if u.kind in ("compound", "natural_village") else f"{u.parent.name} · {u.name}"
        )
    return units


def _visitor_choices(user) -> list[tuple[str, str]]:
    from hongyan.members.models import CommunityPost
    from hongyan.volunteers.models import Team

    paths = visible_paths(user, "care.edit")
    choices = []
    accounts = (
        Grant.objects.filter(_under(paths, "unit__path__under"), role__in=roles_for("care.visit"))
        .select_related("user", "unit")
        .order_by("unit__path", "user__username")[:CHOICES_MAX]
    )
    seen = set()
    for g in accounts:
        if g.user_id not in seen:
            seen.add(g.user_id)
            label = g.user.display_name or g.user.username
            choices.append((f"user:{g.user_id}", f"{label}（{g.get_role_display()}）"))
    for post in (
        CommunityPost.objects.filter(_under(paths, "unit__path__under"))
        .select_related("member", "unit")
        .order_by("unit__path")[:CHOICES_MAX]
    ):
        where = " ".join(p for p in (post.unit.name, post.building, post.entrance) if p)
        choices.append(
            (f"post:{post.pk}", f"{post.get_kind_display()} {post.member.name}（{where}）")
        )
    for team in Team.objects.filter(_under(paths, "unit__path__under")).order_by("name")[
        :CHOICES_MAX
    ]:
        choices.append((f"team:{team.pk}", f"{_('志愿服务队')} {team.name}"))
    return choices


def _visitor_value(r: CareRecipient) -> str:
    for kind in ("user", "post", "team"):
        pk = getattr(r, f"visitor_{kind}_id")
        if pk:
            return f"{kind}:{pk}"
    return ""


def _visitor_objects(value: str) -> dict:
    from hongyan.core.models import User
    from hongyan.members.models import CommunityPost
    from hongyan.volunteers.models import Team

    kind, _sep, pk = (value or "").partition(":")
    models = {"user": User, "post": CommunityPost, "team": Team}
    out = {"visitor_user": None, "visitor_post": None, "visitor_team": None}
    if kind in models and pk.isdigit():
        out[f"visitor_{kind}"] = models[kind].objects.filter(pk=int(pk)).first()
    return out


def _need_care(user):
    if not selectors.may_use_care(user):
        raise PermissionDenied(_("您的角色不能使用关爱走访。"))


# --- the phone list -----------------------------------------------------------------------


@login_required
def visits(request):
    """今日走访: who the visitor should see, overdue first."""
    user = request.user
    _need_care(user)
    has_area = bool(visible_paths(user, "care.view"))
    tab = request.GET.get("tab", "mine")
    if tab not in ("mine", "area") or not has_area:
        tab = "mine"
    due = selectors.due_list(user, mine=tab == "mine")
    return render(
        request,
        "care/visits.html",
        {
            "due": due,
            "tab": tab,
            "has_area": has_area,
            "today": today(),
            "reminders": selectors.reminders_for(user, area=tab == "area"),
            "can_register": bool(visible_paths(user, "care.edit")),
        },
    )


# --- the registry -------------------------------------------------------------------------


@login_required
def recipient_list(request):
    user = request.user
    _need_care(user)
    groups = list(selectors.groups())
    form = ListFilterForm(request.GET or None, groups=groups)
    data = form.cleaned_data if form.is_valid() else {}
    unit = None
    if request.GET.get("unit"):
        from hongyan.orgs.selectors import unit_get

        unit = unit_get(user, request.GET["unit"])
    rows = selectors.recipient_list(
        user,
        unit=unit,
        group=data.get("group", ""),
        status=data.get("status", ""),
        q=data.get("q", ""),
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in request.GET.items() if k != "page" and v})
    return render(
        request,
        "care/list.html",
        {
            "form": form,
            "page": page,
            "unit": unit,
            "query": query,
            "today": today(),
            "can_register": bool(visible_paths(user, "care.edit")),
            "may_groups": bool(visible_paths(user, "care.groups")),
        },
    )


def _form_data(form) -> dict:
    data = dict(form.cleaned_data)
    data["unit"] = Unit.objects.filter(code=data.get("unit") or "").first()
    from .models import CareGroup

    data["group"] = CareGroup.objects.filter(code=data.get("group") or "").first()
    data.update(_visitor_objects(data.pop("visitor", "")))
    return data


@login_required
def recipient_new(request):
    user = request.user
    if not visible_paths(user, "care.edit"):
        raise PermissionDenied(_("您的角色不能登记关爱对象。"))
    form = RecipientForm(
        request.POST or None,
        initial={"unit": request.GET.get("unit", "")},
        units=_edit_units(user),
        groups=selectors.groups(),
        visitors=_visitor_choices(user),
    )
    if request.method == "POST" and form.is_valid():
        data = _form_data(form)
        if data["unit"] is None or not any(
            data["unit"].path.startswith(p) for p in visible_paths(user, "care.edit")
        ):
            form.add_error("unit", _("请选择小区、自然村、网格或楼栋。"))
        else:
            try:
                r = services.recipient_create(actor=user, **data)
            except DomainError as exc:
                _put_error(form, exc)
            else:
                messages.success(request, _("已登记 %(name)s。") % {"name": r.name})
                return redirect(r)
    return render(
        request,
        "care/form.html",
        {"form": form, "title": _("登记关爱对象")},
        status=422 if form.errors else 200,
    )


@login_required
def recipient_edit(request, pk):
    user = request.user
    r = selectors.recipient_access(user, pk, "edit")
    initial = {
        "unit": r.unit.code,
        "group": r.group.code,
        "name": r.name,
        "gender": r.gender,
        "birth_date": r.birth_date,
        "address": r.address,
        "household": r.household,
        "interval_days": r.interval_days,
        "visitor": _visitor_value(r),
        "guardian_name": r.guardian_name,
        "guardian_relation": r.guardian_relation,
        "consent_on": r.consent_on,
        "consent_method": r.consent_method,
    }
    form = RecipientForm(
        request.POST or None,
        initial=initial,
        units=_edit_units(user, r.unit),
        groups=selectors.groups(),
        visitors=_visitor_choices(user),
    )
    if request.method == "POST" and form.is_valid():
        data = _form_data(form)
        if data["unit"] is None or not any(
            data["unit"].path.startswith(p) for p in visible_paths(user, "care.edit")
        ):
            form.add_error("unit", _("请选择小区、自然村、网格或楼栋。"))
        else:
            try:
                services.recipient_update(actor=user, recipient=r, **data)
            except DomainError as exc:
                _put_error(form, exc)
            else:
                messages.success(request, _("已保存。"))
                return redirect(r)
    return render(
        request,
        "care/form.html",
        {"form": form, "title": _("修改关爱对象"), "recipient": r},
        status=422 if form.errors else 200,
    )


def _detail(request, r, *, reveal_form=None, revealed=None):
    user = request.user
    day = today()
    if r.is_minor(day):
        services.minor_read(actor=user, recipient=r, how="page")
    may_reveal = selectors.may(user, r, "reveal")
    response = render(
        request,
        "care/detail.html",
        {
            "r": r,
            "today": day,
            "minor": r.is_minor(day),
            "visits": r.visits.select_related("need")[:30],
            "may_visit": selectors.may(user, r, "visit"),
            "may_edit": selectors.may(user, r, "edit"),
            "reveal_form": (reveal_form or _reveal_form()) if may_reveal else None,
            "revealed": revealed,
        },
    )
    if revealed:
        response["Cache-Control"] = "no-store"
    return response


@login_required
def recipient_detail(request, pk):
    return _detail(request, selectors.recipient_access(request.user, pk))


def _reveal_form(data=None) -> RevealForm:
    return RevealForm(data, example=_("核对高龄补贴"))


@login_required
@rate_limit(("reveal_user", "user"))
def recipient_reveal(request, pk):
    """POST reveals one value once (a reason, a fresh TOTP step-up, audited)."""
    r = selectors.recipient_access(request.user, pk, "reveal")
    form = _reveal_form(request.POST or None)
    revealed = None
    if request.method == "POST" and form.is_valid():
        if not has_fresh_step_up(request):  # a fresh TOTP first (core.stepup)
            return redirect(step_up_url(request.path))
        try:
            value = services.recipient_reveal(actor=request.user, recipient=r, **form.cleaned_data)
        except DomainError as exc:
            _put_error(form, exc)
        else:
            revealed = {"field": form.cleaned_data["field"], "value": value}
    return _detail(request, r, reveal_form=form, revealed=revealed)


# --- visits -------------------------------------------------------------------------------


@login_required
def visit_new(request, pk):
    user = request.user
    r = selectors.recipient_access(user, pk, "visit")
    form = VisitForm(request.POST or None, initial={"visited_on": today(), "seen": "1"})
    if request.method == "POST" and form.is_valid():
        try:
            visit = services.visit_log(actor=user, recipient=r, **form.cleaned_data)
        except DomainError as exc:
            _put_error(form, exc)
        else:
            messages.success(request, _("已登记对 %(name)s 的走访。") % {"name": r.name})
            if visit.finding_kind:
                return redirect(visit)
            return redirect("care:visits")
    return render(
        request,
        "care/visit_form.html",
        {"form": form, "r": r, "minor": r.is_minor(today())},
        status=422 if form.errors else 200,
    )


def _raise_form(visit, data=None):
    from hongyan.needs.selectors import categories_for

    categories = categories_for(visit.recipient.unit)
    initial = {
        "category": FINDING_CATEGORY.get(visit.finding_kind, "elderly_disabled"),
        "text": visit.findings or visit.note,
    }
    return RaiseNeedForm(data, initial=initial, categories=categories)


@login_required
def visit_detail(request, pk):
    user = request.user
    visit = selectors.visit_access(user, pk)
    may_raise = not visit.need_id and selectors.may(user, visit.recipient, "visit")
    return render(
        request,
        "care/visit.html",
        {
            "visit": visit,
            "r": visit.recipient,
            "minor": visit.recipient.is_minor(today()),
            "form": _raise_form(visit) if may_raise else None,
        },
    )


@login_required
@require_POST
def visit_need(request, pk):
    user = request.user
    visit = selectors.visit_access(user, pk, "visit")
    form = _raise_form(visit, request.POST)
    status = 422
    if form.is_valid():
        try:
            need = services.visit_raise_need(actor=user, visit=visit, **form.cleaned_data)
        except DomainError as exc:
            _put_error(form, exc)
            status = exc.status
        else:
            messages.success(
                request, _("已转为居民需求 %(ref)s，社区会按时限办理。") % {"ref": need.reference}
            )
            return redirect(visit)
    return render(
        request,
        "care/visit.html",
        {
            "visit": visit,
            "r": visit.recipient,
            "minor": visit.recipient.is_minor(today()),
            "form": form,
        },
        status=status,
    )


# --- the groups (city admins) ------------------------------------------------------------


@login_required
def groups(request):
    """The care groups with their default visit frequency, each row its own form; a
    POST saves one group (`group_save`: its members without their own frequency move)."""
    user = request.user
    if not visible_paths(user, "care.groups"):
        raise PermissionDenied(_("只有市级管理员可以修改关爱群体。"))
    rows = list(selectors.groups(active_only=False))
    bound = None
    if request.method == "POST":
        code = request.POST.get("code", "")
        bound = GroupForm(request.POST, auto_id=f"id_{code[:30]}_%s")
        group = next((g for g in rows if g.code == request.POST.get("code")), None)
        if group is None:
            bound.add_error(None, _("未知的关爱群体。"))
        elif bound.is_valid():
            try:
                services.group_save(
                    actor=user,
                    group=group,
                    interval_days=bound.cleaned_data["interval_days"],
                    active=bound.cleaned_data["active"],
                )
            except DomainError as exc:
                _put_error(bound, exc)
            else:
                messages.success(
                    request,
                    _("已保存 %(name)s：每 %(n)d 天走访一次。")
                    % {"name": group.name, "n": group.interval_days},
                )
                return redirect("care:groups")
    for g in rows:
        if bound is not None and request.POST.get("code") == g.code:
            g.form = bound
        else:
            g.form = GroupForm(
                initial={"code": g.code, "interval_days": g.interval_days, "active": g.active},
                auto_id=f"id_{g.code}_%s",
            )
    unplaced = bound is not None and all(g.form is not bound for g in rows)
    return render(
        request,
        "care/groups.html",
        {"rows": rows, "unplaced": bound if unplaced else None},
        status=422 if bound is not None and bound.errors else 200,
    )
