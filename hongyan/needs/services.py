"""Every write on residents' needs. Keyword-only, actor first, one transaction each,
audited, a timeline entry per step; a rule that says no raises `NeedError` (a
DomainError; an illegal transition answers 409 with the reason).

Signatures (the pages, Open311, visits and meetings call these):

    need_file(*, actor, channel, category, unit, text, resident_name="", resident_mobile="",
              address="", photos=(), source_ref="", at=None, generated=False,
              caller_checked=False) -> Need
        The one intake for every channel (public_web, resident_account, proxy, desk,
        hotline, visit, meeting, open311). `actor` is None for the public page. Returns the
        need with `need.follow_token` (raw, shown once) set.
    need_join(*, actor, need, name, mobile="", note="") -> NeedSupporter   (附议, with
        `supporter.follow_token`)
    need_accept(*, actor, need, note="") -> Need
    need_reject(*, actor, need, reason) -> Need
    need_dispatch(*, actor, need, unit=None, party_org=None, team_id=None, team_name="",
                  person=None, note="") -> Need            (exactly one target)
    need_claim(*, actor, need, note="") -> Need           (row lock: one winner, 409 for the rest)
    need_start(*, actor, need, note="") -> Need
    need_pause(*, actor, need, note) -> Need               (waiting for the resident: clock stops)
    need_resume(*, actor, need, note="") -> Need           (deadline moved by the paused working time)
    need_resolve(*, actor, need, resolution, photos=()) -> Need
    need_rate(*, actor, need, rating, comment="") -> Need  (actor None = via the follow token;
                                                             ≥ 3 closes, ≤ 2 reopens)
    need_close(*, actor, need, note="") -> Need            (staff close a resolved need)
    need_reopen(*, actor, need, note) -> Need
    need_transfer(*, actor, need, to_unit, category=None, note) -> Need
    need_escalate(*, actor, need, note="") -> Need         (督办: owner one level up; actor None = the worker)
    need_merge(*, actor, need, into, note="") -> Need
    clean_photos(files) -> list[(name, bytes, content_type)]   (raises NeedError field="photos")

Who may take which step is checked by the callers through `selectors.need_access`; the
services check the state (and the few rules that depend on the person, like "only the
named person may start a need dispatched to them")."""

import base64
import binascii
import re
import secrets
from collections.abc import Iterable
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from hongyan.core import audit, pii
from hongyan.core.scope import can
from hongyan.members.selectors import register_service_source
from hongyan.orgs.models import COMMUNITY_KINDS, PLACE_KINDS, PartyOrganization, Unit, UnitKind

from . import clock
from .models import (
    PHOTO_MAX_BYTES,
    PHOTOS_MAX,
    TEXT_MAX,
    AssigneeKind,
    Channel,
    EventAction,
    Need,
    NeedCategory,
    NeedEvent,
    NeedPhoto,
    NeedSupporter,
    PhotoStage,
    Status,
    hash_follow_token,
    new_reference,
)
from .rules import NeedError, check_transition, conflict

STAFF_CHANNELS = (Channel.PROXY, Channel.DESK, Channel.HOTLINE, Channel.VISIT, Channel.MEETING)
RESOLUTION_MIN = 2
REASON_MIN = 2

# Who may claim needs in which community, beyond staff: functions user -> set of
# community unit ids. 双报到 members register here; the volunteers app adds its teams.
CLAIMANT_SOURCES: list = []


def register_claimant_source(func):
    CLAIMANT_SOURCES.append(func)
    return func


@register_claimant_source
def dual_registered_communities(user) -> set[int]:
    """Communities where the user's member record is registered (双报到) and confirmed."""
    from hongyan.members.models import DualRegistration

    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        DualRegistration.objects.filter(
            member__account=user, confirmed_at__isnull=False
        ).values_list("community_id", flat=True)
    )


def claimable_communities(user) -> set[int]:
    found: set[int] = set()
    for source in CLAIMANT_SOURCES:
        found |= set(source(user))
    return found


# --- helpers ------------------------------------------------------------------------


def _actor_name(actor) -> str:
    if actor is None or not getattr(actor, "pk", None):
        return ""
    return getattr(actor, "display_name", "") or actor.username


