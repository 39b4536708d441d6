"""The JSON API: one NinjaAPI under /api/v1/, its authentication and its error format.

Every error is `{"code": ..., "message": ...}` (plus `field`/`errors` where a field is
at fault), in the request's language, with Chinese left unescaped."""

import logging
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer, django_auth
from pydantic import ValidationError as PydanticValidationError

from . import audit, services
from .errors import DomainError
from .ratelimit import RateLimited, rate_limit

logger = logging.getLogger(__name__)


class UnescapedJSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        api_token = services.token_get(token)
        if api_token is None:
            return None
        request.user = api_token.user
        request.api_token = api_token  # core.stepup reads its step-up window
        return api_token.user


api = NinjaAPI(
    title="鸿雁 Hongyan API",
    version="1",
    description="党建引领基层治理平台接口。认证：会话 Cookie，或 `POST /api/v1/auth/token` 取得的 Bearer 令牌。",
    urls_namespace="api",
    renderer=UnescapedJSONRenderer(),
    auth=[BearerToken(), django_auth],
)


def error(request, status: int, code: str, message: str, **extra):
    return api.create_response(
        request, {"code": code, "message": str(message), **extra}, status=status
    )


def _field_name(loc) -> str:
    # ninja locations look like ("body", "payload", "name") or ("query", "limit"): the
    # source, for a body the handler's parameter name, then the field the client sent
    parts = [str(p) for p in loc]
    parts = parts[2:] if parts[:1] == ["body"] else parts[1:]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def on_validation_error(request, exc):
    errors = [
        {"field": _field_name(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
        for e in exc.errors
    ]
    first = errors[0] if errors else {"field": "body", "message": ""}
    return error(
        request,
        422,
        "invalid",
        _("字段 %(field)s 有误：%(problem)s")
        % {"field": first["field"], "problem": first["message"]},
        field=first["field"],
        errors=errors,
    )


@api.exception_handler(DjangoValidationError)
def on_django_validation_error(request, exc):
    return error(request, 422, "invalid", "；".join(exc.messages))


@api.exception_handler(DomainError)
def on_domain_error(request, exc):
    extra = {"field": exc.field} if exc.field else {}
    return error(request, exc.status, exc.code, exc.message, **extra)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return error(request, 401, "unauthenticated", _("请先登录，或在 Authorization 头中提供令牌。"))


@api.exception_handler(PydanticValidationError)
def on_model_validation_error(request, exc):
    """A schema validated inside a handler (e.g. a multipart intake): 422, like ninja's."""
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ())) or "body", "message": e.get("msg", "")}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "message": ""}
    return error(
        request,
        422,
        "invalid",
        _("字段 %(field)s 有误：%(problem)s")
        % {"field": first["field"], "problem": first["message"]},
        field=first["field"],
        errors=errors,
    )


