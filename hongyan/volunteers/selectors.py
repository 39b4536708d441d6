"""Reads of teams, services and volunteer records, always through `core.scope`."""

from datetime import datetime

from django.db.models import Count
from django.utils import timezone

from hongyan.members.selectors import register_service_source

from .models import Participation

# --- 我为群众办实事: approved service hours count as a member's service records ---------


@register_service_source
def approved_services_by_member(member_ids, since) -> dict[int, int]:
    start = timezone.make_aware(datetime.combine(since, datetime.min.time()))
    rows = (
        Participation.objects.filter(
            volunteer__member_id__in=member_ids,
            approved_at__isnull=False,
            service__starts_at__gte=start,
        )
        .values("volunteer__member_id")
        .annotate(n=Count("pk"))
    )
    return {r["volunteer__member_id"]: r["n"] for r in rows}
