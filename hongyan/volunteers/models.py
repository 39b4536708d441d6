"""Volunteer teams, the services they publish, and the hours people give.

- A **Volunteer** is a person who serves: a party member from the register (linked to
  the `Member`) or a resident who signed up; their home unit places them in the tree.
- A **Team** (志愿服务队) has a kind from a managed list (网格先锋队, 法律援助队, …), a
  home unit, a leader, members and skills.
- A **Service** is one published activity (what, where, when, how many, skills wanted).
  A **Participation** is one person on one service: signed up or assigned, checked in
  and out (or entered afterwards by the leader, marked as such), then approved.
- Approved minutes are the hours record (志愿服务记录与证明出具办法: true and complete,
  actual service only); a **Certificate** is a free, verifiable snapshot of it.
"""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hongyan.core import pii

MOBILE_AAD = "volunteers.Volunteer.mobile"
MOBILE_PURPOSE = "volunteer.mobile"

# star levels (星级志愿者) at these approved hours
STAR_HOURS = (100, 300, 600, 1000, 1500)

DEFAULT_TEAM_KINDS = (  # migration 0002 seeded them; post_migrate keeps them there
    "网格先锋队",
    "法律援助队",
    "知识科普宣讲队",
    "暖心小分队",
    "文明实践队",
    "平安巡逻队",
    "环境整治队",
)


class TeamKind(models.Model):
    """A managed list of team kinds, seeded with the source's kinds."""

    name = models.CharField(_("名称"), max_length=20, unique=True)
    position = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("队伍类别")
        verbose_name_plural = _("队伍类别")

    def __str__(self):
        return self.name


class Volunteer(models.Model):
    unit = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, related_name="volunteers", verbose_name=_("居住单位")
    )
    # the compound the home lies in, when known (nearness ranking reads unit.path)
    compound = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(_("姓名"), max_length=40)
    member = models.OneToOneField(
        "members.Member",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="volunteer",
        verbose_name=_("党员"),
    )
    account = models.OneToOneField(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="volunteer"
    )
    mobile_enc = models.TextField(blank=True, editable=False)
    mobile_index = models.CharField(
        max_length=pii.INDEX_HEX, blank=True, db_index=True, editable=False
    )
    specialties = models.ManyToManyField(
        "members.Specialty", blank=True, related_name="volunteers", verbose_name=_("特长")
    )
    active = models.BooleanField(_("在册"), default=True)
    # the last withdrawal (退出): when and why; cleared when the person joins again
    withdrawn_at = models.DateTimeField(_("退出时间"), null=True, blank=True)
    withdrawn_reason = models.CharField(_("退出原因"), max_length=200, blank=True)
    generated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_path = "unit__path"

    class Meta:
        ordering = ["unit__path", "name", "pk"]
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")

    def __str__(self):
        return self.name

    mobile, mobile_masked, set_mobile = pii.encrypted_accessors(
        "mobile", aad=MOBILE_AAD, purpose=MOBILE_PURPOSE, mask=pii.mask_mobile
    )


class TeamStatus(models.TextChoices):
    ACTIVE = "active", _("活跃")
    PAUSED = "paused", _("暂停")
    DISBANDED = "disbanded", _("已解散")


class Team(models.Model):
    name = models.CharField(_("队名"), max_length=60)
    kind = models.ForeignKey(
        TeamKind, on_delete=models.PROTECT, related_name="teams", verbose_name=_("类别")
    )
    unit = models.ForeignKey(
        "orgs.Unit",
        on_delete=models.PROTECT,
        related_name="volunteer_teams",
        verbose_name=_("所属单位"),
    )
    leader = models.ForeignKey(
        Volunteer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
        verbose_name=_("队长"),
    )
    members = models.ManyToManyField(
        Volunteer, through="TeamMembership", related_name="teams", verbose_name=_("队员")
    )
    skills = models.ManyToManyField(
        "members.Specialty", blank=True, related_name="teams", verbose_name=_("技能")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=TeamStatus.choices, default=TeamStatus.ACTIVE
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    generated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_path = "unit__path"

    class Meta:
        ordering = ["unit__path", "name", "pk"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="team_name_in_unit")]
        verbose_name = _("志愿服务队")
        verbose_name_plural = _("志愿服务队")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("volunteers:team", args=[self.pk])


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="memberships")
    joined_on = models.DateField(_("入队日期"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "volunteer"], name="team_member_once")
        ]

    def __str__(self):
        return f"{self.volunteer} → {self.team}"


