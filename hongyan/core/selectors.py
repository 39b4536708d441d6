"""Scoped reads of accounts for the administrators' pages: an administrator sees the
accounts holding a grant inside their subtree, and accounts holding none yet."""

from functools import reduce
from operator import or_

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils.translation import gettext as _

from .models import FactorReset, Grant, User
from .scope import visible_paths

ACCOUNT_ACTIONS = ("account.manage", "grant.manage", "factor.reset")


def admin_paths(actor) -> list[str]:
    return sorted({p for action in ACCOUNT_ACTIONS for p in visible_paths(actor, action)})


def account_list(actor, query: str = ""):
    paths = admin_paths(actor)
    if not paths:
        raise PermissionDenied(_("只有系统管理员、安全管理员可以管理账号。"))
    inside = reduce(or_, (Q(grants__unit__path__startswith=p) for p in paths))
    ids = User.objects.filter(inside | Q(grants__isnull=True)).values("pk")
    users = User.objects.filter(pk__in=ids).order_by("username")
    if query:
        users = users.filter(Q(username__icontains=query) | Q(display_name__icontains=query))
    return users.prefetch_related(
        Prefetch("grants", queryset=Grant.objects.select_related("unit").order_by("role"))
    )


def account_get(actor, username: str) -> User:
    user = account_list(actor).filter(username=username).first()
    if user is None:
        raise Http404(_("没有找到这个账号，或不在您的管辖范围内。"))
    return user


def factor_resets_pending(actor):
    if not visible_paths(actor, "factor.reset"):
        return FactorReset.objects.none()
    return FactorReset.objects.filter(status=FactorReset.Status.PENDING).select_related(
        "user", "requested_by"
    )
