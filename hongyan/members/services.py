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
from hongyan.orgs.models import (
    PLACE_KINDS,
    SHARED_BRANCH_KINDS,
    OrgKind,
    PartyOrganization,
    Unit,
    UnitKind,
)

from . import fields as f
from .models import ID_PURPOSE, Member, MemberSearchKey, Specialty
from .selectors import compound_of

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


def _parsers():
    """(field, parser) in the order problems are reported, after name, ID and gender."""
    short = [
        (field, lambda value, limit=limit: f.parse_short(value, limit))
        for field, limit in SHORT_LIMITS.items()
    ]
    return (
        ("mobile", f.parse_mobile),
        ("ethnicity", f.parse_ethnicity),
        ("birth_date", f.parse_date),
        ("joined_on", f.parse_date),
        ("category", f.parse_category),
        ("status", f.parse_status),
        ("education", f.parse_education),
        ("plate", f.parse_plate),
        ("specialties", f.parse_specialties),
        *short,
    )


PARSERS = _parsers()
# An import remembers, for one sheet, what the values of these groups of fields came to:
# they repeat together down a register (汉族·本科·是·文艺 …, 1号楼·1·101, 1962.03), so
# each combination is checked once. The mobile, one per person, is always checked.
_REMEMBERED = (
    (
        "ethnicity",
        "category",
        "status",
        "education",
        "plate",
        "specialties",
        "work_unit",
        "work_unit_org",
        "profession",
        "note",
    ),
    ("building", "entrance", "room"),
    ("birth_date",),
    ("joined_on",),
)
_GROUPS = tuple(tuple(p for p in PARSERS if p[0] in group) for group in _REMEMBERED)
_GROUP_FIELDS = tuple(tuple(field for field, _parse in group) for group in _GROUPS)
_ALWAYS = tuple(p for p in PARSERS if not any(p[0] in group for group in _REMEMBERED))
_POSITION = {field: n for n, (field, _parse) in enumerate(PARSERS)}


def _run(parsers, get, out: dict, problems: list) -> None:
    for field, parse in parsers:
        try:
            out[field] = parse(get(field))
        except f.FieldProblem as exc:
            problems.append((field, str(exc)))


def _run_remembered(get, out: dict, problems: list, memo: dict) -> None:
    """`_run(PARSERS, …)`, each group's combination of values looked up in `memo` first."""
    found: list = []
    _run(_ALWAYS, get, out, found)
    seen_by_group = memo.get("groups")
    if seen_by_group is None:
        seen_by_group = memo["groups"] = [{} for _group in _GROUPS]
    for group, fields, seen in zip(_GROUPS, _GROUP_FIELDS, seen_by_group, strict=True):
        values = tuple(map(get, fields))
        key = (values, tuple(map(type, values)))  # 1, 1.0 and True are equal, not alike
        known = seen.get(key)
        if known is None:
            known = ({}, [])
            _run(group, get, *known)
            seen[key] = known
        out.update(known[0])
        found += known[1]
    if "specialties" in out:
        out["specialties"] = list(out["specialties"])  # the remembered list stays unshared
    if found:
        found.sort(key=lambda problem: _POSITION[problem[0]])
        problems += found


