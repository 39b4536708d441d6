"""Pages of the second factor (sign-in step, enrolment, recovery codes, step-up) and of
the administrators' account work (三员分立: accounts, grants, factor resets)."""

import time

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from hongyan.orgs.models import Unit

from . import accounts, factors, selectors, services, stepup
from .errors import DomainError
from .forms import AccountCreateForm, CodeForm, GrantForm, ReasonForm
from .models import FactorReset, Grant, User
from .ratelimit import rate_limit
from .scope import can, visible_paths

PENDING = "hy_pending_login"  # a sign-in that passed the password, waiting for its TOTP
PENDING_SECONDS = 300
RECOVERY_CODES = "hy_recovery_codes"  # shown once, then dropped from the session


def safe_next(request, url: str) -> str:
    return url if url and url_has_allowed_host_and_scheme(url, {request.get_host()}) else ""


def complete_login(request, user, *, second_factor: bool, totp: bool = False) -> None:
    """Sign the user in: a new session key, its start time, and after a TOTP (not a
    recovery code) a step-up."""
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    accounts.mark_signed_in(request, second_factor=second_factor)
    if totp:
        stepup.mark_step_up(request)


def start_second_factor(request, user, next_url: str):
    request.session.cycle_key()
    request.session[PENDING] = {"user": user.pk, "at": time.time(), "next": next_url}
    return redirect("core:login_verify")


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