def _event(
    need, actor, action, *, note="", from_status="", data=None, at=None, actor_label=""
) -> NeedEvent:
    return NeedEvent.objects.create(
        need=need,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=actor_label or _actor_name(actor) or (_("居民") if actor is None else ""),
        action=action,
        from_status=from_status,
        to_status=need.status,
        note=note[:TEXT_MAX],
        data=data or {},
    )


def _audit(action, actor, need, *, actor_label="", **detail):
    audit.record(
        f"need.{action}",
        actor=actor,
        obj=need,
        actor_name=actor_label or ("" if actor is not None else "resident"),
        detail={"reference": need.reference, "status": need.status, **detail},
    )


def _locked(need: Need) -> Need:
    """Re-read the need under a row lock (PostgreSQL: SELECT … FOR UPDATE), so two steps
    on one need run one after the other and the second sees the first's result."""
    fresh = (
        Need.objects.select_for_update().select_related("unit", "owner", "category").get(pk=need.pk)
    )
    return fresh


def _text(value, field: str, *, required=True, minimum=1, maximum=TEXT_MAX, label="") -> str:
    value = (value or "").strip()
    if required and len(value) < minimum:
        raise NeedError(
            "invalid", _("请填写%(label)s。") % {"label": label or field}, status=422, field=field
        )
    if len(value) > maximum:
        raise NeedError(
            "invalid",
            _("%(label)s不能超过 %(n)d 个字，现为 %(m)d 个字。")
            % {"label": label or field, "n": maximum, "m": len(value)},
            status=422,
            field=field,
        )
    return value


def owner_for(unit: Unit, category: NeedCategory) -> Unit:
    """The unit that owns a need at `unit` by default: the ancestor at the category's
    level (a community for most; a village counts as a community), else the community."""
    levels = COMMUNITY_KINDS if category.owner_level in COMMUNITY_KINDS else (category.owner_level,)
    ancestors = list(Unit.objects.filter(path__in=unit.ancestor_paths()).order_by("-depth"))
    for kinds in (levels, COMMUNITY_KINDS):
        for a in ancestors:
            if a.kind in kinds:
                return a
    return unit


def community_of(unit: Unit) -> Unit | None:
    return (
        Unit.objects.filter(path__in=unit.ancestor_paths(), kind__in=COMMUNITY_KINDS)
        .order_by("-depth")
        .first()
    )


def category_for_city(unit: Unit, code: str) -> NeedCategory | None:
    """The category `code` as the city of `unit` sees it (its own, else the default)."""
    from django.db.models import Q

    city = Unit.objects.filter(path__in=unit.ancestor_paths(), kind=UnitKind.CITY).first()
    where = Q(city__isnull=True) | Q(city=city) if city else Q(city__isnull=True)
    found = sorted(
        NeedCategory.objects.filter(where, code=code, active=True), key=lambda c: c.city_id is None
    )
    return found[0] if found else None


# --- photos ---------------------------------------------------------------------------

_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)


def _image_type(data: bytes) -> tuple[str, str] | None:
    for magic, content_type, ext in _SIGNATURES:
        if data.startswith(magic):
            return content_type, ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1"):
        return "image/heic", "heic"
    return None


_DATA_URL = re.compile(r"^data:[^;,]*;base64,", re.I)


def clean_photos(files: Iterable, *, field: str = "photos") -> list[tuple[str, bytes, str]]:
    """Uploaded files (Django UploadedFile, (name, bytes) pairs, or base64 strings) →
    checked (name, bytes, content type). At most 3, each an image of at most 5 MB: the
    file's own bytes decide what it is, not its name."""
    files = [f for f in (files or []) if f]
    if len(files) > PHOTOS_MAX:
        raise NeedError(
            "invalid",
            _("最多上传 %(n)d 张照片。") % {"n": PHOTOS_MAX},
            status=422,
            field=field,
        )
    out = []
    for i, item in enumerate(files, start=1):
        if isinstance(item, str):
            try:
                data = base64.b64decode(_DATA_URL.sub("", item.strip()), validate=True)
            except (binascii.Error, ValueError):
                raise NeedError(
                    "invalid", _("第 %(i)d 张照片不是有效的 base64。") % {"i": i}, 422, field
                ) from None
            name = f"photo{i}"
        elif isinstance(item, tuple):
            name, data = item
        else:
            if item.size > PHOTO_MAX_BYTES:
                data = b""
                size = item.size
            else:
                data = item.read()
            name = getattr(item, "name", f"photo{i}")
        size = len(data) if data else getattr(item, "size", 0)
        if size > PHOTO_MAX_BYTES:
            raise NeedError(
                "invalid",
                _("第 %(i)d 张照片超过 5 MB，请压缩后再传。") % {"i": i},
                status=422,
                field=field,
            )
        kind = _image_type(data)
        if kind is None:
            raise NeedError(
                "invalid",
                _("第 %(i)d 张照片不是图片（支持 JPEG、PNG、GIF、WebP、HEIC）。") % {"i": i},
                status=422,
                field=field,
            )
        out.append((f"{name.rsplit('.', 1)[0][:40]}.{kind[1]}", data, kind[0]))
    return out


