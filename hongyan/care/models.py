"""The care registry (关爱对象) and its visits (走访).

People in special groups — elderly people living alone or as a couple (高龄 80+),
disabled people, 低保 and 特困 households, left-behind children, others — each with the
visit frequency they need (the group's default, or their own) and who visits them (a
三户四长 head from the member register, a named account, or a volunteer team).

A recipient lives at a place (`unit`: compound, natural village, grid or building), so
scope follows the place (`scope_path = "unit__path"`). `next_due` is kept on the row
(the last visit that saw the person, or the registration day, plus the interval), so the
phone list and the overdue counts are single indexed queries.

Children under 14 are sensitive personal data (个人信息保护法 §28, §31): their guardian's
consent is recorded (who, when, how); only roles with `care.minors` see them at all
(others get 404 and find them absent from every list); their names are masked in lists
and every read of their record is audited. `minor_until` (the 14th birthday) makes
"is a minor today" one indexed comparison.

ID numbers and mobiles are stored only encrypted (SM4-GCM) with a blind index beside
them, shown masked, as in the member register."""

from datetime import date, timedelta

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hongyan.core import pii

ID_AAD = "care.CareRecipient.id_number"
MOBILE_AAD = "care.CareRecipient.mobile"
ID_PURPOSE = "care.id_number"
MOBILE_PURPOSE = "care.mobile"

MINOR_AGE = 14  # under 14: sensitive personal data (个人信息保护法 §28)
TEXT_MAX = 500


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 1 March
        return day.replace(year=day.year + years, month=3, day=1)


def mask_name(name: str) -> str:
    """王小明 → 王**: a child's name as lists show it."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


# code, name, default visit interval in days, a group of children (migration 0002 seeded
# them; post_migrate brings a missing one back, e.g. after a test database's flush)
DEFAULT_GROUPS = (
    ("elderly_alone", "独居老人", 7, False),
    ("elderly_couple", "高龄空巢老人（夫妇）", 30, False),
    ("disabled", "残疾人", 30, False),
    ("dibao", "低保户", 30, False),
    ("tekun", "特困户", 30, False),
    ("left_behind_child", "留守儿童", 30, True),
    ("other", "其他", 30, False),
)


class CareGroup(models.Model):
    """A managed list (seeded by migration 0002): 独居老人, 高龄空巢老人, 残疾人, 低保户,
    特困户, 留守儿童, 其他. `interval_days` is the default visit frequency of the group."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=30)
    interval_days = models.PositiveSmallIntegerField(_("走访周期（天）"), default=30)
    children = models.BooleanField(
        _("儿童群体"), default=False, help_text=_("出生日期必填；未满 14 周岁须记录监护人同意")
    )
    position = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("关爱群体")
        verbose_name_plural = _("关爱群体")

    def __str__(self):
        return self.name


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", _("书面签字")
    ORAL_RECORDED = "oral", _("口头同意（已录音）")
    ELECTRONIC = "electronic", _("电子确认")


