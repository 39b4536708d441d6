"""Every write of the care registry and its visits. Keyword-only, actor first, one
transaction each, audited; a rule that says no raises `CareError` (a DomainError: 422
naming the field, 409 a state that does not allow it, 403 a role that may not).

    recipient_create(*, actor, unit, group, name, …) -> CareRecipient
    recipient_update(*, actor, recipient, **changes) -> CareRecipient
    recipient_reveal(*, actor, recipient, field, reason) -> str        (audited)
    visit_log(*, actor, recipient, visited_on=None, seen=True, wellbeing="", services=(),
              elderly_certification="", elderly_allowance="", dibao_status="",
              finding_kind="", findings="", note="") -> Visit
    visit_raise_need(*, actor, visit, category="", text="") -> Need     (the needs service,
              channel "visit", once per visit)
    group_save(*, actor, group, interval_days, name=None, active=None) -> CareGroup

Who may act on which recipient is checked by the callers through
`selectors.recipient_access` (404 outside the caller's area or a minor they may not see,
403 a step their role may not take); the services check the data and the state."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hongyan.core import audit, pii
from hongyan.core.errors import DomainError
from hongyan.core.scope import can
from hongyan.orgs.models import COMMUNITY_KINDS, PLACE_KINDS, Unit

from .models import (
    FINDING_CATEGORY,
    TEXT_MAX,
    AllowanceCheck,
    CareGroup,
    CareRecipient,
    CareReminder,
    CareService,
    CertificationCheck,
    ConsentMethod,
    DibaoCheck,
    FindingKind,
    Gender,
    Visit,
    Wellbeing,
    mask_name,
)

INTERVAL_MAX = 366
BACKDATE_DAYS = 31  # a visit may be entered afterwards, within a month
REVEAL_REASON_MIN = 4


class CareError(DomainError):
    pass


def invalid(field: str, message: str) -> CareError:
    return CareError("invalid", message, status=422, field=field)


def today() -> date:
    return timezone.localdate()


def _actor_name(actor) -> str:
    return (getattr(actor, "display_name", "") or getattr(actor, "username", "")) if actor else ""


def _text(value, field: str, label: str, *, required=False, maximum=TEXT_MAX) -> str:
    value = " ".join(str(value or "").split()) if field != "findings" else str(value or "").strip()
    if required and not value:
        raise invalid(field, _("请填写%(label)s。") % {"label": label})
    if len(value) > maximum:
        raise invalid(
            field,
            _("%(label)s不能超过 %(n)d 个字，现为 %(m)d 个字。")
            % {"label": label, "n": maximum, "m": len(value)},
        )
    return value


def _choice(value, choices, field: str, label: str) -> str:
    value = value or ""
    if value and value not in choices.values:
        raise invalid(
            field,
            _("%(label)s的取值“%(value)s”无效，可选：%(options)s。")
            % {"label": label, "value": value, "options": "、".join(choices.values)},
        )
    return value


def _date(value, field: str, label: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise invalid(
            field, _("%(label)s应写成 2026-11-27 这样的日期。") % {"label": label}
        ) from None


def community_of(unit: Unit) -> Unit | None:
    return (
        Unit.objects.filter(path__in=unit.ancestor_paths(), kind__in=COMMUNITY_KINDS)
        .order_by("-depth")
        .first()
    )


# --- recipients -------------------------------------------------------------------------

FIELDS = (
    "unit",
    "group",
    "name",
    "gender",
    "birth_date",
    "id_number",
    "mobile",
    "address",
    "household",
    "interval_days",
    "visitor_user",
    "visitor_post",
    "visitor_team",
    "guardian_name",
    "guardian_relation",
    "consent_on",
    "consent_method",
    "active",
    "ended_reason",
)


def _check_visitor(actor, r: CareRecipient, minor: bool) -> None:
    chosen = [f for f in ("visitor_user", "visitor_post", "visitor_team") if getattr(r, f"{f}_id")]
    if len(chosen) > 1:
        raise invalid(chosen[1], _("走访人只能选一种：三户四长、一个账号或一支志愿服务队。"))
    path = r.unit.path
    if r.visitor_user_id:
        if not can(r.visitor_user, "care.visit", path):
            raise invalid("visitor_user", _("该账号在此处没有走访权限。"))
        if minor and not can(r.visitor_user, "care.minors", path):
            raise invalid(
                "visitor_user", _("未满 14 周岁的儿童只能由有儿童信息权限的工作人员走访。")
            )
    if minor and (r.visitor_post_id or r.visitor_team_id):
        raise invalid(
            "visitor_post" if r.visitor_post_id else "visitor_team",
            _("未满 14 周岁的儿童只能由有儿童信息权限的工作人员走访。"),
        )
    community = community_of(r.unit)
    if r.visitor_post_id:
        post_path = r.visitor_post.unit.path
        if community is None or not post_path.startswith(community.path):
            raise invalid("visitor_post", _("所选的三户四长不在该对象所在社区。"))
    if r.visitor_team_id:
        team_path = r.visitor_team.unit.path
        inside = path.startswith(team_path) or (
            community is not None and team_path.startswith(community.path)
        )
        if not inside:
            raise invalid("visitor_team", _("所选的志愿服务队不服务该对象所在社区。"))


def _clean(actor, r: CareRecipient, data: dict, *, creating: bool) -> None:
    """Apply `data` to `r`, checking every field; raises CareError naming the first bad one."""
    day = today()
    if "unit" in data:
        unit = data["unit"]
        if unit is None or unit.kind not in PLACE_KINDS:
            raise invalid("unit", _("请选择小区、自然村、网格或楼栋。"))
        r.unit = unit
    if "group" in data:
        group = data["group"]
        if group is None or not group.active:
            raise invalid("group", _("请选择关爱群体。"))
        r.group = group
    if "name" in data:
        r.name = _text(data["name"], "name", _("姓名"), required=True, maximum=40)
    if "gender" in data:
        r.gender = _choice(data["gender"], Gender, "gender", _("性别"))
    if "id_number" in data and data["id_number"] not in (None,):
        id_number = pii.normalise_id_number(data["id_number"])
        if id_number:
            problem = pii.id_number_problem(id_number)
            if problem:
                raise invalid("id_number", problem)
            r.set_id_number(id_number)
            born = pii.id_birth_date(id_number)
            if "birth_date" in data and data["birth_date"]:
                given = _date(data["birth_date"], "birth_date", _("出生日期"))
                if given != born:
                    raise invalid("birth_date", _("出生日期与身份证号码不一致。"))
            r.set_birth_date(born)
            r.gender = r.gender or pii.id_gender(id_number)
        elif creating:  # blank on an edit keeps the stored number
            r.set_id_number("")
    if "birth_date" in data and not r.id_number_enc:
        born = _date(data["birth_date"], "birth_date", _("出生日期"))
        if born and (born > day or born.year < 1900):
            raise invalid("birth_date", _("出生日期不是有效日期。"))
        r.set_birth_date(born)
    if "mobile" in data and data["mobile"] is not None:
        mobile = pii.normalise_mobile(data["mobile"])
        if mobile:
            problem = pii.mobile_problem(mobile)
            if problem:
                raise invalid("mobile", problem)
            r.set_mobile(mobile)
        elif creating:  # blank on an edit keeps the stored number
            r.set_mobile("")
    if "address" in data:
        r.address = _text(data["address"], "address", _("住址"), maximum=100)
    if "household" in data:
        r.household = _text(data["household"], "household", _("家庭情况"), maximum=200)
    if "interval_days" in data:
        value = data["interval_days"]
        if value in ("", None):
            r.interval_days = None
        else:
            try:
                value = int(value)
            except (TypeError, ValueError):
                value = 0
            if not 1 <= value <= INTERVAL_MAX:
                raise invalid(
                    "interval_days",
                    _("走访周期应为 1 到 %(n)d 天。") % {"n": INTERVAL_MAX},
                )
            r.interval_days = value
    for field in ("visitor_user", "visitor_post", "visitor_team"):
        if field in data:
            setattr(r, field, data[field])
    if "guardian_name" in data:
        r.guardian_name = _text(data["guardian_name"], "guardian_name", _("监护人姓名"), maximum=40)
    if "guardian_relation" in data:
        r.guardian_relation = _text(
            data["guardian_relation"], "guardian_relation", _("与儿童关系"), maximum=20
        )
    if "consent_on" in data:
        r.consent_on = _date(data["consent_on"], "consent_on", _("同意日期"))
        if r.consent_on and r.consent_on > day:
            raise invalid("consent_on", _("同意日期不能晚于今天。"))
    if "consent_method" in data:
        r.consent_method = _choice(
            data["consent_method"], ConsentMethod, "consent_method", _("同意方式")
        )
    if "active" in data:
        r.active = bool(data["active"])
    if "ended_reason" in data:
        r.ended_reason = _text(data["ended_reason"], "ended_reason", _("销册原因"), maximum=100)
    if not r.active and not r.ended_reason:
        raise invalid("ended_reason", _("销册时请写明原因，例如“已迁出”。"))

    if r.group.children and r.birth_date is None:
        raise invalid("birth_date", _("儿童须填写出生日期（或身份证号码）。"))
    minor = r.is_minor(day)
    if minor:
        if not can(actor, "care.minors", r.unit.path):
            raise CareError(
                "forbidden",
                _("您的角色不能登记未满 14 周岁的儿童。"),
                status=403,
                field="birth_date",
            )
        for field, label in (
            ("guardian_name", _("监护人姓名")),
            ("guardian_relation", _("与儿童关系")),
            ("consent_on", _("监护人同意日期")),
            ("consent_method", _("监护人同意方式")),
        ):
            if not getattr(r, field):
                raise invalid(
                    field,
                    _("未满 14 周岁的儿童属于敏感个人信息，须记录监护人同意：请填写%(label)s。")
                    % {"label": label},
                )
        if r.consent_recorded_by_id is None or any(
            f in data for f in ("guardian_name", "consent_on", "consent_method")
        ):
            r.consent_recorded_by = actor
    _check_visitor(actor, r, minor)
    if r.id_number_index:
        twin = CareRecipient.objects.filter(
            id_number_index__in=pii.blind_indexes(r.id_number, "care.id_number"),
            group=r.group,
            active=True,
        ).exclude(pk=r.pk)
        if r.active and twin.exists():
            raise CareError(
                "duplicate",
                _("此人已登记在“%(group)s”中。") % {"group": r.group.name},
                status=409,
                field="id_number",
            )


def _audit(action, actor, r: CareRecipient, **detail):
    audit.record(
        f"care.{action}",
        actor=actor,
        obj=r,
        unit=r.unit,
        detail={"group": r.group.code, "minor": r.is_minor(today()), **detail},
    )


@transaction.atomic
def recipient_create(
    *, actor, generated: bool = False, registered_on=None, **data
) -> CareRecipient:
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    for required in ("unit", "group", "name"):
        data.setdefault(required, None if required != "name" else "")
    r = CareRecipient(registered_on=_date(registered_on, "registered_on", _("登记日期")) or today())
    if r.registered_on > today():
        raise invalid("registered_on", _("登记日期不能晚于今天。"))
    _clean(actor, r, data, creating=True)
    r.next_due = r.compute_next_due()
    r.generated = generated
    r.save()
    _audit("recipient.create", actor, r)
    return r


@transaction.atomic
def recipient_update(*, actor, recipient: CareRecipient, **changes) -> CareRecipient:
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    r = (
        CareRecipient.objects.select_for_update()
        .select_related("unit", "group")
        .get(pk=recipient.pk)
    )
    _clean(actor, r, changes, creating=False)
    r.next_due = r.compute_next_due()
    r.save()
    _audit("recipient.update", actor, r, fields=sorted(changes))
    return r


def recipient_reveal(*, actor, recipient: CareRecipient, field: str, reason: str) -> str:
    """One unmasked value (ID number or mobile) with the reason recorded."""
    if field not in ("id_number", "mobile"):
        raise invalid("field", _("只能查看身份证号码或手机号码。"))
    reason = " ".join((reason or "").split())
    if len(reason) < REVEAL_REASON_MIN:
        raise invalid(
            "reason",
            _("请写明查看原因（至少 %(n)d 个字），例如“核对高龄补贴”。") % {"n": REVEAL_REASON_MIN},
        )
    if len(reason) > 200:
        raise invalid("reason", _("原因不能超过 200 个字。"))
    value = recipient.id_number if field == "id_number" else recipient.mobile
    with transaction.atomic():
        _audit("recipient.reveal", actor, recipient, field=field, reason=reason)
    return value


def minor_read(*, actor, recipient: CareRecipient, how: str) -> None:
    """A child's record was read (their page, the API): the audit log says who and why."""
    with transaction.atomic():
        _audit("minor.read", actor, recipient, how=how)


