"""Independent oracles (answers computed without the code under test's shortcuts) and
small builders shared by several test modules."""

import itertools
from datetime import date, timedelta

import pytest
from django.db import connection

from hongyan.orgs.models import Unit


def subtree_ids_by_parent_links(root: Unit) -> set[int]:
    """The unit and everything below it, found by following parent links (not paths)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Unit.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, stack = set(), [root.pk]
    while stack:
        pk = stack.pop()
        found.add(pk)
        stack.extend(children.get(pk, ()))
    return found


_member_seq = itertools.count(1)
_GIVEN = "一二三四五六七八九十"
_SECOND = "明华强伟芳军"


def add_full_members(actor, compound: Unit, n: int) -> None:
    """n full party members living in the compound, registered in the member register
    (which the branch plans count)."""
    from hongyan.core import pii
    from hongyan.members import services as member_services

    for _ in range(n):
        seq = next(_member_seq)
        born = date(1950, 1, 1) + timedelta(days=37 * seq)
        first17 = f"150902{born:%Y%m%d}{seq % 1000:03d}"
        member_services.member_create(
            actor=actor,
            unit=compound,
            name=f"王{_GIVEN[seq % 10]}{_SECOND[(seq // 10) % 6]}",
            id_number=first17 + pii.id_check_char(first17),
        )


# a race needs two real connections, which SQLite's single writer cannot give; CI's
# PostgreSQL pass runs these
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="two real connections need PostgreSQL"
)
