"""Template helpers for the pages: Chinese dates, numbers and percentages, labels for
the codes the selectors return, Bootstrap form widgets and a few line icons.

    {% load ui %}
    {{ org.founded_on|cn_date }}        2026年11月27日 (zh) · 27 Nov 2026 (en)
    {{ coverage.rate|pct }}             96.6%
    {{ 21633|num }}                     21,633
    {{ unit|kind_label }}               区 · District
    {% icon "home" %}
"""

import datetime

from django import forms, template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_noop, pgettext_lazy
from django.utils.translation import gettext as _

from hongyan.orgs.models import OrgKind

register = template.Library()

# Unit.kind_label returns the everyday word for a level (区, 旗, 街道 …) as plain text;
# these marks put those words into the translation catalogue.
KIND_WORDS = {
    "区": pgettext_lazy("unit level", "区"),
    "旗": pgettext_lazy("unit level", "旗"),
    "县": pgettext_lazy("unit level", "县"),
    "县级市": pgettext_lazy("unit level", "县级市"),
    "街道": pgettext_lazy("unit level", "街道"),
    "镇": pgettext_lazy("unit level", "镇"),
    "乡": pgettext_lazy("unit level", "乡"),
    "苏木": pgettext_lazy("unit level", "苏木"),
}

PLAN_STATUS = {
    "own_branch": gettext_noop("已单独成立党支部"),
    "grid_branch": gettext_noop("已纳入网格（联合）党支部"),
    "cadre_only": gettext_noop("仅有干部联系包保"),
    "uncovered": gettext_noop("尚未覆盖"),
}


def _is_chinese() -> bool:
    return (get_language() or "zh-hans").lower().startswith("zh")


@register.filter
def num(value):
    """A whole number grouped by thousands: 21633 → 21,633; None → —."""
    if value is None or value == "":
        return "—"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return value


@register.filter
def pct(rate, digits=1):
    """A fraction as a percentage with one decimal: 0.9661 → 96.6%."""
    if rate is None or rate == "":
        return "—"
    return f"{float(rate) * 100:.{int(digits)}f}%"


@register.filter
def share(part, whole):
    """`part` as a whole percentage of `whole` (0–100), for the width classes in app.css.
    A part that is not zero never shows as an empty bar."""
    try:
        part, whole = float(part or 0), float(whole or 0)
    except (TypeError, ValueError):
        return 0
    if whole <= 0 or part <= 0:
        return 0
    return max(1, min(100, round(part * 100 / whole)))


@register.filter
def cn_date(value):
    """2026年11月27日 in Chinese, 27 Nov 2026 in English; — when empty."""
    if not value:
        return "—"
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    if _is_chinese():
        return f"{value.year}年{value.month}月{value.day}日"
    return date_filter(value, "j M Y")


@register.filter
def kind_label(unit):
    """The unit's everyday level word, translated: 集宁区 → 区 (District)."""
    word = str(unit.kind_label)
    return str(KIND_WORDS.get(word, word))


@register.filter
def org_kind_label(kind):
    try:
        return OrgKind(kind).label
    except ValueError:
        return kind


@register.filter
def org_counts(counts):
    """{"branch": 759, …} → [("党支部", 759), …] in the order of OrgKind."""
    counts = counts or {}
    return [(k.label, counts[k.value], k.value) for k in OrgKind if counts.get(k.value)]


@register.filter
def plan_status_label(status):
    return _(PLAN_STATUS[status]) if status in PLAN_STATUS else status


@register.filter
def alert_class(message):
    """Bootstrap colour for a message level (error → danger)."""
    tags = getattr(message, "tags", "") or ""
    for tag, css in (("error", "danger"), ("warning", "warning"), ("success", "success")):
        if tag in tags:
            return css
    return "info"


