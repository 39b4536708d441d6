"""A member's specialties live in MemberSpecialty, a link table keyed by (member,
specialty) with no surrogate id: everything the code base does with the relation still
works on it, and migration 0010 carries the links of the old automatic table over (and
back)."""

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from hongyan.members import bulk, selectors, services
from hongyan.members.demo import clear_demo_members
from hongyan.members.models import Member, MemberSpecialty, Specialty
from hongyan.orgs.models import Unit

BEFORE = [("members", "0009_member_blind_indexes_plain")]
AFTER = [("members", "0010_member_specialty_links")]
OLD_TABLE = "members_member_specialties"


def names(member: Member) -> set[str]:
    return set(member.specialties.values_list("name", flat=True))


def specialty(name: str) -> Specialty:
    return Specialty.objects.get_or_create(name=name)[0]


def links(member: Member) -> set[tuple[int, int]]:
    return set(
        MemberSpecialty.objects.filter(member=member).values_list("member_id", "specialty_id")
    )


@pytest.mark.django_db
def test_the_table_has_only_the_composite_key_and_the_specialty_index():
    table = MemberSpecialty._meta.db_table
    assert Member.specialties.through is MemberSpecialty
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
        constraints = connection.introspection.get_constraints(cursor, table)
    assert OLD_TABLE not in tables
    assert sorted(columns) == ["member_id", "specialty_id"]  # no id, so no sequence
    primary = [c for c in constraints.values() if c["primary_key"]]
    assert [c["columns"] for c in primary] == [["member_id", "specialty_id"]]
    foreign = {
        tuple(c["columns"]): c["foreign_key"] for c in constraints.values() if c["foreign_key"]
    }
    assert foreign == {
        ("member_id",): (Member._meta.db_table, "id"),
        ("specialty_id",): (Specialty._meta.db_table, "id"),
    }
    # besides the primary key, one index: on specialty (member lookups use the key's
    # leading column); no separate unique constraint
    others = [
        c["columns"]
        for c in constraints.values()
        if (c["index"] or c["unique"]) and not c["primary_key"]
    ]
    assert others == [["specialty_id"]]


@pytest.mark.django_db
def test_set_add_remove_and_the_member_deletion_cascade(people, alice):
    liang = people.liang
    assert names(liang) == {"文艺", "书法"}
    liang.specialties.set([specialty("法律"), specialty("文艺")])
    assert names(liang) == {"法律", "文艺"}
    liang.specialties.add(specialty("法律"), specialty("医疗"))  # 法律 already there
    assert names(liang) == {"法律", "文艺", "医疗"}
    liang.specialties.remove(specialty("文艺"))
    assert names(liang) == {"法律", "医疗"}
    assert set(specialty("医疗").members.all()) == {liang}

    # the service's edit path (compares, then sets)
    services.member_update(actor=alice, member=liang, specialties=["书法"])
    liang.refresh_from_db()
    assert names(liang) == {"书法"}

    gao_links = links(people.gao)
    liang.delete()  # the ORM cascades to the links; the others stay
    assert not MemberSpecialty.objects.filter(member_id=liang.pk).exists()
    assert links(people.gao) == gao_links != set()
    assert not specialty("书法").members.exists()

    specialty("教育").delete()  # and so does a specialty's deletion
    assert links(people.gao) == set()


@pytest.mark.django_db
def test_filtering_by_specialty_name_and_prefetching(people, alice, django_assert_num_queries):
    assert set(Member.objects.filter(specialties__name="法律")) == {people.long}
    assert set(Member.objects.filter(specialties__name="书法")) == {people.liang}
    found = selectors.member_list(alice, specialty="文艺")
    assert list(found) == [people.liang]
    assert list(selectors.member_list(alice, q="教育")) == [people.gao]
    pks = [people.liang.pk, people.gao.pk]
    with django_assert_num_queries(2):  # the members, then every link and specialty at once
        members = list(Member.objects.filter(pk__in=pks).prefetch_related("specialties"))
    by_name = {m.name: {s.name for s in m.specialties.all()} for m in members}
    assert by_name == {"梁艳荣": {"文艺", "书法"}, "高娃": {"教育"}}


@pytest.mark.django_db
def test_the_importer_and_demo_deletes(people):
    # the importer's rewrite of updated members' specialties
    Member.specialties.through.objects.filter(member_id__in=[people.liang.pk]).delete()
    assert names(people.liang) == set()
    assert names(people.gao) == {"教育"}
    # the demo reset's raw deletes, members last
    clear_demo_members()
    assert not MemberSpecialty.objects.exists()
    assert not Member.records.exists()


@pytest.mark.django_db
def test_bulk_insert_of_links(people):
    """As the importer and the demo generator write them: COPY on PostgreSQL, many rows
    a statement on SQLite; then the sequence reset, which has no sequence to move."""
    law, medicine = specialty("法律"), specialty("医疗")
    rows = [
        (people.shan.pk, law.pk),
        (people.shan.pk, medicine.pk),
        (people.gao.pk, law.pk),
    ]
    with transaction.atomic():
        assert bulk.insert(Member.specialties.through, ["member", "specialty"], rows) == 3
        bulk.reset_sequence(Member, Member.specialties.through)
    assert names(people.shan) == {"法律", "医疗"}
    assert names(people.gao) == {"教育", "法律"}
    # the primary key keeps a link once
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 — IntegrityError, or psycopg's
        bulk.insert(Member.specialties.through, ["member", "specialty"], rows[:1])
    assert names(people.shan) == {"法律", "医疗"}


@pytest.fixture
def divisions(transactional_db):
    """A transactional test starts from whatever the one before it left: a flushed
    database has no divisions."""
    if not Unit.objects.exists():
        from hongyan.orgs.loader import load_divisions

        load_divisions()


@pytest.mark.django_db(transaction=True)
def test_links_survive_the_migration_both_ways(divisions, request):
    """Backwards the links go to the old automatic table, forwards they come back —
    with one added meanwhile to the old table."""
    people = request.getfixturevalue("people")
    before = set(MemberSpecialty.objects.values_list("member_id", "specialty_id"))
    assert len(before) == 4

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    old_member = old_apps.get_model("members", "Member")
    OldLink = old_member._meta.get_field("specialties").remote_field.through
    assert OldLink._meta.db_table == OLD_TABLE
    assert set(OldLink.objects.values_list("member_id", "specialty_id")) == before
    added = (people.shan.pk, specialty("法律").pk)
    OldLink.objects.create(member_id=added[0], specialty_id=added[1])

    executor.loader.build_graph()
    MigrationExecutor(connection).migrate(AFTER)
    after = set(MemberSpecialty.objects.values_list("member_id", "specialty_id"))
    assert after == before | {added}
    with connection.cursor() as cursor:
        assert OLD_TABLE not in connection.introspection.table_names(cursor)
    assert names(people.shan) == {"法律"}
