"""Writes to the working-day calendar: a city admin marks a day 放假 or 调休上班, or
returns it to the ordinary week. Every change is audited and touches its year, so every
process reloads the calendar (see calendar.current)."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hongyan.core import audit
from hongyan.core.errors import DomainError
from hongyan.core.scope import visible_paths

from . import seed
from .models import CalendarDay, CalendarYear, DayKind, Source

FIRST_YEAR, LAST_YEAR = 2000, 2100


def may_manage(user) -> bool:
    """The calendar is the whole city's: whoever holds `workday.manage` edits it."""
    return bool(visible_paths(user, "workday.manage"))


def _check_day(day: date) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise DomainError(
            "invalid_date",
            _("日期须在 %(first)s 年至 %(last)s 年之间。")
            % {"first": FIRST_YEAR, "last": LAST_YEAR},
            status=422,
            field="date",
        )


def _touch_year(year: int) -> None:
    row, created = CalendarYear.objects.get_or_create(year=year, defaults={"source": Source.ADMIN})
    if not created:
        row.save(update_fields=["updated_at"])


@transaction.atomic
def calendar_day_set(*, actor, day: date, kind: str, name: str = "") -> CalendarDay:
    """Mark `day` 放假 (holiday) or 调休上班 (workday). A 放假 on a weekend or a 调休上班 on a
    weekday changes nothing, so it is refused rather than stored."""
    _check_day(day)
    if kind not in DayKind.values:
        raise DomainError("invalid_kind", _("类别须为放假或调休上班。"), status=422, field="kind")
    if kind == DayKind.HOLIDAY and day.weekday() >= 5 and not name:
        raise DomainError(
            "no_change",
            _("%(day)s 是周末，本来就放假：如属法定假期，请填写名称。") % {"day": day},
            status=422,
            field="kind",
        )
    if kind == DayKind.WORKDAY and day.weekday() < 5:
        raise DomainError(
            "no_change",
            _("%(day)s 是工作日，本来就上班：调休上班只用于周末。") % {"day": day},
            status=422,
            field="kind",
        )
    row, _created = CalendarDay.objects.update_or_create(
        date=day,
        defaults={"kind": kind, "name": name.strip(), "source": Source.ADMIN, "updated_by": actor},
    )
    _touch_year(day.year)
    audit.record(
        "workday.set", actor=actor, obj=row, detail={"date": day, "kind": kind, "name": name}
    )
    return row


@transaction.atomic
def calendar_day_clear(*, actor, day: date) -> None:
    """Return `day` to the ordinary week (Monday–Friday work)."""
    deleted, _rows = CalendarDay.objects.filter(date=day).delete()
    if not deleted:
        raise DomainError("not_found", _("%(day)s 没有调整，无需删除。") % {"day": day}, 404)
    _touch_year(day.year)
    audit.record("workday.clear", actor=actor, detail={"date": day})


@transaction.atomic
def calendar_seed_from_package(*, actor=None) -> int:
    """Refresh the years the installed `chinesecalendar` knows (admin entries kept)."""
    written = seed.seed(CalendarDay, CalendarYear)
    audit.record(
        "workday.seed",
        actor=actor,
        actor_name="" if actor else "seed_workdays",
        detail={"written": written, "at": timezone.now()},
    )
    return written