def _save_photos(need, photos, stage) -> None:
    for name, data, content_type in photos:
        photo = NeedPhoto(need=need, stage=stage, content_type=content_type, size=len(data))
        photo.file.save(name, ContentFile(data), save=False)
        photo.save()


# --- intake ---------------------------------------------------------------------------


def clean_mobile(value, *, field="resident_mobile", required=False) -> str:
    mobile = pii.normalise_mobile(value or "")
    if not mobile:
        if required:
            raise NeedError("invalid", _("请填写手机号码。"), status=422, field=field)
        return ""
    problem = pii.mobile_problem(mobile)
    if problem:
        raise NeedError("invalid", problem, status=422, field=field)
    return mobile


@transaction.atomic
def need_file(
    *,
    actor,
    channel: str,
    category: NeedCategory,
    unit: Unit,
    text: str,
    resident_name: str = "",
    resident_mobile: str = "",
    address: str = "",
    photos: Iterable = (),
    source_ref: str = "",
    at: datetime | None = None,
    generated: bool = False,
    caller_checked: bool = False,
) -> Need:
    """File a need from any channel; it gets its reference number and deadline at once.

    Staff channels need `need.file` over the unit, unless the calling service has
    checked the actor itself (`caller_checked=True`: a visit or a meeting recorded by
    someone the care or deliberation rules allow)."""
    if channel not in Channel.values:
        raise NeedError("invalid", _("未知的来源渠道。"), status=422, field="channel")
    if category is None or not category.active:
        raise NeedError("invalid", _("请选择需求类别。"), status=422, field="category")
    text = _text(text, "text", label=_("需求内容"))
    address = _text(address, "address", required=False, maximum=200, label=_("详细地址"))
    if unit.kind in COMMUNITY_KINDS:  # a typed address: filed under its community
        if not address:
            raise NeedError(
                "invalid",
                _("所选单位是社区，请填写详细地址（或选择小区）。"),
                status=422,
                field="address",
            )
    elif unit.kind not in PLACE_KINDS:
        raise NeedError(
            "invalid",
            _("请选择小区、网格或楼栋，或选择社区并填写详细地址。"),
            status=422,
            field="unit",
        )
    staff_channel = channel in STAFF_CHANNELS
    if (
        staff_channel
        and not caller_checked
        and (actor is None or not can(actor, "need.file", unit.path))
    ):
        raise NeedError(
            "forbidden", _("只有工作人员可以代居民登记需求。"), status=403, field="channel"
        )
    if channel == Channel.RESIDENT_ACCOUNT and actor is None:
        raise NeedError("invalid", _("请先登录居民账号。"), status=422, field="channel")
    name = _text(
        resident_name or (_actor_name(actor) if channel == Channel.RESIDENT_ACCOUNT else ""),
        "resident_name",
        maximum=40,
        label=_("居民姓名"),
    )
    # a resident without a phone may be filed for (proxy): then the mobile may be empty
    mobile = clean_mobile(
        resident_mobile, required=channel in (Channel.PUBLIC_WEB, Channel.OPEN311)
    )
    photos = clean_photos(photos)

    at = at or timezone.now()
    need = Need(
        channel=channel,
        category=category,
        text=text,
        unit=unit,
        address=address,
        owner=owner_for(unit, category),
        resident_name=name,
        resident_account=actor if channel == Channel.RESIDENT_ACCOUNT else None,
        filed_by=actor if getattr(actor, "pk", None) else None,
        source_ref=source_ref[:60],
        created_at=at,
        response_due=clock.response_due_for(category, at),
        deadline=clock.deadline_for(category, at),
        generated=generated,
    )
    need.set_resident_mobile(mobile)
    need.issue_follow_token()
    for _attempt in range(5):
        need.reference = new_reference(at)
        try:
            with transaction.atomic():
                need.save()
            break
        except IntegrityError:  # the same reference drawn twice: draw again
            need.pk = None
    else:  # pragma: no cover - 32^6 references a day
        raise NeedError("busy", _("系统繁忙，请重试。"), status=503)
    _save_photos(need, photos, PhotoStage.INTAKE)
    _event(
        need,
        actor if channel != Channel.PUBLIC_WEB else None,
        EventAction.SUBMITTED,
        data={"channel": channel, "proxy": channel == Channel.PROXY},
        at=at,
    )
    _audit("file", actor, need, channel=channel, category=category.code)
    return need


