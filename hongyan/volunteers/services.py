"""Every write of the volunteers app: teams, services, sign-ups, check-in and -out,
approval of hours, certificates. Keyword-only, actor first, atomic, audited.

Rules (志愿服务条例 2017; 志愿服务记录与证明出具办法 2021):
- a person signs up or withdraws by themselves until the day before the service; a
  leader or staff member may assign someone at any time before it ends;
- a sign-up beyond the service's capacity is refused (409);
- check-out needs a check-in before it; the hours of one day may not pass 24;
- hours entered afterwards by the leader are marked as such;
- approving hours that are already approved changes nothing (they count once);
- certificates are free; issuing one is audited;
- a volunteer who withdraws (退出) leaves teams and future sign-ups but keeps their
  hours and certificates; joining again puts them back on the register.
"""

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from hongyan.core import audit, pii
from hongyan.core.errors import DomainError
from hongyan.core.scope import can
from hongyan.members.models import Member, Specialty
from hongyan.orgs.models import Unit, UnitKind

from .models import (
    Certificate,
    Participation,
    Service,
    ServiceKind,
    ServiceStatus,
    Team,
    TeamKind,
    TeamMembership,
    TeamStatus,
    Volunteer,
)

MAX_DAY_MINUTES = 24 * 60
# a phone check-in is accepted from this long before the start until the end
CHECKIN_EARLY = timedelta(hours=1)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


class VolunteerError(DomainError):
    pass


def _conflict(code, message, field=None):
    return VolunteerError(code, message, status=409, field=field)


def _invalid(message, field):
    return VolunteerError("invalid", message, status=422, field=field)


def _audit(action, actor, obj, **detail):
    audit.record(f"volunteer.{action}", actor=actor, obj=obj, detail=detail)


def _require(actor, action, unit):
    if not can(actor, action, unit.path):
        raise PermissionDenied(_("您的角色不能执行此操作。"))


def _require_area(actor, obj):
    """Signing up is open to anyone whose grants lie in (or under) the obj's community."""
    from .selectors import may_join

    if not may_join(actor, obj):
        raise PermissionDenied(_("您的角色不能执行此操作。"))


def _specialties(ids: Iterable[int], field: str) -> list[Specialty]:
    ids = list(dict.fromkeys(ids))
    found = list(Specialty.objects.filter(pk__in=ids))
    if len(found) != len(ids):
        raise _invalid(_("特长不存在。"), field)
    return found


def compound_of(unit: Unit) -> Unit | None:
    """The compound (or natural village) a unit lies in, if it is that deep."""
    if unit.kind in (UnitKind.COMPOUND, UnitKind.NATURAL_VILLAGE):
        return unit
    if unit.kind not in (UnitKind.GRID, UnitKind.BUILDING):
        return None
    return (
        Unit.objects.filter(
            path__in=unit.ancestor_paths(),
            kind__in=(UnitKind.COMPOUND, UnitKind.NATURAL_VILLAGE),
        )
        .order_by("-depth")
        .first()
    )


def may_lead(user, service: Service) -> bool:
    """Staff over the service's unit, or the leader of the team that runs it."""
    if can(user, "volunteer.manage", service.unit.path):
        return True
    team = service.team
    return bool(
        team
        and team.leader_id
        and team.leader.account_id
        and team.leader.account_id == getattr(user, "pk", None)
        and user.is_active
    )


# --- volunteers --------------------------------------------------------------------------


