"""The register's bulk writer: rows go in whole on both databases — more rows than one
SQLite statement takes, and text PostgreSQL's COPY format must escape — and the
import's pause of the cyclic garbage collector ends as it began."""

import gc
import sqlite3
from datetime import date

import psycopg
import pytest
from django.db import transaction

from hongyan.members import bulk
from hongyan.members.models import Member

pytestmark = pytest.mark.django_db

AWKWARD = "back\\slash\ttab\nnew line\rreturn \\N 'quote' \"double\" 集宁区·一中"


def member_row(pk: int, compound_pk: int, now, note: str, born) -> tuple:
    values = dict.fromkeys(bulk.MEMBER_COLUMNS, "")
    values.update(
        id=pk,
        unit=compound_pk,
        compound=compound_pk,
        name=f"成员{pk}",
        gender="male",
        ethnicity="汉族",
        birth_date=bulk.db_date(born),
        id_number_index=f"{pk:032x}",
        category="full",
        joined_on=None,
        party_org=None,
        status="in_service",
        note=note,
        generated=True,
        created_at=now,
        updated_at=now,
    )
    return tuple(values[column] for column in bulk.MEMBER_COLUMNS)


def test_the_writer_inserts_every_row_and_every_character(tree):
    compound = tree.compound_a.pk
    count = 2500  # SQLite: over twice the 1,213 rows of 27 columns one statement takes
    with transaction.atomic():
        first, now = bulk.next_id(Member), bulk.db_now()
        rows = [
            member_row(first + n, compound, now, AWKWARD if n % 2 else "", date(1960, 3, 1))
            for n in range(count)
        ]
        with bulk.Writer() as writer:
            writer.put([(Member, bulk.MEMBER_COLUMNS, rows[:1700])])
            writer.put([(Member, bulk.MEMBER_COLUMNS, rows[1700:])])
        bulk.reset_sequence(Member)
    written = Member.records.filter(pk__gte=first)
    assert written.count() == count
    odd = written.get(pk=first + 1)
    assert odd.note == AWKWARD and odd.generated is True
    assert odd.birth_date == date(1960, 3, 1) and odd.joined_on is None
    assert written.get(pk=first + count - 1).note == AWKWARD
    assert written.filter(note="").count() == count // 2


def test_a_failing_slice_is_raised_and_nothing_is_kept(tree):
    compound = tree.compound_a.pk
    first, now = bulk.next_id(Member), bulk.db_now()
    good = member_row(first, compound, now, "", date(1960, 3, 1))
    clash = member_row(first + 1, compound, now, "", date(1960, 3, 1))
    clash = tuple(
        good[i] if c == "id_number_index" else v
        for i, (c, v) in enumerate(zip(bulk.MEMBER_COLUMNS, clash, strict=True))
    )  # the same blind index twice: the unique constraint refuses the slice
    refused = (sqlite3.IntegrityError, psycopg.IntegrityError)  # the drivers' own
    with pytest.raises(refused), transaction.atomic(), bulk.Writer() as writer:
        writer.put([(Member, bulk.MEMBER_COLUMNS, [good, clash])])
    assert not Member.records.filter(pk__gte=first).exists()


def test_gc_pauses_nest_and_restore_the_state_they_found():
    assert gc.isenabled()
    with bulk.gc_paused():
        assert not gc.isenabled()
        with bulk.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer job still runs
    assert gc.isenabled()
    gc.disable()
    try:
        with bulk.gc_paused():
            pass
        assert not gc.isenabled()  # someone else had switched it off: left off
    finally:
        gc.enable()