@transaction.atomic
def need_join(*, actor, need: Need, name: str, mobile: str = "", note: str = "") -> NeedSupporter:
    """附议: a resident joins an open need instead of filing the same thing again."""
    need = _locked(need)
    check_transition(need, "join")
    name = _text(name or _actor_name(actor), "name", maximum=40, label=_("居民姓名"))
    mobile = clean_mobile(mobile, field="mobile", required=actor is None)
    if mobile and (
        need.resident_mobile_index in pii.blind_indexes(mobile, "need.mobile")
        or need.supporter_rows.filter(
            mobile_index__in=pii.blind_indexes(mobile, "need.mobile")
        ).exists()
    ):
        raise conflict("already_joined", _("您已提交或附议过这条需求。"))
    supporter = NeedSupporter(
        need=need,
        name=name,
        account=actor if getattr(actor, "pk", None) else None,
        note=_text(note, "note", required=False, maximum=500),
    )
    supporter.set_mobile(mobile)
    raw = secrets.token_urlsafe(18)
    supporter.follow_token_hash = hash_follow_token(raw)
    supporter.save()
    supporter.follow_token = raw
    Need.objects.filter(pk=need.pk).update(supporters=F("supporters") + 1)
    need.supporters += 1
    _event(need, actor, EventAction.JOINED, note=supporter.note, data={"name": name})
    _audit("join", actor, need)
    return supporter


# --- the workflow ---------------------------------------------------------------------


def _step(need, actor, action, *, note="", data=None, actor_label="", **changes) -> Need:
    before = need.status
    for field, value in changes.items():
        setattr(need, field, value)
    need.save()
    _event(need, actor, action, note=note, from_status=before, data=data, actor_label=actor_label)
    _audit(action, actor, need, actor_label=actor_label, before=before, **(data or {}))
    return need


@transaction.atomic
def need_accept(*, actor, need: Need, note: str = "") -> Need:
    need = _locked(need)
    check_transition(need, "accept")
    now = timezone.now()
    return _step(
        need,
        actor,
        EventAction.ACCEPTED,
        note=note,
        status=Status.ACCEPTED,
        accepted_at=now,
        responded_at=need.responded_at or now,
    )


@transaction.atomic
def need_reject(*, actor, need: Need, reason: str) -> Need:
    need = _locked(need)
    check_transition(need, "reject")
    reason = _text(reason, "reason", minimum=REASON_MIN, maximum=200, label=_("不予受理原因"))
    now = timezone.now()
    return _step(
        need,
        actor,
        EventAction.REJECTED,
        note=reason,
        status=Status.REJECTED,
        reject_reason=reason,
        responded_at=need.responded_at or now,
        closed_at=now,
    )


def _check_target_inside(need, unit_path: str, field: str):
    """A dispatch target must lie inside the community (or owner) of the need."""
    if not (unit_path.startswith(need.owner.path) or need.owner.path.startswith(unit_path)):
        raise NeedError(
            "invalid",
            _("派单对象不在该需求的承办单位范围内。"),
            status=422,
            field=field,
        )


