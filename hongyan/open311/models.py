"""API keys for Open311 GeoReport v2 clients (a hotline system, a city app). Issued by
`hongyan manage open311_key --name NAME` (the key is printed once, only its SHA-256 is
kept) and revoked with `--revoke NAME`."""

import hashlib
import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Open311Key(models.Model):
    name = models.CharField(_("名称"), max_length=60, unique=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # where a request with only a typed address is filed (a community, usually)
    unit = models.ForeignKey(
        "orgs.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("默认单位"),
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Open311 密钥")
        verbose_name_plural = _("Open311 密钥")

    def __str__(self):
        return self.name

    @classmethod
    def issue(cls, name: str, unit=None) -> tuple["Open311Key", str]:
        raw = "o311_" + secrets.token_urlsafe(24)
        return cls.objects.create(name=name, key_hash=hash_key(raw), unit=unit), raw

    @classmethod
    def find(cls, raw: str) -> "Open311Key | None":
        if not raw:
            return None
        return cls.objects.filter(key_hash=hash_key(raw), revoked_at__isnull=True).first()
