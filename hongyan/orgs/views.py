"""The tree browser and the unit page. Thin: access → form → service → redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.vary import vary_on_headers

from hongyan.core.errors import DomainError
from hongyan.core.scope import can, scope

from . import selectors, services
from .forms import CadreForm, ChildUnitForm, PartyOrgForm
from .models import CHILD_CODE_DIGITS, CHILD_KINDS, OrgKind, Unit, UnitKind

TREE_SEARCH_LIMIT = 50  # orgs/_unit_rows.html says so when the list is cut here


@login_required
@vary_on_headers("HX-Request")  # the same URL answers a whole page or just the rows
def tree(request):
    query = request.GET.get("q", "").strip()
    if query:
        units = list(selectors.unit_search(request.user, query)[:TREE_SEARCH_LIMIT])
    else:
        units = selectors.unit_roots(request.user)
    counts = selectors.unit_child_counts(units)
    rows = [(u, counts.get(u.pk, 0)) for u in units]
    template = "orgs/_unit_rows.html" if request.headers.get("HX-Request") else "orgs/tree.html"
    return render(request, template, {"rows": rows, "query": query})


@login_required
def unit_detail(request, code):
    unit = selectors.unit_get(request.user, code)
    children = selectors.unit_children(request.user, unit)
    page = Paginator(children, 50).get_page(request.GET.get("page"))
    counts = selectors.unit_child_counts(page.object_list)
    has_compounds = unit.kind not in (UnitKind.GRID, UnitKind.BUILDING)
    coverage = selectors.coverage_of(unit) if has_compounds else None
    child_coverage = {}
    if has_compounds and unit.kind not in (UnitKind.COMPOUND, UnitKind.NATURAL_VILLAGE):
        child_coverage = {c.pk: cov for c, cov in selectors.coverage_by_child(unit)}
    plans = []
    if unit.kind in (UnitKind.COMMUNITY, UnitKind.COMPOUND):
        plans = selectors.compound_plans(unit)
    counts = selectors.party_org_counts(unit)
    context = {
        "unit": unit,
        "breadcrumbs": selectors.unit_breadcrumbs(request.user, unit),
        "page": page,
        "rows": [(c, counts.get(c.pk, 0), child_coverage.get(c.pk)) for c in page.object_list],
        "coverage": coverage,
        "orgs": selectors.party_orgs_on(request.user, unit),
        "org_counts": [(kind.label, counts[kind]) for kind in OrgKind if counts.get(kind)],
        "plans": plans,
        # a compound's own plan carries the count of full members living there
        "living_full_members": plans[0].full_members
        if unit.kind == UnitKind.COMPOUND and plans
        else None,
        "cadres": unit.cadres.all() if unit.kind == UnitKind.COMPOUND else [],
        "can_add_child": bool(set(CHILD_KINDS.get(unit.kind, ())) & set(CHILD_CODE_DIGITS))
        and can(request.user, "unit.create_child", unit.path),
        "can_manage_orgs": can(request.user, "org.manage", unit.path),
        "can_assign_cadre": unit.kind == UnitKind.COMPOUND
        and can(request.user, "cadre.assign", unit.path),
    }
    return render(request, "orgs/unit.html", context)


def _form_page(request, unit, form, title, service_call):
    """Render a small form for the unit; on a valid POST run the service and go back."""
    if request.method == "POST" and form.is_valid():
        try:
            service_call(form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已保存。"))
            return redirect(unit)
    return render(
        request,
        "orgs/form.html",
        {
            "unit": unit,
            "form": form,
            "title": title,
            "breadcrumbs": selectors.unit_breadcrumbs(request.user, unit),
        },
    )


@login_required
def unit_add_child(request, code):
    parent = selectors.unit_get(request.user, code, action="unit.create_child")
    form = ChildUnitForm(request.POST or None, parent=parent)
    return _form_page(
        request,
        parent,
        form,
        _("添加下级单位"),
        lambda data: services.unit_create_child(actor=request.user, parent=parent, **data),
    )


@login_required
def unit_add_org(request, code):
    unit = selectors.unit_get(request.user, code, action="org.manage")
    compounds = list(
        scope(Unit.objects.filter(kind=UnitKind.COMPOUND, path__under=unit.path), request.user)[
            :200
        ]
    )
    form = PartyOrgForm(request.POST or None, compounds=compounds)

    def create(data):
        codes = data.pop("covers", [])
        covers = [c for c in compounds if c.code in codes]
        return services.party_org_create(actor=request.user, unit=unit, covers=covers, **data)

    return _form_page(request, unit, form, _("成立党组织"), create)


@login_required
def unit_assign_cadre(request, code):
    compound = selectors.unit_get(request.user, code, action="cadre.assign")
    if compound.kind != UnitKind.COMPOUND:
        raise Http404(_("联系包保只针对小区。"))
    form = CadreForm(request.POST or None)
    return _form_page(
        request,
        compound,
        form,
        _("安排干部联系包保"),
        lambda data: services.cadre_assign(actor=request.user, compound=compound, **data),
    )
