"""The working-day calendar: official holidays and 调休 make-up working days.

A day not listed follows the week (Monday–Friday work). A year is "known" once it has a
`CalendarYear` row (seeded from `chinesecalendar`, or made when an admin enters a day);
an unknown year falls back to Monday–Friday and the admin page says so."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("放假")
    WORKDAY = "workday", _("调休上班")


class Source(models.TextChoices):
    PACKAGE = "package", _("国务院办公厅通知（chinesecalendar）")
    ADMIN = "admin", _("管理员录入")


class CalendarYear(models.Model):
    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    # touched by every change to the year's days: the calendar cache keys on it
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("日历年份")
        verbose_name_plural = _("日历年份")

    def __str__(self):
        return str(self.year)


class CalendarDay(models.Model):
    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类别"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("名称"), max_length=40, blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    updated_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.name}"

    @property
    def working(self) -> bool:
        return self.kind == DayKind.WORKDAY