@register.filter
def field_control(bound_field, autocomplete=None):
    """Render a form field's widget with Bootstrap classes and aria attributes;
    `{{ form.new_password|field_control:"new-password" }}` also sets autocomplete."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select"
    else:
        css = "form-control"
    attrs = {"class": css}
    if autocomplete:
        attrs["autocomplete"] = autocomplete
    described = []
    if bound_field.help_text:
        described.append(f"{bound_field.auto_id}_help")
    if bound_field.errors:
        attrs["class"] += " is-invalid"
        attrs["aria-invalid"] = "true"
        described.insert(0, f"{bound_field.auto_id}_error")
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return bound_field.as_widget(attrs=attrs)


@register.filter
def is_checkbox_list(bound_field):
    return isinstance(bound_field.field.widget, forms.CheckboxSelectMultiple)


@register.filter
def is_checkbox(bound_field):
    return isinstance(bound_field.field.widget, forms.CheckboxInput)


@register.filter
def is_wide(bound_field):
    """Fields that take the whole row in the two-column form layout."""
    return isinstance(bound_field.field.widget, forms.Textarea | forms.CheckboxSelectMultiple)


# 24×24 line icons, drawn with the current text colour.
ICONS = {
    "home": '<path d="M3 11 12 3l9 8"/><path d="M5 10v10h5v-6h4v6h5V10"/>',
    "tree": '<rect x="9" y="3" width="6" height="5" rx="1"/><rect x="3" y="16" width="6" height="5" rx="1"/>'
    '<rect x="15" y="16" width="6" height="5" rx="1"/><path d="M12 8v4M6 16v-4h12v4"/>',
    "menu": '<path d="M4 6h16M4 12h16M4 18h16"/>',
    "user": '<circle cx="12" cy="8" r="4"/><path d="M4 21c1-4 4-6 8-6s7 2 8 6"/>',
    "key": '<circle cx="8" cy="15" r="4"/><path d="m11 12 9-9M17 6l3 3M15 8l2 2"/>',
    "logout": '<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4"/><path d="m16 17 5-5-5-5M21 12H9"/>',
    "globe": '<circle cx="12" cy="12" r="9"/><path d="M3 12h18M12 3c3 3 3 15 0 18M12 3c-3 3-3 15 0 18"/>',
    "search": '<circle cx="11" cy="11" r="7"/><path d="m20 20-4-4"/>',
    "plus": '<path d="M12 5v14M5 12h14"/>',
    "flag": '<path d="M5 21V4M5 4h11l-2 4 2 4H5"/>',
    "people": '<circle cx="9" cy="8" r="3.5"/><path d="M2.5 20c.8-3.5 3.4-5.5 6.5-5.5s5.7 2 6.5 5.5"/>'
    '<path d="M16 4.5a3.5 3.5 0 0 1 0 7M18 14.8c1.8.8 3 2.6 3.5 5.2"/>',
    "building": '<rect x="5" y="3" width="14" height="18" rx="1"/><path d="M9 7h2M13 7h2M9 11h2M13 11h2M9 15h2M13 15h2M11 21v-3h2v3"/>',
    "chevron": '<path d="m9 6 6 6-6 6"/>',
    "alert": '<path d="M12 3 2 20h20L12 3z"/><path d="M12 10v4M12 17v.5"/>',
    "check": '<path d="m5 12 5 5 9-10"/>',
    "upload": '<path d="M12 16V4M7 9l5-5 5 5"/><path d="M4 16v4h16v-4"/>',
    "handshake": '<path d="M3 12l4-4 4 2 3-2 7 4"/><path d="M7 12l4 4 2-1 2 2 4-4"/>',
    "log": '<rect x="5" y="3" width="14" height="18" rx="1"/><path d="M9 8h6M9 12h6M9 16h4"/>',
}


@register.simple_tag
def icon(name, css="hy-icon"):
    body = ICONS.get(name, "")
    return format_html(
        '<svg class="{}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" '
        'stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">{}</svg>',
        css,
        mark_safe(body),  # noqa: S308 — constant markup from ICONS above
    )


@register.filter
def mismatches(plans):
    """How many compound plans are not what the branch rules ask for."""
    return sum(1 for plan in plans or () if not plan.matches)
