"""Account writes: signing in (with lockout), tokens, passwords, grants. All audited."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .errors import DomainError
from .models import ApiToken, Grant, User, hash_token


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


def token_issue(*, username: str, password: str) -> str:
    user = login_check(username=username, password=password)
    with transaction.atomic():
        token, raw = ApiToken.issue(user)
        audit.record("auth.token", actor=user, obj=token)
    return raw


def token_user(raw: str) -> User | None:
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
    return token.user


@transaction.atomic
def password_change(*, actor: User, old_password: str, new_password: str) -> None:
    if not actor.check_password(old_password):
        raise DomainError("wrong_password", _("原密码不正确。"), field="old_password")
    password_validation.validate_password(new_password, actor)
    actor.set_password(new_password)
    actor.password_changed_at = timezone.now()
    actor.save(update_fields=["password", "password_changed_at"])
    # a changed password ends every token issued before
    actor.api_tokens.all().delete()
    audit.record("auth.password_change", actor=actor, obj=actor)


@transaction.atomic
def grant_add(*, actor, user: User, role: str, unit) -> Grant:
    grant, created = Grant.objects.get_or_create(user=user, role=role, unit=unit)
    if created:
        audit.record("grant.add", actor=actor, obj=grant, unit=unit, detail={"role": role})
    return grant
