"""Reads of the working-day calendar (city-wide: the view checks `may_manage`)."""

from django.utils import timezone

from . import calendar
from .models import CalendarDay, CalendarYear


def calendar_days(year: int):
    return CalendarDay.objects.filter(date__year=year).select_related("updated_by")


def calendar_years() -> list[int]:
    return list(CalendarYear.objects.values_list("year", flat=True))


def missing_years(ahead: int = 1) -> list[int]:
    """This year and the next `ahead` that have no data: deadlines there count Monday–Friday
    only, and the admin is warned."""
    this_year = timezone.localdate().year
    return calendar.unknown_years(range(this_year, this_year + ahead + 1))