@transaction.atomic
def need_dispatch(
    *,
    actor,
    need: Need,
    unit: Unit | None = None,
    party_org: PartyOrganization | None = None,
    team_id: int | None = None,
    team_name: str = "",
    person=None,
    note: str = "",
) -> Need:
    """派单 to one target: a unit, a party organisation, a volunteer team, or a person.
    A need still waiting to be accepted is accepted by the same act."""
    need = _locked(need)
    check_transition(need, "dispatch")
    targets = [t for t in (unit, party_org, team_id or team_name or None, person) if t]
    if len(targets) != 1:
        raise NeedError(
            "invalid",
            _("请选择一个派单对象：单位、党组织、志愿服务队或个人。"),
            status=422,
            field="target",
        )
    now = timezone.now()
    if need.status == Status.SUBMITTED:
        need = need_accept(actor=actor, need=need)
    changes = {
        "status": Status.DISPATCHED,
        "dispatched_at": now,
        "assigned_unit": None,
        "assigned_org": None,
        "assigned_team_id": None,
        "assigned_team_name": "",
        "assignee": None,
        "handler": None,
        "handler_member": None,
        "claimed_at": None,
    }
    if unit is not None:
        _check_target_inside(need, unit.path, "unit")
        changes.update(assignee_kind=AssigneeKind.UNIT, assigned_unit=unit)
        label = unit.name
    elif party_org is not None:
        _check_target_inside(need, party_org.unit.path, "party_org")
        changes.update(assignee_kind=AssigneeKind.PARTY_ORG, assigned_org=party_org)
        label = party_org.name
    elif person is not None:
        if not person.is_active:
            raise NeedError("invalid", _("该账号已停用。"), status=422, field="person")
        changes.update(assignee_kind=AssigneeKind.PERSON, assignee=person)
        label = _actor_name(person)
    else:
        changes.update(
            assignee_kind=AssigneeKind.TEAM,
            assigned_team_id=team_id,
            assigned_team_name=_text(team_name, "team_name", maximum=100, label=_("志愿服务队")),
        )
        label = changes["assigned_team_name"]
    return _step(
        need,
        actor,
        EventAction.DISPATCHED,
        note=note,
        data={"kind": changes["assignee_kind"], "to": label},
        **changes,
    )


def _member_of(user):
    return getattr(user, "member_record", None) if getattr(user, "pk", None) else None


@transaction.atomic
def need_claim(*, actor, need: Need, note: str = "") -> Need:
    """认领. The row lock makes concurrent claims queue: the first wins, the others then
    see a claimed need and get 409."""
    need = _locked(need)
    if need.status in (Status.CLAIMED, Status.IN_PROGRESS) and need.handler_id:
        raise conflict(
            "already_claimed",
            _("需求 %(ref)s 已被 %(who)s 认领。")
            % {"ref": need.reference, "who": _actor_name(need.handler)},
        )
    check_transition(need, "claim")
    if need.assignee_kind == AssigneeKind.PERSON and need.assignee_id != actor.pk:
        raise conflict("assigned_to_other", _("这条需求已派给指定的人员办理。"))
    from hongyan.members.models import Member

    member = Member.objects.filter(account=actor).first()
    return _step(
        need,
        actor,
        EventAction.CLAIMED,
        note=note,
        status=Status.CLAIMED,
        handler=actor,
        handler_member=member,
        claimed_at=timezone.now(),
    )


def _check_handler(need, actor):
    if (
        need.handler_id
        and need.handler_id != actor.pk
        and not can(actor, "need.manage", need.unit.path)
    ):
        raise NeedError("forbidden", _("只有办理人可以办理这条需求。"), status=403)
    if (
        not need.handler_id
        and need.assignee_kind == AssigneeKind.PERSON
        and need.assignee_id != actor.pk
        and not can(actor, "need.manage", need.unit.path)
    ):
        raise NeedError("forbidden", _("这条需求已派给指定的人员办理。"), status=403)


@transaction.atomic
def need_start(*, actor, need: Need, note: str = "") -> Need:
    need = _locked(need)
    check_transition(need, "start")
    if need.status == Status.DISPATCHED and need.assignee_kind != AssigneeKind.PERSON:
        raise conflict("not_claimed", _("请先认领这条需求，再开始办理。"))
    _check_handler(need, actor)
    changes = {"status": Status.IN_PROGRESS, "started_at": timezone.now()}
    if not need.handler_id:
        from hongyan.members.models import Member

        changes.update(
            handler=need.assignee,
            handler_member=Member.objects.filter(account=need.assignee).first(),
        )
    return _step(need, actor, EventAction.STARTED, note=note, **changes)


@transaction.atomic
def need_pause(*, actor, need: Need, note: str) -> Need:
    """Waiting for the resident (not home, materials missing): the clock stops."""
    need = _locked(need)
    check_transition(need, "pause")
    note = _text(note, "note", minimum=REASON_MIN, maximum=500, label=_("暂停原因"))
    return _step(
        need,
        actor,
        EventAction.PAUSED,
        note=note,
        status=Status.PAUSED,
        paused_from=need.status,
        paused_at=timezone.now(),
    )


