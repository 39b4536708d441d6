"""Deadline arithmetic for needs, through `hongyan.workdays.calendar` (the holiday table
seeded from chinesecalendar). While that app is not installed, Monday–Friday."""

from datetime import datetime, time, timedelta

from django.apps import apps
from django.utils import timezone

from .models import DeadlineUnit, NeedCategory


def _calendar():
    if apps.is_installed("hongyan.workdays"):
        from hongyan.workdays import calendar

        return calendar.current()
    return _MondayToFriday()


class _MondayToFriday:
    def is_working_day(self, day) -> bool:
        return day.weekday() < 5

    def add_working_days(self, start: datetime, days: int) -> datetime:
        day = timezone.localtime(start).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            counted += self.is_working_day(day)
        return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        moment, remaining = timezone.localtime(start), timedelta(seconds=seconds)
        while True:
            midnight = timezone.make_aware(
                datetime.combine(moment.date() + timedelta(days=1), time.min)
            )
            if self.is_working_day(moment.date()):
                if remaining <= midnight - moment:
                    return moment + remaining
                remaining -= midnight - moment
            moment = midnight

    def working_seconds_between(self, start: datetime, end: datetime) -> int:
        total, moment = timedelta(0), timezone.localtime(start)
        end = timezone.localtime(end)
        while moment < end:
            midnight = timezone.make_aware(
                datetime.combine(moment.date() + timedelta(days=1), time.min)
            )
            stop = min(end, midnight)
            if self.is_working_day(moment.date()):
                total += stop - moment
            moment = stop
        return int(total.total_seconds())


def deadline_for(category: NeedCategory, start: datetime) -> datetime:
    cal = _calendar()
    if category.deadline_unit == DeadlineUnit.WORKING_HOURS:
        return cal.add_working_seconds(start, category.deadline_value * 3600)
    return cal.add_working_days(start, category.deadline_value)


def response_due_for(category: NeedCategory, start: datetime) -> datetime:
    return _calendar().add_working_seconds(start, category.response_hours * 3600)


def working_seconds_between(start: datetime, end: datetime) -> int:
    return _calendar().working_seconds_between(start, end)


def add_working_seconds(start: datetime, seconds: float) -> datetime:
    return _calendar().add_working_seconds(start, seconds)
