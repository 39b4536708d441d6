"""The needs pages: the staff queue and a need's page with its timeline and the step
forms, filing for a resident, the resident's "my needs", and the public pages (intake
without an account, the follow link, rating). Thin: access → form → service → redirect;
a service's refusal (409 with the reason, 422 naming a field) comes back on the form."""

from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from hongyan.core import pii
from hongyan.core.errors import DomainError
from hongyan.core.models import User
from hongyan.core.ratelimit import RateLimited, client_ip, hit, rate_limit
from hongyan.core.scope import access, can, visible_paths
from hongyan.core.stepup import has_fresh_step_up, step_up_url
from hongyan.orgs.models import PartyOrganization, Unit, UnitKind

from . import matching, rules, selectors, services
from .forms import (
    CategoryForm,
    DispatchForm,
    MergeForm,
    NeedForm,
    NoteForm,
    QueueFilterForm,
    RateForm,
    RejectForm,
    RequiredNoteForm,
    ResolveForm,
    TransferForm,
)
from .models import MOBILE_PURPOSE, RUNNING_STATUSES, Channel, EventAction, Need, Status

PAGE_SIZE = 30

# the steps in the order the need's page offers them, with their forms
STEP_FORMS = {
    "accept": NoteForm,
    "dispatch": DispatchForm,
    "claim": NoteForm,
    "start": NoteForm,
    "resolve": ResolveForm,
    "pause": RequiredNoteForm,
    "resume": NoteForm,
    "rate": RateForm,
    "close": NoteForm,
    "reopen": RequiredNoteForm,
    "transfer": TransferForm,
    "escalate": NoteForm,
    "merge": MergeForm,
    "reject": RejectForm,
}


# --- helpers --------------------------------------------------------------------------


def _put_error(form, exc: DomainError, fallback: str | None = None) -> None:
    field = {
        "unit": "community",
        "target": "target",
        "person": "target",
        "party_org": "target",
    }.get(exc.field, exc.field)
    if field not in form.fields:
        field = fallback if fallback in form.fields else None
    form.add_error(field, exc.message)


def _city_units():
    return Unit.objects.filter(kind=UnitKind.COUNTY).order_by("code")


PLACE_LEVELS = ("county", "township", "community", "compound", "building")
CHILD_KINDS = {
    "township": (UnitKind.TOWNSHIP,),
    "community": (UnitKind.COMMUNITY, UnitKind.VILLAGE),
    "compound": (UnitKind.COMPOUND, UnitKind.NATURAL_VILLAGE),
    "building": (UnitKind.BUILDING,),
}


def _children(code: str, level: str) -> list[Unit]:
    if not code:
        return []
    parent = Unit.objects.filter(code=code).only("pk", "path").first()
    if parent is None:
        return []
    # buildings sit under the compound's grids: residents know the building, not the grid
    where = {"path__under": parent.path} if level == "building" else {"parent": parent}
    return list(
        Unit.objects.filter(kind__in=CHILD_KINDS[level], **where)
        .only("code", "name")
        .order_by("code")
    )


def _place_levels():
    return [
        ("county", _("旗县区"), "township"),
        ("township", _("街道/乡镇"), "community"),
        ("community", _("社区/村"), "compound"),
        ("compound", _("小区/自然村（可不选，填详细地址）"), "building"),
        ("building", _("楼栋（可不选）"), None),
    ]


def _place_choices(data) -> dict[str, list[Unit]]:
    """Options of each level of the place picker for the values chosen so far."""
    return {
        "county": list(_city_units().only("code", "name")),
        "township": _children(data.get("county", ""), "township"),
        "community": _children(data.get("township", ""), "community"),
        "compound": _children(data.get("community", ""), "compound"),
        "building": _children(data.get("compound", ""), "building"),
    }


def _place(form) -> Unit | None:
    code = form.place_code()
    if not code:
        return None
    data = form.cleaned_data
    unit = Unit.objects.filter(code=code).first()
    # the chain must hold together: a compound under the chosen community, and so on
    chain = [data.get(level, "") for level in ("community", "compound", "building")]
    chain = [c for c in chain if c]
    if unit is None or any(not b.startswith(a) for a, b in zip(chain, chain[1:], strict=False)):
        return None
    return unit


def _categories(unit: Unit | None = None):
    return selectors.categories_for(unit or Unit.objects.filter(kind=UnitKind.CITY).first())


