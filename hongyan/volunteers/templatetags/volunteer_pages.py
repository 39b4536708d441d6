"""The volunteers' panel on the unit page (`{% volunteer_panel unit %}`): this year's
volunteers, active volunteers, hours, deeds and services held, for staff."""

from django import template

from hongyan.core.scope import can

from .. import selectors

register = template.Library()


@register.inclusion_tag("volunteers/_unit_panel.html", takes_context=True)
def volunteer_panel(context, unit):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not can(user, "volunteer.record", unit.path):
        return {"show": False}
    return {"show": True, "unit": unit, "f": selectors.unit_figures(unit)}
