"""The worker's reminder (`hongyan worker` runs it every hour): a recipient whose visit
is due today or overdue → one `CareReminder` for their visitor's account (or, without
one, for the staff over the place). The row is unique per (recipient, due day), so a
rerun or two workers at once remind once; a visit that moves the due day makes the next
reminder a new row."""

from datetime import date

from django.db.models import Exists, OuterRef
from django.utils import timezone

from hongyan.core.worker import register_sweep

from .models import CareRecipient, CareReminder
from .services import reminder_message

BATCH = 2000


@register_sweep("care_visit_reminders", every_seconds=3600)
def remind_due_visits(day: date | None = None) -> int:
    day = day or timezone.localdate()
    now = timezone.now()
    rows = (
        CareRecipient.objects.filter(active=True, next_due__lte=day)
        .filter(
            ~Exists(
                CareReminder.objects.filter(recipient=OuterRef("pk"), due_on=OuterRef("next_due"))
            )
        )
        .select_related("group", "visitor_post__member")
        .order_by("next_due", "pk")[:BATCH]
    )
    reminders = []
    for r in rows:
        user_id = r.visitor_user_id
        if user_id is None and r.visitor_post_id:
            user_id = r.visitor_post.member.account_id
        reminders.append(
            CareReminder(
                recipient=r,
                due_on=r.next_due,
                user_id=user_id,
                unit_id=r.unit_id,
                message=reminder_message(r, day)[:200],
                created_at=now,
            )
        )
    # the unique (recipient, due day) key drops what another worker inserted meanwhile
    CareReminder.objects.bulk_create(reminders, ignore_conflicts=True)
    return CareReminder.objects.filter(created_at=now).count()
