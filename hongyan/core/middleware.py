"""Remembers who is asking and from where, for the audit log, without passing the
request through every service call."""

from contextvars import ContextVar

_client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)


def current_ip() -> str | None:
    return _client_ip.get()


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _client_ip.set(request.META.get("REMOTE_ADDR") or None)
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(token)


NUL_MARKERS = (b"\x00", b"\\u0000", b"%00")
CHECKED_BODY_TYPES = ("application/json", "application/x-www-form-urlencoded")


def _carries_nul(request) -> bool:
    if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
        return True
    if request.META.get("CONTENT_TYPE", "").split(";")[0].strip() in CHECKED_BODY_TYPES:
        return any(marker in request.body for marker in NUL_MARKERS)
    return False


class RejectNulMiddleware:
    """No text we keep may hold a NUL character (PostgreSQL cannot store or even compare
    one), so a request carrying one is refused here, once, with a 400 — rather than
    failing deep in a query. Form fields in uploads are checked by Django's forms."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _carries_nul(request):
            from django.http import HttpResponseBadRequest, JsonResponse
            from django.utils.translation import gettext as _

            message = _("请求中含有空字符（NUL），无法处理。")
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"code": "bad_request", "message": message},
                    status=400,
                    json_dumps_params={"ensure_ascii": False},
                )
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class ChineseFirstLocaleMiddleware:
    """Pages speak Chinese unless the user chose another language (the language cookie
    set by the switcher): an office PC with an English browser still gets Chinese.
    The API keeps honouring Accept-Language, so scripts can ask for English errors."""

    def __init__(self, get_response):
        from django.middleware.locale import LocaleMiddleware

        self.get_response = get_response
        self.django_locale = LocaleMiddleware(get_response)

    def __call__(self, request):
        if request.path.startswith("/api/"):
            return self.django_locale(request)
        from django.conf import settings
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen not in dict(settings.LANGUAGES):
            chosen = settings.LANGUAGE_CODE
        with translation.override(chosen):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
            return response
