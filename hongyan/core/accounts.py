"""Account and session policy, checked on every signed-in page request:

- a session lives at most `SESSION_ABSOLUTE_HOURS` (12 h) from sign-in, however busy;
- the three administrators (三员) must have passed their TOTP at sign-in;
- a password an administrator issued, or one older than `PASSWORD_MAX_AGE_DAYS`, must be
  changed before anything else.

Bearer tokens are checked where they are issued and used (core.services)."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

LOGIN_AT = "hy_login_at"  # when the session signed in (Unix time)
SECOND_FACTOR = "hy_second_factor"  # the session passed a TOTP or recovery code at sign-in

# paths a user who must change the password may still open
PASSWORD_CHANGE_EXEMPT = ("/password/", "/logout/", "/static/", "/i18n/", "/login/")


def mark_signed_in(request, *, second_factor: bool) -> None:
    """Stamp a session that just signed in (after `django.contrib.auth.login`)."""
    request.session[LOGIN_AT] = int(time.time())
    if second_factor:
        request.session[SECOND_FACTOR] = True


def _answer(request, code: str, message: str, to: str):
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": code, "message": message},
            status=401 if code != "password_change_required" else 403,
            json_dumps_params={"ensure_ascii": False},
        )
    messages.warning(request, message)
    return redirect(to)


class SessionPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            refusal = self._check(request, user)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _check(self, request, user):
        from .services import password_change_reason, second_factor_required

        session = request.session
        now = int(time.time())
        started = session.get(LOGIN_AT)
        if started is None:  # a session made without the sign-in page (tests' force_login)
            session[LOGIN_AT] = started = now
        if now - started > settings.SESSION_ABSOLUTE_HOURS * 3600:
            logout(request)
            return _answer(
                request,
                "session_expired",
                _("登录已超过 %(h)d 小时，请重新登录。") % {"h": settings.SESSION_ABSOLUTE_HOURS},
                "core:login",
            )
        if second_factor_required(user) and not session.get(SECOND_FACTOR):
            logout(request)
            return _answer(
                request,
                "second_factor_required",
                _("管理员账号需要动态口令才能登录，请重新登录。"),
                "core:login",
            )
        reason = password_change_reason(user)
        if reason and not request.path.startswith(PASSWORD_CHANGE_EXEMPT):
            return _answer(request, "password_change_required", reason, "core:password_change")
        return None
