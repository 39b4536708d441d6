"""Rate limits that hold across processes: `@rate_limit(...)` on a page view or an API
handler answers 429 with `Retry-After` once a key has used up its window.

The counters live in the database (`RateCounter`), not in Django's cache framework: the
DatabaseCache backend's `incr()` is a read followed by a write, so two gunicorn workers
can both read 4 and both write 5, and a brute-force run spread over processes slips
through. Here a hit is one `UPDATE … SET count = count + 1`, atomic on PostgreSQL and
SQLite alike, and every process sees the same row.

A rule is "N requests per S seconds" for one key (the client's IP, the signed-in user,
or the username tried plus the IP). Windows are fixed: the first hit opens one for S
seconds; hits after it runs out open a new one. The limits are settings
(`RATE_LIMITS`, each overridable by an environment variable, see docs/operations.md).
"""

import hashlib
import json
import math
import random
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from .client_address import request_client_address
from .middleware import current_ip
from .models import RateCounter


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Rule:
    count: int
    seconds: int


def rule(name: str) -> Rule | None:
    """The configured rule called `name` ("30/60": 30 hits per 60 s); None turns it off."""
    raw = settings.RATE_LIMITS.get(name)
    if not raw:
        return None
    count, seconds = (int(x) for x in str(raw).split("/"))
    return Rule(count, seconds) if count > 0 else None


def _key(name: str, ident: str) -> str:
    return hashlib.sha256(f"{name}|{ident}".encode()).hexdigest()


def hit(name: str, ident: str) -> None:
    """Count one hit of `ident` against the rule `name`; raise RateLimited past the limit."""
    limit = rule(name)
    if limit is None:
        return
    key, now = _key(name, ident), timezone.now()
    expires = now + timedelta(seconds=limit.seconds)
    counters = RateCounter.objects.filter(key=key)
    for _attempt in range(3):
        if counters.filter(expires_at__gt=now).update(count=F("count") + 1):
            break
        if counters.filter(expires_at__lte=now).update(count=1, expires_at=expires):
            break
        try:
            with transaction.atomic():
                RateCounter.objects.create(key=key, count=1, expires_at=expires)
        except IntegrityError:  # another process made it first: count against theirs
            continue
        if random.random() < 0.01:  # now and then, forget windows long over
            RateCounter.objects.filter(expires_at__lt=now - timedelta(hours=1)).delete()
        return
    row = counters.values("count", "expires_at").first()
    if row and row["count"] > limit.count:
        raise RateLimited(max(1, math.ceil((row["expires_at"] - now).total_seconds())))


def client_ip(request) -> str:
    return current_ip() or request_client_address(request) or "unknown"


def _submitted_username(request) -> str:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return ""
        value = data.get("username", "") if isinstance(data, dict) else ""
    else:
        value = request.POST.get("username", "")
    return str(value).strip().lower()[:150]


# who a rule counts: the key function for each kind
KEYS = {
    "ip": lambda request: client_ip(request),
    "user": lambda request: (
        f"user:{request.user.pk}"
        if getattr(request.user, "is_authenticated", False)
        else f"ip:{client_ip(request)}"
    ),
    "username_ip": lambda request: f"{_submitted_username(request)}|{client_ip(request)}",
}


def check(request, *rules: tuple[str, str]) -> None:
    """Count the request against each (rule name, key kind); raise RateLimited if any is
    used up."""
    for name, kind in rules:
        hit(name, KEYS[kind](request))


def too_many_page(request, retry_after: int) -> HttpResponse:
    message = _("操作过于频繁，请 %(seconds)s 秒后再试。") % {"seconds": retry_after}
    html = render_to_string("core/rate_limited.html", {"message": message}, request=request)
    response = HttpResponse(html, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limit(*rules: tuple[str, str], methods=("POST",), when=None):
    """Decorate a page view or an API handler. `rules` are (rule name, key kind) pairs,
    e.g. ("login_ip", "ip"); only `methods` are counted, and only if `when(request)` (if
    given) is true. A page gets a Chinese 429 page; an API handler raises RateLimited,
    which the API turns into {"code": "rate_limited", ...}."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods and (when is None or when(request)):
                try:
                    check(request, *rules)
                except RateLimited as exc:
                    if request.path.startswith("/api/"):
                        raise
                    return too_many_page(request, exc.retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
