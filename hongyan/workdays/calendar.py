"""Working-day arithmetic for deadlines ("3 个工作日") and for stopping the clock.

A working day is a day the calendar table marks 调休上班, or a Monday–Friday it does not
mark 放假. Time counts on working days only, all 24 hours of them: a need paused from
Friday 15:00 to Monday 09:00 has lost 9 + 9 = 18 working hours. Dates are local
(Asia/Shanghai); every function takes and returns aware datetimes.

    add_working_days(start, 3)        end (23:59:59) of the 3rd working day after start's day
    add_working_hours(start, 24)      start moved on by 24 hours of working-day time
    working_seconds_between(a, b)     working-day seconds in [a, b)

The table is read once per change (see `current()`); bulk callers may keep the
`Calendar` that `current()` returns and call its methods directly.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Max
from django.utils import timezone

from .models import CalendarDay, CalendarYear, DayKind

END_OF_DAY = time(23, 59, 59)
ONE_DAY = timedelta(days=1)


def _local(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        raise ValueError("working-day arithmetic needs an aware datetime")
    return timezone.localtime(moment)


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class Calendar:
    overrides: dict[date, bool]  # date -> True (works) / False (day off)
    known_years: frozenset[int]

    def is_working_day(self, day: date) -> bool:
        found = self.overrides.get(day)
        if found is not None:
            return found
        return day.weekday() < 5

    def add_working_days(self, start: datetime, days: int) -> datetime:
        if days < 0:
            raise ValueError("days must not be negative")
        day = _local(start).date()
        counted = 0
        while counted < days:
            day += ONE_DAY
            counted += self.is_working_day(day)
        return timezone.make_aware(datetime.combine(day, END_OF_DAY))

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        moment = _local(start)
        remaining = timedelta(seconds=seconds)
        while True:
            day = moment.date()
            next_midnight = _midnight(day + ONE_DAY)
            if self.is_working_day(day):
                left_today = next_midnight - moment
                if remaining <= left_today:
                    return moment + remaining
                remaining -= left_today
            elif not remaining:
                return moment
            moment = next_midnight

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        return self.add_working_seconds(start, hours * 3600)

    def working_seconds_between(self, start: datetime, end: datetime) -> int:
        start, end = _local(start), _local(end)
        if end <= start:
            return 0
        total = timedelta(0)
        moment = start
        while moment < end:
            day = moment.date()
            stop = min(end, _midnight(day + ONE_DAY))
            if self.is_working_day(day):
                total += stop - moment
            moment = stop
        return int(total.total_seconds())

    def working_days_between(self, first: date, last: date) -> int:
        """Working days in first..last, both included."""
        count, day = 0, first
        while day <= last:
            count += self.is_working_day(day)
            day += ONE_DAY
        return count


_cache: dict = {"version": None, "calendar": None}


def _version():
    row = CalendarYear.objects.aggregate(n=Count("pk"), at=Max("updated_at"))
    return (row["n"], row["at"], CalendarDay.objects.count())


def load() -> Calendar:
    overrides = {
        day: kind == DayKind.WORKDAY
        for day, kind in CalendarDay.objects.values_list("date", "kind").iterator()
    }
    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    return Calendar(overrides=overrides, known_years=years)


def current() -> Calendar:
    """The calendar as the database holds it now (reloaded only after a change)."""
    version = _version()
    if _cache["version"] != version:
        _cache["calendar"], _cache["version"] = load(), version
    return _cache["calendar"]


def is_working_day(day: date) -> bool:
    return current().is_working_day(day)


def add_working_days(start: datetime, days: int) -> datetime:
    """Due at the end of the `days`-th working day after the day of `start` (the day of
    filing does not count): filed 2026-09-30 with 3 → 2026-10-10 23:59:59 (国庆 runs
    10-01..10-07; Saturday 10-10 is a make-up working day)."""
    return current().add_working_days(start, days)


def add_working_hours(start: datetime, hours: float) -> datetime:
    return current().add_working_hours(start, hours)


def add_working_seconds(start: datetime, seconds: float) -> datetime:
    return current().add_working_seconds(start, seconds)


def working_seconds_between(start: datetime, end: datetime) -> int:
    return current().working_seconds_between(start, end)


def unknown_years(years) -> list[int]:
    """Which of `years` have no calendar data (they fall back to Monday–Friday)."""
    known = current().known_years
    return sorted(y for y in set(years) if y not in known)
