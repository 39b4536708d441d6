"""The member register (党员名册): party members where they live, their specialties,
household plates, and the pinyin keys that find them by initials.

ID numbers and mobiles are stored only encrypted (SM4-GCM, `core.pii`) with an
HMAC-SM3 blind index beside them for exact lookups; pages, the API and exports show
the masked form unless a permitted user reveals one value with a reason."""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hongyan.core import pii
from hongyan.core.pinyin import KEY_LENGTH

ID_AAD = "members.Member.id_number"
MOBILE_AAD = "members.Member.mobile"
ID_PURPOSE = "member.id_number"
MOBILE_PURPOSE = "member.mobile"

# GB 3304 order; 蒙古族 second, as it is common here
ETHNICITIES = [
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
]


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class Category(models.TextChoices):
    FULL = "full", _("正式党员")
    PROBATIONARY = "probationary", _("预备党员")


class Status(models.TextChoices):
    IN_SERVICE = "in_service", _("在职")
    RETIRED = "retired", _("离退休")
    FLOWING = "flowing", _("流动")
    OTHER = "other", _("其他")


class Education(models.TextChoices):
    POSTGRADUATE = "postgraduate", _("研究生")
    BACHELOR = "bachelor", _("大学本科")
    COLLEGE = "college", _("大学专科")
    SECONDARY_VOCATIONAL = "vocational", _("中专")
    HIGH_SCHOOL = "high_school", _("高中")
    JUNIOR_HIGH = "junior_high", _("初中")
    PRIMARY = "primary", _("小学及以下")


class Plate(models.TextChoices):
    NONE = "", _("无")
    PIONEER = "pioneer", _("党员先锋户")
    BASTION = "bastion", _("党员堡垒户")
    CENTRE = "centre", _("党员中心户")


class Specialty(models.Model):
    """A managed list: 法律, 医疗, 水电维修 … (communities add to it; imports may too)."""

    name = models.CharField(_("名称"), max_length=20, unique=True)
    position = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("特长")
        verbose_name_plural = _("特长")

    def __str__(self):
        return self.name


DEFAULT_SPECIALTIES = (
    "法律",
    "医疗",
    "水电维修",
    "教育",
    "文艺",
    "书法",
    "宣传",
    "摄影",
    "心理咨询",
    "财会",
    "计算机",
    "驾驶",
    "厨艺",
    "理发",
    "家电维修",
    "体育",
    "老年服务",
    "蒙古语翻译",
)


class RemovalKind(models.TextChoices):
    TRANSFERRED_OUT = "transferred_out", _("组织关系转出")
    DECEASED = "deceased", _("去世")
    OTHER = "other", _("其他")


class RegisterManager(models.Manager):
    """The register as everyone reads it: members removed from it are gone."""

    def get_queryset(self):
        return super().get_queryset().filter(removed_at__isnull=True)


class EveryRowManager(models.Manager):
    """Every row of the register, removed members included (the audit trail, the demo
    reset, primary keys handed out in bulk)."""


