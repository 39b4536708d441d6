"""The audit log: `record()` for every write and security event, `verify_chain()` to
prove nothing was edited or removed afterwards.

Each row's hash is HMAC-SM3 over the previous row's hash and the row's own content, so
changing a row breaks its own hash and removing one breaks the link of the next (the
head row catches removals at the end).

Old rows may be purged (`purge()`, `hongyan manage purge_audit`), never younger than
`AUDIT_RETENTION_DAYS` (at least 180). The chain then starts at an anchor — the first
kept row and the hash it links to — kept on the head and recorded, under the chain's
key, in the purge's own `audit.purge` row, so moving the start by hand is noticed too.
On PostgreSQL a trigger refuses UPDATE and DELETE on the table (migration 0003); the
purge alone lifts it for its own transaction (`SET LOCAL hongyan.audit_purge = 'on'`)."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .crypto import derived_key, hmac_sm3
from .errors import DomainError
from .middleware import current_ip
from .models import AuditEntry, AuditHead
from .scope import visible_paths

GENESIS = "0" * 64


def _content(entry: AuditEntry) -> bytes:
    fields = {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "unit": entry.unit_code,
        "ip": entry.ip,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "result": entry.result,
        "detail": entry.detail,
    }
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, default=str).encode()


def _hash(prev_hash: str, entry: AuditEntry) -> str:
    return hmac_sm3(derived_key("hongyan.audit.v1"), prev_hash.encode() + b"|" + _content(entry))


def record(
    action: str,
    *,
    actor=None,
    obj=None,
    unit=None,
    result: str = "ok",
    detail: dict | None = None,
    actor_name: str = "",
) -> AuditEntry:
    """Append one row. Runs inside the caller's transaction, so the business change and
    its audit row commit or roll back together."""
    if unit is None and obj is not None:
        unit = getattr(obj, "unit", None) or (obj if obj.__class__.__name__ == "Unit" else None)
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
        entry = AuditEntry(
            seq=head.last_seq + 1,
            at=timezone.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=actor_name or (getattr(actor, "username", "") or ""),
            unit_code=getattr(unit, "code", "") or "",
            ip=current_ip(),
            action=action,
            object_type=obj._meta.label if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            result=result,
            detail=detail or {},
            prev_hash=head.last_hash,
        )
        # hash what the database will give back (microsecond precision, JSON round trip)
        entry.detail = json.loads(json.dumps(entry.detail, ensure_ascii=False, default=str))
        entry.hash = _hash(entry.prev_hash, entry)
        entry.save()
        head.last_seq, head.last_hash = entry.seq, entry.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return entry


@dataclass
class ChainProblem:
    seq: int
    problem: str

    def __str__(self):
        return f"row {self.seq}: {self.problem}"


PURGE_ACTION = "audit.purge"


def _anchor_problems(head) -> list[ChainProblem]:
    """A chain that does not start at row 1 must start where the latest purge said."""
    if head is None or (head.first_seq, head.first_prev_hash) == (1, GENESIS):
        return []
    purge_row = AuditEntry.objects.filter(action=PURGE_ACTION).order_by("-seq").first()
    detail = purge_row.detail if purge_row else {}
    if (detail.get("first_seq"), detail.get("first_prev_hash")) != (
        head.first_seq,
        head.first_prev_hash,
    ):
        return [
            ChainProblem(
                head.first_seq, "chain start moved with no purge recorded (rows before it deleted)"
            )
        ]
    return []


def verify_chain(batch: int = 5000) -> tuple[int, list[ChainProblem]]:
    """Walk the chain from its anchor; return (rows checked, problems found)."""
    head = AuditHead.objects.filter(id=1).first()
    problems: list[ChainProblem] = _anchor_problems(head)
    expected_seq = head.first_seq if head else 1
    prev_hash = head.first_prev_hash if head else GENESIS
    checked, last_seq = 0, expected_seq - 1
    while True:
        rows = list(AuditEntry.objects.filter(seq__gt=last_seq).order_by("seq")[:batch])
        if not rows:
            break
        for entry in rows:
            checked += 1
            if entry.seq != expected_seq:
                missing = range(expected_seq, entry.seq)
                problems += [ChainProblem(s, "deleted (missing from the chain)") for s in missing]
            elif entry.prev_hash != prev_hash:
                problems.append(ChainProblem(entry.seq, "link to the previous row altered"))
            if _hash(entry.prev_hash, entry) != entry.hash:
                problems.append(
                    ChainProblem(entry.seq, "altered (content does not match its hash)")
                )
            prev_hash, expected_seq = entry.hash, entry.seq + 1
        last_seq = rows[-1].seq
    if head and head.last_seq >= expected_seq:
        problems += [
            ChainProblem(s, "deleted (missing from the end of the chain)")
            for s in range(expected_seq, head.last_seq + 1)
        ]
    elif head and head.last_seq == expected_seq - 1 and head.last_hash != prev_hash:
        problems.append(ChainProblem(head.last_seq, "altered (does not match the chain head)"))
    return checked, problems


def retention_cutoff(now: datetime | None = None) -> datetime:
    """Rows at or after this moment may not be purged."""
    days = max(180, settings.AUDIT_RETENTION_DAYS)
    return (now or timezone.now()) - timedelta(days=days)


def purge(before: datetime, *, actor=None, actor_name: str = "") -> dict:
    """Delete the rows recorded before `before` (a prefix of the chain), move the anchor
    past them and record the purge. Refuses a `before` inside the retention period and a
    chain that does not verify (a purge must not erase the evidence of tampering)."""
    cutoff = retention_cutoff()
    if before > cutoff:
        raise DomainError(
            "audit_too_young",
            _("审计记录至少保留 %(days)s 天：只能清除 %(date)s 之前的记录。")
            % {
                "days": max(180, settings.AUDIT_RETENTION_DAYS),
                "date": timezone.localtime(cutoff).date().isoformat(),
            },
            status=422,
        )
    _checked, problems = verify_chain()
    if problems:
        raise DomainError(
            "audit_chain_broken",
            _("审计链已断裂（%(problem)s），不能清除：请先查明原因。") % {"problem": problems[0]},
            status=409,
        )
    with transaction.atomic():
        head, _created = AuditHead.objects.select_for_update().get_or_create(id=1)
        young = (
            AuditEntry.objects.filter(at__gte=before)
            .order_by("seq")
            .values_list("seq", flat=True)
            .first()
        )
        last_purged = (young - 1) if young is not None else head.last_seq
        deleted = 0
        if last_purged >= head.first_seq:
            anchor_hash = AuditEntry.objects.get(seq=last_purged).hash
            doomed = AuditEntry.objects.filter(seq__lte=last_purged)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL hongyan.audit_purge = 'on'")
                    deleted = doomed.delete()[0]
                    cursor.execute("SET LOCAL hongyan.audit_purge = 'off'")
            else:
                deleted = doomed.delete()[0]
            head.first_seq, head.first_prev_hash = last_purged + 1, anchor_hash
            head.save(update_fields=["first_seq", "first_prev_hash"])
        entry = record(
            PURGE_ACTION,
            actor=actor,
            actor_name=actor_name,
            detail={
                "before": before.isoformat(),
                "deleted": deleted,
                "first_seq": head.first_seq,
                "first_prev_hash": head.first_prev_hash,
            },
        )
    return {"deleted": deleted, "first_seq": head.first_seq, "purge_seq": entry.seq}


def search(
    *,
    actor: str = "",
    unit: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
):
    """Audit rows, newest first, matching every filter given: `actor` is a user name
    (or part of one), `unit` a unit code (its whole subtree: codes extend their parent's),
    `action` an action or its prefix ("member." for every member action)."""
    rows = AuditEntry.objects.order_by("-seq")
    if actor:
        rows = rows.filter(actor_name__icontains=actor)
    if unit:
        rows = rows.filter(unit_code__startswith=unit)
    if action:
        rows = rows.filter(action__startswith=action)
    if object_type:
        rows = rows.filter(object_type=object_type)
    if object_id:
        rows = rows.filter(object_id=object_id)
    if since:
        rows = rows.filter(at__gte=since)
    if until:
        rows = rows.filter(at__lt=until)
    return rows


def may_view(user) -> bool:
    """The log is the whole city's: whoever holds `audit.view` (a city admin) sees all."""
    return bool(visible_paths(user, "audit.view"))
