"""The unit tree (province → … → building) and the party organisations on it."""

from django.db import models
from django.db.models import Lookup
from django.db.models.fields import CharField
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

PATH_STEP = 4  # digits per level: up to 9,999 children under one unit


class UnitKind(models.TextChoices):
    PROVINCE = "province", _("省/自治区")
    CITY = "city", _("市")
    COUNTY = "county", _("旗县市区")
    TOWNSHIP = "township", _("苏木乡镇/街道")
    COMMUNITY = "community", _("社区")
    VILLAGE = "village", _("嘎查村")
    COMPOUND = "compound", _("小区")
    NATURAL_VILLAGE = "natural_village", _("自然村")
    GRID = "grid", _("网格")
    BUILDING = "building", _("楼栋")


# which kinds may sit directly under which: the tree's shape
CHILD_KINDS: dict[str, tuple[str, ...]] = {
    UnitKind.PROVINCE: (UnitKind.CITY,),
    UnitKind.CITY: (UnitKind.COUNTY,),
    UnitKind.COUNTY: (UnitKind.TOWNSHIP,),
    UnitKind.TOWNSHIP: (UnitKind.COMMUNITY, UnitKind.VILLAGE),
    UnitKind.COMMUNITY: (UnitKind.COMPOUND,),
    UnitKind.VILLAGE: (UnitKind.NATURAL_VILLAGE,),
    UnitKind.COMPOUND: (UnitKind.GRID,),
    UnitKind.NATURAL_VILLAGE: (UnitKind.GRID,),
    UnitKind.GRID: (UnitKind.BUILDING,),
    UnitKind.BUILDING: (),
}
# digits a child's code adds to its parent's code, below the statistical levels
CHILD_CODE_DIGITS = {
    UnitKind.COMPOUND: 3,
    UnitKind.NATURAL_VILLAGE: 3,
    UnitKind.GRID: 2,
    UnitKind.BUILDING: 3,
}


# where a community's own register is kept (社区, 嘎查村) …
COMMUNITY_KINDS = (UnitKind.COMMUNITY, UnitKind.VILLAGE)
# … and the places people live in below it, from a compound down to a building
PLACE_KINDS = (UnitKind.COMPOUND, UnitKind.NATURAL_VILLAGE, UnitKind.GRID, UnitKind.BUILDING)


@CharField.register_lookup
class Under(Lookup):
    """`path__under=prefix`: the unit at `prefix` and its whole subtree, as one indexed query.

    PostgreSQL: `LIKE 'prefix%'` served by the varchar_pattern_ops index Django adds for
    an indexed CharField. SQLite's LIKE is case-insensitive and cannot use a plain index,
    so there it is the equivalent range `path >= prefix AND path < prefix || '~'`
    (paths hold only digits and dots, all below '~').
    """

    lookup_name = "under"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        prefix = rhs_params[0]
        return f"({lhs} >= {rhs} AND {lhs} < {rhs})", [
            *lhs_params,
            prefix,
            *lhs_params,
            prefix + "~",
        ]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs}", [*lhs_params, rhs_params[0] + "%"]


class Unit(models.Model):
    code = models.CharField(_("代码"), max_length=24, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # materialised path: PATH_STEP digits per level plus a dot, e.g. "0001.0003.0012."
    path = models.CharField(max_length=255, unique=True, db_index=True)
    depth = models.PositiveSmallIntegerField()
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    generated = models.BooleanField(default=False, help_text="made by the demo generator")

    scope_path = "path"

    class Meta:
        ordering = ["path"]
        indexes = [
            # pattern ops so that PostgreSQL serves `kind = … AND path LIKE 'p%'` from it
            models.Index(
                fields=["kind", "path"],
                name="unit_kind_path",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            )
        ]
        verbose_name = _("单位")
        verbose_name_plural = _("单位")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("orgs:unit", args=[self.code])

    @property
    def parent_code(self):
        return self.parent.code if self.parent_id else None

    @property
    def short_name(self):
        """Names as people say them: 恩和路社区居民委员会 → 恩和路社区."""
        for suffix in ("居民委员会", "村民委员会", "嘎查委员会"):
            if self.name.endswith(suffix):
                return self.name[: -len(suffix)] + ("嘎查" if suffix == "嘎查委员会" else "")
        return self.name

    @property
    def kind_label(self):
        """The everyday word for this unit's level: 区, 旗, 县, 街道, 镇, 苏木 …"""
        if self.kind == UnitKind.COUNTY:
            for suffix, label in (("区", "区"), ("旗", "旗"), ("县", "县"), ("市", "县级市")):
                if self.name.endswith(suffix):
                    return label
        if self.kind == UnitKind.TOWNSHIP:
            for suffix in ("街道", "镇", "乡", "苏木"):
                if self.name.endswith(suffix):
                    return suffix
        return self.get_kind_display()

    def ancestor_paths(self):
        """Paths of every unit from the root down to this one."""
        step = PATH_STEP + 1
        return [self.path[: i + step] for i in range(0, len(self.path), step)]


class OrgKind(models.TextChoices):
    COMMITTEE = "committee", _("党委")
    WORKING_COMMITTEE = "working_committee", _("党工委")
    GENERAL_BRANCH = "general_branch", _("党总支")
    BRANCH = "branch", _("党支部")
    JOINT_BRANCH = "joint_branch", _("联合党支部")
    GRID_BRANCH = "grid_branch", _("网格党支部")


SHARED_BRANCH_KINDS = (OrgKind.JOINT_BRANCH, OrgKind.GRID_BRANCH)


class PartyOrganization(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="party_orgs")
    kind = models.CharField(_("类别"), max_length=20, choices=OrgKind.choices)
    name = models.CharField(_("名称"), max_length=120)
    secretary = models.CharField(_("书记"), max_length=40, blank=True)
    members_count = models.PositiveIntegerField(_("党员人数"), default=0)
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    term_years = models.PositiveSmallIntegerField(_("任期（年）"), default=3)
    # a joint or grid branch serves several compounds that are too small for their own
    covers = models.ManyToManyField(
        Unit, blank=True, related_name="shared_branches", verbose_name=_("覆盖小区")
    )
    generated = models.BooleanField(default=False)

    scope_path = "unit__path"

    class Meta:
        ordering = ["unit__path", "kind", "name"]
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")

    def __str__(self):
        return self.name


class CadreAssignment(models.Model):
    """联系包保: a cadre made responsible for a weak compound."""

    compound = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="cadres")
    cadre_name = models.CharField(_("包保干部"), max_length=40)
    cadre_post = models.CharField(_("职务"), max_length=60, blank=True)
    since = models.DateField(_("包保起始日期"), null=True, blank=True)
    generated = models.BooleanField(default=False)

    scope_path = "compound__path"

    class Meta:
        ordering = ["compound__path", "cadre_name"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "cadre_name"], name="one_cadre_once")
        ]
        verbose_name = _("联系包保")
        verbose_name_plural = _("联系包保")

    def __str__(self):
        return f"{self.cadre_name} → {self.compound}"