# --- visits -----------------------------------------------------------------------------


@transaction.atomic
def visit_log(
    *,
    actor,
    recipient: CareRecipient,
    visited_on=None,
    seen: bool = True,
    wellbeing: str = "",
    services=(),
    elderly_certification: str = "",
    elderly_allowance: str = "",
    dibao_status: str = "",
    finding_kind: str = "",
    findings: str = "",
    note: str = "",
    generated: bool = False,
) -> Visit:
    """Record one visit; a visit that saw the person restarts their clock."""
    r = (
        CareRecipient.objects.select_for_update()
        .select_related("unit", "group")
        .get(pk=recipient.pk)
    )
    if not r.active:
        raise CareError(
            "ended", _("%(name)s 已销册，不能再登记走访。") % {"name": r.name}, status=409
        )
    day = today()
    visited_on = _date(visited_on, "visited_on", _("走访日期")) or day
    if visited_on > day:
        raise invalid("visited_on", _("走访日期不能晚于今天。"))
    if visited_on < day - timedelta(days=BACKDATE_DAYS):
        raise invalid("visited_on", _("只能补记 %(n)d 天内的走访。") % {"n": BACKDATE_DAYS})
    if visited_on < r.registered_on:
        raise invalid("visited_on", _("走访日期早于登记日期。"))
    wellbeing = _choice(wellbeing, Wellbeing, "wellbeing", _("身体和生活状况"))
    if seen and not wellbeing:
        raise invalid("wellbeing", _("见到本人时，请选择身体和生活状况。"))
    if not seen:
        wellbeing = ""
    services = list(dict.fromkeys(services or ()))
    for s in services:
        _choice(s, CareService, "services", _("提供的服务"))
    visit = Visit(
        recipient=r,
        visitor=actor if getattr(actor, "pk", None) else None,
        visitor_name=_actor_name(actor)[:60] or _("走访人"),
        visited_on=visited_on,
        seen=bool(seen),
        wellbeing=wellbeing,
        services=services,
        elderly_certification=_choice(
            elderly_certification, CertificationCheck, "elderly_certification", _("高龄认证")
        ),
        elderly_allowance=_choice(
            elderly_allowance, AllowanceCheck, "elderly_allowance", _("高龄补贴")
        ),
        dibao_status=_choice(dibao_status, DibaoCheck, "dibao_status", _("低保")),
        finding_kind=_choice(finding_kind, FindingKind, "finding_kind", _("发现的问题")),
        findings=_text(findings, "findings", _("问题描述")),
        note=_text(note, "note", _("备注")),
        generated=generated,
    )
    if visit.finding_kind and not visit.findings:
        raise invalid("findings", _("请简要描述发现的问题，例如“楼道堆放杂物堵住消防通道”。"))
    visit.save()
    r.last_visit_on = max(filter(None, (r.last_visit_on, visited_on)))
    if visit.seen:
        r.last_seen_on = max(filter(None, (r.last_seen_on, visited_on)))
    r.next_due = r.compute_next_due()
    r.save(update_fields=["last_visit_on", "last_seen_on", "next_due", "updated_at"])
    CareReminder.objects.filter(recipient=r, read_at__isnull=True, due_on__lt=r.next_due).update(
        read_at=timezone.now()
    )
    audit.record(
        "care.visit",
        actor=actor,
        obj=visit,
        unit=r.unit,
        detail={"recipient": r.pk, "seen": visit.seen, "finding": visit.finding_kind},
    )
    return visit