class Member(models.Model):
    # home: the most precise unit known (compound, natural village, grid or building),
    # the compound it lies in, then building label, entrance and room as written
    unit = models.ForeignKey(
        "orgs.Unit",
        on_delete=models.PROTECT,
        related_name="resident_members",
        verbose_name=_("居住单位"),
    )
    compound = models.ForeignKey(
        "orgs.Unit",
        on_delete=models.PROTECT,
        related_name="compound_members",
        verbose_name=_("所在小区"),
        db_index=False,  # (compound, category) serves every lookup by compound
    )
    building = models.CharField(_("楼栋"), max_length=20, blank=True)
    entrance = models.CharField(_("单元"), max_length=10, blank=True)
    room = models.CharField(_("房号"), max_length=10, blank=True)

    name = models.CharField(_("姓名"), max_length=40)
    gender = models.CharField(_("性别"), max_length=6, choices=Gender.choices)
    ethnicity = models.CharField(
        _("民族"), max_length=10, choices=[(e, e) for e in ETHNICITIES], default="汉族"
    )
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number_enc = models.TextField(editable=False)
    # blind indexes are only ever compared whole: their indexes are declared in Meta,
    # where PostgreSQL gets no varchar_pattern_ops copy for LIKE (as unique=True or
    # db_index=True would add)
    id_number_index = models.CharField(max_length=pii.INDEX_HEX, editable=False)
    mobile_enc = models.TextField(blank=True, editable=False)
    mobile_index = models.CharField(max_length=pii.INDEX_HEX, blank=True, editable=False)

    category = models.CharField(
        _("党员类别"), max_length=14, choices=Category.choices, default=Category.FULL
    )
    joined_on = models.DateField(_("入党日期"), null=True, blank=True)
    party_org = models.ForeignKey(
        "orgs.PartyOrganization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="registered_members",
        verbose_name=_("所在党组织"),
    )
    work_unit = models.CharField(_("工作单位"), max_length=100, blank=True)
    work_unit_org = models.CharField(_("工作单位党组织"), max_length=100, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.IN_SERVICE
    )
    education = models.CharField(
        _("文化程度"), max_length=14, choices=Education.choices, blank=True
    )
    profession = models.CharField(_("职业"), max_length=60, blank=True)
    specialties = models.ManyToManyField(
        Specialty,
        through="MemberSpecialty",
        blank=True,
        related_name="members",
        verbose_name=_("特长"),
    )
    plate = models.CharField(_("户牌"), max_length=10, choices=Plate.choices, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    # the member's own account, if they have one (self-service 双报到)
    account = models.OneToOneField(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="member_record"
    )

    generated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # removal from the register (转出, 去世 …): the row stays, for the audit trail, but
    # `Member.objects` — what every page, API, figure and other app reads — no longer
    # holds it; `Member.records` (and MemberRecord) hold every row
    removed_at = models.DateTimeField(_("移出时间"), null=True, blank=True)
    # database defaults: the bulk inserts (bulk.MEMBER_COLUMNS) leave these out
    removed_kind = models.CharField(
        _("移出原因"), max_length=16, choices=RemovalKind.choices, blank=True, db_default=""
    )
    removed_reason = models.CharField(_("说明"), max_length=200, blank=True, db_default="")
    removed_by = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    scope_path = "unit__path"

    objects = RegisterManager()
    records = EveryRowManager()

    class Meta:
        ordering = ["compound__path", "name", "pk"]
        indexes = [
            models.Index(fields=["compound", "category"], name="member_compound_category"),
            models.Index(fields=["name"], name="member_name"),
            models.Index(fields=["mobile_index"], name="member_mobile_index"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["id_number_index"], name="member_id_number_once"),
        ]
        verbose_name = _("党员")
        verbose_name_plural = _("党员")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("members:detail", args=[self.pk])

    # personal data: plaintext only through these, masked by default
    id_number, id_number_masked, set_id_number = pii.encrypted_accessors(
        "id_number", aad=ID_AAD, purpose=ID_PURPOSE, mask=pii.mask_id_number
    )
    mobile, mobile_masked, set_mobile = pii.encrypted_accessors(
        "mobile", aad=MOBILE_AAD, purpose=MOBILE_PURPOSE, mask=pii.mask_mobile
    )

    @property
    def home_label(self) -> str:
        parts = [self.building, f"{self.entrance}单元" if self.entrance else "", self.room]
        return "".join(p for p in parts if p)


class MemberRecord(Member):
    """Every row of the register, removed members included: key rotation re-encrypts
    them too (core.pii's registry reads `model.objects`)."""

    objects = models.Manager()

    class Meta:
        proxy = True


class MemberSearchKey(models.Model):
    """One pinyin key of a member's name (initials or full, every heteronym reading),
    so that a prefix search is one indexed range query.

    A derived index of `Member.name`, rebuilt by the code that writes it (services'
    write_search_keys, the importer, the demo), and written 370,000 rows at a time by
    a big import: so the table carries as few structures as serve it. The primary key
    (member, key) is the uniqueness and serves deleting one member's keys; one index on
    `key` serves the prefix search. No database foreign key (no RI trigger per row at
    COMMIT): the ORM still cascades a member's deletion (on_delete), and raw deletes of
    members delete their keys first (demo.clear_demo_members)."""

    pk = models.CompositePrimaryKey("member", "key")
    member = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="search_keys",
        db_index=False,
        db_constraint=False,
    )
    key = models.CharField(max_length=KEY_LENGTH)

    class Meta:
        indexes = [
            # PostgreSQL: varchar_pattern_ops, so that `key__under` (LIKE 'x%') can use it
            # whatever the database's collation. SQLite has no operator classes: Django
            # leaves them out there, and the plain index serves its range form.
            models.Index(
                fields=["key"], opclasses=["varchar_pattern_ops"], name="search_key_prefix"
            )
        ]

    def __str__(self):
        return self.key


class MemberSpecialty(models.Model):
    """One of a member's specialties (the link table of `Member.specialties`).

    A big import writes 100,000 of these at once, so the table carries as few
    structures as serve it: the primary key (member, specialty) is the uniqueness and,
    by its leading column, serves lookups by member; one index on `specialty` serves
    lookups by specialty. No surrogate id, so no sequence. Both database foreign keys
    stay: unlike the search keys, these rows are not rebuilt from the member.

    The table is `members_memberspecialty`, not the automatic table's name: migration
    0010 creates it beside the old one, copies the links over and drops the old one
    (the same name would need a rename afterwards, and index names that clash)."""

    pk = models.CompositePrimaryKey("member", "specialty")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, db_index=False)
    specialty = models.ForeignKey(Specialty, on_delete=models.CASCADE)

    def __str__(self):
        return f"{self.member_id}: {self.specialty_id}"


