"""Load the official holidays and 调休 make-up working days known to `chinesecalendar`
(the State Council's yearly notices, 2004 onwards) into the calendar tables."""

from datetime import date

# the package names holidays in English; people here read Chinese
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def package_days() -> dict[date, tuple[str, str]]:
    """date -> (kind, Chinese name) for every day the package lists."""
    import chinese_calendar

    days = {}
    for day, name in chinese_calendar.holidays.items():
        days[day] = ("holiday", HOLIDAY_NAMES.get(str(name), str(name)))
    for day, name in chinese_calendar.workdays.items():
        days[day] = ("workday", HOLIDAY_NAMES.get(str(name), str(name)) + "调休")
    return days


def seed(calendar_day, calendar_year, *, overwrite_admin: bool = False) -> int:
    """Add the package's days (models passed in, so a migration can call it). Days an
    admin entered are kept unless `overwrite_admin`. Returns the number of days written."""
    days = package_days()
    years = sorted({d.year for d in days})
    existing = {d.date: d for d in calendar_day.objects.filter(date__year__in=years)}
    new, changed = [], []
    for day, (kind, name) in sorted(days.items()):
        row = existing.get(day)
        if row is None:
            new.append(calendar_day(date=day, kind=kind, name=name, source="package"))
        elif (row.source == "package" or overwrite_admin) and (row.kind, row.name) != (kind, name):
            row.kind, row.name, row.source = kind, name, "package"
            changed.append(row)
    calendar_day.objects.bulk_create(new, batch_size=1000)
    calendar_day.objects.bulk_update(changed, ["kind", "name", "source"], batch_size=1000)
    known = set(calendar_year.objects.filter(year__in=years).values_list("year", flat=True))
    calendar_year.objects.bulk_create(
        [calendar_year(year=y, source="package") for y in years if y not in known]
    )
    calendar_year.objects.filter(year__in=years).update(updated_at=_now())
    return len(new) + len(changed)


def _now():
    from django.utils import timezone

    return timezone.now()
