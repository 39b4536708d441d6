"""Who sees what: the only way a view, an API endpoint or an export reads scoped rows.

A scoped model names the path of its unit in `scope_path` (e.g. "unit__path"). A user's
visible area is the union of the subtrees of the units they hold grants on.

    scope(Need.objects.all(), user)                 -> only rows in the user's subtrees
    access(Need.objects, user, pk, action="...")    -> the row, or 404 outside, 403 wrong role
"""

from functools import reduce
from operator import or_

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from .roles import roles_for


def _grants(user) -> list[tuple[str, str]]:
    """(role, unit path) for each grant, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_scope_grants", None)
    if cached is None:
        cached = list(user.grants.values_list("role", "unit__path"))
        user._scope_grants = cached
    return cached


def _outermost(paths) -> list[str]:
    """Drop paths already covered by an ancestor path in the set."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return kept


def visible_paths(user, action: str | None = None) -> list[str]:
    """The subtree roots the user may see (optionally: where they may take `action`)."""
    allowed = roles_for(action) if action else None
    return _outermost(p for role, p in _grants(user) if allowed is None or role in allowed)


def roles_at(user, path: str) -> set[str]:
    """Roles the user holds over the unit at `path` (through it or any ancestor)."""
    return {role for role, p in _grants(user) if path.startswith(p)}


def can(user, action: str, path: str) -> bool:
    return bool(roles_at(user, path) & roles_for(action))


def _path_filter(model, paths) -> Q:
    lookup = f"{model.scope_path}__under"
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{lookup: p}) for p in paths))


def scope(queryset: QuerySet, user, action: str | None = None) -> QuerySet:
    """Rows of `queryset` inside the user's subtrees (where they may take `action`)."""
    return queryset.filter(_path_filter(queryset.model, visible_paths(user, action)))


def _path_of(obj) -> str:
    value = obj
    for part in obj.scope_path.split("__"):
        value = getattr(value, part)
    return value


def access(queryset, user, *, action: str, **lookup):
    """Fetch one row by `lookup` (e.g. pk=5, code="150902") and check `action` on it.

    Outside the user's subtrees the row does not exist for them (404); inside but with
    a role that may not take the action, 403."""
    if not isinstance(queryset, QuerySet):
        queryset = queryset.all()
    obj = scope(queryset, user).filter(**lookup).first()
    if obj is None:
        raise Http404(_("没有找到，或不在您的管辖范围内。"))
    if not can(user, action, _path_of(obj)):
        raise PermissionDenied(_("您的角色不能执行此操作。"))
    return obj
