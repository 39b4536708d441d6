"""Writes on the member register: create, update, reveal. Every one is audited.

`clean_member()` is the single place a member's fields are checked; the form, the API
and the Excel import all go through it, so they accept and refuse the same values."""

from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hongyan.core import audit, pii
from hongyan.core.errors import DomainError
from hongyan.core.pinyin import search_keys
from hongyan.core.scope import can
from hongyan.orgs.models import SHARED_BRANCH_KINDS, OrgKind, PartyOrganization, Unit, UnitKind

from . import fields as f
from .models import ID_PURPOSE, Member, MemberSearchKey, Specialty
from .selectors import compound_of

HOME_KINDS = (UnitKind.COMPOUND, UnitKind.NATURAL_VILLAGE, UnitKind.GRID, UnitKind.BUILDING)
PII_FIELDS = ("id_number", "mobile")
PLAIN_FIELDS = (
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "category",
    "joined_on",
    "building",
    "entrance",
    "room",
    "work_unit",
    "work_unit_org",
    "status",
    "education",
    "profession",
    "plate",
    "note",
)
SHORT_LIMITS = {
    "building": 20,
    "entrance": 10,
    "room": 10,
    "work_unit": 100,
    "work_unit_org": 100,
    "profession": 60,
    "note": 200,
}
REVEAL_REASON_MIN = 4


def clean_member(raw: dict, *, partial: bool = False) -> tuple[dict, list[tuple[str, str]]]:
    """Check and normalise member fields. Returns (cleaned, [(field, message), …]).

    With `partial`, only the fields present in `raw` are checked (an update)."""
    out: dict = {}
    problems: list[tuple[str, str]] = []

    def take(field, parse, *args):
        if partial and field not in raw:
            return
        try:
            out[field] = parse(raw.get(field), *args)
        except f.FieldProblem as exc:
            problems.append((field, str(exc)))

    take("name", f.parse_name)
    take("id_number", f.parse_id_number)
    id_number = out.get("id_number", "")
    id_failed = any(field == "id_number" for field, _m in problems)
    gender_blank = not f.text(raw.get("gender"))
    if (not partial or "gender" in raw or "id_number" in raw) and not (id_failed and gender_blank):
        try:
            out["gender"] = f.parse_gender(raw.get("gender"), id_number)
        except f.FieldProblem as exc:
            problems.append(("gender", str(exc)))
    take("mobile", f.parse_mobile)
    take("ethnicity", f.parse_ethnicity)
    take("birth_date", lambda v: f.parse_date(v))
    take("joined_on", lambda v: f.parse_date(v))
    take("category", f.parse_category)
    take("status", f.parse_status)
    take("education", f.parse_education)
    take("plate", f.parse_plate)
    take("specialties", f.parse_specialties)
    for field, limit in SHORT_LIMITS.items():
        take(field, f.parse_short, limit)

    if id_number:
        born = pii.id_birth_date(id_number)
        given = out.get("birth_date")
        if given and (given.year, given.month) != (born.year, born.month):
            problems.append(
                ("birth_date", _("出生日期与身份证号码（%(d)s）不一致。") % {"d": born.isoformat()})
            )
        elif given is None and (not partial or "birth_date" in raw or "id_number" in raw):
            out["birth_date"] = born
        elif given and given != born:
            out["birth_date"] = born  # "1962.03" typed, or a slip of the day: the ID number knows
    joined, born = out.get("joined_on"), out.get("birth_date")
    if joined and born and joined < date(born.year + 16, born.month, 1):
        problems.append(("joined_on", _("入党日期早于 16 周岁，请核对。")))
    return out, problems


def _raise_first(problems):
    if problems:
        field, message = problems[0]
        raise DomainError("invalid", f"{f.label(field)}：{message}", status=422, field=field)


def home_of(unit: Unit) -> Unit:
    """The compound of a home unit, refusing units a member cannot live in."""
    if unit.kind not in HOME_KINDS:
        raise DomainError(
            "bad_home",
            _("居住单位应为小区、自然村、网格或楼栋，“%(name)s”是%(kind)s。")
            % {"name": unit.name, "kind": unit.get_kind_display()},
            field="unit",
        )
    compound = compound_of(unit)
    if compound is None:
        raise DomainError("bad_home", _("找不到该单位所在的小区。"), field="unit")
    return compound


def default_party_org(compound: Unit) -> PartyOrganization | None:
    """Where a member living in `compound` belongs by default: the compound's own
    branch, else a grid (joint) branch covering it, else the community's organisation."""
    own = PartyOrganization.objects.filter(
        unit=compound, kind__in=(OrgKind.BRANCH, OrgKind.GENERAL_BRANCH, OrgKind.COMMITTEE)
    ).first()
    if own:
        return own
    shared = PartyOrganization.objects.filter(covers=compound, kind__in=SHARED_BRANCH_KINDS).first()
    return shared or PartyOrganization.objects.filter(unit_id=compound.parent_id).first()


def specialties_named(names: list[str], *, create: bool = False) -> list[Specialty]:
    found = {s.name: s for s in Specialty.objects.filter(name__in=names)}
    missing = [n for n in names if n not in found]
    if missing and not create:
        raise DomainError(
            "unknown_specialty",
            _("特长“%(names)s”不在特长列表中，请先由管理员添加。") % {"names": "、".join(missing)},
            field="specialties",
        )
    for name in missing:
        found[name], _created = Specialty.objects.get_or_create(name=name)
    return [found[n] for n in names]


