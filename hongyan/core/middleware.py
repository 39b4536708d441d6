"""Remembers who is asking and from where (the client's address through our trusted
proxies, `core/client_address.py`), for the audit log and the rate limits, without
passing the request through every service call."""

from contextvars import ContextVar

from .client_address import request_client_address

_client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)


def current_ip() -> str | None:
    return _client_ip.get()


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _client_ip.set(request_client_address(request) or None)
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


# --- the database is down ------------------------------------------------------------------

DB_RETRY_AFTER = 5  # seconds a client should wait before trying again


def database_unavailable(exc: BaseException | None) -> bool:
    """True for the errors a lost or restarting database raises (connection refused, the
    server terminating our session, a connection closed under us)."""
    from django.db import InterfaceError, OperationalError

    while exc is not None:
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def unavailable_response(request):
    """503 with Retry-After: JSON {code, message} under /api/, a plain page elsewhere.
    Rendered without the database (no session, no menu), in Chinese and English."""
    from django.http import HttpResponse, JsonResponse
    from django.utils.html import escape
    from django.utils.translation import gettext as _

    message = _("数据库暂时无法连接，请稍后再试；您刚才的操作没有完成，请稍后重新提交。")
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"code": "unavailable", "message": message},
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        english = (
            "The database cannot be reached just now: what you did was not saved. "
            "Please try again in a moment."
        )
        page = (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>503 · 鸿雁</title></head><body>"
            f"<h1>服务暂时不可用</h1><p>{escape(message)}</p>"
            f'<p lang="en">Service unavailable. {english}</p></body></html>'
        )
        response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(DB_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A view that loses the database answers 503 with Retry-After instead of 500; one
    whose write finds the disk full answers 507 (nothing saved), not 500.

    Django reconnects by itself on the next request (CONN_HEALTH_CHECKS), so once the
    server is back the site is too, with no restart. Errors raised by other middleware
    (outside any view) reach `server_error` below, which gives the same answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if database_unavailable(exception):
            import logging

            logging.getLogger("hongyan.db").warning(
                "database unavailable on %s: %s", request.path, exception
            )
            return unavailable_response(request)
        if storage_full(exception):
            import logging

            logging.getLogger("hongyan.storage").error(
                "storage full on %s: %s", request.path, exception
            )
            return storage_full_response(request)
        return None


def server_error(request):
    """handler500: a 503 when the error was the database going away, else the usual 500."""
    import sys

    from django.views import defaults

    exc = sys.exc_info()[1]
    if database_unavailable(exc):
        return unavailable_response(request)
    if storage_full(exc):
        return storage_full_response(request)
    return defaults.server_error(request)


# --- the disk is full ------------------------------------------------------------------------


def storage_full(exc: BaseException | None) -> bool:
    """True for a write refused for lack of space (a full disk, a quota, a file-size limit)."""
    import errno

    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def storage_full_response(request):
    """507 with a message saying nothing was saved; JSON under /api/. Like the 503 page it
    needs no database, so it also works when the database's own disk is the full one."""
    from django.http import HttpResponse, JsonResponse
    from django.utils.html import escape
    from django.utils.translation import gettext as _

    message = _(
        "服务器存储空间已满，文件没有保存，什么也没有改动：请联系系统管理员清理空间后再试。"
    )
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"code": "storage_full", "message": message},
            status=507,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        page = (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>507 · 鸿雁</title></head><body>"
            f"<h1>存储空间已满</h1><p>{escape(message)}</p>"
            '<p lang="en">Storage full: the server has no room to save the file, and nothing '
            "was changed. Ask the system administrator to free some space, then try again.</p>"
            '<p><a href="/">返回首页 · Home</a></p>'
            "</body></html>"
        )
        response = HttpResponse(page, status=507, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