@transaction.atomic
def volunteer_register(
    *,
    actor,
    unit: Unit,
    name: str = "",
    member: Member | None = None,
    account=None,
    mobile: str = "",
    specialty_ids: Iterable[int] = (),
) -> Volunteer:
    """Staff register a volunteer: a party member from the register (name and home
    taken from it) or a resident by name."""
    _require(actor, "volunteer.manage", unit)
    if member is not None:
        if not member.unit.path.startswith(unit.path) and not unit.path.startswith(
            member.unit.path
        ):
            raise _invalid(_("这名党员不住在该单位。"), "member_id")
        existing = Volunteer.objects.filter(member=member).first()
        if existing and not existing.active:  # withdrew before: back on the register
            return _reactivate(actor, existing)
        if existing:
            raise _conflict("exists", _("这名党员已是志愿者。"), "member_id")
        name, unit = member.name, member.unit
    name = (name or "").strip()
    if not name:
        raise _invalid(_("请填写姓名。"), "name")
    mobile = pii.normalise_mobile(mobile) if mobile else ""
    if mobile and (problem := pii.mobile_problem(mobile)):
        raise _invalid(problem, "mobile")
    volunteer = Volunteer(
        unit=unit, compound=compound_of(unit), name=name[:40], member=member, account=account
    )
    volunteer.set_mobile(mobile)
    volunteer.save()
    specialties = _specialties(specialty_ids, "specialty_ids")
    if member is not None and not specialties:
        specialties = list(member.specialties.all())
    volunteer.specialties.set(specialties)
    _audit("register", actor, volunteer, name=volunteer.name, member=getattr(member, "pk", None))
    return volunteer


def _reactivate(actor, volunteer: Volunteer) -> Volunteer:
    """Someone who withdrew joins again: back on the register (the old hours stayed)."""
    if not volunteer.active:
        volunteer.active, volunteer.withdrawn_at, volunteer.withdrawn_reason = True, None, ""
        volunteer.save(update_fields=["active", "withdrawn_at", "withdrawn_reason"])
        _audit("rejoin", actor, volunteer)
    return volunteer


def volunteer_of(user) -> Volunteer | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Volunteer.objects.filter(account=user).select_related("unit").first()


@transaction.atomic
def volunteer_join(*, actor) -> Volunteer:
    """A signed-in resident or party member becomes a volunteer (their home from the
    member register, else the unit of their grant)."""
    found = volunteer_of(actor)
    if found:
        return _reactivate(actor, found)
    member = Member.objects.filter(account=actor).select_related("unit").first()
    if member is not None:
        volunteer = Volunteer.objects.filter(member=member).first()
        if volunteer is not None:  # registered by staff before the account existed
            volunteer.account = actor
            volunteer.save(update_fields=["account"])
            _audit("link_account", actor, volunteer)
            return _reactivate(actor, volunteer)
        unit = member.unit
    else:
        grant = actor.grants.select_related("unit").order_by("-unit__depth").first()
        if grant is None:
            raise PermissionDenied(_("您的角色不能执行此操作。"))
        unit = grant.unit
    volunteer = Volunteer.objects.create(
        unit=unit,
        compound=compound_of(unit),
        name=(member.name if member else actor.display_name or actor.username)[:40],
        member=member,
        account=actor,
    )
    if member is not None:
        volunteer.specialties.set(member.specialties.all())
    _audit("join", actor, volunteer, name=volunteer.name)
    return volunteer


@transaction.atomic
def volunteer_withdraw(*, actor, volunteer: Volunteer, reason: str) -> Volunteer:
    """A volunteer leaves the register (退出): by themselves, or by staff over their home.
    Their team memberships end, their sign-ups to services not yet started are
    withdrawn; their hours and certificates stay (records stay true). Someone who leads
    an active team is refused until the team has a new leader."""
    own = volunteer.account_id and volunteer.account_id == getattr(actor, "pk", None)
    if not own:
        _require(actor, "volunteer.manage", volunteer.unit)
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    reason = (reason or "").strip()
    if not reason:
        raise _invalid(_("请填写退出原因。"), "reason")
    if not volunteer.active:
        raise _conflict("withdrawn", _("此人已经退出志愿者队伍。"))
    led = list(
        Team.objects.filter(leader=volunteer, status=TeamStatus.ACTIVE).order_by("name", "pk")
    )
    if led:
        raise _conflict(
            "leads_team",
            _("此人是“%(team)s”的队长；请先为该队另定队长，再办理退出。")
            % {"team": "、".join(t.name for t in led)},
        )
    now = timezone.now()
    teams = list(volunteer.memberships.values_list("team_id", flat=True))
    volunteer.memberships.all().delete()
    withdrawn = list(
        Participation.objects.filter(
            volunteer=volunteer,
            cancelled_at=None,
            checkin_at=None,
            service__starts_at__gt=now,
        ).values_list("pk", "service_id")
    )
    Participation.objects.filter(pk__in=[pk for pk, _s in withdrawn]).update(cancelled_at=now)
    volunteer.active, volunteer.withdrawn_at, volunteer.withdrawn_reason = False, now, reason[:200]
    volunteer.save(update_fields=["active", "withdrawn_at", "withdrawn_reason"])
    _audit(
        "withdraw",
        actor,
        volunteer,
        reason=volunteer.withdrawn_reason,
        teams=teams,
        services=[s for _pk, s in withdrawn],
    )
    return volunteer