@transaction.atomic
def need_resume(*, actor, need: Need, note: str = "") -> Need:
    """The deadline (and an unmet response limit) move on by the working time paused."""
    need = _locked(need)
    check_transition(need, "resume")
    now = timezone.now()
    paused = clock.working_seconds_between(need.paused_at, now) if need.paused_at else 0
    changes = {
        "status": need.paused_from or Status.ACCEPTED,
        "paused_from": "",
        "paused_at": None,
        "paused_seconds": need.paused_seconds + paused,
        "deadline": clock.add_working_seconds(need.deadline, paused),
    }
    if need.responded_at is None:
        changes["response_due"] = clock.add_working_seconds(need.response_due, paused)
    return _step(
        need, actor, EventAction.RESUMED, note=note, data={"paused_seconds": paused}, **changes
    )


@transaction.atomic
def need_resolve(*, actor, need: Need, resolution: str, photos: Iterable = ()) -> Need:
    need = _locked(need)
    check_transition(need, "resolve")
    _check_handler(need, actor)
    resolution = _text(resolution, "resolution", minimum=RESOLUTION_MIN, label=_("办理结果"))
    photos = clean_photos(photos)
    changes = {"status": Status.RESOLVED, "resolution": resolution, "resolved_at": timezone.now()}
    if not need.handler_id:
        changes["handler"] = actor
    need = _step(need, actor, EventAction.RESOLVED, note=resolution, **changes)
    _save_photos(need, photos, PhotoStage.RESOLUTION)
    return need


def _reopen(need, actor, note, action=EventAction.REOPENED, **extra) -> Need:
    now = timezone.now()
    return _step(
        need,
        actor,
        action,
        note=note,
        status=Status.IN_PROGRESS if need.handler_id else Status.ACCEPTED,
        reopen_count=need.reopen_count + 1,
        resolved_at=None,
        closed_at=None,
        deadline=clock.deadline_for(need.category, now),
        **extra,
    )


@transaction.atomic
def need_rate(*, actor, need: Need, rating: int, comment: str = "") -> Need:
    """The resident's rating, 1–5. 3 or more closes the need; 2 or less reopens it for
    the same handler with a fresh deadline."""
    need = _locked(need)
    check_transition(need, "rate")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise NeedError("invalid", _("评价应为 1 到 5 星。"), status=422, field="rating")
    comment = _text(comment, "comment", required=False, maximum=500, label=_("评价意见"))
    now = timezone.now()
    need = _step(
        need,
        actor,
        EventAction.RATED,
        note=comment,
        data={"rating": rating},
        rating=rating,
        rating_comment=comment,
        rated_at=now,
    )
    if rating <= 2:
        return _reopen(need, actor, _("居民评价不满意，重新办理。"))
    return _step(need, actor, EventAction.CLOSED, status=Status.CLOSED, closed_at=now)


@transaction.atomic
def need_close(*, actor, need: Need, note: str = "") -> Need:
    need = _locked(need)
    check_transition(need, "close")
    return _step(
        need, actor, EventAction.CLOSED, note=note, status=Status.CLOSED, closed_at=timezone.now()
    )


@transaction.atomic
def need_reopen(*, actor, need: Need, note: str) -> Need:
    need = _locked(need)
    check_transition(need, "reopen")
    note = _text(note, "note", minimum=REASON_MIN, maximum=500, label=_("重新办理原因"))
    return _reopen(need, actor, note)


@transaction.atomic
def need_transfer(
    *, actor, need: Need, to_unit: Unit, category: NeedCategory | None = None, note: str
) -> Need:
    """转办: another unit owns it (and, if it was filed at the wrong place, it moves
    there); optionally another category, which recomputes the deadline from filing."""
    need = _locked(need)
    check_transition(need, "transfer")
    note = _text(note, "note", minimum=REASON_MIN, maximum=500, label=_("转办原因"))
    if to_unit.pk == need.owner_id and (category is None or category.pk == need.category_id):
        raise NeedError("invalid", _("转办对象与当前承办单位相同。"), status=422, field="unit")
    changes = {
        "owner": to_unit,
        "status": Status.ACCEPTED if need.status != Status.SUBMITTED else Status.SUBMITTED,
        "assignee_kind": AssigneeKind.NONE,
        "assigned_unit": None,
        "assigned_org": None,
        "assigned_team_id": None,
        "assigned_team_name": "",
        "assignee": None,
        "handler": None,
        "handler_member": None,
    }
    if not need.unit.path.startswith(to_unit.path):
        changes["unit"] = to_unit
    if category is not None and category.pk != need.category_id:
        changes["category"] = category
        changes["deadline"] = clock.add_working_seconds(
            clock.deadline_for(category, need.created_at), need.paused_seconds
        )
    return _step(
        need,
        actor,
        EventAction.TRANSFERRED,
        note=note,
        data={"to": to_unit.code, "from": need.owner.code},
        **changes,
    )