@rate_limit(("login_ip", "ip"))
def login_verify(request):
    """The second step of an administrator's sign-in: a TOTP or a recovery code — or, the
    first time, binding an authenticator (QR code and secret) with its first code."""
    pending = request.session.get(PENDING)
    user = None
    if pending and time.time() - pending["at"] < PENDING_SECONDS:
        user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING, None)
        messages.warning(request, _("请先输入用户名和密码。"))
        return redirect("core:login")
    enrolled = factors.has_factor(user)
    device = None if enrolled else factors.totp_start(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = "".join(form.cleaned_data["code"].split())
        codes, used_totp = None, not enrolled or code.isdigit()
        try:
            if not enrolled:
                codes = services.totp_enrol_confirm(actor=user, code=code)
            elif used_totp:
                factors.totp_verify(user, code, purpose="auth.login_totp")
            elif not factors.recovery_code_use(user, code):
                raise DomainError("recovery_invalid", _("恢复码不正确，或已经用过。"))
        except DomainError as exc:
            form.add_error("code", exc.message)
        else:
            next_url = pending.get("next") or ""
            request.session.pop(PENDING, None)
            complete_login(request, user, second_factor=True, totp=used_totp)
            if codes:
                request.session[RECOVERY_CODES] = codes
                return redirect("core:recovery_codes")
            return redirect(next_url or "core:home")
    context = {
        "form": form,
        "enrolling": not enrolled,
        "allow_recovery": enrolled,
        "pending_user": user,
    }
    if device is not None:
        context.update(qr=factors.totp_qr_data_uri(device), secret=factors.totp_secret(device))
    return _no_store(render(request, "core/login_verify.html", context))


@login_required
def recovery_codes(request):
    codes = request.session.pop(RECOVERY_CODES, None)
    if not codes:
        return redirect("core:totp")
    return _no_store(render(request, "core/recovery_codes.html", {"codes": codes}))


@login_required
@rate_limit(("login_user_ip", "user"))
def totp_view(request):
    """Bind an authenticator (if none), or see its state and renew the recovery codes."""
    user = request.user
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    if factors.has_factor(user):
        if request.method == "POST":
            if not stepup.has_fresh_step_up(request):
                return redirect(stepup.step_up_url(reverse("core:totp")))
            request.session[RECOVERY_CODES] = services.recovery_codes_renew(actor=user)
            return redirect("core:recovery_codes")
        return render(
            request,
            "core/totp.html",
            {"enrolled": True, "codes_left": factors.recovery_codes_left(user)},
        )
    device = factors.totp_start(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_enrol_confirm(actor=user, code=form.cleaned_data["code"])
        except DomainError as exc:
            form.add_error("code", exc.message)
        else:
            stepup.mark_step_up(request)
            request.session[RECOVERY_CODES] = codes
            if next_url:
                messages.success(request, _("身份验证器已绑定。"))
            return redirect("core:recovery_codes")
    return _no_store(
        render(
            request,
            "core/totp.html",
            {
                "enrolled": False,
                "form": form,
                "next": next_url,
                "qr": factors.totp_qr_data_uri(device),
                "secret": factors.totp_secret(device),
            },
        )
    )


@login_required
@rate_limit(("login_user_ip", "user"))
def step_up_view(request):
    """A fresh TOTP before personal data is shown or exported unmasked (5 minutes)."""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    if not factors.has_factor(request.user):
        return render(request, "core/step_up.html", {"need_enrol": True, "next": next_url})
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            stepup.step_up(request, form.cleaned_data["code"])
        except DomainError as exc:
            form.add_error("code", exc.message)
        else:
            messages.success(request, _("动态口令已验证，5 分钟内可以查看完整信息。"))
            return redirect(next_url or "core:home")
    return render(request, "core/step_up.html", {"form": form, "next": next_url})


# --- the administrators' pages -------------------------------------------------------------


@login_required
def account_list(request):
    query = request.GET.get("q", "").strip()[:150]
    users = selectors.account_list(request.user, query)
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    enrolled = set(
        factors.TOTPDevice.objects.filter(
            user__in=[u.pk for u in page], confirmed=True
        ).values_list("user_id", flat=True)
    )
    return render(
        request,
        "core/accounts.html",
        {
            "page": page,
            "q": query,
            "enrolled": enrolled,
            "may_create": bool(visible_paths(request.user, "account.manage")),
            "resets": selectors.factor_resets_pending(request.user),
        },
    )


@login_required
def account_new(request):
    if not visible_paths(request.user, "account.manage"):
        raise PermissionDenied(_("只有系统管理员可以新建账号。"))
    form = AccountCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, password = services.account_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field, exc.message)
        else:
            return _no_store(
                render(
                    request, "core/account_password.html", {"account": user, "password": password}
                )
            )
    return render(request, "core/account_new.html", {"form": form})


def _grant_add(request, account):
    form = GrantForm(request.POST)
    if not form.is_valid():
        return form
    unit = Unit.objects.filter(code=form.cleaned_data["unit"].strip()).first()
    if unit is None or not can(request.user, "grant.manage", unit.path):
        form.add_error("unit", _("没有这个单位代码，或不在您的管辖范围内。"))
        return form
    try:
        services.grant_add(
            actor=request.user, user=account, role=form.cleaned_data["role"], unit=unit
        )
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return form
    messages.success(request, _("已授权；该账号需重新登录后生效。"))
    return None


def _act(request, account):
    """One POSTed action on the account page; returns (form with errors, shown password)."""
    action, user = request.POST.get("action", ""), request.user
    need = {
        "disable": "account.manage",
        "enable": "account.manage",
        "reset_password": "account.manage",
        "grant_add": "grant.manage",
        "grant_remove": "grant.manage",
        "factor_request": "factor.reset",
        "factor_approve": "factor.reset",
        "factor_reject": "factor.reset",
    }.get(action)
    if need is None:
        raise DomainError("bad_action", _("未知的操作。"), field="action")
    if not visible_paths(user, need):
        raise PermissionDenied(_("您的角色不能执行此操作。"))
    if action.startswith("grant_") and account.pk == user.pk:
        raise DomainError(
            "own_grants", _("不能修改自己的授权：请另一位安全管理员操作。"), status=409
        )
    if action in ("disable", "enable"):
        services.account_set_active(actor=user, user=account, active=action == "enable")
        messages.success(
            request,
            _("账号已启用。") if action == "enable" else _("账号已停用，其登录和令牌已全部失效。"),
        )
    elif action == "reset_password":
        return None, services.account_reset_password(actor=user, user=account)
    elif action == "grant_add":
        return _grant_add(request, account), None
    elif action == "grant_remove":
        grant = Grant.objects.filter(user=account, pk=request.POST.get("grant") or 0).first()
        if grant is None or not can(user, "grant.manage", grant.unit.path):
            raise Http404(_("没有找到这条授权。"))
        services.grant_remove(actor=user, grant=grant)
        messages.success(request, _("授权已撤销，该账号的登录和令牌已全部失效。"))
    elif action == "factor_request":
        form = ReasonForm(request.POST)
        if not form.is_valid():
            return form, None
        services.factor_reset_request(actor=user, user=account, reason=form.cleaned_data["reason"])
        messages.success(request, _("重置申请已提交，需另一位管理员批准。"))
    else:
        reset = FactorReset.objects.filter(user=account, pk=request.POST.get("reset") or 0).first()
        if reset is None:
            raise Http404(_("没有找到这个重置申请。"))
        approve = action == "factor_approve"
        services.factor_reset_decide(actor=user, reset=reset, approve=approve)
        messages.success(
            request, _("已批准，该账号下次登录时重新绑定身份验证器。") if approve else _("已驳回。")
        )
    return None, None


@login_required
def account_detail(request):
    account = selectors.account_get(request.user, request.GET.get("username", ""))
    form, password, error = None, None, None
    if request.method == "POST":
        try:
            form, password = _act(request, account)
        except DomainError as exc:
            error = exc.message
        else:
            if form is None and password is None:
                return redirect(f"{reverse('core:account')}?username={account.username}")
        account.refresh_from_db()
    user = request.user
    context = {
        "account": account,
        "grants": account.grants.select_related("unit").order_by("role"),
        "enrolled": factors.has_factor(account),
        "resets": account.factor_resets.select_related("requested_by", "decided_by")[:10],
        "may_manage": bool(visible_paths(user, "account.manage")),
        "may_grant": bool(visible_paths(user, "grant.manage")),
        "may_reset": bool(visible_paths(user, "factor.reset")),
        "grant_form": form if isinstance(form, GrantForm) else GrantForm(),
        "reason_form": form if isinstance(form, ReasonForm) else ReasonForm(),
        "password": password,
        "error": error,
        "expires": account.password_expires_at(),
    }
    return _no_store(render(request, "core/account.html", context))
