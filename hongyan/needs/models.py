"""Residents' needs (居民需求 / 社情民意): categories, the need itself, its timeline, its
photos, residents who joined it, and the notifications the worker sends.

A need lives at a place (`unit`: the compound, grid or building it is about, or the
community when only a typed address is known) and is owned by a unit (`owner`: by
default the community above that place, or the level its category names; escalation
moves it up). Scope follows the place: `scope_path = "unit__path"`, so a grid worker
sees the needs of their grid and every level above sees them too.

The resident's mobile is personal data: stored only encrypted (SM4-GCM) with an
HMAC-SM3 blind index beside it (rate limits and "my needs" look it up), shown masked.
The follow token of the public "follow my need" link is stored as its SHA-256 only."""

import hashlib
import secrets

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hongyan.core import pii

MOBILE_AAD = "needs.Need.resident_mobile"
MOBILE_PURPOSE = "need.mobile"
SUPPORTER_MOBILE_AAD = "needs.NeedSupporter.mobile"

TEXT_MAX = 2000
PHOTOS_MAX = 3
PHOTO_MAX_BYTES = 5 * 1024 * 1024


class DeadlineUnit(models.TextChoices):
    WORKING_DAYS = "days", _("个工作日")
    WORKING_HOURS = "hours", _("工作小时")


class NeedCategory(models.Model):
    """A kind of need with its limits. `city` empty = the default list every city sees;
    a city admin adds or overrides categories for their city (same code wins)."""

    city = models.ForeignKey(
        "orgs.Unit",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="need_categories",
        verbose_name=_("所属市"),
    )
    code = models.SlugField(_("代码"), max_length=40)  # stable: Open311 service_code
    name = models.CharField(_("名称"), max_length=30)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    deadline_value = models.PositiveSmallIntegerField(_("办理时限"), default=7)
    deadline_unit = models.CharField(
        _("时限单位"), max_length=5, choices=DeadlineUnit.choices, default=DeadlineUnit.WORKING_DAYS
    )
    response_hours = models.PositiveSmallIntegerField(
        _("响应时限（工作小时）"), default=24
    )  # accepted (or rejected) within this many working hours counts as responded in time
    owner_level = models.CharField(
        _("默认承办层级"), max_length=20, default="community"
    )  # a UnitKind: community / township / county …
    specialties = models.ManyToManyField(
        "members.Specialty", blank=True, related_name="need_categories", verbose_name=_("相关特长")
    )
    position = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["city", "code"], name="need_category_code_per_city"),
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(city__isnull=True),
                name="need_category_default_code",
            ),
        ]
        verbose_name = _("需求类别")
        verbose_name_plural = _("需求类别")

    def __str__(self):
        return self.name

    @property
    def deadline_label(self) -> str:
        return f"{self.deadline_value} {self.get_deadline_unit_display()}"


class Channel(models.TextChoices):
    PUBLIC_WEB = "public_web", _("居民网页")
    RESIDENT_ACCOUNT = "resident_account", _("居民账号")
    PROXY = "proxy", _("代办登记")
    DESK = "desk", _("窗口登记")
    HOTLINE = "hotline", _("热线转办")
    VISIT = "visit", _("走访发现")
    MEETING = "meeting", _("议事会议")
    OPEN311 = "open311", _("Open311 接口")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("待受理")
    ACCEPTED = "accepted", _("已受理")
    REJECTED = "rejected", _("不予受理")
    DISPATCHED = "dispatched", _("已派单")
    CLAIMED = "claimed", _("已认领")
    IN_PROGRESS = "in_progress", _("办理中")
    PAUSED = "paused", _("暂停（等待居民）")
    RESOLVED = "resolved", _("已办结待评价")
    CLOSED = "closed", _("已关闭")
    MERGED = "merged", _("已合并")


OPEN_STATUSES = (
    Status.SUBMITTED,
    Status.ACCEPTED,
    Status.DISPATCHED,
    Status.CLAIMED,
    Status.IN_PROGRESS,
    Status.PAUSED,
)
# the clock runs in these (not while paused, not once resolved)
RUNNING_STATUSES = tuple(s for s in OPEN_STATUSES if s != Status.PAUSED)
FINAL_STATUSES = (Status.REJECTED, Status.CLOSED, Status.MERGED)
RESOLVED_STATUSES = (Status.RESOLVED, Status.CLOSED)


class AssigneeKind(models.TextChoices):
    NONE = "", _("未派单")
    UNIT = "unit", _("单位")
    PARTY_ORG = "party_org", _("党组织")
    TEAM = "team", _("志愿服务队")
    PERSON = "person", _("个人")


def new_reference(at=None) -> str:
    """A reference number given at once: XQ + local date + 6 random characters."""
    at = timezone.localtime(at or timezone.now())
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone
    return f"XQ{at:%Y%m%d}" + "".join(secrets.choice(alphabet) for _ in range(6))


