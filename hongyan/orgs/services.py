"""Writes on the unit tree and its party organisations. Every one is audited."""

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from hongyan.core import audit
from hongyan.core.errors import DomainError
from hongyan.core.scope import can

from .loader import path_step
from .models import (
    CHILD_CODE_DIGITS,
    CHILD_KINDS,
    PATH_STEP,
    SHARED_BRANCH_KINDS,
    CadreAssignment,
    OrgKind,
    PartyOrganization,
    Unit,
    UnitKind,
)


def _clean_text(value: str | None) -> str:
    return (value or "").strip()


def _clean_name(name: str, field: str = "name") -> str:
    name = _clean_text(name)
    if not name:
        raise DomainError("required", _("请填写名称。"), field=field)
    if len(name) > 100:
        raise DomainError("too_long", _("名称不能超过 100 个字。"), field=field)
    return name


def _next_child_code(parent: Unit, kind: str) -> str:
    digits = CHILD_CODE_DIGITS[kind]
    taken = {
        c[len(parent.code) :]
        for c in Unit.objects.filter(parent=parent).values_list("code", flat=True)
        if len(c) == len(parent.code) + digits
    }
    for n in range(1, 10**digits):
        candidate = f"{n:0{digits}d}"
        if candidate not in taken:
            return parent.code + candidate
    raise DomainError("full", _("该单位下的编号已用完。"), status=409)


def unit_create_child(*, actor, parent: Unit, kind: str, name: str, code: str = "") -> Unit:
    """Add a compound, natural village, grid or building under `parent`."""
    if kind not in CHILD_KINDS.get(parent.kind, ()):
        allowed = "、".join(str(UnitKind(k).label) for k in CHILD_KINDS.get(parent.kind, ()))
        raise DomainError(
            "bad_kind",
            _("%(parent)s 下只能添加：%(allowed)s。")
            % {"parent": parent.get_kind_display(), "allowed": allowed or _("（无）")},
            field="kind",
        )
    if kind not in CHILD_CODE_DIGITS:
        raise DomainError(
            "official_division", _("行政区划按统计用区划代码导入，不能手工添加。"), field="kind"
        )
    name = _clean_name(name)
    code = (code or "").strip()
    digits = CHILD_CODE_DIGITS[kind]
    if code and not (
        code.isdigit() and code.startswith(parent.code) and len(code) == len(parent.code) + digits
    ):
        raise DomainError(
            "bad_code",
            _("代码应为上级代码 %(parent)s 后加 %(n)d 位数字。")
            % {"parent": parent.code, "n": digits},
            field="code",
        )
    for _attempt in range(3):
        try:
            with transaction.atomic():
                last = Unit.objects.filter(parent=parent).aggregate(m=Max("path"))["m"]
                n = int(last[-PATH_STEP - 1 : -1]) + 1 if last else 1
                unit = Unit.objects.create(
                    code=code or _next_child_code(parent, kind),
                    name=name,
                    kind=kind,
                    parent=parent,
                    path=parent.path + path_step(n),
                    depth=parent.depth + 1,
                )
                audit.record(
                    "unit.create",
                    actor=actor,
                    obj=unit,
                    unit=unit,
                    detail={"name": name, "kind": kind},
                )
                return unit
        except IntegrityError:
            if code and Unit.objects.filter(code=code).exists():
                raise DomainError(
                    "duplicate_code",
                    _("代码 %(code)s 已被使用。") % {"code": code},
                    status=409,
                    field="code",
                ) from None
            # a sibling was added at the same moment: take the next number
    raise DomainError("busy", _("同时添加的单位太多，请重试。"), status=409)


@transaction.atomic
def unit_rename(*, actor, unit: Unit, name: str) -> Unit:
    old = unit.name
    unit.name = _clean_name(name)
    unit.save(update_fields=["name"])
    audit.record(
        "unit.rename", actor=actor, obj=unit, unit=unit, detail={"from": old, "to": unit.name}
    )
    return unit


@transaction.atomic
def party_org_create(
    *,
    actor,
    unit: Unit,
    kind: str,
    name: str,
    secretary: str = "",
    members_count: int = 0,
    term_years: int | None = None,
    covers: list[Unit] = (),
) -> PartyOrganization:
    if kind not in OrgKind.values:
        raise DomainError("bad_kind", _("未知的党组织类别。"), field="kind")
    if members_count < 0 or members_count > 100000:
        raise DomainError("bad_count", _("党员人数不合理。"), field="members_count")
    covers = list(covers)
    if covers and kind not in SHARED_BRANCH_KINDS:
        raise DomainError(
            "covers_not_shared", _("只有联合党支部或网格党支部可以覆盖多个小区。"), field="covers"
        )
    for compound in covers:
        if compound.kind != UnitKind.COMPOUND or not compound.path.startswith(unit.path):
            raise DomainError(
                "covers_outside",
                _("%(name)s 不是本单位下的小区。") % {"name": compound.name},
                field="covers",
            )
        if not can(actor, "org.manage", compound.path):
            raise DomainError(
                "covers_outside",
                _("%(name)s 不在您的管辖范围内。") % {"name": compound.name},
                field="covers",
            )
    if term_years is None:
        term_years = 5 if unit.kind in (UnitKind.COMMUNITY, UnitKind.VILLAGE) else 3
    org = PartyOrganization.objects.create(
        unit=unit,
        kind=kind,
        name=_clean_name(name),
        secretary=_clean_text(secretary)[:40],
        members_count=members_count,
        term_years=term_years,
    )
    if covers:
        org.covers.set(covers)
    audit.record(
        "org.create",
        actor=actor,
        obj=org,
        unit=unit,
        detail={"name": org.name, "kind": kind, "covers": [c.code for c in covers]},
    )
    return org


@transaction.atomic
def cadre_assign(*, actor, compound: Unit, cadre_name: str, cadre_post: str = "", since=None):
    if compound.kind != UnitKind.COMPOUND:
        raise DomainError("not_compound", _("联系包保只针对小区。"), field="compound")
    cadre_name = _clean_name(cadre_name, field="cadre_name")
    assignment, created = CadreAssignment.objects.get_or_create(
        compound=compound,
        cadre_name=cadre_name,
        defaults={"cadre_post": _clean_text(cadre_post)[:60], "since": since},
    )
    if not created:
        raise DomainError(
            "duplicate", _("%(name)s 已在联系包保该小区。") % {"name": cadre_name}, status=409
        )
    audit.record(
        "cadre.assign",
        actor=actor,
        obj=assignment,
        unit=compound,
        detail={"cadre": cadre_name, "post": assignment.cadre_post},
    )
    return assignment