@transaction.atomic
def need_escalate(*, actor, need: Need, note: str = "") -> Need:
    """督办: the owner moves one level up the tree and the escalation level rises."""
    need = _locked(need)
    check_transition(need, "escalate")
    parent = need.owner.parent
    if parent is None or parent.kind == UnitKind.PROVINCE:
        raise conflict("top_level", _("已是最高一级，无法继续督办。"))
    return _step(
        need,
        actor,
        EventAction.ESCALATED,
        note=note,
        data={"from": need.owner.code, "to": parent.code, "level": need.escalation_level + 1},
        actor_label="" if actor is not None else "worker",
        owner=parent,
        escalation_level=need.escalation_level + 1,
    )


@transaction.atomic
def need_merge(*, actor, need: Need, into: Need, note: str = "") -> Need:
    """A duplicate merges into the need that carries on; its resident becomes a supporter
    there (their follow link shows the other need)."""
    if into.pk == need.pk:
        raise NeedError("invalid", _("不能合并到自身。"), status=422, field="into")
    first, second = sorted([need.pk, into.pk])  # lock in a fixed order: no deadlock
    locked = {n.pk: n for n in Need.objects.select_for_update().filter(pk__in=[first, second])}
    need, into = locked[need.pk], locked[into.pk]
    check_transition(need, "merge")
    if (
        into.status not in Status.values
        or into.merged_into_id
        or into.status
        in (
            Status.MERGED,
            Status.REJECTED,
        )
    ):
        raise conflict("bad_target", _("目标需求已合并或不予受理，不能合并进去。"))
    need = _step(
        need,
        actor,
        EventAction.MERGED,
        note=note,
        data={"into": into.reference},
        status=Status.MERGED,
        merged_into=into,
        closed_at=timezone.now(),
    )
    Need.objects.filter(pk=into.pk).update(supporters=F("supporters") + 1 + need.supporters)
    into.refresh_from_db(fields=["supporters"])
    _event(into, actor, EventAction.JOINED, note=note, data={"merged": need.reference})
    return need


def need_by_follow_token(token: str) -> Need | None:
    """The need a follow link opens (a resident's, or one they joined)."""
    if not token:
        return None
    digest = hash_follow_token(token)
    need = (
        Need.objects.select_related("category", "unit", "owner")
        .filter(follow_token_hash=digest)
        .first()
    )
    if need is None:
        supporter = (
            NeedSupporter.objects.select_related("need").filter(follow_token_hash=digest).first()
        )
        need = supporter.need if supporter else None
    while need is not None and need.merged_into_id:  # follow a merge to where work goes on
        need = need.merged_into
    return need


# --- 我为群众办实事: claimed-and-resolved needs count as a member's service records ---


@register_service_source
def resolved_needs_by_member(member_ids, since) -> dict[int, int]:
    from django.db.models import Count

    start = timezone.make_aware(datetime.combine(since, datetime.min.time()))
    rows = (
        Need.objects.filter(
            handler_member_id__in=member_ids,
            claimed_at__isnull=False,
            resolved_at__gte=start,
            status__in=(Status.RESOLVED, Status.CLOSED),
        )
        .values("handler_member_id")
        .annotate(n=Count("pk"))
    )
    return {r["handler_member_id"]: r["n"] for r in rows}


# --- categories, managed per city ------------------------------------------------------

OWNER_LEVELS = (UnitKind.COMMUNITY, UnitKind.TOWNSHIP, UnitKind.COUNTY)
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


