"""The second factor: a TOTP authenticator (django-otp's otp_totp) and ten single-use
recovery codes (otp_static), shown once.

`totp_verify` refuses, each with its own code and message: no authenticator yet, too many
wrong codes in a row (django-otp's throttle: 1, 2, 4 … seconds), a code already used (a
replay: a code is good once, and only codes newer than the last one used count) and a
wrong code. The device row is locked while checking, so two requests racing with one
code cannot both pass; failures are committed before the error is raised."""

import time
from base64 import b32encode

import segno
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import audit
from .errors import DomainError

RECOVERY_CODES = 10
DEVICE_NAME = "authenticator"
RECOVERY_NAME = "recovery"


def totp_device(user, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("-pk").first()


def has_factor(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def totp_secret(device: TOTPDevice) -> str:
    """The secret in Base32, as authenticator apps take it by hand (groups of four)."""
    raw = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as a QR code, an SVG data URI for an <img> (allowed by the CSP)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def totp_now(device: TOTPDevice, at: float | None = None) -> str:
    """The code the authenticator shows now (for the demo's printout and for tests)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = at if at is not None else time.time()
    return f"{totp.token():0{device.digits}d}"


@transaction.atomic
def totp_start(user) -> TOTPDevice:
    """The pending (unconfirmed) authenticator of a user enrolling, made once."""
    device = totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_create_confirmed(user) -> TOTPDevice:
    """An authenticator set up without the enrolment page (the demo accounts)."""
    remove_all(user)
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)


def _clean(code) -> str:
    return "".join(str(code or "").split())


def _replayed(device: TOTPDevice, code: str) -> bool:
    """Whether `code` is a code of this device already spent (a step at or before last_t)."""
    if not code.isdigit() or device.last_t < 0:
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    now_t = totp.t()
    for t in range(now_t - device.tolerance, now_t + device.tolerance + 1):
        if t <= device.last_t and hotp(device.bin_key, t, device.digits) == int(code):
            return True
    return False


def _check(device: TOTPDevice, code: str) -> str:
    """ "ok", "throttled:<seconds>", "replayed" or "wrong" (the device row locked)."""
    allowed, info = device.verify_is_allowed()
    if not allowed:
        until = (info or {}).get("locked_until")
        wait = max(1, int((until - timezone.now()).total_seconds()) + 1) if until else 1
        return f"throttled:{wait}"
    if len(code) == device.digits and code.isdigit() and device.verify_token(code):
        return "ok"
    if len(code) != device.digits or not code.isdigit():
        device.throttle_increment(commit=True)
        return "wrong"
    # verify_token counted the failure already
    return "replayed" if _replayed(device, code) else "wrong"


def _raise_for(outcome: str):
    if outcome.startswith("throttled:"):
        raise DomainError(
            "totp_throttled",
            _("动态口令错误次数过多，请 %(s)s 秒后再试。") % {"s": outcome.split(":")[1]},
            status=429,
            field="code",
        )
    if outcome == "replayed":
        raise DomainError(
            "totp_replayed",
            _("这个动态口令已经用过了，每个口令只能用一次：请等身份验证器显示新的口令后再输入。"),
            status=401,
            field="code",
        )
    raise DomainError(
        "totp_invalid",
        _("动态口令不正确：请输入身份验证器上当前显示的 6 位数字，并确认手机时间准确。"),
        status=401,
        field="code",
    )


def totp_verify(user, code, *, purpose: str, confirmed: bool = True) -> TOTPDevice:
    """Check a TOTP code of the user's authenticator; the outcome is audited (`purpose`
    names the action, e.g. "auth.login_totp", "auth.step_up")."""
    code = _clean(code)
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=confirmed)
            .order_by("-pk")
            .first()
        )
        outcome = "none" if device is None else _check(device, code)
        audit.record(
            purpose,
            actor=user,
            result="ok" if outcome == "ok" else "failed",
            detail={} if outcome == "ok" else {"reason": outcome.split(":")[0]},
        )
    if outcome == "none":
        raise DomainError(
            "totp_not_enrolled",
            _("您还没有绑定身份验证器：请先在“动态口令”页绑定。"),
            status=403,
            field="code",
        )
    if outcome != "ok":
        _raise_for(outcome)
    return device


def totp_confirm(user, code) -> TOTPDevice:
    """Confirm the pending authenticator with its first code; the old one, if any, goes."""
    device = totp_verify(user, code, purpose="auth.totp_confirm", confirmed=False)
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device


def recovery_codes_issue(user) -> list[str]:
    """Ten new single-use recovery codes (the old ones stop working); shown once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def recovery_code_use(user, code) -> bool:
    """Spend one recovery code (audited); True when it was one of the user's."""
    code = _clean(code).lower()
    with transaction.atomic():
        device = StaticDevice.objects.select_for_update().filter(user=user).first()
        ok = bool(device and code and device.verify_token(code))
        audit.record(
            "auth.recovery_code",
            actor=user,
            result="ok" if ok else "failed",
            detail={"left": recovery_codes_left(user)} if ok else {},
        )
    return ok


def remove_all(user) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