# --- teams ---------------------------------------------------------------------------------


@transaction.atomic
def team_create(
    *,
    actor,
    unit: Unit,
    name: str,
    kind: TeamKind,
    leader: Volunteer | None = None,
    member_ids: Iterable[int] = (),
    skill_ids: Iterable[int] = (),
    note: str = "",
) -> Team:
    _require(actor, "volunteer.manage", unit)
    name = (name or "").strip()
    if not name:
        raise _invalid(_("请填写队名。"), "name")
    if not kind.active:
        raise _invalid(_("该队伍类别已停用。"), "kind")
    if Team.objects.filter(unit=unit, name=name).exists():
        raise _conflict("exists", _("本单位已有同名队伍。"), "name")
    team = Team.objects.create(unit=unit, name=name[:60], kind=kind, leader=leader, note=note)
    team.skills.set(_specialties(skill_ids, "skill_ids"))
    ids = list(dict.fromkeys(member_ids))
    if leader is not None and leader.pk not in ids:
        ids.insert(0, leader.pk)
    for volunteer in _volunteers_in(actor, ids, "member_ids"):
        TeamMembership.objects.create(team=team, volunteer=volunteer)
    _audit("team.create", actor, team, name=team.name, kind=kind.name, members=len(ids))
    return team


def _volunteers_in(actor, ids: list[int], field: str) -> list[Volunteer]:
    from hongyan.core.scope import scope

    found = list(scope(Volunteer.objects.filter(pk__in=ids, active=True), actor))
    if len(found) != len(set(ids)):
        raise _invalid(_("志愿者不存在，或不在您的管辖范围内。"), field)
    return found


@transaction.atomic
def team_add_member(*, actor, team: Team, volunteer: Volunteer) -> TeamMembership:
    _require(actor, "volunteer.manage", team.unit)
    if not volunteer.active:
        raise _conflict("withdrawn", _("此人已退出志愿者队伍。"), "volunteer_id")
    membership, created = TeamMembership.objects.get_or_create(team=team, volunteer=volunteer)
    if created:
        _audit("team.add_member", actor, team, volunteer=volunteer.pk)
    return membership


@transaction.atomic
def team_join(*, actor, team: Team) -> TeamMembership:
    """A resident or member joins a team of their area by themselves."""
    if team.status != TeamStatus.ACTIVE:
        raise _conflict("team_inactive", _("该队伍不在活动中。"))
    _require_area(actor, team)
    volunteer = volunteer_join(actor=actor)
    membership, created = TeamMembership.objects.get_or_create(team=team, volunteer=volunteer)
    if created:
        _audit("team.join", actor, team, volunteer=volunteer.pk)
    return membership


@transaction.atomic
def team_set_status(*, actor, team: Team, status: str) -> Team:
    _require(actor, "volunteer.manage", team.unit)
    if status not in TeamStatus.values:
        raise _invalid(_("状态无效。"), "status")
    before, team.status = team.status, status
    team.save(update_fields=["status"])
    _audit("team.status", actor, team, before=before, after=status)
    return team


# --- services --------------------------------------------------------------------------------


