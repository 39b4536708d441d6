"""Accounts, their grants, API tokens and the audit log."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from .roles import Role


class User(AbstractUser):
    display_name = models.CharField(_("姓名"), max_length=40, blank=True)
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    # an administrator issued the password: it must be changed at the next sign-in
    must_change_password = models.BooleanField(default=False)
    # raised to end every session at once (disabled, grants changed): sessions carry a
    # hash of the password and this number, and Django drops a session whose hash is stale
    session_version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("账号")
        verbose_name_plural = _("账号")

    def __str__(self):
        return self.display_name or self.username

    def is_locked(self, at=None) -> bool:
        return bool(self.locked_until and self.locked_until > (at or timezone.now()))

    def password_expires_at(self):
        """When the password runs out (None: expiry is off)."""
        days = settings.PASSWORD_MAX_AGE_DAYS
        if not days:
            return None
        return (self.password_changed_at or self.date_joined) + timedelta(days=days)

    def _get_session_auth_hash(self, secret=None):
        key_salt = "hongyan.core.User.session_auth_hash"
        value = f"{self.password}|{self.session_version}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()


class Grant(models.Model):
    """A role held over one unit's subtree."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices)
    unit = models.ForeignKey("orgs.Unit", on_delete=models.CASCADE, related_name="grants")
    created_at = models.DateTimeField(auto_now_add=True)

    scope_path = "unit__path"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role", "unit"], name="grant_once")]
        verbose_name = _("授权")
        verbose_name_plural = _("授权")

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.unit}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token; only its hash is stored, so a database leak reveals no token."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    # a TOTP proved for this token (POST /api/v1/auth/step-up) opens a short window for
    # revealing or exporting personal data (core.stepup)
    stepped_up_until = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"token #{self.pk} of {self.user}"

    @classmethod
    def issue(cls, user) -> tuple["ApiToken", str]:
        raw = "hy_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            key_hash=hash_token(raw),
            expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_DAYS),
        )
        return token, raw


class FactorReset(models.Model):
    """Resetting someone's second factor (a lost phone) takes two administrators: one
    asks, another approves; only then are the account's TOTP and recovery codes removed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待批准")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="factor_resets")
    reason = models.CharField(_("原因"), max_length=200)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status="pending"),
                name="one_pending_factor_reset",
            )
        ]

    def __str__(self):
        return f"factor reset of {self.user} ({self.status})"


class AuditEntry(models.Model):
    """One audited event. Rows are only ever appended; each carries the HMAC-SM3 of its
    content and of the previous row, so an edited or deleted row breaks the chain."""

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(max_length=150, blank=True)
    unit_code = models.CharField(max_length=24, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=60, blank=True)
    result = models.CharField(max_length=20, default="ok")
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")

    def __str__(self):
        return f"#{self.seq} {self.action} {self.result}"


class AuditHead(models.Model):
    """The chain's tip (a single row). Locking it serialises appends, and it remembers
    the last row so that deleting rows at the end of the chain is noticed too.

    `first_seq`/`first_prev_hash` anchor the chain's start: 1 and the genesis hash until
    `purge_audit` removes old rows, then the first kept row and the hash it links to
    (the purge's own audit row records the same anchor, under the chain's key)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    first_seq = models.PositiveBigIntegerField(default=1)
    first_prev_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self):
        return f"audit head at #{self.last_seq}"


class RateCounter(models.Model):
    """One rate-limit window: how many hits a key has had until `expires_at`
    (see core.ratelimit)."""

    key = models.CharField(max_length=64, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.key}: {self.count} until {self.expires_at}"