def write_search_keys(members: list[Member]) -> None:
    MemberSearchKey.objects.filter(member__in=[m.pk for m in members]).delete()
    MemberSearchKey.objects.bulk_create(
        [MemberSearchKey(member=m, key=k[:60]) for m in members for k in search_keys(m.name)],
        batch_size=5000,
    )


def _check_can(actor, action: str, unit: Unit) -> None:
    if actor is not None and not can(actor, action, unit.path):
        raise PermissionDenied(_("您的角色不能执行此操作。"))


def _duplicate_id() -> DomainError:
    return DomainError(
        "duplicate_id",
        _("该身份证号码已在党员名册中登记；如需转入，请联系其所在社区办理。"),
        status=409,
        field="id_number",
    )


@transaction.atomic
def member_create(
    *, actor, unit: Unit, party_org: PartyOrganization | None = None, **data
) -> Member:
    """Register a member living in `unit` (a compound, grid or building)."""
    _check_can(actor, "member.edit", unit)
    compound = home_of(unit)
    cleaned, problems = clean_member(data)
    _raise_first(problems)
    specialties = specialties_named(cleaned.pop("specialties", []))
    member = Member(unit=unit, compound=compound)
    if unit.kind == UnitKind.BUILDING and not cleaned.get("building"):
        cleaned["building"] = unit.name
    for field in PLAIN_FIELDS:
        if field in cleaned:
            setattr(member, field, cleaned[field])
    member.set_id_number(cleaned["id_number"])
    member.set_mobile(cleaned.get("mobile", ""))
    member.party_org = party_org or default_party_org(compound)
    if Member.objects.filter(
        id_number_index__in=pii.blind_indexes(cleaned["id_number"], ID_PURPOSE)
    ).exists():
        raise _duplicate_id()
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        raise _duplicate_id() from None
    member.specialties.set(specialties)
    write_search_keys([member])
    audit.record(
        "member.create", actor=actor, obj=member, unit=unit, detail={"compound": compound.code}
    )
    return member


@transaction.atomic
def member_update(
    *,
    actor,
    member: Member,
    unit: Unit | None = None,
    party_org: PartyOrganization | None = None,
    **changes,
) -> Member:
    """Change some fields of a member (only those given)."""
    _check_can(actor, "member.edit", member.unit)
    changed: list[str] = []
    if unit is not None and unit.pk != member.unit_id:
        _check_can(actor, "member.edit", unit)
        member.compound = home_of(unit)
        member.unit = unit
        changed.append("unit")
    if "id_number" in changes and "gender" not in changes:
        changes["gender"] = member.gender
    cleaned, problems = clean_member(changes, partial=True)
    _raise_first(problems)
    if "specialties" in cleaned:
        wanted = specialties_named(cleaned.pop("specialties"))
        if {s.pk for s in wanted} != {s.pk for s in member.specialties.all()}:
            member.specialties.set(wanted)
            changed.append("specialties")
    for field in PLAIN_FIELDS:
        if field in cleaned and getattr(member, field) != cleaned[field]:
            setattr(member, field, cleaned[field])
            changed.append(field)
    if "id_number" in cleaned and cleaned["id_number"] != member.id_number:
        others = Member.objects.filter(
            id_number_index__in=pii.blind_indexes(cleaned["id_number"], ID_PURPOSE)
        ).exclude(pk=member.pk)
        if others.exists():
            raise _duplicate_id()
        member.set_id_number(cleaned["id_number"])
        changed.append("id_number")
    if "mobile" in cleaned and cleaned["mobile"] != member.mobile:
        member.set_mobile(cleaned["mobile"])
        changed.append("mobile")
    if party_org is not None and party_org.pk != member.party_org_id:
        member.party_org = party_org
        changed.append("party_org")
    if changed:
        member.save()
        if "name" in changed:
            write_search_keys([member])
        audit.record(
            "member.update", actor=actor, obj=member, unit=member.unit, detail={"fields": changed}
        )
    return member


def member_reveal(*, actor, member: Member, field: str, reason: str) -> str:
    """One unmasked value, for a user allowed to see it, with the reason recorded."""
    if field not in PII_FIELDS:
        raise DomainError("bad_field", _("只能查看身份证号码或手机号码。"), field="field")
    reason = " ".join((reason or "").split())
    if len(reason) < REVEAL_REASON_MIN:
        raise DomainError(
            "reason_required",
            _("请写明查看原因（至少 %(n)d 个字），例如“核对组织关系转接材料”。")
            % {"n": REVEAL_REASON_MIN},
            field="reason",
        )
    if len(reason) > 200:
        raise DomainError("reason_too_long", _("原因不能超过 200 个字。"), field="reason")
    _check_can(actor, "member.reveal", member.unit)
    value = member.id_number if field == "id_number" else member.mobile
    with transaction.atomic():
        audit.record(
            "member.reveal",
            actor=actor,
            obj=member,
            unit=member.unit,
            detail={"field": field, "reason": reason},
        )
    return value
