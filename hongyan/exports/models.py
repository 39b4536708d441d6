"""An export request: what someone asked to take out of the system, who approved it, and
the (encrypted, expiring) file it produced."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExportRequest(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("等待审批")
        REFUSED = "refused", _("已拒绝")
        READY = "ready", _("可以下载")
        EXPIRED = "expired", _("已过期")

    scope_path = "unit__path"

    ref = models.CharField(_("申请编号"), max_length=32, unique=True)
    kind = models.CharField(max_length=40)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="export_requests"
    )
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    # the filters, encrypted (a search may be an ID number); `filters_shown` is masked
    filters_enc = models.TextField(blank=True)
    filters_shown = models.JSONField(default=dict, blank=True)
    masked = models.BooleanField(default=True)
    reason = models.CharField(max_length=500, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    needs_approval = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="export_decisions",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    stored = models.CharField(max_length=64, blank=True)  # file under MEDIA_ROOT/exports
    filename = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    generated_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "expires_at"])]

    def __str__(self):
        return f"{self.kind} {self.ref}"

    def is_expired(self, at=None) -> bool:
        if self.state == self.State.EXPIRED:
            return True
        return (
            self.state == self.State.READY
            and self.expires_at is not None
            and self.expires_at <= (at or timezone.now())
        )