@transaction.atomic
def service_publish(
    *,
    actor,
    unit: Unit,
    title: str,
    place: str,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    team: Team | None = None,
    kind: str = ServiceKind.OTHER,
    skill_ids: Iterable[int] = (),
) -> Service:
    """A team (its leader or staff) or a community (staff) publishes a service."""
    if team is not None:
        unit = team.unit
        is_leader = team.leader_id and team.leader.account_id == actor.pk
        if not (is_leader or can(actor, "volunteer.manage", unit.path)):
            raise PermissionDenied(_("您的角色不能执行此操作。"))
        if team.status != TeamStatus.ACTIVE:
            raise _conflict("team_inactive", _("该队伍不在活动中。"), "team_id")
    else:
        _require(actor, "volunteer.manage", unit)
    title, place = (title or "").strip(), (place or "").strip()
    if not title:
        raise _invalid(_("请填写服务内容。"), "title")
    if not place:
        raise _invalid(_("请填写服务地点。"), "place")
    if kind not in ServiceKind.values:
        raise _invalid(_("服务类别无效。"), "kind")
    if ends_at <= starts_at:
        raise _invalid(_("结束时间须晚于开始时间。"), "ends_at")
    if ends_at - starts_at > timedelta(hours=24):
        raise _invalid(_("一次服务不能超过 24 小时。"), "ends_at")
    if not 1 <= capacity <= 500:
        raise _invalid(_("人数须在 1 到 500 之间。"), "capacity")
    service = Service.objects.create(
        unit=unit,
        team=team,
        title=title[:100],
        kind=kind,
        place=place[:100],
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        created_by=actor,
    )
    service.skills.set(_specialties(skill_ids, "skill_ids"))
    _audit("service.publish", actor, service, title=service.title, capacity=capacity)
    return service


def _locked(service: Service) -> Service:
    return (
        Service.objects.select_for_update(of=("self",))
        .select_related("unit", "team", "team__leader")
        .get(pk=service.pk)
    )


def _changes_close(service: Service):
    """Self sign-up and withdrawal close at the start of the day before the service."""
    day = timezone.localtime(service.starts_at).date() - timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def signups_open(service: Service, now=None) -> bool:
    return (now or timezone.now()) < _changes_close(service)


def _taken(service: Service) -> int:
    return service.participations.filter(cancelled_at__isnull=True).count()


@transaction.atomic
def service_signup(*, actor, service: Service, volunteer: Volunteer | None = None) -> Participation:
    """Sign up oneself (`volunteer` None) or assign `volunteer` (leader or staff)."""
    service = _locked(service)
    now = timezone.now()
    if service.status != ServiceStatus.PUBLISHED:
        raise _conflict("cancelled", _("该服务已取消。"))
    assigned = volunteer is not None
    if assigned:
        if not may_lead(actor, service):
            raise PermissionDenied(_("只有队长或社区工作人员可以指派。"))
        if not volunteer.active:
            raise _conflict("withdrawn", _("此人已退出志愿者队伍，不能指派。"), "volunteer_id")
        if now >= service.ends_at:
            raise _conflict("ended", _("该服务已结束。"))
    else:
        _require_area(actor, service)
        if not signups_open(service, now):
            raise _conflict("signup_closed", _("报名和变更截止到服务前一天；请联系队长指派。"))
        volunteer = volunteer_join(actor=actor)
    existing = Participation.objects.filter(service=service, volunteer=volunteer).first()
    if existing is not None and existing.cancelled_at is None:
        raise _conflict("already", _("已经报名了这项服务。"))
    if _taken(service) >= service.capacity:
        raise _conflict("full", _("名额已满（%(n)d 人）。") % {"n": service.capacity}, "capacity")
    if existing is not None:  # signed up again after withdrawing
        existing.cancelled_at = None
        existing.assigned = assigned
        existing.save(update_fields=["cancelled_at", "assigned"])
        participation = existing
    else:
        try:
            with transaction.atomic():
                participation = Participation.objects.create(
                    service=service, volunteer=volunteer, assigned=assigned
                )
        except IntegrityError:
            raise _conflict("already", _("已经报名了这项服务。")) from None
    _audit(
        "service.assign" if assigned else "service.signup",
        actor,
        service,
        volunteer=volunteer.pk,
    )
    return participation