def _category(categories, code):
    return next((c for c in categories if c.code == code), None)


def _file_need(request, form, categories, *, channel, actor):
    """Check the form and the parts the services let us check up front (place, mobile,
    photos), so that every mistake shows at once; then the service decides. Errors go
    back on the form. Returns the need, or None."""
    form.is_valid()
    data = form.cleaned_data
    unit = _place(form)
    if unit is None and "community" not in form.errors:
        form.add_error("community", _("请选择所在社区（村）和小区，或选择社区后填写详细地址。"))
    photos = []
    for field, check in (
        ("resident_mobile", lambda: services.clean_mobile(data.get("resident_mobile", ""))),
        ("photos", lambda: photos.extend(services.clean_photos(request.FILES.getlist("photos")))),
    ):
        if field not in form.errors:
            try:
                check()
            except DomainError as exc:
                form.add_error(field, exc.message)
    if form.errors:
        return None
    try:
        return services.need_file(
            actor=actor,
            channel=data.get("channel") or channel,
            category=_category(categories, data["category"]),
            unit=unit,
            text=data["text"],
            resident_name=data["resident_name"],
            resident_mobile=data["resident_mobile"],
            address=data["address"],
            photos=[(name, content) for name, content, _type in photos],
            source_ref=data.get("source_ref", ""),
        )
    except DomainError as exc:
        _put_error(form, exc)
        return None


# --- the public pages ---------------------------------------------------------------------