class CareRecipient(models.Model):
    unit = models.ForeignKey(
        "orgs.Unit",
        on_delete=models.PROTECT,
        related_name="care_recipients",
        verbose_name=_("居住单位"),
    )
    group = models.ForeignKey(
        CareGroup, on_delete=models.PROTECT, related_name="recipients", verbose_name=_("关爱群体")
    )
    name = models.CharField(_("姓名"), max_length=40)
    gender = models.CharField(_("性别"), max_length=6, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number_enc = models.TextField(blank=True, editable=False)
    id_number_index = models.CharField(
        max_length=pii.INDEX_HEX, blank=True, db_index=True, editable=False
    )
    mobile_enc = models.TextField(blank=True, editable=False)
    mobile_index = models.CharField(
        max_length=pii.INDEX_HEX, blank=True, db_index=True, editable=False
    )
    address = models.CharField(_("住址（楼栋、单元、门牌）"), max_length=100, blank=True)
    household = models.CharField(_("家庭情况"), max_length=200, blank=True)
    interval_days = models.PositiveSmallIntegerField(
        _("走访周期（天）"), null=True, blank=True, help_text=_("不填则按群体默认周期")
    )

    # who visits: a 三户四长 head, a named account, or a volunteer team
    visitor_post = models.ForeignKey(
        "members.CommunityPost",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="care_recipients",
        verbose_name=_("走访人（三户四长）"),
    )
    visitor_user = models.ForeignKey(
        "core.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="care_recipients",
        verbose_name=_("走访人（账号）"),
    )
    visitor_team = models.ForeignKey(
        "volunteers.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="care_recipients",
        verbose_name=_("走访人（志愿服务队）"),
    )

    # a child under 14: the guardian's consent (who, when, how)
    guardian_name = models.CharField(_("监护人姓名"), max_length=40, blank=True)
    guardian_relation = models.CharField(_("与儿童关系"), max_length=20, blank=True)
    consent_on = models.DateField(_("同意日期"), null=True, blank=True)
    consent_method = models.CharField(
        _("同意方式"), max_length=12, choices=ConsentMethod.choices, blank=True
    )
    consent_recorded_by = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    minor_until = models.DateField(null=True, blank=True, db_index=True, editable=False)

    registered_on = models.DateField(_("登记日期"))
    last_visit_on = models.DateField(_("最近走访"), null=True, blank=True)
    last_seen_on = models.DateField(_("最近见面"), null=True, blank=True)
    next_due = models.DateField(_("下次走访"), db_index=True)
    active = models.BooleanField(_("在册"), default=True)
    ended_reason = models.CharField(_("销册原因"), max_length=100, blank=True)
    generated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope_path = "unit__path"

    class Meta:
        ordering = ["next_due", "pk"]
        indexes = [
            models.Index(fields=["active", "next_due"], name="care_active_due"),
            models.Index(fields=["visitor_user", "active", "next_due"], name="care_visitor_due"),
        ]
        verbose_name = _("关爱对象")
        verbose_name_plural = _("关爱对象")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("care:detail", args=[self.pk])

    # personal data: plaintext only through these, masked by default
    id_number, id_number_masked, set_id_number = pii.encrypted_accessors(
        "id_number", aad=ID_AAD, purpose=ID_PURPOSE, mask=pii.mask_id_number
    )
    mobile, mobile_masked, set_mobile = pii.encrypted_accessors(
        "mobile", aad=MOBILE_AAD, purpose=MOBILE_PURPOSE, mask=pii.mask_mobile
    )

    def set_birth_date(self, value: date | None) -> None:
        self.birth_date = value
        self.minor_until = add_years(value, MINOR_AGE) if value else None

    # predicates
    def is_minor(self, today: date) -> bool:
        return self.minor_until is not None and self.minor_until > today

    @property
    def interval(self) -> int:
        return self.interval_days or self.group.interval_days

    def due_from(self) -> date:
        """The day the clock runs from: the last visit that saw the person, else registration."""
        return self.last_seen_on or self.registered_on

    def compute_next_due(self) -> date:
        return self.due_from() + timedelta(days=self.interval)

    def is_overdue(self, today: date) -> bool:
        return self.active and self.next_due < today

    def days_overdue(self, today: date) -> int:
        return max(0, (today - self.next_due).days)

    def age(self, today: date) -> int | None:
        if not self.birth_date:
            return None
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

    @property
    def visitor_label(self) -> str:
        if self.visitor_user_id:
            return str(self.visitor_user)
        if self.visitor_post_id:
            post = self.visitor_post
            return f"{post.get_kind_display()} {post.member.name}"
        if self.visitor_team_id:
            return str(self.visitor_team)
        return ""


class Wellbeing(models.TextChoices):
    GOOD = "good", _("良好")
    FAIR = "fair", _("一般")
    POOR = "poor", _("较差")
    URGENT = "urgent", _("需紧急帮助")


class CareService(models.TextChoices):
    """What a visitor did at the door (a visit may record several)."""

    CHAT = "chat", _("谈心慰问")
    CLEANING = "cleaning", _("打扫卫生")
    MEDICINE = "medicine", _("送药")
    MEAL = "meal", _("送餐")
    CERTIFICATION = "certification", _("协助高龄认证")
    ERRAND = "errand", _("代办事项")
    REPAIR = "repair", _("小修小补")
    HOMEWORK = "homework", _("学习辅导")


class CertificationCheck(models.TextChoices):
    DONE = "done", _("已认证")
    DUE = "due", _("待认证")


class AllowanceCheck(models.TextChoices):
    RECEIVED = "received", _("已按时发放")
    MISSING = "missing", _("未到账")


class DibaoCheck(models.TextChoices):
    NORMAL = "normal", _("正常享受")
    PROBLEM = "problem", _("有异常")


class FindingKind(models.TextChoices):
    HAZARD = "hazard", _("安全隐患")
    DISPUTE = "dispute", _("矛盾纠纷")
    HARDSHIP = "hardship", _("生活困难")


# the needs category a finding becomes by default
FINDING_CATEGORY = {
    FindingKind.HAZARD: "safety_hazard",
    FindingKind.DISPUTE: "neighbour_dispute",
    FindingKind.HARDSHIP: "elderly_disabled",
}


class Visit(models.Model):
    """One visit at the door: seen or not, wellbeing, services given, subsidies checked,
    a hazard or dispute found (which may become a need: `need`)."""

    recipient = models.ForeignKey(CareRecipient, on_delete=models.CASCADE, related_name="visits")
    visitor = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="care_visits"
    )
    visitor_name = models.CharField(_("走访人"), max_length=60)
    visited_on = models.DateField(_("走访日期"))
    seen = models.BooleanField(_("见到本人"), default=True)
    wellbeing = models.CharField(
        _("身体和生活状况"), max_length=8, choices=Wellbeing.choices, blank=True
    )
    services = models.JSONField(_("提供的服务"), default=list, blank=True)
    elderly_certification = models.CharField(
        _("高龄认证"), max_length=8, choices=CertificationCheck.choices, blank=True
    )
    elderly_allowance = models.CharField(
        _("高龄补贴"), max_length=8, choices=AllowanceCheck.choices, blank=True
    )
    dibao_status = models.CharField(_("低保"), max_length=8, choices=DibaoCheck.choices, blank=True)
    finding_kind = models.CharField(
        _("发现的问题"), max_length=8, choices=FindingKind.choices, blank=True
    )
    findings = models.CharField(_("问题描述"), max_length=TEXT_MAX, blank=True)
    note = models.CharField(_("备注"), max_length=TEXT_MAX, blank=True)
    need = models.ForeignKey(
        "needs.Need", on_delete=models.SET_NULL, null=True, blank=True, related_name="care_visits"
    )
    generated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_path = "recipient__unit__path"

    class Meta:
        ordering = ["-visited_on", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "visited_on"], name="care_visit_recipient_day"),
            models.Index(fields=["visited_on"], name="care_visit_day"),
        ]
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")

    def __str__(self):
        return f"{self.recipient_id} {self.visited_on}"

    def get_absolute_url(self):
        return reverse("care:visit", args=[self.pk])

    @property
    def service_labels(self) -> list[str]:
        labels = dict(CareService.choices)
        return [str(labels.get(s, s)) for s in self.services]

    @property
    def has_problem(self) -> bool:
        return bool(
            self.finding_kind
            or self.wellbeing in (Wellbeing.POOR, Wellbeing.URGENT)
            or self.elderly_certification == CertificationCheck.DUE
            or self.elderly_allowance == AllowanceCheck.MISSING
            or self.dibao_status == DibaoCheck.PROBLEM
        )


class CareReminder(models.Model):
    """The worker's reminder that a visit is due. Unique per (recipient, due day): two
    workers or a rerun never remind twice for the same due date."""

    recipient = models.ForeignKey(CareRecipient, on_delete=models.CASCADE, related_name="reminders")
    due_on = models.DateField()
    user = models.ForeignKey(
        "core.User", on_delete=models.CASCADE, null=True, blank=True, related_name="care_reminders"
    )  # the visitor's account, when there is one
    unit = models.ForeignKey("orgs.Unit", on_delete=models.CASCADE, related_name="+")
    message = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    scope_path = "unit__path"

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "due_on"], name="care_reminder_once")
        ]

    def __str__(self):
        return f"{self.recipient_id}@{self.due_on}"