@transaction.atomic
def service_withdraw(*, actor, service: Service) -> Participation:
    service = _locked(service)
    volunteer = volunteer_of(actor)
    participation = (
        Participation.objects.filter(
            service=service, volunteer=volunteer, cancelled_at=None
        ).first()
        if volunteer
        else None
    )
    if participation is None:
        raise _conflict("not_signed_up", _("您没有报名这项服务。"))
    if not signups_open(service):
        raise _conflict("signup_closed", _("报名和变更截止到服务前一天；请联系队长。"))
    participation.cancelled_at = timezone.now()
    participation.save(update_fields=["cancelled_at"])
    _audit("service.withdraw", actor, service, volunteer=volunteer.pk)
    return participation


def _participation(actor, service, volunteer, *, lead: bool) -> Participation:
    if volunteer is None:
        volunteer = volunteer_of(actor)
    found = (
        Participation.objects.select_for_update()
        .filter(service=service, volunteer=volunteer, cancelled_at=None)
        .first()
        if volunteer
        else None
    )
    if found is None:
        message = _("此人没有报名这项服务。") if lead else _("您没有报名这项服务。")
        raise _conflict("not_signed_up", message, "volunteer_id" if lead else None)
    return found


def _leader_entry(actor, service, volunteer, at):
    """Check-in/out for someone else, or with a time of one's choosing, is the leader's
    entry afterwards (marked as such)."""
    lead = volunteer is not None or at is not None
    if lead and not may_lead(actor, service):
        raise PermissionDenied(_("只有队长或社区工作人员可以补录。"))
    if not lead:
        _require_area(actor, service)
    return lead


@transaction.atomic
def service_checkin(
    *, actor, service: Service, volunteer: Volunteer | None = None, at: datetime | None = None
) -> Participation:
    service = _locked(service)
    lead = _leader_entry(actor, service, volunteer, at)
    participation = _participation(actor, service, volunteer, lead=lead)
    now = timezone.now()
    at = at or now
    if at > now + timedelta(minutes=5):
        raise _invalid(_("签到时间不能晚于现在。"), "at")
    if not lead and not (service.starts_at - CHECKIN_EARLY <= now <= service.ends_at):
        raise _conflict("not_now", _("签到时间为服务开始前 1 小时至结束。"))
    if participation.approved_at:
        raise _conflict("approved", _("时长已审核，不能再修改。"))
    if participation.checkin_at and not lead:
        raise _conflict("already", _("已经签到了。"))
    participation.checkin_at = at
    if participation.checkout_at and participation.checkout_at <= at:
        participation.checkout_at, participation.minutes = None, None
    participation.entered_by_leader = participation.entered_by_leader or lead
    participation.save()
    _audit(
        "service.checkin",
        actor,
        service,
        volunteer=participation.volunteer_id,
        at=at.isoformat(),
        by_leader=lead,
    )
    return participation


def day_minutes(volunteer: Volunteer, day, exclude: int | None = None) -> int:
    """Minutes already recorded for `volunteer` on the local date `day`."""
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    qs = Participation.objects.filter(
        volunteer=volunteer,
        cancelled_at=None,
        checkin_at__gte=start,
        checkin_at__lt=start + timedelta(days=1),
        minutes__isnull=False,
    )
    if exclude:
        qs = qs.exclude(pk=exclude)
    return qs.aggregate(n=Sum("minutes"))["n"] or 0


