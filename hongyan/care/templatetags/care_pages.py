"""The care panel that the unit page includes (`{% care_panel unit %}`): the figures of
the last 30 days and who is overdue, for staff who may read them."""

from django import template

from hongyan.core.scope import can

from .. import selectors

register = template.Library()

OVERDUE_SHOWN = 10


@register.inclusion_tag("care/_unit_panel.html", takes_context=True)
def care_panel(context, unit):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not can(user, "care.figures", unit.path):
        return {"show": False}
    date_from, date_to = selectors.default_period()
    overdue = selectors.recipient_list(user, unit=unit, status="overdue")
    return {
        "show": True,
        "unit": unit,
        "figures": selectors.care_figures(unit, date_from, date_to),
        "overdue": list(overdue[:OVERDUE_SHOWN]),
        "overdue_count": overdue.count(),
        "today": selectors.today(),
    }


@register.filter
def visible_name(recipient, day):
    """A child's name masked (王**), as every list shows it."""
    from ..models import mask_name

    return mask_name(recipient.name) if recipient.is_minor(day) else recipient.name


@register.filter
def days_overdue(recipient, day):
    return recipient.days_overdue(day)


@register.filter
def age_on(recipient, day):
    return recipient.age(day)