@transaction.atomic
def visit_raise_need(*, actor, visit: Visit, category: str = "", text: str = ""):
    """A finding becomes a residents' need in one step (channel "visit"), once per visit.
    The caller has checked that the actor may log visits for this recipient."""
    from hongyan.needs import services as needs
    from hongyan.needs.models import Channel

    visit = Visit.objects.select_for_update().select_related("recipient__unit").get(pk=visit.pk)
    if visit.need_id:
        raise CareError(
            "already_raised",
            _("这次走访已转为需求 %(ref)s。") % {"ref": visit.need.reference},
            status=409,
        )
    r = visit.recipient
    code = category or FINDING_CATEGORY.get(visit.finding_kind, "elderly_disabled")
    found = needs.category_for_city(r.unit, code)
    if found is None:
        raise invalid("category", _("没有这个需求类别：%(code)s。") % {"code": code})
    text = (text or "").strip() or visit.findings or visit.note
    if not text:
        raise invalid("text", _("请写明需要解决的问题。"))
    minor = r.is_minor(today())
    # a child's name does not travel into the needs queue: the guardian files
    resident = r.guardian_name if minor else r.name
    need = needs.need_file(
        actor=actor,
        channel=Channel.VISIT,
        category=found,
        unit=r.unit,
        text=text,
        resident_name=resident or _("走访对象"),
        resident_mobile="" if minor else r.mobile,
        source_ref=f"visit:{visit.pk}",
        caller_checked=True,
    )
    visit.need = need
    visit.save(update_fields=["need"])
    audit.record(
        "care.visit.need",
        actor=actor,
        obj=visit,
        unit=r.unit,
        detail={"need": need.reference, "category": code},
    )
    return need


