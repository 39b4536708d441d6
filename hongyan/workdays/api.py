"""The deadline arithmetic and the calendar over JSON."""

from datetime import date, datetime

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from hongyan.core.errors import DomainError

from . import calendar, selectors, services
from .models import DayKind

router = Router(tags=["workdays"])


class DueOut(Schema):
    start: datetime
    days: int
    due: datetime = Field(description="the end (23:59:59, Asia/Shanghai) of the last working day")
    due_date: date
    fallback_years: list[int] = Field(
        description="years with no holiday data, counted Monday–Friday only"
    )


def parse_start(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise DomainError(
            "invalid",
            _("start 须为日期（2026-09-30）或日期时间（2026-09-30T10:00:00+08:00）。"),
            status=422,
            field="start",
        ) from None
    if not services.FIRST_YEAR <= moment.year <= services.LAST_YEAR:
        raise DomainError(
            "invalid",
            _("start 须在 %(first)s 年至 %(last)s 年之间。")
            % {"first": services.FIRST_YEAR, "last": services.LAST_YEAR},
            status=422,
            field="start",
        )
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@router.get(
    "/workdays/add",
    response=DueOut,
    summary="期限计算：从 start 起 N 个工作日后的截止时间（不含当天）",
)
def workdays_add(request, start: str, days: int = Query(..., ge=0, le=3650)):
    begin = parse_start(start)
    due = calendar.add_working_days(begin, days)
    return {
        "start": begin,
        "days": days,
        "due": due,
        "due_date": timezone.localtime(due).date(),
        "fallback_years": calendar.unknown_years(
            range(timezone.localtime(begin).year, timezone.localtime(due).year + 1)
        ),
    }


class DayOut(Schema):
    date: date
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    name: str
    source: str


class YearOut(Schema):
    year: int
    known: bool
    days: list[DayOut]


class DayIn(Schema):
    kind: str = Field(description="holiday | workday")
    name: str = Field("", max_length=40)


def _require_manager(request):
    if not services.may_manage(request.user):
        raise PermissionDenied(_("只有市级管理员可以维护工作日历。"))


@router.get("/workdays/years/{year}", response=YearOut, summary="某年的放假与调休安排")
def workdays_year(request, year: int):
    if not services.FIRST_YEAR <= year <= services.LAST_YEAR:
        raise DomainError(
            "invalid",
            _("年份须在 %(first)s 至 %(last)s 之间。")
            % {"first": services.FIRST_YEAR, "last": services.LAST_YEAR},
            status=422,
            field="year",
        )
    return {
        "year": year,
        "known": year in selectors.calendar_years(),
        "days": list(selectors.calendar_days(year)),
    }


@router.put("/workdays/days/{day}", response=DayOut, summary="设定某天放假或调休上班（市级管理员）")
def workdays_day_set(request, day: date, payload: DayIn):
    _require_manager(request)
    if payload.kind not in DayKind.values:
        raise DomainError("invalid", _("类别须为放假或调休上班。"), status=422, field="kind")
    return services.calendar_day_set(
        actor=request.user, day=day, kind=payload.kind, name=payload.name
    )


@router.delete("/workdays/days/{day}", response={204: None}, summary="取消某天的调整（市级管理员）")
def workdays_day_clear(request, day: date):
    _require_manager(request)
    services.calendar_day_clear(actor=request.user, day=day)
    return Status(204, None)
