"""Step-up: a fresh TOTP before personal data leaves unmasked (a reveal, an unmasked
export), for every role, valid `STEP_UP_MINUTES` (5).

    from hongyan.core.stepup import require_fresh_step_up
    require_fresh_step_up(request)      # DomainError 403 "step_up_required" unless fresh

A browser proves it on `/account/step-up/?next=…` (pages: catch the error, or test
`has_fresh_step_up`, and send the user to `step_up_url(next)`); a token client with
`POST /api/v1/auth/step-up {"code": "123456"}`, which opens the window on that token.
Signing in with a TOTP counts as a step-up too."""

import time
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.translation import gettext as _

from . import factors
from .errors import DomainError

SESSION_KEY = "hy_step_up_at"  # Unix time of the session's last TOTP


def _window() -> int:
    return settings.STEP_UP_MINUTES * 60


def _token(request):
    return getattr(request, "api_token", None)


def step_up_until(request):
    """When the request's step-up window closes (None: no window open)."""
    token = _token(request)
    if token is not None:
        until = token.stepped_up_until
        return until if until and until > timezone.now() else None
    at = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if at is None or time.time() - at >= _window():
        return None
    return timezone.now() + timedelta(seconds=_window() - (time.time() - at))


def has_fresh_step_up(request) -> bool:
    return step_up_until(request) is not None


def step_up_url(next_url: str = "") -> str:
    url = resolve_url("core:step_up")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def require_fresh_step_up(request) -> None:
    """Raise DomainError(403, "step_up_required") unless the request's user proved a TOTP
    within the last `STEP_UP_MINUTES` minutes (this session, or this bearer token)."""
    if has_fresh_step_up(request):
        return
    if _token(request) is not None:
        message = _(
            "查看或导出完整个人信息前需要验证动态口令：请先调用 POST /api/v1/auth/step-up，"
            "提交身份验证器上的 6 位数字（%(m)d 分钟内有效）。"
        ) % {"m": settings.STEP_UP_MINUTES}
    else:
        message = _("查看或导出完整个人信息前需要验证动态口令（%(m)d 分钟内有效）。") % {
            "m": settings.STEP_UP_MINUTES
        }
    raise DomainError("step_up_required", message, status=403)


def mark_step_up(request) -> None:
    """Open the window for this session (after a TOTP checked elsewhere: sign-in)."""
    request.session[SESSION_KEY] = time.time()


def step_up(request, code: str):
    """Check a TOTP of the signed-in user and open the window on this session or token;
    returns when it closes. Wrong, replayed and throttled codes raise DomainError."""
    factors.totp_verify(request.user, code, purpose="auth.step_up")
    token = _token(request)
    if token is not None:
        token.stepped_up_until = timezone.now() + timedelta(seconds=_window())
        token.save(update_fields=["stepped_up_until"])
        return token.stepped_up_until
    mark_step_up(request)
    return step_up_until(request)
