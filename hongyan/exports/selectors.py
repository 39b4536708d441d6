"""Reads of export requests, always from the user's side: their own requests, and the
requests they may approve (inside their `export.approve` subtrees, never their own)."""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from hongyan.core.scope import can, scope

from .models import ExportRequest


def _base() -> QuerySet:
    return ExportRequest.objects.select_related("unit", "requester", "approver")


def export_list_mine(user) -> QuerySet:
    return _base().filter(requester=user)


def export_list_to_approve(user) -> QuerySet:
    """Requests waiting for a decision that the user may take."""
    pending = _base().filter(state=ExportRequest.State.PENDING).exclude(requester=user)
    return scope(pending, user, action="export.approve")


def export_get(user, export_id) -> ExportRequest:
    """A request the user made or may decide on. Outside the user's subtrees it does not
    exist for them (404); inside, someone who neither made it nor may approve it gets 403."""
    try:
        pk = int(export_id)
    except (TypeError, ValueError):
        raise Http404(_("没有找到这份导出申请。")) from None
    found = (
        _base()
        .filter(Q(requester=user) | Q(pk__in=scope(ExportRequest.objects.all(), user)))
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404(_("没有找到这份导出申请，或不在您的管辖范围内。"))
    if found.requester_id != user.pk and not can(user, "export.approve", found.unit.path):
        raise PermissionDenied(_("您的角色不能查看或审批别人的导出申请。"))
    return found