@transaction.atomic
def category_save(
    *,
    actor,
    city: Unit,
    code: str,
    name: str,
    deadline_value: int,
    deadline_unit: str = "days",
    response_hours: int = 24,
    owner_level: str = UnitKind.COMMUNITY,
    description: str = "",
    specialties: Iterable[str] = (),
    active: bool = True,
) -> NeedCategory:
    """Create or change a city's own category `code` (a default with the same code is
    then overridden for that city). Only a city admin, only on a city."""
    from hongyan.members.models import Specialty

    from .models import DeadlineUnit

    if city.kind != UnitKind.CITY:
        raise NeedError("invalid", _("需求类别按市管理：请选择一个市。"), status=422, field="city")
    if not can(actor, "need.category", city.path):
        raise NeedError("forbidden", _("只有市级管理员可以管理需求类别。"), status=403)
    code = (code or "").strip().lower()
    if not CODE_RE.fullmatch(code):
        raise NeedError(
            "invalid",
            _("类别代码应为小写字母开头的字母、数字或下划线，2–40 位。"),
            status=422,
            field="code",
        )
    name = _text(name, "name", maximum=30, label=_("名称"))
    if deadline_unit not in DeadlineUnit.values:
        raise NeedError(
            "invalid", _("时限单位应为 days 或 hours。"), status=422, field="deadline_unit"
        )
    top = 365 if deadline_unit == DeadlineUnit.WORKING_DAYS else 720
    if not isinstance(deadline_value, int) or not 1 <= deadline_value <= top:
        raise NeedError(
            "invalid", _("办理时限应在 1 到 %(n)d 之间。") % {"n": top}, 422, "deadline_value"
        )
    if not isinstance(response_hours, int) or not 1 <= response_hours <= 720:
        raise NeedError("invalid", _("响应时限应在 1 到 720 工作小时之间。"), 422, "response_hours")
    if owner_level not in OWNER_LEVELS:
        raise NeedError(
            "invalid", _("默认承办层级应为社区、街道/乡镇或旗县区。"), 422, "owner_level"
        )
    wanted = [s.strip() for s in specialties if s and s.strip()]
    found = list(Specialty.objects.filter(name__in=wanted))
    missing = sorted(set(wanted) - {s.name for s in found})
    if missing:
        raise NeedError(
            "invalid", _("没有这些特长：%(s)s。") % {"s": "、".join(missing)}, 422, "specialties"
        )
    category, created = NeedCategory.objects.update_or_create(
        city=city,
        code=code,
        defaults={
            "name": name,
            "description": _text(description, "description", required=False, maximum=200),
            "deadline_value": deadline_value,
            "deadline_unit": deadline_unit,
            "response_hours": response_hours,
            "owner_level": owner_level,
            "active": active,
        },
    )
    category.specialties.set(found)
    audit.record(
        "need.category_save",
        actor=actor,
        obj=category,
        unit=city,
        detail={"code": code, "created": created, "deadline": category.deadline_label},
    )
    return category


@transaction.atomic
def notification_read(*, actor, notification) -> None:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        audit.record(
            "need.notification_read",
            actor=actor,
            obj=notification.need,
            detail={"notification": notification.pk},
        )


def may_reveal_mobile(actor, need: Need) -> bool:
    """Staff over the need and the person handling it may call the resident."""
    return bool(need.resident_mobile_enc) and (
        can(actor, "need.manage", need.unit.path)
        or need.handler_id == actor.pk
        or (need.assignee_kind == AssigneeKind.PERSON and need.assignee_id == actor.pk)
    )


def need_reveal_mobile(*, actor, need: Need, reason: str) -> str:
    """The resident's full mobile, for staff over the need or the person handling it
    (to call the resident), with the reason in the audit log."""
    reason = " ".join((reason or "").split())
    if len(reason) < 4:
        raise NeedError(
            "reason_required",
            _("请写明查看原因（至少 4 个字），例如“上门前电话联系居民”。"),
            status=422,
            field="reason",
        )
    if len(reason) > 200:
        raise NeedError("invalid", _("原因不能超过 200 个字。"), status=422, field="reason")
    if not may_reveal_mobile(actor, need):
        raise NeedError("forbidden", _("只有工作人员或办理人可以查看居民的手机号。"), status=403)
    with transaction.atomic():
        audit.record(
            "need.reveal",
            actor=actor,
            obj=need,
            detail={"reference": need.reference, "field": "resident_mobile", "reason": reason},
        )
    return need.resident_mobile
