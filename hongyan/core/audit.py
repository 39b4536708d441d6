"""The audit log: `record()` for every write and security event, `verify_chain()` to
prove nothing was edited or removed afterwards.

Each row's hash is HMAC-SM3 over the previous row's hash and the row's own content, so
changing a row breaks its own hash and removing one breaks the link of the next (the
head row catches removals at the end)."""

import json
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .crypto import derived_key, hmac_sm3
from .middleware import current_ip
from .models import AuditEntry, AuditHead

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


def verify_chain(batch: int = 5000) -> tuple[int, list[ChainProblem]]:
    """Walk the chain; return (rows checked, problems found)."""
    problems: list[ChainProblem] = []
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    last_seq = 0
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
    head = AuditHead.objects.filter(id=1).first()
    if head and head.last_seq >= expected_seq:
        problems += [
            ChainProblem(s, "deleted (missing from the end of the chain)")
            for s in range(expected_seq, head.last_seq + 1)
        ]
    elif head and head.last_seq == expected_seq - 1 and head.last_hash != prev_hash:
        problems.append(ChainProblem(head.last_seq, "altered (does not match the chain head)"))
    return checked, problems