class ImportBatch(models.Model):
    """One uploaded register, run as a job outside the request: checked (the dry run's
    report), then committed. While it runs, its progress is kept in a file beside the
    stored upload (see imports.py: SQLite admits no second writer during the commit)."""

    class State(models.TextChoices):
        CHECKING = "checking", _("正在检查")
        CHECKED = "checked", _("已检查")
        COMMITTING = "committing", _("正在导入")
        COMMITTED = "committed", _("已导入")
        FAILED = "failed", _("未完成")

    actor = models.ForeignKey("core.User", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=200)
    kind = models.CharField(max_length=8)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    stored = models.CharField(max_length=200)  # path under MEDIA_ROOT
    state = models.CharField(max_length=10, choices=State.choices, default=State.CHECKED)
    summary = models.JSONField(default=dict)
    problems = models.JSONField(default=list)  # [[row, column, message, level], …]
    result = models.JSONField(default=dict)
    error = models.CharField(max_length=300, blank=True)  # why a job failed
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)  # the running job's start
    committed_at = models.DateTimeField(null=True, blank=True)

    scope_path = "unit__path"

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.filename

    @property
    def ok(self) -> bool:
        return self.summary.get("errors", 1) == 0

    @property
    def running(self) -> bool:
        return self.state in (self.State.CHECKING, self.State.COMMITTING)


class PostKind(models.TextChoices):
    """The heads of 三户四长 (which heads a place has varies: they are stored as posts)."""

    COMPOUND_HEAD = "compound_head", _("小区长")
    GRID_HEAD = "grid_head", _("网格长")
    BUILDING_HEAD = "building_head", _("楼栋长")
    ENTRANCE_HEAD = "entrance_head", _("单元长")


class CommunityPost(models.Model):
    """A member heading a compound, grid, building or entrance. A building head is
    elected at a nomination meeting (推选会): its date and votes are kept."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="posts")
    kind = models.CharField(_("职务"), max_length=16, choices=PostKind.choices)
    unit = models.ForeignKey(
        "orgs.Unit",
        on_delete=models.CASCADE,
        related_name="community_posts",
        verbose_name=_("负责的单位"),
    )
    building = models.CharField(_("楼栋"), max_length=20, blank=True)
    entrance = models.CharField(_("单元"), max_length=10, blank=True)
    since = models.DateField(_("任职日期"), null=True, blank=True)
    elected_on = models.DateField(_("推选会日期"), null=True, blank=True)
    votes_for = models.PositiveIntegerField(_("赞成票"), null=True, blank=True)
    votes_cast = models.PositiveIntegerField(_("参会户数"), null=True, blank=True)
    generated = models.BooleanField(default=False)

    scope_path = "unit__path"

    class Meta:
        ordering = ["unit__path", "kind", "building", "entrance"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "unit", "building", "entrance"], name="one_head_per_place"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.member}"


class WorkUnitPairing(models.Model):
    """双报到 (1): a department's or company's party organisation pairs with a community."""

    community = models.ForeignKey(
        "orgs.Unit", on_delete=models.CASCADE, related_name="pairings", verbose_name=_("社区")
    )
    work_unit = models.CharField(_("报到单位"), max_length=100)
    party_org_name = models.CharField(_("单位党组织"), max_length=100)
    agreement = models.CharField(_("共建协议"), max_length=200, blank=True)
    signed_on = models.DateField(_("签订日期"), null=True, blank=True)
    contact = models.CharField(_("联系人"), max_length=60, blank=True)
    services = models.CharField(_("服务项目"), max_length=200, blank=True)
    generated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_path = "community__path"

    class Meta:
        ordering = ["community__path", "work_unit"]
        constraints = [models.UniqueConstraint(fields=["community", "work_unit"], name="pair_once")]

    def __str__(self):
        return f"{self.work_unit} → {self.community}"


class DualRegistration(models.Model):
    """双报到 (2): an in-service member registers with the community they live in,
    by themselves or through a community worker; the community confirms."""

    member = models.OneToOneField(
        Member, on_delete=models.CASCADE, related_name="dual_registration"
    )
    community = models.ForeignKey(
        "orgs.Unit", on_delete=models.CASCADE, related_name="dual_registrations"
    )
    pairing = models.ForeignKey(
        WorkUnitPairing, on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    self_service = models.BooleanField(_("本人报到"), default=False)
    registered_at = models.DateTimeField(_("报到时间"))
    registered_by = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    generated = models.BooleanField(default=False)

    scope_path = "community__path"

    class Meta:
        ordering = ["-registered_at"]
        indexes = [
            models.Index(fields=["community", "confirmed_at"], name="dual_community_confirmed")
        ]

    def __str__(self):
        return f"{self.member} → {self.community}"
