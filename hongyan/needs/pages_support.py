"""Reads only the pages need.

`queue_counts` gives the queue page's tab figures. It counts only rows in the states it
reports (open, resolved), so a district with a million mostly closed needs is counted
from the status index rather than by scanning every row of its subtree (4.7 s → tens of
ms on 1,000,000 needs in bench/needs_pages.py)."""

from django.db.models import Count, Q
from django.utils import timezone

from . import selectors
from .models import OPEN_STATUSES, RUNNING_STATUSES, Status


def queue_counts(user, unit=None) -> selectors.Queue:
    qs = selectors.need_queryset(user)
    if unit is not None:
        qs = qs.filter(unit__path__under=unit.path)
    qs = qs.filter(status__in=(*OPEN_STATUSES, Status.RESOLVED)).select_related(None)
    row = qs.aggregate(
        submitted=Count("pk", filter=Q(status=Status.SUBMITTED)),
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        overdue=Count("pk", filter=Q(status__in=RUNNING_STATUSES, deadline__lt=timezone.now())),
        resolved=Count("pk", filter=Q(status=Status.RESOLVED)),
    )
    return selectors.Queue(**row)