def clean_member(
    raw: dict, *, partial: bool = False, cache: dict | None = None
) -> tuple[dict, list[tuple[str, str]]]:
    """Check and normalise member fields. Returns (cleaned, [(field, message), …]).

    With `partial`, only the fields present in `raw` are checked (an update). The
    import calls this for every row of a sheet, with a `cache` (a dict kept for one
    sheet) that remembers what each field's values came to."""
    out: dict = {}
    problems: list[tuple[str, str]] = []
    get = raw.get

    for field, parse in (("name", f.parse_name), ("id_number", f.parse_id_number)):
        if partial and field not in raw:
            continue
        try:
            out[field] = parse(get(field))
        except f.FieldProblem as exc:
            problems.append((field, str(exc)))
    id_number = out.get("id_number", "")
    id_failed = bool(problems) and any(field == "id_number" for field, _m in problems)
    gender_blank = not f.text(get("gender"))
    if (not partial or "gender" in raw or "id_number" in raw) and not (id_failed and gender_blank):
        try:
            out["gender"] = f.parse_gender(get("gender"), id_number)
        except f.FieldProblem as exc:
            problems.append(("gender", str(exc)))
    if partial:
        _run([p for p in PARSERS if p[0] in raw], get, out, problems)
    elif cache is None:
        _run(PARSERS, get, out, problems)
    else:
        _run_remembered(get, out, problems, cache)

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
    if unit.kind not in PLACE_KINDS:
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
    """Replace the members' search keys with those of their names."""
    MemberSearchKey.objects.filter(member_id__in=[m.pk for m in members]).delete()
    MemberSearchKey.objects.bulk_create(
        [MemberSearchKey(member=m, key=key) for m in members for key in search_keys(m.name)],
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


def _removed_id(member: Member) -> DomainError:
    return DomainError(
        "removed_member",
        _(
            "该身份证号码的党员已于 %(date)s 移出名册（%(kind)s），不能重复登记：如其迁回，请联系管理员。"
        )
        % {
            "date": member.removed_at.date().isoformat(),
            "kind": member.get_removed_kind_display(),
        },
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
    same = Member.records.filter(
        id_number_index__in=pii.blind_indexes(cleaned["id_number"], ID_PURPOSE)
    ).first()
    if same is not None:
        raise _removed_id(same) if same.removed_at else _duplicate_id()
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
        others = Member.records.filter(
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


# --- moving and removing ------------------------------------------------------------------


def _end_community_roles(member: Member, *, community: Unit | None = None) -> dict:
    """A member who moves out of their compound heads nothing there any more; one who
    leaves `community` (the community they will live in; None: the register) leaves its
    双报到 too. Returns what ended, for the audit log."""
    from .models import CommunityPost, DualRegistration

    posts = list(CommunityPost.objects.filter(member=member).values_list("pk", "kind"))
    CommunityPost.objects.filter(pk__in=[pk for pk, _kind in posts]).delete()
    ended: dict = {"posts_ended": [kind for _pk, kind in posts]} if posts else {}
    registration = DualRegistration.objects.filter(member=member).first()
    if registration is not None and registration.community_id != getattr(community, "pk", None):
        ended["dual_registration_ended"] = registration.community.code
        registration.delete()
    return ended


@transaction.atomic
def member_transfer(
    *, actor, member: Member, unit: Unit, building: str = "", entrance: str = "", room: str = ""
) -> Member:
    """Move a member's home to another compound (or a grid or building in one). Both
    homes are inside the actor's scope (the callers resolve `unit` with access()). The
    party organisation follows if it was the old home's default; heads' posts in the old
    compound end; a 双报到 with the old community ends if the community changes."""
    _check_can(actor, "member.edit", member.unit)
    _check_can(actor, "member.edit", unit)
    compound = home_of(unit)
    if unit.pk == member.unit_id:
        raise DomainError("same_home", _("新住址与原住址相同。"), field="unit")
    values, problems = clean_member(
        {"building": building, "entrance": entrance, "room": room}, partial=True
    )
    _raise_first(problems)
    if unit.kind == UnitKind.BUILDING and not values.get("building"):
        values["building"] = unit.name
    before = {"unit": member.unit.code, "compound": member.compound.code}
    old_compound, old_default = member.compound, default_party_org(member.compound)
    member.unit, member.compound = unit, compound
    for field, value in values.items():
        setattr(member, field, value)
    if member.party_org_id is None or member.party_org_id == getattr(old_default, "pk", None):
        member.party_org = default_party_org(compound)
    ended = {}
    if compound.pk != old_compound.pk:
        ended = _end_community_roles(member, community=compound.parent)
    member.save()
    audit.record(
        "member.transfer",
        actor=actor,
        obj=member,
        unit=unit,
        detail={"from": before, "to": {"unit": unit.code, "compound": compound.code}, **ended},
    )
    return member


REMOVAL_REASON_MIN = 4


@transaction.atomic
def member_remove(*, actor, member: Member, kind: str, reason: str = "") -> Member:
    """Take a member off the register (组织关系转出, 去世, other). The row stays for the
    audit trail; every list, figure and search stops counting it."""
    from django.utils import timezone

    from .models import RemovalKind

    _check_can(actor, "member.edit", member.unit)
    if kind not in RemovalKind.values:
        raise DomainError(
            "bad_kind",
            _("请选择移出原因：%(kinds)s。") % {"kinds": "、".join(map(str, RemovalKind.labels))},
            status=422,
            field="kind",
        )
    reason = " ".join((reason or "").split())
    if kind == RemovalKind.OTHER and len(reason) < REMOVAL_REASON_MIN:
        raise DomainError(
            "reason_required",
            _("原因为“其他”时，请写明说明（至少 %(n)d 个字）。") % {"n": REMOVAL_REASON_MIN},
            status=422,
            field="reason",
        )
    if len(reason) > 200:
        raise DomainError(
            "reason_too_long", _("说明不能超过 200 个字。"), status=422, field="reason"
        )
    if member.removed_at is not None:
        raise DomainError("already_removed", _("该党员已移出名册。"), status=409)
    ended = _end_community_roles(member)
    member.removed_at, member.removed_kind, member.removed_reason = timezone.now(), kind, reason
    member.removed_by = actor if getattr(actor, "pk", None) else None
    member.account = None
    member.save(
        update_fields=["removed_at", "removed_kind", "removed_reason", "removed_by", "account"]
    )
    audit.record(
        "member.remove",
        actor=actor,
        obj=member,
        unit=member.unit,
        detail={"kind": kind, "reason": reason, **ended},
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


# --- 三户四长: heads of compounds, grids, buildings and entrances ---------------------------

POST_UNIT_KINDS = {
    "compound_head": (UnitKind.COMPOUND, UnitKind.NATURAL_VILLAGE),
    "grid_head": (UnitKind.GRID,),
    "building_head": (UnitKind.BUILDING, UnitKind.COMPOUND, UnitKind.NATURAL_VILLAGE),
    "entrance_head": (UnitKind.BUILDING, UnitKind.COMPOUND, UnitKind.NATURAL_VILLAGE),
}


@transaction.atomic
def post_assign(
    *,
    actor,
    member: Member,
    kind: str,
    unit: Unit,
    building: str = "",
    entrance: str = "",
    since=None,
    elected_on=None,
    votes_for=None,
    votes_cast=None,
):
    """Make `member` the head of a compound, grid, building or entrance in their compound.
    A building head needs the nomination meeting that elected them (date and votes)."""
    from .models import CommunityPost, PostKind

    _check_can(actor, "member.roles", unit)
    if kind not in PostKind.values:
        raise DomainError("bad_kind", _("未知的职务。"), field="kind")
    if unit.kind not in POST_UNIT_KINDS[kind]:
        raise DomainError(
            "bad_unit",
            _("%(post)s 不能负责%(kind)s。")
            % {"post": PostKind(kind).label, "kind": unit.get_kind_display()},
            field="unit",
        )
    if not unit.path.startswith(member.compound.path) and not member.compound.path.startswith(
        unit.path
    ):
        raise DomainError(
            "not_resident",
            _("%(name)s 不住在这里，不能担任这里的%(post)s。")
            % {"name": member.name, "post": PostKind(kind).label},
            field="member",
        )
    building = f.parse_short(building, 20) if building else ""
    if unit.kind == UnitKind.BUILDING:
        building = unit.name
    if kind in ("building_head", "entrance_head") and not building:
        raise DomainError("building_required", _("请填写楼栋。"), field="building")
    entrance = f.parse_short(entrance, 10) if entrance else ""
    if kind == "entrance_head" and not entrance:
        raise DomainError("entrance_required", _("请填写单元。"), field="entrance")
    if kind == "building_head":
        if elected_on is None or not votes_cast:
            raise DomainError(
                "meeting_required",
                _("楼栋长由推选会产生：请填写推选会日期和参会户数。"),
                field="elected_on",
            )
        if votes_for is None or votes_for > votes_cast or votes_for * 2 <= votes_cast:
            raise DomainError(
                "no_majority",
                _("赞成票应超过参会户数的一半，且不多于参会户数。"),
                field="votes_for",
            )
    post, created = CommunityPost.objects.update_or_create(
        kind=kind,
        unit=unit,
        building=building if kind != "grid_head" else "",
        entrance=entrance if kind == "entrance_head" else "",
        defaults={
            "member": member,
            "since": since or (elected_on if kind == "building_head" else None),
            "elected_on": elected_on if kind == "building_head" else None,
            "votes_for": votes_for if kind == "building_head" else None,
            "votes_cast": votes_cast if kind == "building_head" else None,
        },
    )
    audit.record(
        "member.post_assign",
        actor=actor,
        obj=post,
        unit=unit,
        detail={
            "kind": kind,
            "member": member.pk,
            "building": building,
            "entrance": entrance,
            "replaced": not created,
        },
    )
    return post


# --- 双报到 ---------------------------------------------------------------------------------


@transaction.atomic
def pairing_create(
    *,
    actor,
    community: Unit,
    work_unit: str,
    party_org_name: str,
    agreement: str = "",
    signed_on=None,
    contact: str = "",
    services: str = "",
):
    """A work unit's party organisation pairs with a community (双报到 of organisations)."""
    from .models import WorkUnitPairing

    if community.kind not in (UnitKind.COMMUNITY, UnitKind.VILLAGE):
        raise DomainError("not_community", _("双报到只能向社区或嘎查村报到。"), field="community")
    _check_can(actor, "dual.manage", community)
    values = {}
    for name, value, limit in (
        ("work_unit", work_unit, 100),
        ("party_org_name", party_org_name, 100),
        ("agreement", agreement, 200),
        ("contact", contact, 60),
        ("services", services, 200),
    ):
        try:
            values[name] = f.parse_short(value, limit)
        except f.FieldProblem as exc:
            raise DomainError("invalid", str(exc), status=422, field=name) from None
    if not values["work_unit"] or not values["party_org_name"]:
        raise DomainError("required", _("请填写报到单位和单位党组织。"), field="work_unit")
    pairing, created = WorkUnitPairing.objects.get_or_create(
        community=community,
        work_unit=values.pop("work_unit"),
        defaults={**values, "signed_on": signed_on},
    )
    if not created:
        raise DomainError("duplicate", _("该单位已向本社区报到。"), status=409, field="work_unit")
    audit.record(
        "dual.pairing_create",
        actor=actor,
        obj=pairing,
        unit=community,
        detail={"work_unit": pairing.work_unit},
    )
    return pairing


@transaction.atomic
def dual_register(*, actor, member: Member):
    """An in-service member registers with the community they live in: by themselves
    (their own account) or entered by a community worker."""
    from django.utils import timezone

    from .models import DualRegistration, Status, WorkUnitPairing

    self_service = actor is not None and getattr(member, "account_id", None) == actor.pk
    if not self_service:
        _check_can(actor, "dual.manage", member.unit)
    if member.status != Status.IN_SERVICE:
        raise DomainError("not_in_service", _("双报到面向在职党员。"), field="member")
    if hasattr(member, "dual_registration"):
        raise DomainError(
            "already", _("%(name)s 已经报到过了。") % {"name": member.name}, status=409
        )
    community = member.compound.parent
    pairing = (
        WorkUnitPairing.objects.filter(community=community, work_unit=member.work_unit).first()
        if member.work_unit
        else None
    )
    registration = DualRegistration.objects.create(
        member=member,
        community=community,
        pairing=pairing,
        self_service=self_service,
        registered_at=timezone.now(),
        registered_by=actor,
    )
    audit.record(
        "dual.register",
        actor=actor,
        obj=registration,
        unit=community,
        detail={"member": member.pk, "self_service": self_service},
    )
    return registration


@transaction.atomic
def dual_confirm(*, actor, registration):
    from django.utils import timezone

    _check_can(actor, "dual.manage", registration.community)
    if registration.confirmed_at:
        raise DomainError("already", _("已经确认过了。"), status=409)
    registration.confirmed_at, registration.confirmed_by = timezone.now(), actor
    registration.save(update_fields=["confirmed_at", "confirmed_by"])
    audit.record(
        "dual.confirm",
        actor=actor,
        obj=registration,
        unit=registration.community,
        detail={"member": registration.member_id},
    )
    return registration
