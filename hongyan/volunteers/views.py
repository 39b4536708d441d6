"""Volunteer pages: upcoming services, a service on a phone (sign up, check in and out;
the leader's list, entries afterwards and approval), teams, a person's record and
certificate, and the public certificate check. Thin: access → form → service → redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hongyan.core.errors import DomainError
from hongyan.core.ratelimit import RateLimited, client_ip, hit
from hongyan.core.scope import can, scope, visible_paths
from hongyan.orgs.models import COMMUNITY_KINDS, PLACE_KINDS, Unit, UnitKind
from hongyan.orgs.selectors import unit_get

from . import pdf, selectors, services
from .forms import (
    LeaderEntryForm,
    ServiceForm,
    TeamForm,
    TeamStatusForm,
    VolunteerForm,
    WithdrawForm,
)
from .models import Certificate


@login_required
def index(request):
    """Upcoming services in the user's area; one's own sign-ups first."""
    user = request.user
    unit = unit_get(user, request.GET["unit"]) if request.GET.get("unit") else None
    if unit is not None:  # the unit page's figures link here: this year's services there
        start, _end = selectors.period_bounds(None, None)
        services_qs = selectors.service_list(user, unit=unit).filter(
            starts_at__gte=selectors.aware(start)
        )
    else:
        services_qs = selectors.service_list(user, upcoming=True)
    page = Paginator(services_qs, 20).get_page(request.GET.get("page"))
    volunteer = services.volunteer_of(user)
    mine = []
    if volunteer is not None:
        mine = list(
            volunteer.participations.filter(cancelled_at=None, approved_at=None)
            .select_related("service")
            .order_by("service__starts_at")[:10]
        )
    return render(
        request,
        "volunteers/index.html",
        {
            "page": page,
            "unit": unit,
            "mine": mine,
            "volunteer": volunteer,
            "may_publish": bool(visible_paths(user, "volunteer.manage")),
        },
    )


@login_required
def service_new(request):
    user = request.user
    roots = visible_paths(user, "volunteer.manage")
    led = list(selectors.team_list(user).filter(leader__account=user))
    if not roots and not led:
        raise PermissionDenied(_("您的角色不能执行此操作。"))
    teams = list(selectors.team_list(user).filter(status="active"))
    teams = [t for t in teams if t in led or can(user, "volunteer.manage", t.unit.path)]
    unit_code = request.GET.get("unit") or request.POST.get("unit", "")
    unit = unit_get(user, unit_code) if unit_code else None
    if unit is None and roots:
        grant = user.grants.select_related("unit").order_by("-unit__depth").first()
        unit = grant.unit if grant else None
    form = ServiceForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        team = next((t for t in teams if t.pk == data["team"]), None)
        try:
            service = services.service_publish(
                actor=user,
                unit=team.unit if team else unit,
                team=team,
                title=data["title"],
                kind=data["kind"],
                place=data["place"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                capacity=data["capacity"],
                skill_ids=[s.pk for s in data["skills"]],
            )
        except DomainError as e:
            form.add_error(e.field if e.field in form.fields else None, e.message)
        else:
            messages.success(request, _("已发布。"))
            return redirect(service)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "volunteers/service_new.html", {"form": form, "unit": unit}, status=status
    )


def _service_context(request, service, entry_form=None):
    user = request.user
    volunteer = services.volunteer_of(user)
    mine = None
    if volunteer is not None:
        mine = service.participations.filter(volunteer=volunteer, cancelled_at=None).first()
    lead = services.may_lead(user, service)
    participants = list(selectors.participations(service)) if lead else []
    taken = service.participations.filter(cancelled_at=None).count()
    return {
        "service": service,
        "mine": mine,
        "lead": lead,
        "participants": participants,
        "taken": taken,
        "signups_open": services.signups_open(service),
        "entry_form": entry_form or LeaderEntryForm(participants=participants),
        "candidates": selectors.service_candidates(service, limit=5) if lead else [],
        "skills": [s.name for s in service.skills.all()],
    }


@login_required
def service_detail(request, pk):
    service = selectors.service_get(request.user, pk)
    return render(request, "volunteers/service.html", _service_context(request, service))


STEPS = {
    "signup": services.service_signup,
    "withdraw": services.service_withdraw,
    "checkin": services.service_checkin,
    "checkout": services.service_checkout,
    "approve": services.service_approve,
}


@login_required
@require_POST
def service_step(request, pk, step):
    if step not in STEPS:
        raise Http404
    user = request.user
    service = selectors.service_get(user, pk)
    kwargs = {}
    if step == "signup" and request.POST.get("volunteer"):  # the leader assigns
        found = selectors.volunteer_list(user).filter(pk=request.POST["volunteer"]).first()
        if found is None:
            raise Http404
        kwargs["volunteer"] = found
    try:
        result = STEPS[step](actor=user, service=service, **kwargs)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        done = {
            "signup": _("已报名。") if not kwargs else _("已指派。"),
            "withdraw": _("已取消报名。"),
            "checkin": _("已签到。"),
            "checkout": _("已签退，等待队长审核时长。"),
        }
        if step == "approve":
            messages.success(
                request,
                _("已审核 %(n)d 人，共 %(h)s 小时；此前已审核 %(a)d 人。")
                % {
                    "n": result["approved"],
                    "h": round(result["minutes"] / 60, 1),
                    "a": result["already"],
                },
            )
        else:
            messages.success(request, done[step])
    return redirect(service)


@login_required
@require_POST
def service_entry(request, pk):
    """The leader enters someone's check-in and check-out afterwards."""
    user = request.user
    service = selectors.service_get(user, pk)
    if not services.may_lead(user, service):
        raise PermissionDenied(_("只有队长或社区工作人员可以补录。"))
    participants = list(selectors.participations(service))
    form = LeaderEntryForm(request.POST, participants=participants)
    if form.is_valid():
        data = form.cleaned_data
        volunteer = next(p.volunteer for p in participants if p.volunteer_id == data["volunteer"])
        try:
            services.service_checkin(
                actor=user, service=service, volunteer=volunteer, at=data["checkin_at"]
            )
            services.service_checkout(
                actor=user, service=service, volunteer=volunteer, at=data["checkout_at"]
            )
        except DomainError as e:
            field = {"at": "checkout_at", "checkin_at": "checkin_at"}.get(e.field)
            form.add_error(field, e.message)
        else:
            messages.success(request, _("已补录（标记为队长补录）。"))
            return redirect(service)
    return render(
        request,
        "volunteers/service.html",
        _service_context(request, service, entry_form=form),
        status=422,
    )


