"""The working-day calendar page for a city admin: a year's 放假 and 调休上班 days, a
form to add one, and a warning for a year that has no data."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hongyan.core.errors import DomainError

from . import calendar, selectors, services
from .forms import CalendarDayForm


def _manager(request):
    if not services.may_manage(request.user):
        raise PermissionDenied(_("只有市级管理员可以维护工作日历。"))


def _year(request) -> int:
    raw = request.GET.get("year") or request.POST.get("year") or ""
    this_year = timezone.localdate().year
    try:
        year = int(raw)
    except ValueError:
        return this_year
    return year if services.FIRST_YEAR <= year <= services.LAST_YEAR else this_year


@login_required
def calendar_page(request):
    _manager(request)
    year = _year(request)
    form = CalendarDayForm(request.POST or None, initial={"date": date(year, 1, 1)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.calendar_day_set(
                actor=request.user, day=data["date"], kind=data["kind"], name=data["name"]
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已保存。"))
            return redirect(f"{request.path}?year={data['date'].year}")
    known = year in selectors.calendar_years()
    cal = calendar.current()
    context = {
        "year": year,
        "known": known,
        "days": selectors.calendar_days(year),
        "working_days": cal.working_days_between(date(year, 1, 1), date(year, 12, 31)),
        "missing": selectors.missing_years(),
        "form": form,
    }
    return render(request, "workdays/calendar.html", context)


@login_required
@require_POST
def calendar_clear(request, year):
    _manager(request)
    try:
        day = date.fromisoformat(request.POST.get("date", ""))
        services.calendar_day_clear(actor=request.user, day=day)
    except ValueError:
        messages.error(request, _("日期无效。"))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已恢复为平常的周一至周五上班。"))
    return redirect(f"/workdays/?year={year}")
