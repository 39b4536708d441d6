"""Small helpers of the needs pages: the status colour, and the rates panel that the
unit page includes (`{% need_rates_panel unit %}`)."""

from django import template
from django.urls import reverse

from hongyan.core.scope import can

from .. import selectors
from ..models import Status

register = template.Library()

STATUS_CLASSES = {
    Status.SUBMITTED: "text-bg-warning",
    Status.ACCEPTED: "text-bg-info",
    Status.DISPATCHED: "text-bg-info",
    Status.CLAIMED: "text-bg-primary",
    Status.IN_PROGRESS: "text-bg-primary",
    Status.PAUSED: "text-bg-secondary",
    Status.RESOLVED: "text-bg-success",
    Status.CLOSED: "text-bg-light border",
    Status.REJECTED: "text-bg-dark",
    Status.MERGED: "text-bg-light border",
}


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASSES.get(status, "text-bg-secondary")


@register.filter
def stars(rating) -> str:
    return "★" * int(rating or 0) + "☆" * (5 - int(rating or 0)) if rating else ""


@register.inclusion_tag("needs/_unit_rates_slot.html", takes_context=True)
def need_rates_panel(context, unit):
    """A place on the unit page for the last 365 days' rates, for staff who may read them.
    The panel loads after the page (htmx): over a district's hundreds of thousands of
    needs the figures take seconds, the rest of the page does not wait for them."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not can(user, "need.rates", unit.path):
        return {"show": False}
    return {"show": True, "unit": unit}


def rates_panel_context(unit, period=None, params=None) -> dict:
    """The panel's figures for `period` (a views.RatesPeriod; the recent window when None)
    and its picker: the presets, and the date fields (as typed when they were wrong)."""
    from ..views import RATES_PRESETS, rates_period

    period = period or rates_period({})
    params = params or {}
    panel_url = reverse("needs:rates_panel", args=[unit.code])
    if period.error:
        field_from, field_to = params.get("from", ""), params.get("to", "")
    else:
        field_from, field_to = period.date_from.isoformat(), period.date_to.isoformat()
    return {
        "show": True,
        "unit": unit,
        "rates": selectors.need_rates(unit, period.date_from, period.date_to),
        "date_from": period.date_from,
        "date_to": period.date_to,
        "period": period,
        "panel_url": panel_url,
        "presets": [
            {"value": v, "label": label, "url": f"{panel_url}?preset={v}"}
            for v, label in RATES_PRESETS.items()
        ],
        "field_from": field_from,
        "field_to": field_to,
        "queue_url": f"{reverse('needs:queue')}?tab=unit&unit={unit.code}",
    }


@register.filter
def lookup(mapping, key):
    return (mapping or {}).get(key, [])


@register.filter
def lookup_errors(form, name):
    return form.errors.get(name, []) if form is not None else []


@register.filter
def value_of(form, name):
    return (form[name].value() or "") if form is not None and name in form.fields else ""
