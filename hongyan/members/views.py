"""The member register's pages. Thin: access → form → service → redirect/render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from hongyan.core.errors import DomainError
from hongyan.core.forms import RevealForm
from hongyan.core.ratelimit import rate_limit
from hongyan.core.scope import access, can, scope, visible_paths
from hongyan.core.stepup import has_fresh_step_up, step_up_url
from hongyan.orgs.models import Unit, UnitKind

from . import excel, importer, imports, selectors, services
from .forms import (
    ImportForm,
    MemberForm,
    PairingForm,
    PostForm,
    RemoveForm,
    TransferForm,
)
from .models import (
    Category,
    DualRegistration,
    ImportBatch,
    Member,
    Plate,
    PostKind,
    Status,
)

PAGE_SIZE = 50


def _require_register(user):
    if not selectors.may_view_members(user):
        raise PermissionDenied(_("您的角色不能查看党员名册。"))


def _can_anywhere(user, action: str) -> bool:
    return bool(visible_paths(user, action))


def _sensitive(q: str) -> bool:
    """A search for an ID number or a mobile (7 digits or more): never put in a URL,
    where access logs and browser histories would keep it."""
    return sum(ch.isdigit() for ch in q) >= 7


@login_required
@rate_limit(
    ("search_user", "user"),
    methods=("GET", "POST"),
    when=lambda r: bool(r.GET.get("q") or r.POST.get("q")),
)
def member_list(request):
    """The register. The search form posts (so a typed ID number stays out of the URL);
    a search without one moves to its bookmarkable GET address."""
    user = request.user
    _require_register(user)
    params = request.POST if request.method == "POST" else request.GET
    htmx = bool(request.headers.get("HX-Request"))
    unit = (
        access(Unit.objects, user, action="member.view", code=params["unit"])
        if params.get("unit")
        else None
    )
    filters = {
        "q": params.get("q", "").strip()[:100],
        "specialty": params.get("specialty", ""),
        "status": params.get("status", "") if params.get("status") in Status.values else "",
        "category": params.get("category", "") if params.get("category") in Category.values else "",
        "plate": params.get("plate", "") if params.get("plate") in Plate.values else "",
    }
    sensitive = _sensitive(filters["q"])
    query = QueryDict(mutable=True)
    for key, value in {"unit": unit.code if unit else "", **filters}.items():
        if value and not (key == "q" and sensitive):
            query[key] = value
    querystring = query.urlencode()
    address = f"{reverse('members:list')}{'?' if querystring else ''}{querystring}"
    if request.method == "POST" and not htmx and not sensitive:
        return redirect(address)
    members = selectors.member_list(user, unit=unit, **filters)
    page = Paginator(members, PAGE_SIZE).get_page(params.get("page"))
    context = {
        "page": page,
        "unit": unit,
        "filters": filters,
        "querystring": querystring,
        "sensitive": sensitive,
        "specialties": selectors.specialty_list(),
        "statuses": Status.choices,
        "categories": Category.choices,
        "plates": [p for p in Plate.choices if p[0]],
        "filtered": any(filters.values()) or unit is not None,
        "can_edit": _can_anywhere(user, "member.edit"),
        "can_import": _can_anywhere(user, "member.import"),
        "can_export": _can_anywhere(user, "member.export"),
    }
    template = "members/_rows.html" if htmx else "members/list.html"
    response = render(request, template, context)
    if request.method == "POST":
        response["HX-Push-Url"] = address  # the address bar shows the search, minus numbers
        response["Cache-Control"] = "no-store"
    return response


def _detail_context(request, member, **extra):
    registration = DualRegistration.objects.filter(member=member).first()
    return {
        "member": member,
        "registration": registration,
        "can_register": registration is None
        and member.status == Status.IN_SERVICE
        and can(request.user, "dual.manage", member.unit.path),
        "posts": member.posts.select_related("unit"),
        "can_edit": can(request.user, "member.edit", member.unit.path),
        "can_reveal": can(request.user, "member.reveal", member.unit.path),
        "reveal_form": extra.pop("reveal_form", None) or _reveal_form(),
        **extra,
    }


@login_required
def member_detail(request, member_id):
    member = selectors.member_get(request.user, member_id)
    return render(request, "members/detail.html", _detail_context(request, member))


def _reveal_form(data=None) -> RevealForm:
    return RevealForm(data, example=_("核对组织关系转接材料"))


@login_required
@rate_limit(("reveal_user", "user"))
def member_reveal(request, member_id):
    """GET shows the member page with the reveal form; POST reveals one value once."""
    member = selectors.member_get(request.user, member_id, action="member.reveal")
    form = _reveal_form(request.POST or None)
    revealed = None
    if request.method == "POST" and form.is_valid():
        if not has_fresh_step_up(request):  # a fresh TOTP first (core.stepup)
            return redirect(step_up_url(request.path))
        try:
            value = services.member_reveal(actor=request.user, member=member, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            revealed = {"field": form.cleaned_data["field"], "value": value}
    response = render(
        request,
        "members/detail.html",
        _detail_context(request, member, reveal_form=form, revealed=revealed),
    )
    response["Cache-Control"] = "no-store"
    return response


def _homes(user, extra: Unit | None = None) -> list[tuple[Unit, str]]:
    compounds = scope(
        Unit.objects.filter(kind__in=selectors.COMPOUND_KINDS), user, action="member.edit"
    ).select_related("parent")[:2000]
    homes = [(u, f"{u.parent.short_name} › {u.name}") for u in compounds]
    if extra is not None and all(u.pk != extra.pk for u, _label in homes):
        homes.insert(0, (extra, extra.name))
    return homes


def _home_from_code(user, code: str) -> Unit:
    return access(Unit.objects, user, action="member.edit", code=code)


def _apply_errors(form, exc: DomainError):
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@login_required
def member_create(request):
    user = request.user
    if not _can_anywhere(user, "member.edit"):
        raise PermissionDenied(_("您的角色不能登记党员。"))
    initial = {"category": Category.FULL, "status": Status.IN_SERVICE, "ethnicity": "汉族"}
    if request.GET.get("unit"):
        unit = access(Unit.objects, user, action="member.edit", code=request.GET["unit"])
        if unit.kind in selectors.COMPOUND_KINDS:
            initial["unit"] = unit.code
    form = MemberForm(request.POST or None, homes=_homes(user), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        unit = _home_from_code(user, data.pop("unit"))
        try:
            member = services.member_create(actor=user, unit=unit, **data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已登记党员 %(name)s。") % {"name": member.name})
            return redirect(member)
    return render(request, "members/form.html", {"form": form, "title": _("登记党员")})


@login_required
def member_edit(request, member_id):
    user = request.user
    member = selectors.member_get(user, member_id, action="member.edit")
    initial = {
        field: getattr(member, field)
        for field in services.PLAIN_FIELDS
        if field not in ("birth_date", "joined_on")
    }
    initial.update(
        unit=member.compound.code if member.unit.kind == UnitKind.BUILDING else member.unit.code,
        birth_date=member.birth_date.isoformat() if member.birth_date else "",
        joined_on=member.joined_on.isoformat() if member.joined_on else "",
        specialties=[s.name for s in member.specialties.all()],
    )
    form = MemberForm(
        request.POST or None, homes=_homes(user, extra=member.unit), initial=initial, editing=True
    )
    # personal data is never put into the page unmasked: blank keeps the stored value
    form.fields["id_number"].widget.attrs["placeholder"] = member.id_number_masked
    form.fields["mobile"].widget.attrs["placeholder"] = member.mobile_masked
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        code = data.pop("unit")
        unit = member.unit if code == member.unit.code else _home_from_code(user, code)
        if unit.pk == member.compound_id and member.unit.kind == UnitKind.BUILDING:
            unit = member.unit  # the compound stands for the building already recorded
        for optional in ("id_number", "gender", "mobile"):
            if not data.get(optional):
                data.pop(optional, None)
        try:
            services.member_update(actor=user, member=member, unit=unit, **data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect(member)
    return render(
        request,
        "members/form.html",
        {"form": form, "title": _("修改党员信息"), "member": member},
    )


# --- moving and removing ------------------------------------------------------------------


@login_required
def member_transfer(request, member_id):
    """Move a member's home to another compound in the user's scope."""
    user = request.user
    member = selectors.member_get(user, member_id, action="member.edit")
    homes = [(u, label) for u, label in _homes(user) if u.pk != member.compound_id]
    form = TransferForm(request.POST or None, homes=homes)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        unit = _home_from_code(user, data.pop("unit"))
        try:
            services.member_transfer(actor=user, member=member, unit=unit, **data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("已将 %(name)s 迁至%(place)s。") % {"name": member.name, "place": unit.name},
            )
            return redirect(member)
    return render(
        request,
        "members/form.html",
        {
            "form": form,
            "member": member,
            "title": _("迁居（转到另一个小区）"),
            "intro": _(
                "迁到另一个小区后，此人在原小区担任的楼栋长等职务随之结束；"
                "迁往其他社区时，双报到需向新社区重新办理。"
            ),
        },
    )


@login_required
def member_remove(request, member_id):
    """Take a member off the register (转出, 去世, other), with the reason."""
    user = request.user
    member = selectors.member_get(user, member_id, action="member.edit")
    form = RemoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_remove(actor=user, member=member, **form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已将 %(name)s 移出名册。") % {"name": member.name})
            return redirect(f"{reverse('members:list')}?unit={member.compound.code}")
    return render(
        request,
        "members/form.html",
        {
            "form": form,
            "member": member,
            "title": _("移出名册"),
            "intro": _(
                "移出后，名册、统计和查找中都不再有此人；记录本身保留，供审计查阅。"
                "此人在社区担任的职务和双报到随之结束。"
            ),
            "danger": True,
        },
    )


# --- import and export ------------------------------------------------------------------


def _import_targets(user) -> list[tuple[Unit, str]]:
    units = scope(
        Unit.objects.filter(
            kind__in=(UnitKind.COMMUNITY, UnitKind.VILLAGE, *selectors.COMPOUND_KINDS)
        ),
        user,
        action="member.import",
    ).select_related("parent")[:3000]
    return [
        (u, f"{u.parent.short_name} › {u.short_name}" if u.parent_id else u.short_name)
        for u in units
    ]


def _batch(user, batch_id) -> ImportBatch:
    """A batch the user uploaded, in a unit they may still import into."""
    try:
        pk = int(batch_id)
    except (TypeError, ValueError):
        raise Http404(_("没有找到这次导入。")) from None
    return access(ImportBatch.objects.filter(actor=user), user, action="member.import", pk=pk)


@login_required
def member_import(request):
    user = request.user
    if not _can_anywhere(user, "member.import"):
        raise PermissionDenied(_("您的角色不能导入党员名册。"))
    if request.GET.get("batch"):
        batch = _batch(user, request.GET["batch"])
        return render(request, "members/import_report.html", _job_context(batch))
    form = ImportForm(
        request.POST or None, request.FILES or None, communities=_import_targets(user)
    )
    if request.method == "POST" and form.is_valid():
        unit = access(Unit.objects, user, action="member.import", code=form.cleaned_data["unit"])
        upload = form.cleaned_data["file"]
        try:
            batch = imports.upload_start(actor=user, unit=unit, upload=upload)
        except importer.FileRefused as exc:
            form.add_error("file", str(exc))
        else:
            return redirect(f"{reverse('members:import')}?batch={batch.pk}")
    batches = ImportBatch.objects.filter(actor=user).select_related("unit")[:10]
    return render(
        request,
        "members/import.html",
        {"form": form, "batches": batches, "max_mb": importer.MAX_BYTES // 1024 // 1024},
    )


@login_required
def member_import_commit(request):
    user = request.user
    if request.method != "POST":
        return redirect("members:import")
    batch = _batch(user, request.POST.get("batch"))
    try:
        imports.commit_start(actor=user, batch=batch)
    except (importer.ImportRefused, importer.FileRefused) as exc:
        messages.error(request, str(exc))
    return redirect(f"{reverse('members:import')}?batch={batch.pk}")


def _job_context(batch) -> dict:
    return {"batch": batch, "job": imports.progress_of(batch) if batch.running else None}


@login_required
def member_import_progress(request):
    """The progress fragment a running import's page polls (htmx, every second); once
    the job has ended, the page reloads to show its report."""
    batch = _batch(request.user, request.GET.get("batch"))
    url = f"{reverse('members:import')}?batch={batch.pk}"
    if not batch.running:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    response = render(request, "members/_import_job.html", _job_context(batch))
    response["Cache-Control"] = "no-store"
    return response


@login_required
def member_import_report(request):
    batch = _batch(request.user, request.GET.get("batch"))
    response = HttpResponse(
        imports.report_xlsx(batch),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition_header(
        True, f"检查报告-{batch.filename}.xlsx"
    )
    return response


@login_required
def member_import_template(request):
    if not _can_anywhere(request.user, "member.import"):
        raise PermissionDenied(_("您的角色不能导入党员名册。"))
    response = HttpResponse(
        excel.template(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition_header(True, "党员花名册导入模板.xlsx")
    return response


@login_required
@rate_limit(("export_user", "user"), methods=("GET", "POST"))
def member_export(request):
    user = request.user
    if not _can_anywhere(user, "member.export"):
        raise PermissionDenied(_("您的角色不能导出党员名册。"))
    params = request.GET
    unit = (
        access(Unit.objects, user, action="member.export", code=params["unit"])
        if params.get("unit")
        else None
    )
    filters = {
        "q": params.get("q", ""),
        "specialty": params.get("specialty", ""),
        "status": params.get("status", "") if params.get("status") in Status.values else "",
        "category": params.get("category", "") if params.get("category") in Category.values else "",
        "plate": params.get("plate", "") if params.get("plate") in Plate.values else "",
    }
    # export control (hongyan/exports): small and masked → the file at once; bigger →
    # a request that waits for a second person's approval
    from hongyan.exports.views import start

    return start(request, kind="members", unit=unit, filters=filters, fallback="members:list")


# --- 三户四长 and 双报到 ---------------------------------------------------------------------


@login_required
def unit_network(request, code):
    """三户四长 for a compound (who covers which households); above a compound, the
    compounds to choose from."""
    user = request.user
    unit = access(Unit.objects.select_related("parent"), user, action="member.view", code=code)
    if unit.kind not in selectors.COMPOUND_KINDS:
        compounds = scope(
            Unit.objects.filter(kind__in=selectors.COMPOUND_KINDS, path__under=unit.path),
            user,
            action="member.view",
        ).select_related("parent")[:300]
        return render(request, "members/network.html", {"unit": unit, "compounds": compounds})
    can_assign = can(user, "member.roles", unit.path)
    form = None
    if can_assign:
        residents = list(
            Member.objects.filter(compound=unit).order_by("building", "entrance", "name")
        )
        places = [
            unit,
            *Unit.objects.filter(
                path__under=unit.path, kind__in=(UnitKind.GRID, UnitKind.BUILDING)
            ).order_by("path"),
        ]
        form = PostForm(
            request.POST or None, members=residents, units=places, kinds=PostKind.choices
        )
        if request.method == "POST" and form.is_valid():
            data = dict(form.cleaned_data)
            member_pk, place_code = data.pop("member"), data.pop("unit")
            member = next(m for m in residents if str(m.pk) == member_pk)
            place = next(u for u in places if u.code == place_code)
            try:
                services.post_assign(actor=user, member=member, unit=place, **data)
            except DomainError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("已保存。"))
                return redirect("members:network", code=unit.code)
    context = {"unit": unit, "network": selectors.compound_network(unit), "form": form}
    return render(request, "members/network.html", context)


@login_required
def dual(request):
    """双报到: figures per community, registrations waiting for confirmation, pairings —
    or, for a party member's own account, their own registration."""
    user = request.user
    own = Member.objects.filter(account=user).select_related("compound__parent").first()
    if not selectors.may_view_members(user):
        if not visible_paths(user, "dual.register_self"):
            raise PermissionDenied(_("您的角色不能查看双报到。"))
        return render(request, "members/dual_self.html", {"member": own})
    unit = (
        access(Unit.objects, user, action="member.view", code=request.GET["unit"])
        if request.GET.get("unit")
        else None
    )
    roots = (
        [unit] if unit else list(Unit.objects.filter(path__in=visible_paths(user, "member.view")))
    )
    figures = [row for root in roots for row in selectors.dual_figures(root)]
    community = unit if unit and unit.kind in (UnitKind.COMMUNITY, UnitKind.VILLAGE) else None
    pending = selectors.dual_registrations(user, community=community, pending=True)
    page = Paginator(pending.order_by("registered_at", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "unit": unit,
        "figures": figures[:500],
        "page": page,
        "community": community,
        "pairings": selectors.pairings(user, community) if community else [],
        "pairing_form": PairingForm()
        if community and can(user, "dual.manage", community.path)
        else None,
        "own": own,
    }
    return render(request, "members/dual.html", context)


@login_required
def dual_register(request):
    """POST: register a member (a worker, with member_id) or oneself (a member)."""
    if request.method != "POST":
        return redirect("members:dual")
    user = request.user
    if request.POST.get("member_id"):
        member = selectors.member_get(user, request.POST["member_id"], action="dual.manage")
    else:
        member = Member.objects.filter(account=user).select_related("compound__parent").first()
        if member is None:
            raise Http404(_("没有找到您的党员信息。"))
    try:
        services.dual_register(actor=user, member=member)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已报到，等待社区确认。"))
    return redirect(
        request.POST.get("next")
        if request.POST.get("next", "").startswith("/members/")
        else "members:dual"
    )


@login_required
def dual_confirm(request):
    if request.method != "POST":
        return redirect("members:dual")
    try:
        pk = int(request.POST.get("registration", ""))
    except ValueError:
        raise Http404(_("没有找到这条报到记录。")) from None
    registration = access(
        DualRegistration.objects.select_related("member", "community"),
        request.user,
        action="dual.manage",
        pk=pk,
    )
    try:
        services.dual_confirm(actor=request.user, registration=registration)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("已确认 %(name)s 的报到。") % {"name": registration.member.name}
        )
    return redirect(f"{reverse('members:dual')}?unit={registration.community.code}")


@login_required
def dual_pairing(request, code):
    community = access(Unit.objects, request.user, action="dual.manage", code=code)
    form = PairingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.pairing_create(actor=request.user, community=community, **form.cleaned_data)
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已登记单位报到。"))
            return redirect(f"{reverse('members:dual')}?unit={community.code}")
    return render(request, "members/pairing_form.html", {"form": form, "community": community})