@transaction.atomic
def service_checkout(
    *, actor, service: Service, volunteer: Volunteer | None = None, at: datetime | None = None
) -> Participation:
    service = _locked(service)
    lead = _leader_entry(actor, service, volunteer, at)
    participation = _participation(actor, service, volunteer, lead=lead)
    now = timezone.now()
    at = at or now
    if participation.checkin_at is None:
        raise _conflict("not_checked_in", _("还没有签到，不能签退。"), "checkin_at")
    if at <= participation.checkin_at:
        raise _invalid(_("签退时间须晚于签到时间。"), "at")
    if at > now + timedelta(minutes=5):
        raise _invalid(_("签退时间不能晚于现在。"), "at")
    if participation.approved_at:
        raise _conflict("approved", _("时长已审核，不能再修改。"))
    if participation.checkout_at and not lead:
        raise _conflict("already", _("已经签退了。"))
    minutes = int((at - participation.checkin_at).total_seconds() // 60)
    day = timezone.localtime(participation.checkin_at).date()
    if minutes + day_minutes(participation.volunteer, day, exclude=participation.pk) > (
        MAX_DAY_MINUTES
    ):
        raise _invalid(_("一天的服务时长不能超过 24 小时。"), "at")
    participation.checkout_at, participation.minutes = at, minutes
    participation.entered_by_leader = participation.entered_by_leader or lead
    participation.save()
    _audit(
        "service.checkout",
        actor,
        service,
        volunteer=participation.volunteer_id,
        minutes=minutes,
        by_leader=lead,
    )
    return participation


@transaction.atomic
def service_approve(*, actor, service: Service, volunteer_ids: Iterable[int] | None = None) -> dict:
    """Approve the checked-out hours of a service (all, or of `volunteer_ids`). Hours
    already approved stay as they are: approving twice counts once."""
    service = _locked(service)
    if not may_lead(actor, service):
        raise PermissionDenied(_("只有队长或社区工作人员可以审核时长。"))
    rows = Participation.objects.select_for_update().filter(service=service, cancelled_at=None)
    if volunteer_ids is not None:
        ids = list(volunteer_ids)
        rows = rows.filter(volunteer_id__in=ids)
    rows = list(rows)
    ready = [p for p in rows if p.minutes is not None and p.approved_at is None]
    now = timezone.now()
    for p in ready:
        p.approved_at, p.approved_by = now, actor
        p.save(update_fields=["approved_at", "approved_by"])
    result = {
        "approved": len(ready),
        "already": sum(1 for p in rows if p.approved_at and p not in ready),
        "waiting": sum(1 for p in rows if p.minutes is None),
        "minutes": sum(p.minutes for p in ready),
    }
    _audit("service.approve", actor, service, **result)
    return result


@transaction.atomic
def service_cancel(*, actor, service: Service) -> Service:
    service = _locked(service)
    if not may_lead(actor, service):
        raise PermissionDenied(_("您的角色不能执行此操作。"))
    if Participation.objects.filter(service=service, approved_at__isnull=False).exists():
        raise _conflict("has_hours", _("已有审核通过的时长，不能取消。"))
    service.status = ServiceStatus.CANCELLED
    service.save(update_fields=["status"])
    _audit("service.cancel", actor, service)
    return service


# --- certificates ----------------------------------------------------------------------------


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


@transaction.atomic
def certificate_issue(*, actor, volunteer: Volunteer) -> Certificate:
    """A free certificate of the volunteer's approved record so far. The volunteer
    themselves, or staff over their home, may have one issued."""
    from .selectors import volunteer_totals

    own = volunteer.account_id and volunteer.account_id == actor.pk
    if not own:
        _require(actor, "volunteer.record", volunteer.unit)
    totals = volunteer_totals(volunteer)
    if not totals["hours"] and not totals["deeds"]:
        raise _conflict("no_record", _("还没有审核通过的服务记录，无法出具证明。"))
    certificate = Certificate.objects.create(
        code=new_code(),
        volunteer=volunteer,
        unit=volunteer.unit,
        name=volunteer.name,
        hours=Decimal(totals["hours"]).quantize(Decimal("0.01")),
        deeds=totals["deeds"],
        star=totals["star"],
        first_on=totals["first_on"],
        last_on=totals["last_on"],
        issued_by=actor,
    )
    _audit(
        "certificate.issue",
        actor,
        certificate,
        volunteer=volunteer.pk,
        hours=str(certificate.hours),
        deeds=certificate.deeds,
    )
    return certificate