# --- groups -----------------------------------------------------------------------------


@transaction.atomic
def group_save(*, actor, group: CareGroup, interval_days, name=None, active=None) -> CareGroup:
    """Change a group's default frequency (and name, or retire it); the due dates of its
    recipients without their own frequency move with it."""
    try:
        interval_days = int(interval_days)
    except (TypeError, ValueError):
        interval_days = 0
    if not 1 <= interval_days <= INTERVAL_MAX:
        raise invalid("interval_days", _("走访周期应为 1 到 %(n)d 天。") % {"n": INTERVAL_MAX})
    if name is not None:
        group.name = _text(name, "name", _("名称"), required=True, maximum=30)
    if active is not None:
        group.active = bool(active)
    changed = group.interval_days != interval_days
    group.interval_days = interval_days
    group.save()
    moved = 0
    if changed:
        rows = list(
            CareRecipient.objects.filter(group=group, interval_days__isnull=True).only(
                "pk", "registered_on", "last_seen_on", "interval_days", "group"
            )
        )
        for r in rows:
            r.group = group
            r.next_due = r.compute_next_due()
        CareRecipient.objects.bulk_update(rows, ["next_due"], batch_size=1000)
        moved = len(rows)
    audit.record(
        "care.group.save",
        actor=actor,
        detail={"group": group.code, "interval_days": interval_days, "moved": moved},
    )
    return group


def reminder_message(r: CareRecipient, day: date) -> str:
    name = mask_name(r.name) if r.is_minor(day) else r.name
    return _("%(name)s（%(group)s）应于 %(due)s 走访，请尽快上门。") % {
        "name": name,
        "group": r.group.name,
        "due": r.next_due.isoformat(),
    }
