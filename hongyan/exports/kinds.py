"""What can be exported: each kind says which action requesting it needs, which action an
unmasked copy needs, how to read its rows (always through scope) and how to write them.

    register(ExportKind(name="members", ...))

The member register is the first kind; other apps add theirs the same way."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hongyan.core.errors import DomainError


@dataclass(frozen=True)
class ExportKind:
    name: str
    label: object  # lazy translated text: 党员名册
    action: str  # to request a masked export (e.g. member.export)
    unmasked_action: str  # to request an unmasked one (e.g. member.reveal)
    audit_action: str  # recorded when the file is made (e.g. member.export)
    clean_filters: Callable[[dict], dict]  # raise DomainError naming a bad filter
    rows: Callable  # (user, unit, filters) -> queryset, scoped to the user
    headers: Callable[[bool], list[str]]  # (masked) -> column titles
    cells: Callable[[object, bool], Iterable]  # (row, masked) -> cell values


KINDS: dict[str, ExportKind] = {}


def register(kind: ExportKind) -> ExportKind:
    KINDS[kind.name] = kind
    return kind


def get(name: str) -> ExportKind:
    try:
        return KINDS[name]
    except KeyError:
        raise DomainError(
            "unknown_kind",
            _("不能导出“%(kind)s”：可导出的有 %(known)s。")
            % {"kind": name, "known": "、".join(sorted(KINDS))},
            status=422,
            field="kind",
        ) from None


# --- the member register (党员名册) ------------------------------------------------------

MEMBER_FILTERS = ("q", "specialty", "status", "category", "plate")


def _member_filters(raw: dict) -> dict:
    from hongyan.members.models import Category, Plate, Status

    choices = {"status": Status.values, "category": Category.values, "plate": Plate.values}
    out = {}
    for key, value in (raw or {}).items():
        if key not in MEMBER_FILTERS:
            raise DomainError(
                "invalid",
                _("没有“%(name)s”这个筛选条件：可用的有 %(known)s。")
                % {"name": key, "known": ", ".join(MEMBER_FILTERS)},
                status=422,
                field=f"filters.{key}",
            )
        value = str(value or "").strip()[:100]
        if value and key in choices and value not in choices[key]:
            raise DomainError(
                "invalid",
                _("筛选条件 %(name)s 的值“%(value)s”无效：可用的有 %(known)s。")
                % {"name": key, "value": value, "known": ", ".join(v for v in choices[key] if v)},
                status=422,
                field=f"filters.{key}",
            )
        if value:
            out[key] = value
    return out


def _member_rows(user, unit, filters):
    from hongyan.core.scope import scope
    from hongyan.members import selectors
    from hongyan.members.models import Member

    rows = selectors.member_list(user, unit=unit, **filters)
    return rows.filter(pk__in=scope(Member.objects.all(), user, action="member.export"))


def _member_headers(masked: bool) -> list[str]:
    from hongyan.members.excel import EXPORT_HEADERS

    headers = list(EXPORT_HEADERS)
    if not masked:
        headers[4], headers[5] = _("身份证号码"), _("手机号码")
    return headers


def _member_cells(m, masked: bool):
    from hongyan.members.excel import member_cells

    return member_cells(m, masked=masked)


register(
    ExportKind(
        name="members",
        label=gettext_lazy("党员名册"),
        action="member.export",
        unmasked_action="member.reveal",
        audit_action="member.export",
        clean_filters=_member_filters,
        rows=_member_rows,
        headers=_member_headers,
        cells=_member_cells,
    )
)
