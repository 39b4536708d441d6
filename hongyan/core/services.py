"""Account writes: signing in (with lockout and, for the three administrators, a TOTP),
tokens, passwords, accounts, grants (三员分立), second-factor resets. All audited.

Every session and token of a user ends when the user is disabled, their grants change
or their password changes (`sessions_end`)."""

import secrets
import string
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit, factors
from .errors import DomainError
from .models import ApiToken, FactorReset, Grant, User, hash_token
from .roles import TRIAD, Role


def _locked_message(user: User) -> str:
    minutes = max(1, int((user.locked_until - timezone.now()).total_seconds() // 60) + 1)
    return _("登录失败次数过多，账号已锁定，请 %(m)d 分钟后再试。") % {"m": minutes}


def login_check(*, username: str, password: str) -> User:
    """Check a username and password, counting failures towards a lockout.

    Raises DomainError (401 for a wrong password, 423 while locked). The same message
    answers an unknown username and a wrong password, so accounts cannot be probed.
    Failures are committed before the error is raised: the count and the audit row stay."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=username).first()
        outcome = _login_outcome(user, username, password)
    if outcome == "ok":
        return user
    if outcome == "locked":
        raise DomainError("account_locked", _locked_message(user), status=423)
    raise DomainError("invalid_credentials", _("用户名或密码不正确。"), status=401)


def _login_outcome(user: User | None, username: str, password: str) -> str:
    if user is None:
        audit.record(
            "auth.login",
            result="failed",
            actor_name=username[:150],
            detail={"reason": "unknown user"},
        )
        return "wrong"
    if user.is_locked():
        audit.record("auth.login", actor=user, result="locked")
        return "locked"
    if not user.is_active or not user.check_password(password):
        user.failed_logins += 1
        if user.failed_logins < settings.LOCKOUT_ATTEMPTS:
            user.save(update_fields=["failed_logins"])
            audit.record("auth.login", actor=user, result="failed")
            return "wrong"
        user.failed_logins = 0
        user.locked_until = timezone.now() + timedelta(minutes=settings.LOCKOUT_MINUTES)
        user.save(update_fields=["failed_logins", "locked_until"])
        audit.record("auth.login", actor=user, result="failed")
        audit.record(
            "auth.lockout",
            actor=user,
            result="locked",
            detail={"minutes": settings.LOCKOUT_MINUTES},
        )
        return "locked"
    user.failed_logins = 0
    user.locked_until = None
    user.last_login = timezone.now()
    user.save(update_fields=["failed_logins", "locked_until", "last_login"])
    audit.record("auth.login", actor=user)
    return "ok"


def logout_record(*, actor: User) -> None:
    audit.record("auth.logout", actor=actor)


def second_factor_required(user: User) -> bool:
    """The three administrators (三员) sign in with a TOTP as well as the password."""
    roles = getattr(user, "_triad_roles", None)
    if roles is None:
        roles = set(user.grants.filter(role__in=TRIAD).values_list("role", flat=True))
        user._triad_roles = roles
    return bool(roles)


def password_change_reason(user: User) -> str | None:
    """Why the user must change the password before anything else (None: no need)."""
    if user.must_change_password:
        return _("这是管理员为您设置的初始密码，请先修改密码。")
    expires = user.password_expires_at()
    if expires is not None and expires <= timezone.now():
        return _("您的密码已使用超过 %(d)d 天，请修改密码后继续。") % {
            "d": settings.PASSWORD_MAX_AGE_DAYS
        }
    return None


def sessions_end(user: User) -> None:
    """End every session (their auth hash goes stale) and every token of the user."""
    User.objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)
    user.refresh_from_db(fields=["session_version"])
    user.api_tokens.all().delete()


def token_issue(*, username: str, password: str, totp: str = "") -> str:
    """A bearer token for a username and password. The three administrators add a
    current TOTP (`totp`); anyone who sends one gets a token already stepped up
    (core.stepup) for `STEP_UP_MINUTES`."""
    user = login_check(username=username, password=password)
    reason = password_change_reason(user)
    if reason:
        raise DomainError("password_change_required", reason, status=403)
    if second_factor_required(user) and not totp:
        raise DomainError(
            "totp_required",
            _("管理员账号取令牌需要动态口令：请在 totp 字段填写身份验证器上的 6 位数字。"),
            status=401,
            field="totp",
        )
    if totp:
        factors.totp_verify(user, totp, purpose="auth.token")
    with transaction.atomic():
        token, raw = ApiToken.issue(user)
        if totp:
            token.stepped_up_until = timezone.now() + timedelta(minutes=settings.STEP_UP_MINUTES)
            token.save(update_fields=["stepped_up_until"])
        audit.record("auth.token", actor=user, obj=token)
    return raw


def token_get(raw: str) -> ApiToken | None:
    """The live token for a raw bearer value (its user active), noting its use."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_user(raw: str) -> User | None:
    token = token_get(raw)
    return token.user if token else None


@transaction.atomic
def password_change(*, actor: User, old_password: str, new_password: str) -> None:
    if not actor.check_password(old_password):
        raise DomainError("wrong_password", _("原密码不正确。"), field="old_password")
    password_validation.validate_password(new_password, actor)
    if actor.check_password(new_password):
        raise DomainError("same_password", _("新密码不能与原密码相同。"), field="new_password")
    actor.set_password(new_password)
    actor.password_changed_at = timezone.now()
    actor.must_change_password = False
    actor.save(update_fields=["password", "password_changed_at", "must_change_password"])
    # a changed password ends every other session (the auth hash holds the password) and
    # every token issued before
    actor.api_tokens.all().delete()
    audit.record("auth.password_change", actor=actor, obj=actor)


def _check_separation(user: User, role: str) -> None:
    """三员分立: an account holding one of the three administrator roles holds nothing else."""
    held = set(user.grants.values_list("role", flat=True)) - {role}
    if not held:
        return
    if role in TRIAD or held & TRIAD:
        names = "、".join(sorted(str(Role(r).label) for r in held | {role}))
        raise DomainError(
            "separation_of_duties",
            _("三员分立：系统管理员、安全管理员、审计管理员的账号不能兼任其他角色（%(roles)s）。")
            % {"roles": names},
            status=409,
            field="role",
        )


@transaction.atomic
def grant_add(*, actor, user: User, role: str, unit) -> Grant:
    User.objects.select_for_update().filter(pk=user.pk).first()  # one grant change at a time
    _check_separation(user, role)
    grant, created = Grant.objects.get_or_create(user=user, role=role, unit=unit)
    if created:
        audit.record("grant.add", actor=actor, obj=grant, unit=unit, detail={"role": role})
        sessions_end(user)  # a new role or unit: sign in again to take it up
    return grant


@transaction.atomic
def grant_remove(*, actor, grant: Grant) -> None:
    user, unit, role = grant.user, grant.unit, grant.role
    audit.record("grant.remove", actor=actor, obj=grant, unit=unit, detail={"role": role})
    grant.delete()
    sessions_end(user)


# --- accounts (the system administrator's work) ------------------------------------------


def _temporary_password() -> str:
    """A random password meeting the policy, to be changed at the first sign-in."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"Hy{body}-{secrets.randbelow(90) + 10}"


@transaction.atomic
def account_create(*, actor, username: str, display_name: str = "") -> tuple[User, str]:
    """A new account with a temporary password (shown once), to be changed at first
    sign-in. It holds no grant yet: the security administrator gives it its roles."""
    username = username.strip()
    if not username or len(username) > 150 or not all(c.isalnum() or c in "._-@" for c in username):
        raise DomainError(
            "bad_username",
            _("用户名只能由字母、数字和 . _ - @ 组成，长度 1–150。"),
            field="username",
        )
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(
            "username_taken", _("用户名“%(u)s”已被使用。") % {"u": username}, field="username"
        )
    password = _temporary_password()
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=username,
                password=password,
                display_name=display_name.strip()[:40],
                must_change_password=True,
                password_changed_at=timezone.now(),
            )
    except IntegrityError:
        raise DomainError(
            "username_taken", _("用户名“%(u)s”已被使用。") % {"u": username}, field="username"
        ) from None
    audit.record("account.create", actor=actor, obj=user)
    return user, password


@transaction.atomic
def account_set_active(*, actor, user: User, active: bool, reason: str = "") -> None:
    if user.pk == actor.pk:
        raise DomainError("own_account", _("不能停用或启用自己的账号。"), status=409)
    if user.is_active == active:
        return
    user.is_active = active
    fields = ["is_active"]
    if active:
        user.last_login = timezone.now()  # the idle clock starts again
        fields.append("last_login")
    user.save(update_fields=fields)
    if not active:
        sessions_end(user)
    audit.record(
        "account.enable" if active else "account.disable",
        actor=actor,
        obj=user,
        detail={"reason": reason} if reason else {},
    )


@transaction.atomic
def account_reset_password(*, actor, user: User) -> str:
    """A new temporary password (shown once); the account must change it at sign-in."""
    if user.pk == actor.pk:
        raise DomainError("own_account", _("请在“修改密码”页修改自己的密码。"), status=409)
    password = _temporary_password()
    user.set_password(password)
    user.must_change_password = True
    user.password_changed_at = timezone.now()
    user.failed_logins, user.locked_until = 0, None
    user.save(
        update_fields=[
            "password",
            "must_change_password",
            "password_changed_at",
            "failed_logins",
            "locked_until",
        ]
    )
    sessions_end(user)
    audit.record("account.password_reset", actor=actor, obj=user)
    return password


def disable_idle_accounts(now=None) -> int:
    """Disable accounts unused for `ACCOUNT_IDLE_DAYS` (0: never). Idempotent: an
    account already disabled is left alone, so a second run does nothing."""
    days = settings.ACCOUNT_IDLE_DAYS
    if not days:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    idle = User.objects.filter(is_active=True).filter(
        Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff)
    )
    done = 0
    for user in idle.iterator():
        with transaction.atomic():
            changed = User.objects.filter(pk=user.pk, is_active=True).update(is_active=False)
            if not changed:  # another worker got there first
                continue
            sessions_end(user)
            audit.record(
                "account.disable",
                actor_name="hongyan worker",
                obj=user,
                detail={"reason": "idle", "days": days},
            )
            done += 1
    return done


# --- the second factor ---------------------------------------------------------------------


@transaction.atomic
def totp_enrol_confirm(*, actor: User, code: str) -> list[str]:
    """Confirm the pending authenticator with a code from it; returns the recovery codes
    (shown once)."""
    device = factors.totp_confirm(actor, code)
    codes = factors.recovery_codes_issue(actor)
    audit.record("auth.totp_enrol", actor=actor, obj=actor, detail={"device": device.pk})
    return codes


@transaction.atomic
def recovery_codes_renew(*, actor: User) -> list[str]:
    codes = factors.recovery_codes_issue(actor)
    audit.record("auth.recovery_codes", actor=actor, obj=actor)
    return codes


def _check_factor_admin(actor, user: User) -> None:
    from .scope import visible_paths

    if not visible_paths(actor, "factor.reset"):
        raise PermissionDenied(_("只有系统管理员或安全管理员可以重置他人的动态口令。"))


@transaction.atomic
def factor_reset_request(*, actor, user: User, reason: str) -> FactorReset:
    _check_factor_admin(actor, user)
    reason = " ".join((reason or "").split())
    if len(reason) < 4:
        raise DomainError(
            "reason_required", _("请写明原因（至少 4 个字），例如“手机丢失”。"), field="reason"
        )
    if not factors.has_factor(user):
        raise DomainError("no_factor", _("该账号还没有绑定动态口令，无需重置。"), status=409)
    if FactorReset.objects.filter(user=user, status=FactorReset.Status.PENDING).exists():
        raise DomainError("reset_pending", _("该账号已有一个待批准的重置申请。"), status=409)
    reset = FactorReset.objects.create(user=user, reason=reason[:200], requested_by=actor)
    audit.record("factor_reset.request", actor=actor, obj=reset, detail={"user": user.username})
    return reset


@transaction.atomic
def factor_reset_decide(*, actor, reset: FactorReset, approve: bool) -> FactorReset:
    """Another administrator approves (the factor is removed, sessions end) or rejects."""
    _check_factor_admin(actor, reset.user)
    reset = FactorReset.objects.select_for_update().get(pk=reset.pk)
    if reset.status != FactorReset.Status.PENDING:
        raise DomainError("reset_decided", _("这个申请已经处理过了。"), status=409)
    if actor.pk in (reset.requested_by_id, reset.user_id):
        raise DomainError(
            "second_admin_required",
            _("重置动态口令需要另一位管理员批准：申请人和本人都不能批准。"),
            status=409,
        )
    reset.status = FactorReset.Status.APPROVED if approve else FactorReset.Status.REJECTED
    reset.decided_by, reset.decided_at = actor, timezone.now()
    reset.save(update_fields=["status", "decided_by", "decided_at"])
    if approve:
        factors.remove_all(reset.user)
        sessions_end(reset.user)
    audit.record(
        "factor_reset.approve" if approve else "factor_reset.reject",
        actor=actor,
        obj=reset,
        detail={"user": reset.user.username},
    )
    return reset