def hash_follow_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Need(models.Model):
    reference = models.CharField(_("编号"), max_length=20, unique=True)
    channel = models.CharField(_("来源渠道"), max_length=20, choices=Channel.choices)
    category = models.ForeignKey(
        NeedCategory, on_delete=models.PROTECT, related_name="needs", verbose_name=_("类别")
    )
    text = models.TextField(_("需求内容"), max_length=TEXT_MAX)

    # where: the most precise unit known; a typed address when the compound is not in the tree
    unit = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, related_name="needs", verbose_name=_("所在位置")
    )
    address = models.CharField(_("详细地址"), max_length=200, blank=True)
    # who owns it: the community (or the category's level) above the place; escalation
    # moves it up one level at a time (督办)
    owner = models.ForeignKey(
        "orgs.Unit",
        on_delete=models.PROTECT,
        related_name="owned_needs",
        verbose_name=_("承办单位"),
    )

    # who asked
    resident_name = models.CharField(_("居民姓名"), max_length=40)
    resident_mobile_enc = models.TextField(blank=True, editable=False)
    resident_mobile_index = models.CharField(
        max_length=pii.INDEX_HEX, blank=True, db_index=True, editable=False
    )
    resident_account = models.ForeignKey(
        "core.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="own_needs",
        verbose_name=_("居民账号"),
    )
    # who typed it in, when not the resident (proxy, desk, hotline, visit, meeting)
    filed_by = models.ForeignKey(
        "core.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="filed_needs",
        verbose_name=_("登记人"),
    )
    source_ref = models.CharField(
        _("来源记录"), max_length=60, blank=True
    )  # e.g. "visit:123", "meeting:45", the hotline's ticket number
    follow_token_hash = models.CharField(max_length=64, unique=True, editable=False)

    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.SUBMITTED
    )
    paused_from = models.CharField(max_length=12, blank=True, editable=False)
    reject_reason = models.CharField(_("不予受理原因"), max_length=200, blank=True)

    # dispatched to: a unit, a party organisation, a volunteer team, or a named person
    assignee_kind = models.CharField(
        _("派单对象类型"), max_length=10, choices=AssigneeKind.choices, blank=True
    )
    assigned_unit = models.ForeignKey(
        "orgs.Unit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_org = models.ForeignKey(
        "orgs.PartyOrganization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_needs",
    )
    assigned_team_id = models.PositiveBigIntegerField(
        null=True, blank=True
    )  # volunteers.Team, once that app lands
    assigned_team_name = models.CharField(max_length=100, blank=True)
    assignee = models.ForeignKey(
        "core.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_needs",
        verbose_name=_("承办人"),
    )
    # who took it on (claimed, or the named person who started it); the registered
    # member behind that account, if any, for the 我为群众办实事 tally
    handler = models.ForeignKey(
        "core.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="handled_needs",
        verbose_name=_("办理人"),
    )
    handler_member = models.ForeignKey(
        "members.Member",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="handled_needs",
    )

    # clock
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    response_due = models.DateTimeField(_("响应时限"))
    deadline = models.DateTimeField(_("办结时限"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)  # accepted or rejected
    dispatched_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(default=0)  # working seconds spent paused
    escalation_level = models.PositiveSmallIntegerField(_("督办级别"), default=0)
    reopen_count = models.PositiveSmallIntegerField(default=0)

    resolution = models.TextField(_("办理结果"), max_length=TEXT_MAX, blank=True)
    rating = models.PositiveSmallIntegerField(_("评价"), null=True, blank=True)  # 1–5
    rating_comment = models.CharField(_("评价意见"), max_length=500, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    supporters = models.PositiveIntegerField(_("附议人数"), default=0)
    generated = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    scope_path = "unit__path"

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["owner", "status"], name="need_owner_status"),
            models.Index(fields=["status", "deadline"], name="need_status_deadline"),
            models.Index(fields=["unit", "status"], name="need_unit_status"),
            models.Index(fields=["handler", "status"], name="need_handler_status"),
            models.Index(fields=["closed_at"], name="need_closed_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="need_rating_1_5",
            )
        ]
        verbose_name = _("居民需求")
        verbose_name_plural = _("居民需求")

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("needs:detail", args=[self.pk])

    resident_mobile, resident_mobile_masked, set_resident_mobile = pii.encrypted_accessors(
        "resident_mobile", aad=MOBILE_AAD, purpose=MOBILE_PURPOSE, mask=pii.mask_mobile
    )

    def issue_follow_token(self) -> str:
        """A new follow token; only its hash is kept. Returns the raw token (show it once)."""
        raw = secrets.token_urlsafe(18)
        self.follow_token_hash = hash_follow_token(raw)
        self.follow_token = raw  # transient, for the response to the filer
        return raw

    # predicates
    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, at=None) -> bool:
        return self.status in RUNNING_STATUSES and self.deadline < (at or timezone.now())

    @property
    def responded_in_time(self) -> bool | None:
        if self.responded_at is None:
            return None
        return self.responded_at <= self.response_due

    @property
    def resolved_in_time(self) -> bool | None:
        if self.resolved_at is None:
            return None
        return self.resolved_at <= self.deadline

    @property
    def assignee_label(self) -> str:
        if self.assignee_kind == AssigneeKind.UNIT and self.assigned_unit_id:
            return str(self.assigned_unit)
        if self.assignee_kind == AssigneeKind.PARTY_ORG and self.assigned_org_id:
            return str(self.assigned_org)
        if self.assignee_kind == AssigneeKind.TEAM:
            return self.assigned_team_name
        if self.assignee_kind == AssigneeKind.PERSON and self.assignee_id:
            return str(self.assignee)
        return ""