class ServiceKind(models.TextChoices):
    ELDERLY = "elderly", _("助老助残")
    ENVIRONMENT = "environment", _("环境整治")
    LEGAL = "legal", _("法律咨询")
    SCIENCE = "science", _("科普宣讲")
    CULTURE = "culture", _("文体活动")
    PATROL = "patrol", _("平安巡逻")
    HEALTH = "health", _("健康义诊")
    OTHER = "other", _("其他")


class ServiceStatus(models.TextChoices):
    PUBLISHED = "published", _("已发布")
    CANCELLED = "cancelled", _("已取消")


class Service(models.Model):
    """One published service activity, by a team or by a community (team empty)."""

    unit = models.ForeignKey(
        "orgs.Unit",
        on_delete=models.PROTECT,
        related_name="volunteer_services",
        verbose_name=_("服务单位"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
        verbose_name=_("服务队"),
    )
    title = models.CharField(_("服务内容"), max_length=100)
    kind = models.CharField(
        _("服务类别"), max_length=12, choices=ServiceKind.choices, default=ServiceKind.OTHER
    )
    place = models.CharField(_("地点"), max_length=100)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    capacity = models.PositiveSmallIntegerField(_("人数"))
    skills = models.ManyToManyField(
        "members.Specialty", blank=True, related_name="+", verbose_name=_("所需技能")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ServiceStatus.choices, default=ServiceStatus.PUBLISHED
    )
    created_by = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    generated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_path = "unit__path"

    class Meta:
        ordering = ["-starts_at", "pk"]
        indexes = [models.Index(fields=["unit", "starts_at"], name="service_unit_start")]
        verbose_name = _("志愿服务")
        verbose_name_plural = _("志愿服务")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("volunteers:service", args=[self.pk])


class Participation(models.Model):
    """One person on one service. `minutes` are set at check-out; they count once
    `approved_at` is set (approving again changes nothing)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="participations")
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, related_name="participations"
    )
    assigned = models.BooleanField(_("指派"), default=False)
    signed_up_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checkin_at = models.DateTimeField(_("签到"), null=True, blank=True)
    checkout_at = models.DateTimeField(_("签退"), null=True, blank=True)
    # entered afterwards by the leader, not on the volunteer's phone at the time
    entered_by_leader = models.BooleanField(_("队长补录"), default=False)
    minutes = models.PositiveIntegerField(null=True, blank=True)
    approved_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    approved_by = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    generated = models.BooleanField(default=False)

    scope_path = "service__unit__path"

    class Meta:
        ordering = ["service", "signed_up_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["service", "volunteer"], name="participation_once")
        ]
        indexes = [
            models.Index(fields=["volunteer", "approved_at"], name="participation_vol_approved")
        ]

    def __str__(self):
        return f"{self.volunteer} @ {self.service}"

    @property
    def hours(self) -> float:
        return round((self.minutes or 0) / 60, 2)


class Certificate(models.Model):
    """A free volunteer service certificate (志愿服务证明): a snapshot of the record,
    checked by anyone at /certificates/verify/{code}."""

    code = models.CharField(max_length=20, unique=True)
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="certificates")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=40)
    hours = models.DecimalField(max_digits=8, decimal_places=2)
    deeds = models.PositiveIntegerField()
    star = models.PositiveSmallIntegerField()
    first_on = models.DateField(null=True, blank=True)
    last_on = models.DateField(null=True, blank=True)
    issued_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    scope_path = "unit__path"

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self):
        return self.code