def _too_many(request, form, categories, retry_after):
    response = render(
        request,
        "needs/public_form.html",
        {
            "form": form,
            "places": _place_choices(request.POST),
            "place_levels": _place_levels(),
            "retry_after": retry_after,
        },
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


def public_report(request):
    """居民随手报: no account. Limited per IP and per mobile; a refusal keeps the form."""
    categories = _categories()
    form = NeedForm(request.POST or None, request.FILES or None, categories=categories, public=True)
    if request.method == "POST":
        try:
            hit("need_intake_ip", client_ip(request))
            mobile = pii.normalise_mobile(request.POST.get("resident_mobile", ""))
            if mobile:
                hit("need_intake_mobile", pii.blind_index(mobile, MOBILE_PURPOSE))
        except RateLimited as exc:
            form.is_valid()
            return _too_many(request, form, categories, exc.retry_after)
        need = _file_need(request, form, categories, channel=Channel.PUBLIC_WEB, actor=None)
        if need is not None:
            return redirect(reverse("needs:follow", args=[need.follow_token]) + "?new=1")
    data = request.POST if request.method == "POST" else {}
    return render(
        request,
        "needs/public_form.html",
        {"form": form, "places": _place_choices(data), "place_levels": _place_levels()},
        status=422 if form.errors else 200,
    )


@require_GET
def public_places(request, level):
    """The options of one level of the place picker (htmx), below the chosen parent."""
    if level not in CHILD_KINDS:
        raise Http404
    parent_level = PLACE_LEVELS[PLACE_LEVELS.index(level) - 1]
    units = _children(request.GET.get(parent_level, ""), level)
    below = PLACE_LEVELS[PLACE_LEVELS.index(level) + 1 :]
    return render(
        request, "needs/_place_options.html", {"units": units, "level": level, "reset": below}
    )


@require_GET
def public_similar(request):
    """Open needs in the chosen compound with similar text: join one instead (附议)."""
    code = (
        request.GET.get("building")
        or request.GET.get("compound")
        or request.GET.get("community")
        or ""
    )
    unit = Unit.objects.filter(code=code).first() if code else None
    text = request.GET.get("text", "")[:2000]
    similar = selectors.need_similar(unit, text) if unit and len(text.strip()) >= 4 else []
    return render(request, "needs/_similar.html", {"similar": similar})


@require_POST
def public_join(request):
    """附议 from the public form: the filer joins an open need instead of filing anew."""
    reference = request.POST.get("join", "").strip()
    need = Need.objects.filter(reference=reference).select_related("unit").first()
    if need is None:
        raise Http404(_("没有找到这条需求。"))
    try:
        hit("need_intake_ip", client_ip(request))
        supporter = services.need_join(
            actor=request.user if request.user.is_authenticated else None,
            need=need,
            name=request.POST.get("resident_name", ""),
            mobile=request.POST.get("resident_mobile", ""),
            note=request.POST.get("text", "")[:500],
        )
    except RateLimited as exc:
        categories = _categories()
        form = NeedForm(request.POST, categories=categories, public=True)
        form.is_valid()
        return _too_many(request, form, categories, exc.retry_after)
    except DomainError as exc:
        categories = _categories()
        form = NeedForm(request.POST, categories=categories, public=True)
        form.is_valid()
        field = {"name": "resident_name", "mobile": "resident_mobile"}.get(exc.field)
        form.add_error(field, exc.message)
        return render(
            request,
            "needs/public_form.html",
            {"form": form, "places": _place_choices(request.POST), "place_levels": _place_levels()},
            status=exc.status,
        )
    return redirect(reverse("needs:follow", args=[supporter.follow_token]) + "?joined=1")


PUBLIC_EVENTS = {
    EventAction.SUBMITTED,
    EventAction.ACCEPTED,
    EventAction.REJECTED,
    EventAction.DISPATCHED,
    EventAction.CLAIMED,
    EventAction.STARTED,
    EventAction.PAUSED,
    EventAction.RESUMED,
    EventAction.RESOLVED,
    EventAction.RATED,
    EventAction.CLOSED,
    EventAction.REOPENED,
    EventAction.TRANSFERRED,
    EventAction.ESCALATED,
    EventAction.MERGED,
}
# what a resident reads of a step's note (staff notes stay inside)
PUBLIC_NOTES = {EventAction.REJECTED, EventAction.RESOLVED, EventAction.RATED, EventAction.PAUSED}


def _follow_context(request, need, token, form=None):
    events = [e for e in selectors.need_timeline(need) if e.action in PUBLIC_EVENTS]
    return {
        "need": need,
        "token": token,
        "events": events,
        "public_notes": PUBLIC_NOTES,
        "photos": list(need.photos.all()),
        "rate_form": form or (RateForm() if need.status == Status.RESOLVED else None),
        "new": request.GET.get("new") == "1",
        "joined": request.GET.get("joined") == "1",
        "follow_url": request.build_absolute_uri(reverse("needs:follow", args=[token])),
    }


def follow(request, token):
    """The resident's follow page: status, timeline, and the rating once resolved."""
    need = services.need_by_follow_token(token)
    if need is None:
        raise Http404(_("没有找到这条需求：请检查链接是否完整。"))
    return render(request, "needs/follow.html", _follow_context(request, need, token))


@require_POST
def follow_rate(request, token):
    need = services.need_by_follow_token(token)
    if need is None:
        raise Http404(_("没有找到这条需求：请检查链接是否完整。"))
    form = RateForm(request.POST)
    if form.is_valid():
        try:
            services.need_rate(
                actor=None,
                need=need,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as exc:
            _put_error(form, exc)
        else:
            messages.success(request, _("谢谢您的评价！"))
            return redirect("needs:follow", token=token)
    context = _follow_context(request, need, token, form)
    return render(request, "needs/follow.html", context, status=409 if form.errors else 200)


# --- residents with an account ----------------------------------------------------------


@login_required
def my_needs(request):
    """居民账号：我的需求, and filing a new one."""
    user = request.user
    mine = (
        selectors.need_queryset(user)
        .filter(Q(resident_account=user))
        .select_related(None)
        .select_related("category", "unit")
        .only(*ROW_FIELDS)
        .order_by("-created_at", "-pk")
    )
    page = Paginator(mine, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "needs/mine.html", {"page": page})


@login_required
def my_need_new(request):
    categories = _categories()
    form = NeedForm(request.POST or None, request.FILES or None, categories=categories)
    form.fields["resident_name"].initial = request.user.display_name
    if request.method == "POST":
        need = _file_need(
            request, form, categories, channel=Channel.RESIDENT_ACCOUNT, actor=request.user
        )
        if need is not None:
            messages.success(
                request, _("已提交，编号 %(ref)s。办理进展会显示在这里。") % {"ref": need.reference}
            )
            return redirect(need)
    data = request.POST if request.method == "POST" else {}
    return render(
        request,
        "needs/file.html",
        {
            "form": form,
            "places": _place_choices(data),
            "place_levels": _place_levels(),
            "title": _("提交需求"),
        },
        status=422 if form.errors else 200,
    )


# --- staff ------------------------------------------------------------------------------


def _may_file(user) -> bool:
    return bool(visible_paths(user, "need.file"))


@login_required
def need_new(request):
    """Staff file for a resident: at the desk, by proxy (a resident without a phone),
    from the hotline or a visit."""
    if not _may_file(request.user):
        raise PermissionDenied(_("您的角色不能代居民登记需求。"))
    categories = _categories()
    form = NeedForm(
        request.POST or None, request.FILES or None, categories=categories, staff_channels=True
    )
    if request.method == "POST":
        need = _file_need(request, form, categories, channel=Channel.DESK, actor=request.user)
        if need is not None:
            messages.success(request, _("已登记，编号 %(ref)s。") % {"ref": need.reference})
            return redirect(need)
    data = request.POST if request.method == "POST" else {}
    return render(
        request,
        "needs/file.html",
        {
            "form": form,
            "places": _place_choices(data),
            "place_levels": _place_levels(),
            "title": _("代居民登记需求"),
        },
        status=422 if form.errors else 200,
    )


TABS = ("unit", "mine", "claimable")
ROW_FIELDS = (
    "reference",
    "status",
    "text",
    "channel",
    "created_at",
    "deadline",
    "category__name",
    "unit__name",
)


@login_required
def queue(request):
    """The queue: a unit's needs (staff), mine (handled by or dispatched to me), or
    waiting to be claimed in my communities (双报到 members, building heads)."""
    user = request.user
    roots = visible_paths(user, "need.view")
    claim_anywhere = bool(visible_paths(user, "need.claim") or services.claimable_communities(user))
    if not roots and not claim_anywhere:
        if visible_paths(user):  # a resident: their own needs
            return redirect("needs:mine")
        raise PermissionDenied(_("您的角色不能查看需求。"))
    params = request.GET
    tab = params.get("tab") if params.get("tab") in TABS else ("unit" if roots else "claimable")
    if tab == "unit" and not roots:
        tab = "claimable"
    unit = None
    if tab == "unit":
        code = (
            params.get("unit")
            or Unit.objects.filter(path=roots[0]).values_list("code", flat=True).first()
        )
        unit = access(Unit.objects.select_related("parent"), user, action="need.view", code=code)
    categories = _categories(unit)
    form = QueueFilterForm(params, categories=categories)
    filters = form.cleaned_data if form.is_valid() else {}
    needs = selectors.need_list(
        user,
        unit=unit,
        status=filters.get("status") or None,
        category=filters.get("category", ""),
        channel=filters.get("channel", ""),
        overdue=bool(filters.get("overdue")),
        q=filters.get("q", ""),
        mine=tab == "mine",
        claimable=tab == "claimable",
    )
    # the rows show these only: no need to join the handler, assignee and owner
    needs = needs.select_related(None).select_related("category", "unit").only(*ROW_FIELDS)
    page = Paginator(needs, PAGE_SIZE).get_page(params.get("page"))
    counts = selectors.need_queue_counts(user, unit) if unit is not None else None
    keep = params.copy()
    keep.pop("page", None)
    return render(
        request,
        "needs/queue.html",
        {
            "tab": tab,
            "unit": unit,
            "roots": Unit.objects.filter(path__in=roots) if len(roots) > 1 else [],
            "form": form,
            "page": page,
            "counts": counts,
            "now": timezone.now(),
            "running": RUNNING_STATUSES,
            "query": keep.urlencode(),
            "can_file": _may_file(user),
            "has_unit_tab": bool(roots),
            "missing_years": _calendar_warning(user),
            "unread_notices": selectors.notification_list(user, unread=True).count(),
            "can_categories": bool(visible_paths(user, "need.category")),
        },
    )


def _calendar_warning(user) -> list[int]:
    if not visible_paths(user, "workday.manage"):
        return []
    from hongyan.workdays.selectors import missing_years

    return missing_years()


def _dispatch_targets(need: Need, candidates) -> list[tuple[str, str]]:
    place = selectors.compound_of(need.unit)
    units = [place, *Unit.objects.filter(parent=place).order_by("code")[:20]]
    orgs = PartyOrganization.objects.filter(
        Q(unit=place) | Q(covers=place) | Q(unit=need.owner)
    ).distinct()[:10]
    targets = [(f"unit:{u.code}", _("单位：%(name)s") % {"name": u.name}) for u in units]
    targets += [(f"org:{o.pk}", _("党组织：%(name)s") % {"name": o.name}) for o in orgs]
    targets += [
        (
            f"person:{c.member.account_id}",
            _("党员：%(name)s（%(why)s）") % {"name": c.member.name, "why": c.reason},
        )
        for c in candidates
        if c.member.account_id
    ]
    return targets


def _transfer_targets(need: Need) -> list[tuple[str, str]]:
    owner = need.owner
    parent = owner.parent
    units = []
    if parent is not None:
        units = [
            parent,
            *Unit.objects.filter(parent=parent).exclude(pk=owner.pk).order_by("code")[:60],
        ]
    return [(u.code, u.name) for u in units]


def _step_forms(request, need, failed_step=None, failed_form=None):
    """Forms for every step the need's state allows and the user may take."""
    user = request.user
    allowed = [
        s for s in rules.allowed_steps(need) if s in STEP_FORMS and selectors.may(user, need, s)
    ]
    if failed_step and failed_step not in allowed:  # refused by the state: show why
        allowed.insert(0, failed_step)
    candidates = matching.need_candidates(need) if "dispatch" in allowed else []
    forms = []
    for step in STEP_FORMS:
        if step not in allowed:
            continue
        if step == failed_step:
            form = failed_form
        elif step == "dispatch":
            form = DispatchForm(targets=_dispatch_targets(need, candidates), prefix=step)
        elif step == "transfer":
            form = TransferForm(units=_transfer_targets(need), prefix=step)
        else:
            form = STEP_FORMS[step](prefix=step)
        forms.append((step, rules.step_names()[step], form))
    return forms, candidates


def _detail_context(request, need, failed_step=None, failed_form=None):
    forms, candidates = _step_forms(request, need, failed_step, failed_form)
    staff = can(request.user, "need.manage", need.unit.path)
    similar = []
    if staff and need.is_open:
        similar = [
            (n, s) for n, s in selectors.need_similar(need.unit, need.text) if n.pk != need.pk
        ]
    return {
        "need": need,
        "events": selectors.need_timeline(need),
        "photos": list(need.photos.all()),
        "forms": forms,
        "failed_step": failed_step,
        "candidates": candidates,
        "similar": similar,
        "staff": staff,
        "overdue": need.is_overdue(),
        "may_merge": any(step == "merge" for step, _label, _form in forms),
        "may_reveal": services.may_reveal_mobile(request.user, need),
    }


@login_required
def need_detail(request, pk):
    need = selectors.need_get(request.user, pk)
    return render(request, "needs/detail.html", _detail_context(request, need))


def _run_step(request, need, step, form):
    """Call the service for `step` with the form's cleaned data."""
    user, data = request.user, form.cleaned_data
    note = data.get("note", "")
    simple = {
        "accept": services.need_accept,
        "claim": services.need_claim,
        "start": services.need_start,
        "resume": services.need_resume,
        "close": services.need_close,
        "escalate": services.need_escalate,
        "pause": services.need_pause,
        "reopen": services.need_reopen,
    }
    if step in simple:
        return simple[step](actor=user, need=need, note=note)
    if step == "reject":
        return services.need_reject(actor=user, need=need, reason=data["reason"])
    if step == "resolve":
        return services.need_resolve(
            actor=user,
            need=need,
            resolution=data["resolution"],
            photos=request.FILES.getlist("resolve-photos"),
        )
    if step == "rate":
        return services.need_rate(
            actor=user, need=need, rating=data["rating"], comment=data["comment"]
        )
    if step == "dispatch":
        kind, _sep, value = (data.get("target") or "").partition(":")
        target = {}
        if kind == "unit":
            target["unit"] = Unit.objects.get(code=value)
        elif kind == "org":
            target["party_org"] = PartyOrganization.objects.select_related("unit").get(pk=value)
        elif kind == "person":
            target["person"] = User.objects.get(pk=value)
        if data.get("team_name"):
            target["team_name"] = data["team_name"]
        return services.need_dispatch(actor=user, need=need, note=note, **target)
    if step == "transfer":
        if not data.get("to_unit"):
            raise DomainError("invalid", _("请选择转给哪个单位。"), status=422, field="to_unit")
        to_unit = Unit.objects.get(code=data["to_unit"])
        return services.need_transfer(actor=user, need=need, to_unit=to_unit, note=note)
    if step == "merge":
        into = selectors.need_queryset(user).filter(reference=data["into"].strip()).first()
        if into is None:
            raise DomainError(
                "invalid", _("没有找到编号为 %(ref)s 的需求。") % {"ref": data["into"]}, 422, "into"
            )
        return services.need_merge(actor=user, need=need, into=into, note=note)
    raise Http404


@login_required
@require_POST
def need_step(request, pk, step):
    if step not in STEP_FORMS:
        raise Http404
    need = selectors.need_access(request.user, pk, step)
    if step == "dispatch":
        targets = _dispatch_targets(need, matching.need_candidates(need))
        form = DispatchForm(request.POST, targets=targets, prefix=step)
    elif step == "transfer":
        form = TransferForm(request.POST, units=_transfer_targets(need), prefix=step)
    else:
        form = STEP_FORMS[step](request.POST, request.FILES, prefix=step)
    status = 422
    if form.is_valid():
        try:
            _run_step(request, need, step, form)
        except DomainError as exc:
            _put_error(form, exc, fallback="note")
            status = exc.status
        else:
            messages.success(request, _("已%(step)s。") % {"step": rules.step_names()[step]})
            return redirect(need)
    need = selectors.need_get(request.user, pk)  # as it is now, after a refused step
    context = _detail_context(request, need, failed_step=step, failed_form=form)
    return render(request, "needs/detail.html", context, status=status)


# The rates panel's periods, each ending today at the latest (local dates).
RATES_PRESETS = {
    "recent": gettext_lazy("近期"),
    "month": gettext_lazy("本月"),
    "quarter": gettext_lazy("本季度"),
    "year": gettext_lazy("本年"),
    "last_year": gettext_lazy("去年"),
}


@dataclass(frozen=True)
class RatesPeriod:
    date_from: date
    date_to: date
    preset: str = ""  # "" when the dates were given
    error: str = ""  # why the asked-for period was not used (the default one was)


def _preset_window(preset: str, today: date) -> tuple[date, date]:
    if preset == "month":
        return today.replace(day=1), today
    if preset == "quarter":
        return date(today.year, (today.month - 1) // 3 * 3 + 1, 1), today
    if preset == "year":
        return date(today.year, 1, 1), today
    if preset == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    return selectors.rates_period_check(today=today)  # the recent window, as the API's default


def rates_period(params, today: date | None = None) -> RatesPeriod:
    """The period the rates panel shows, from its GET parameters: explicit `from`/`to`
    (ISO dates) win over a `preset`; nothing or a wrong value gives the recent window,
    with the reason in `error` when something was asked for and could not be used."""
    today = today or timezone.localdate()
    raw_from, raw_to = params.get("from", "").strip(), params.get("to", "").strip()
    preset = params.get("preset", "").strip()

    def default(error: str = "") -> RatesPeriod:
        return RatesPeriod(*_preset_window("recent", today), preset="recent", error=error)

    if not raw_from and not raw_to:
        if not preset:
            return default()
        if preset not in RATES_PRESETS:
            return default(_("没有这个时间段，显示的是近期的情况。"))
        return RatesPeriod(*_preset_window(preset, today), preset=preset)
    try:
        date_from = parse_date(raw_from) if raw_from else None
        date_to = parse_date(raw_to) if raw_to else today
    except ValueError:  # well formed but not a day, e.g. 2026-02-30
        date_from = date_to = None
    if (raw_from and date_from is None) or date_to is None:
        return default(_("日期格式不对，请按“年-月-日”填写，例如 2026-01-01。"))
    try:  # the rule the API uses too (selectors.rates_period_check)
        return RatesPeriod(*selectors.rates_period_check(date_from, date_to, today=today))
    except DomainError as exc:
        return default(exc.message)


def _photo_response(need, photo_id):
    photo = need.photos.filter(pk=photo_id).first()
    if photo is None:
        raise Http404(_("没有找到这张照片。"))
    response = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def need_photo(request, pk, photo_id):
    """A photo of a need, for whoever may see the need (photos are not public files)."""
    return _photo_response(selectors.need_get(request.user, pk), photo_id)


@require_GET
def follow_photo(request, token, photo_id):
    need = services.need_by_follow_token(token)
    if need is None:
        raise Http404(_("没有找到这条需求：请检查链接是否完整。"))
    return _photo_response(need, photo_id)


@login_required
@require_POST
@rate_limit(("reveal_user", "user"))
def need_reveal(request, pk):
    """The resident's full mobile, to call them back: the reason goes to the audit log;
    the number is shown on this answer only."""
    need = selectors.need_get(request.user, pk)
    if services.may_reveal_mobile(request.user, need) and not has_fresh_step_up(request):
        # a fresh TOTP first (core.stepup), as for every reveal; then back to the need
        return redirect(step_up_url(reverse("needs:detail", args=[need.pk])))
    context = _detail_context(request, need)
    try:
        context["revealed"] = services.need_reveal_mobile(
            actor=request.user, need=need, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        context["reveal_error"] = exc.message
        context["reveal_reason"] = request.POST.get("reason", "")
        return render(request, "needs/detail.html", context, status=exc.status)
    response = render(request, "needs/detail.html", context)
    response["Cache-Control"] = "no-store"
    return response


NOTICE_LIMIT = 100


@login_required
def notices(request):
    """The worker's notices for me and the units where I manage needs (临期, 督办, 回访),
    unread first."""
    rows = list(
        selectors.notification_list(request.user)
        .order_by("read_at", "-created_at", "-pk")
        .select_related("need", "unit")[:NOTICE_LIMIT]
    )
    return render(request, "needs/notices.html", {"notices": rows})


@login_required
@require_POST
def notice_read(request, pk):
    notice = selectors.notification_list(request.user).filter(pk=pk).first()
    if notice is None:
        raise Http404(_("没有找到，或不在您的管辖范围内。"))
    services.notification_read(actor=request.user, notification=notice)
    return redirect("needs:notices")


# --- categories (a city admin) ------------------------------------------------------------


def _managed_city(user) -> Unit:
    roots = visible_paths(user, "need.category")
    city = Unit.objects.filter(kind=UnitKind.CITY, path__in=roots).order_by("path").first()
    if city is None:
        raise PermissionDenied(_("只有市级管理员可以管理需求类别。"))
    return city


@login_required
def categories(request):
    city = _managed_city(request.user)
    return render(
        request,
        "needs/categories.html",
        {"city": city, "categories": selectors.categories_for(city)},
    )


@login_required
def category_edit(request, code=None):
    from hongyan.members.models import Specialty

    city = _managed_city(request.user)
    current = next((c for c in selectors.categories_for(city) if c.code == code), None)
    if code is not None and current is None:
        raise Http404(_("没有这个需求类别。"))
    initial = {"deadline_value": 5, "deadline_unit": "days", "response_hours": 24, "active": True}
    if current is not None:
        initial = {
            "code": current.code,
            "name": current.name,
            "description": current.description,
            "deadline_value": current.deadline_value,
            "deadline_unit": current.deadline_unit,
            "response_hours": current.response_hours,
            "owner_level": current.owner_level,
            "specialties": [s.name for s in current.specialties.all()],
            "active": current.active,
        }
    form = CategoryForm(
        request.POST or None,
        initial=initial,
        specialties=list(Specialty.objects.values_list("name", flat=True)),
        editing=current is not None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.category_save(
                actor=request.user,
                city=city,
                code=code or data["code"],
                name=data["name"],
                description=data["description"],
                deadline_value=data["deadline_value"],
                deadline_unit=data["deadline_unit"],
                response_hours=data["response_hours"],
                owner_level=data["owner_level"],
                specialties=data["specialties"],
                active=data["active"],
            )
        except DomainError as exc:
            _put_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("needs:categories")
    title = _("修改需求类别") if current else _("新增需求类别")
    return render(
        request,
        "needs/category_form.html",
        {"form": form, "title": title, "city": city, "current": current},
        status=422 if form.errors else 200,
    )


@login_required
@require_GET
@vary_on_headers("HX-Request")
def rates_panel(request, code):
    """The rates panel of a unit page (loaded by htmx after the page), for a period picked
    by `preset` or `from`/`to`; without htmx the same URL answers a whole page."""
    from .templatetags.needs_pages import rates_panel_context

    unit = access(Unit.objects, request.user, action="need.rates", code=code)
    context = rates_panel_context(unit, rates_period(request.GET), request.GET)
    if request.headers.get("HX-Request"):
        return render(request, "needs/_unit_rates.html", context)
    return render(request, "needs/unit_rates.html", context)