class PhotoStage(models.TextChoices):
    INTAKE = "intake", _("居民上传")
    RESOLUTION = "resolution", _("办结照片")


def photo_path(instance, filename):
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"needs/{timezone.now():%Y/%m}/{secrets.token_hex(12)}.{ext[:5]}"


class NeedPhoto(models.Model):
    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(max_length=10, choices=PhotoStage.choices, default=PhotoStage.INTAKE)
    file = models.FileField(upload_to=photo_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    scope_path = "need__unit__path"

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.file.name


class EventAction(models.TextChoices):
    SUBMITTED = "submitted", _("提交")
    ACCEPTED = "accepted", _("受理")
    REJECTED = "rejected", _("不予受理")
    DISPATCHED = "dispatched", _("派单")
    CLAIMED = "claimed", _("认领")
    STARTED = "started", _("开始办理")
    PAUSED = "paused", _("暂停")
    RESUMED = "resumed", _("恢复办理")
    RESOLVED = "resolved", _("办结")
    RATED = "rated", _("居民评价")
    CLOSED = "closed", _("关闭")
    REOPENED = "reopened", _("重新办理")
    TRANSFERRED = "transferred", _("转办")
    ESCALATED = "escalated", _("督办升级")
    MERGED = "merged", _("合并")
    JOINED = "joined", _("居民附议")
    WARNED = "warned", _("临期提醒")
    REVISIT = "revisit", _("回访提醒")
    NOTE = "note", _("备注")


class NeedEvent(models.Model):
    """One step of a need's timeline: who, when, what, and a note."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=60, blank=True)  # kept if the account goes
    action = models.CharField(max_length=12, choices=EventAction.choices)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    note = models.CharField(max_length=TEXT_MAX, blank=True)
    data = models.JSONField(default=dict, blank=True)

    scope_path = "need__unit__path"

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["need", "at"], name="need_event_need_at")]

    def __str__(self):
        return f"{self.need_id} {self.action}"


class NeedSupporter(models.Model):
    """A resident who joined an open need instead of filing a duplicate (附议)."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="supporter_rows")
    name = models.CharField(max_length=40)
    mobile_enc = models.TextField(blank=True, editable=False)
    mobile_index = models.CharField(
        max_length=pii.INDEX_HEX, blank=True, db_index=True, editable=False
    )
    account = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    follow_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    note = models.CharField(max_length=500, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)

    scope_path = "need__unit__path"

    def __str__(self):
        return f"{self.name} → {self.need_id}"

    # the same blind-index purpose as the need's own mobile: one search finds both
    mobile, mobile_masked, set_mobile = pii.encrypted_accessors(
        "mobile", aad=SUPPORTER_MOBILE_AAD, purpose=MOBILE_PURPOSE, mask=pii.mask_mobile
    )


class NotificationKind(models.TextChoices):
    DEADLINE_WARNING = "warn", _("临期提醒")
    ESCALATION = "escalate", _("超期督办")
    REVISIT = "revisit", _("回访提醒")


class NeedNotification(models.Model):
    """Something the worker told someone about a need. Unique per (need, kind, level), so
    two workers or a rerun never send the same notice twice: the insert is the lock."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=10, choices=NotificationKind.choices)
    level = models.PositiveSmallIntegerField(default=0)  # escalation level; reopen round
    unit = models.ForeignKey(
        "orgs.Unit", on_delete=models.CASCADE, related_name="need_notifications"
    )  # whose staff are told
    user = models.ForeignKey(
        "core.User",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="need_notifications",
    )  # the handler, when there is one
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    scope_path = "unit__path"

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["need", "kind", "level"], name="need_notification_once")
        ]

    def __str__(self):
        return f"{self.kind} {self.need_id}@{self.level}"
