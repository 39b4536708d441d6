"""Loads the official divisions (province → village) from the bundled CSV, idempotently."""

import csv
from pathlib import Path

from django.db import transaction

from .models import PATH_STEP, Unit, UnitKind

DIVISIONS_CSV = Path(__file__).parent / "data" / "ulanqab-divisions.csv"
LEVEL_TO_KIND = {
    "province": UnitKind.PROVINCE,
    "city": UnitKind.CITY,
    "county": UnitKind.COUNTY,
    "township": UnitKind.TOWNSHIP,
    "community": UnitKind.COMMUNITY,
    "village": UnitKind.VILLAGE,
}


def path_step(n: int) -> str:
    return f"{n:0{PATH_STEP}d}."


def read_divisions(path: Path = DIVISIONS_CSV) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@transaction.atomic
def load_divisions(path: Path = DIVISIONS_CSV) -> dict[str, int]:
    """Create the divisions that are missing and rename those whose name changed.
    Returns {"created": n, "updated": n}; running it twice changes nothing."""
    rows = read_divisions(path)
    existing = {u.code: u for u in Unit.objects.filter(depth__lte=4)}
    # the highest sibling number in use under each parent (not the count: a deleted
    # sibling leaves a gap, and numbering from the count would reuse a taken path)
    last_step: dict[int | None, int] = {}
    for unit in existing.values():
        step = int(unit.path[-PATH_STEP - 1 : -1])
        last_step[unit.parent_id] = max(last_step.get(unit.parent_id, 0), step)
    created = updated = 0
    # parents before children; siblings numbered in code order, so paths are stable
    for row in sorted(rows, key=lambda r: (len(r["code"]), r["code"])):
        code, name = row["code"].strip(), row["name"].strip()
        kind = LEVEL_TO_KIND[row["level"].strip()]
        parent = existing.get(row["parent_code"].strip()) if row["parent_code"].strip() else None
        unit = existing.get(code)
        if unit is None:
            n = last_step.get(parent.pk if parent else None, 0) + 1
            last_step[parent.pk if parent else None] = n
            unit = Unit.objects.create(
                code=code,
                name=name,
                kind=kind,
                parent=parent,
                path=(parent.path if parent else "") + path_step(n),
                depth=(parent.depth + 1) if parent else 0,
            )
            existing[code] = unit
            created += 1
        elif unit.name != name or unit.kind != kind:
            unit.name, unit.kind = name, kind
            unit.save(update_fields=["name", "kind"])
            updated += 1
    return {"created": created, "updated": updated}
