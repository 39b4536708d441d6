"""Working-day arithmetic against the official calendar (the `chinesecalendar` package)."""

from datetime import date, datetime, time, timedelta

import chinese_calendar
import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongyan.workdays import calendar
from hongyan.workdays.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db

FIRST, LAST = date(2004, 1, 1), date(2026, 11, 30)  # the package knows 2004–2026


def local(*args) -> datetime:
    return timezone.make_aware(datetime(*args))


def reference_add_days(start: date, days: int) -> date:
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        counted += chinese_calendar.is_workday(day)
    return day


def test_national_day_2026():
    """Filed 2026-09-30 with 3 working days: 国庆 runs 10-01..10-07, 10-08 and 10-09 are
    the first two working days and Saturday 10-10 is a make-up working day."""
    due = calendar.add_working_days(local(2026, 9, 30, 16, 20), 3)
    assert timezone.localtime(due) == local(2026, 10, 10, 23, 59, 59)
    assert timezone.localtime(due).date().weekday() == 5  # a Saturday


def test_make_up_saturday_and_holidays_are_seeded():
    assert calendar.is_working_day(date(2026, 10, 10))
    assert not calendar.is_working_day(date(2026, 10, 5))  # a Monday inside 国庆
    assert not calendar.is_working_day(date(2026, 10, 11))  # an ordinary Sunday
    assert CalendarDay.objects.get(date=date(2026, 10, 1)).name == "国庆节"


def test_zero_days_is_the_end_of_the_same_day():
    due = calendar.add_working_days(local(2026, 10, 3, 9), 0)
    assert timezone.localtime(due) == local(2026, 10, 3, 23, 59, 59)


def test_negative_and_naive_input_refused():
    with pytest.raises(ValueError):
        calendar.add_working_days(local(2026, 1, 5), -1)
    with pytest.raises(ValueError):
        calendar.add_working_days(datetime(2026, 1, 5), 1)


def test_pause_over_a_weekend_stops_the_clock():
    # paused Friday 15:00 → Monday 09:00: 9 hours of Friday plus 9 of Monday
    friday, monday = local(2026, 11, 20, 15), local(2026, 11, 23, 9)
    assert calendar.working_seconds_between(friday, monday) == 18 * 3600
    # 24 working hours from Friday 15:00 land on Monday 15:00
    assert calendar.add_working_hours(friday, 24) == local(2026, 11, 23, 15)


def test_hours_skip_the_whole_national_day_holiday():
    start = local(2026, 9, 30, 20)
    assert calendar.add_working_hours(start, 8) == local(2026, 10, 8, 4)


def test_unknown_year_falls_back_to_monday_to_friday():
    assert calendar.unknown_years([2026, 2031]) == [2031]
    # 2031-01-01 is a Wednesday: with no data it is an ordinary working day
    assert calendar.is_working_day(date(2031, 1, 1))
    due = calendar.add_working_days(local(2031, 1, 3, 10), 1)  # Friday → Monday
    assert timezone.localtime(due).date() == date(2031, 1, 6)


def test_a_change_in_the_table_is_seen_at_once():
    assert calendar.is_working_day(date(2031, 1, 1))
    CalendarYear.objects.create(year=2031, source="admin")
    CalendarDay.objects.create(date=date(2031, 1, 1), kind="holiday", name="元旦", source="admin")
    assert not calendar.is_working_day(date(2031, 1, 1))
    assert calendar.unknown_years([2031]) == []


days_in_range = st.dates(min_value=FIRST, max_value=LAST - timedelta(days=120))
moments = st.builds(
    lambda d, s: timezone.make_aware(datetime.combine(d, time.min)) + timedelta(seconds=s),
    days_in_range,
    st.integers(min_value=0, max_value=86399),
)
quick = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@quick
@given(start=moments, days=st.integers(min_value=0, max_value=40))
def test_add_working_days_matches_the_official_calendar(start, days):
    due = timezone.localtime(calendar.add_working_days(start, days))
    expected = reference_add_days(timezone.localtime(start).date(), days)
    assert due.date() == expected
    assert due.time() == time(23, 59, 59)
    if days:
        assert chinese_calendar.is_workday(expected)


@quick
@given(start=moments, span=st.integers(min_value=0, max_value=40 * 86400))
def test_working_seconds_match_the_official_calendar(start, span):
    end = start + timedelta(seconds=span)
    expected = 0
    moment = timezone.localtime(start)
    while moment < end:
        midnight = timezone.make_aware(
            datetime.combine(moment.date() + timedelta(days=1), time.min)
        )
        stop = min(end, midnight)
        if chinese_calendar.is_workday(moment.date()):
            expected += (stop - moment).total_seconds()
        moment = stop
    assert calendar.working_seconds_between(start, end) == int(expected)


@quick
@given(start=moments, hours=st.integers(min_value=0, max_value=24 * 20))
def test_adding_hours_then_measuring_gives_them_back(start, hours):
    due = calendar.add_working_hours(start, hours)
    assert due >= start
    assert calendar.working_seconds_between(start, due) == hours * 3600
    if hours:  # the clock stops only on working days
        assert chinese_calendar.is_workday(timezone.localtime(due - timedelta(seconds=1)).date())


def test_seed_command_refreshes_and_keeps_admin_days():
    import io

    from django.core.management import call_command

    CalendarDay.objects.filter(date=date(2026, 10, 10)).delete()
    CalendarDay.objects.create(date=date(2026, 5, 6), kind="holiday", name="本地", source="admin")
    out = io.StringIO()
    call_command("seed_workdays", stdout=out)
    assert "days written" in out.getvalue()
    assert calendar.is_working_day(date(2026, 10, 10))  # the make-up Saturday is back
    assert CalendarDay.objects.get(date=date(2026, 5, 6)).source == "admin"