@api.exception_handler(MultiPartParserError)
def on_bad_multipart(request, exc):
    message = _("请求体不是有效的 multipart/form-data：%(why)s") % {"why": exc}
    return error(request, 400, "bad_request", message)


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    if exc.status_code == 400:
        return error(request, 400, "bad_request", _("请求体不是有效的 JSON。"))
    return error(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    message = str(exc) if exc.args else _("没有找到，或不在您的管辖范围内。")
    return error(request, 404, "not_found", message)


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return error(request, 403, "forbidden", str(exc) or _("您的角色不能执行此操作。"))


@api.exception_handler(RateLimited)
def on_rate_limited(request, exc):
    response = error(
        request,
        429,
        "rate_limited",
        _("操作过于频繁，请 %(seconds)s 秒后再试。") % {"seconds": exc.retry_after},
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request, exc):
    """The database went away (restart, network): 503 + Retry-After; the next request
    reconnects by itself."""
    from .middleware import unavailable_response

    logger.warning("database unavailable on %s: %s", request.path, exc)
    return unavailable_response(request)


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    from .middleware import storage_full, storage_full_response

    if storage_full(exc):  # a full disk: 507, nothing saved (not a bug to report as 500)
        logger.error("storage full on %s: %s", request.path, exc)
        return storage_full_response(request)
    logger.exception("API error on %s", request.path)
    return error(request, 500, "server_error", _("服务器出错了，请稍后再试。"))


class Credentials(Schema):
    username: str
    password: str
    # the three administrators must add a current TOTP; anyone who does gets a token
    # already stepped up for STEP_UP_MINUTES (core.stepup)
    totp: str = ""


class TokenOut(Schema):
    token: str


class Pages(LimitOffsetPagination):
    """Limit and offset with bounds, for every list of the API: a 25-digit offset is a
    422 naming the field, not a database overflow (500)."""

    class Input(Schema):
        limit: int = Field(settings.NINJA_PAGINATION_PER_PAGE, ge=1, le=500)
        offset: int = Field(0, ge=0, le=10_000_000)


class ErrorOut(Schema):
    code: str
    message: str


@api.post(
    "/auth/token",
    auth=None,
    response={200: TokenOut, 401: ErrorOut, 403: ErrorOut, 423: ErrorOut, 429: ErrorOut},
    tags=["auth"],
    summary="以用户名和密码换取 Bearer 令牌（三员账号另需 totp 动态口令）",
)
@rate_limit(("token_user_ip", "username_ip"), ("token_ip", "ip"))
def token(request, credentials: Credentials):
    return {
        "token": services.token_issue(
            username=credentials.username,
            password=credentials.password,
            totp=credentials.totp,
        )
    }


class StepUpIn(Schema):
    code: str


class StepUpOut(Schema):
    valid_until: datetime


@api.post(
    "/auth/step-up",
    response={200: StepUpOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut},
    tags=["auth"],
    summary="验证动态口令，5 分钟内可查看或导出完整个人信息",
)
@rate_limit(("token_user_ip", "user"))
def step_up(request, payload: StepUpIn):
    from .stepup import step_up as do_step_up

    return {"valid_until": do_step_up(request, payload.code)}


class MeOut(Schema):
    username: str
    display_name: str
    grants: list[dict]


@api.get("/me", response=MeOut, tags=["auth"], summary="当前账号及其授权")
def me(request):
    user = request.user
    return {
        "username": user.username,
        "display_name": user.display_name,
        "grants": [
            {"role": g.role, "unit_code": g.unit.code, "unit_name": g.unit.name}
            for g in user.grants.select_related("unit")
        ],
    }


class AuditOut(Schema):
    seq: int
    at: datetime
    actor_name: str
    unit_code: str
    ip: str | None
    action: str
    object_type: str
    object_id: str
    result: str
    detail: dict


@api.get(
    "/audit-log",
    response=list[AuditOut],
    tags=["audit"],
    summary="审计日志（按操作人、单位、操作、对象、时间查找）",
)
@paginate(Pages)
def audit_log(
    request,
    actor: str = "",
    unit: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
):
    if not audit.may_view(request.user):
        raise PermissionDenied(_("只有市级管理员可以查阅审计日志。"))
    return audit.search(
        actor=actor,
        unit=unit,
        action=action,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
    )


def register_routers():
    """Each app's router, mounted once (kept here so urls.py imports one thing)."""
    from hongyan.members.api import router as members_router
    from hongyan.orgs.api import router as orgs_router

    api.add_router("/", orgs_router)
    api.add_router("/", members_router)

    from hongyan.exports.api import router as exports_router

    api.add_router("/", exports_router)

    from hongyan.workdays.api import router as workdays_router

    api.add_router("/", workdays_router)

    from hongyan.needs.api import router as needs_router

    api.add_router("/", needs_router)

    from hongyan.care.api import router as care_router

    api.add_router("/", care_router)

    from hongyan.volunteers.api import router as volunteers_router

    api.add_router("/", volunteers_router)


register_routers()