@login_required
def team_list(request):
    unit = unit_get(request.user, request.GET["unit"]) if request.GET.get("unit") else None
    teams = selectors.team_list(request.user, unit=unit)
    page = Paginator(teams, 30).get_page(request.GET.get("page"))
    volunteer = services.volunteer_of(request.user)
    mine = set(volunteer.teams.values_list("pk", flat=True)) if volunteer else set()
    return render(
        request,
        "volunteers/teams.html",
        {
            "page": page,
            "mine": mine,
            "unit": unit,
            "may_manage": bool(visible_paths(request.user, "volunteer.manage")),
        },
    )


def _managed_unit(request):
    """The unit a staff page works on: ?unit=CODE, else the user's deepest grant."""
    user = request.user
    if not visible_paths(user, "volunteer.manage"):
        raise PermissionDenied(_("您的角色不能执行此操作。"))
    code = request.GET.get("unit") or request.POST.get("unit")
    if code:
        return unit_get(user, code)
    grant = user.grants.select_related("unit").order_by("-unit__depth").first()
    return grant.unit


@login_required
def team_new(request):
    user = request.user
    unit = _managed_unit(request)
    volunteers = list(selectors.volunteer_list(user, unit=unit).order_by("name", "pk")[:300])
    form = TeamForm(request.POST or None, volunteers=volunteers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        leader = next((v for v in volunteers if v.pk == data["leader"]), None)
        try:
            team = services.team_create(
                actor=user,
                unit=unit,
                name=data["name"],
                kind=data["kind"],
                leader=leader,
                skill_ids=[s.pk for s in data["skills"]],
                note=data["note"],
            )
        except DomainError as e:
            form.add_error(e.field if e.field in form.fields else None, e.message)
        else:
            messages.success(request, _("已组建 %(team)s。") % {"team": team.name})
            return redirect(team)
    status = 422 if request.method == "POST" else 200
    return render(request, "volunteers/team_new.html", {"form": form, "unit": unit}, status=status)


HOME_KINDS = COMMUNITY_KINDS + PLACE_KINDS
CHOICES_MAX = 300
MEMBERS_SHOWN = 20


def _home_units(unit: Unit) -> list[Unit]:
    """The homes a resident may be registered at: the unit and the places under it."""
    units = list(
        Unit.objects.filter(path__under=unit.path, kind__in=HOME_KINDS)
        .select_related("parent")
        .order_by("path")[:CHOICES_MAX]
    )
    for u in units:
        deep = u.kind in (UnitKind.GRID, UnitKind.BUILDING) and u.parent_id
        u.label = f"{u.parent.name} · {u.name}" if deep else u.name
    return units


def _register_members(user, unit: Unit, q: str, picked: str = "") -> list:
    """Party members of the register under the unit matching `q` (not yet volunteers),
    plus the one picked on the form, so that it stays a valid choice."""
    from hongyan.members.models import Member
    from hongyan.members.selectors import search_filter

    base = scope(Member.objects.all(), user, action="volunteer.manage").filter(
        unit__path__under=unit.path, volunteer__isnull=True
    )
    found = []
    if q.strip():
        match = base.filter(pk__in=Member.objects.filter(search_filter(q)).values("pk"))
        found = list(match.select_related("unit").order_by("name", "pk")[:MEMBERS_SHOWN])
    if picked.isdigit() and all(m.pk != int(picked) for m in found):
        found += list(base.filter(pk=int(picked)).select_related("unit"))
    return found


@login_required
def volunteer_new(request):
    """Staff register a volunteer: a party member found in the register by name, or a
    resident by name, mobile and home. The member search answers htmx with its list."""
    user = request.user
    unit = _managed_unit(request)
    q = (request.GET.get("q") or request.POST.get("q") or "").strip()[:40]
    members = _register_members(user, unit, q, request.POST.get("member", ""))
    units = _home_units(unit)
    form = VolunteerForm(request.POST or None, members=members, units=units)
    if request.headers.get("HX-Request") and request.method == "GET":
        return render(
            request, "volunteers/_member_choices.html", {"form": form, "q": q, "unit": unit}
        )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        member = next((m for m in members if m.pk == data["member"]), None)
        home = next((u for u in units if u.code == data["home"]), unit)
        try:
            volunteer = services.volunteer_register(
                actor=user,
                unit=unit if member else home,
                name=data["name"],
                member=member,
                mobile=data["mobile"],
                specialty_ids=[s.pk for s in data["specialties"]],
            )
        except DomainError as e:
            field = {"member_id": "member", "specialty_ids": "specialties", "unit": "home"}.get(
                e.field, e.field
            )
            form.add_error(field if field in form.fields else None, e.message)
        else:
            messages.success(request, _("已登记 %(name)s 为志愿者。") % {"name": volunteer.name})
            return redirect("volunteers:record", pk=volunteer.pk)
    return render(
        request,
        "volunteers/volunteer_new.html",
        {"form": form, "unit": unit, "q": q},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def team_status(request, pk):
    team = selectors.team_get(request.user, pk, action="volunteer.manage")
    form = TeamStatusForm(request.POST)
    if form.is_valid():
        services.team_set_status(actor=request.user, team=team, status=form.cleaned_data["status"])
        messages.success(request, _("已更新状态。"))
    return redirect(team)


@login_required
def team_detail(request, pk):
    team = selectors.team_get(request.user, pk)
    return render(
        request,
        "volunteers/team.html",
        {
            "team": team,
            "may_manage": can(request.user, "volunteer.manage", team.unit.path),
            "status_form": TeamStatusForm(initial={"status": team.status}),
            "members": team.memberships.select_related("volunteer").order_by("pk"),
            "totals": selectors.team_totals(team),
            "services": selectors.service_list(request.user, team=team).order_by("-starts_at")[:20],
        },
    )


@login_required
@require_POST
def team_join(request, pk):
    team = selectors.team_get(request.user, pk, action="volunteer.join")
    try:
        services.team_join(actor=request.user, team=team)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("已加入 %(team)s。") % {"team": team.name})
    return redirect(team)


@login_required
def my_record(request):
    volunteer = services.volunteer_of(request.user)
    if volunteer is None:
        return render(request, "volunteers/record.html", {"volunteer": None})
    return redirect("volunteers:record", pk=volunteer.pk)


def _record_context(request, volunteer, withdraw_form=None):
    user = request.user
    own = bool(volunteer.account_id) and volunteer.account_id == user.pk
    return {
        "volunteer": volunteer,
        "record": selectors.volunteer_record(volunteer),
        "certificates": volunteer.certificates.all()[:5],
        "own": own,
        "may_withdraw": volunteer.active
        and (own or can(user, "volunteer.manage", volunteer.unit.path)),
        "withdraw_form": withdraw_form or WithdrawForm(),
    }


@login_required
def record(request, pk):
    volunteer = selectors.volunteer_get(request.user, pk)
    return render(request, "volunteers/record.html", _record_context(request, volunteer))


@login_required
@require_POST
def volunteer_withdraw(request, pk):
    """The person, or staff over their home, take them off the register with a reason."""
    volunteer = selectors.volunteer_get(request.user, pk)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.volunteer_withdraw(
                actor=request.user, volunteer=volunteer, reason=form.cleaned_data["reason"]
            )
        except DomainError as e:
            if e.status == 422:
                form.add_error("reason", e.message)
            else:
                messages.error(request, e.message)
                return redirect("volunteers:record", pk=volunteer.pk)
        else:
            messages.success(
                request,
                _("%(name)s 已退出志愿者队伍；服务时长和证明保留。") % {"name": volunteer.name},
            )
            return redirect("volunteers:record", pk=volunteer.pk)
    return render(
        request,
        "volunteers/record.html",
        _record_context(request, volunteer, withdraw_form=form),
        status=422,
    )


@login_required
@require_POST
def certificate_issue(request, pk):
    volunteer = selectors.volunteer_get(request.user, pk)
    try:
        certificate = services.certificate_issue(actor=request.user, volunteer=volunteer)
    except DomainError as e:
        messages.error(request, e.message)
        return redirect("volunteers:record", pk=volunteer.pk)
    messages.success(request, _("证明已出具，核验码 %(code)s。") % {"code": certificate.code})
    return redirect("volunteers:record", pk=volunteer.pk)


@login_required
def certificate_pdf(request, code):
    certificate = Certificate.objects.select_related("volunteer").filter(code=code).first()
    if certificate is None:
        raise Http404
    selectors.volunteer_get(request.user, certificate.volunteer_id)  # own, or staff over them
    verify_url = request.build_absolute_uri(reverse("certificate_verify", args=[code]))
    data = pdf.certificate_pdf(certificate, verify_url)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{code}.pdf"'
    return response


def certificate_verify(request, code):
    """Public: anyone holding a certificate checks its code here (rate-limited per IP)."""
    try:
        hit("certificate_verify_ip", client_ip(request))
    except RateLimited as e:
        response = render(
            request, "volunteers/verify.html", {"code": code, "limited": True}, status=429
        )
        response["Retry-After"] = str(e.retry_after)
        return response
    certificate = Certificate.objects.select_related("unit").filter(code=code.upper()).first()
    # the public page names the community, not the building someone lives in
    place = selectors.community_of(certificate.unit) if certificate else None
    return render(
        request,
        "volunteers/verify.html",
        {
            "place": place,
            "code": code,
            "certificate": certificate,
            "stars": "★" * (certificate.star if certificate else 0),
        },
        status=200 if certificate else 404,
    )
