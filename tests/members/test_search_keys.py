"""The search-key table: a derived index of names with no database foreign key, so
whatever deletes members deletes their keys itself; a prefix search uses its one index
on `key` on both databases."""

import pytest
from django.db import connection

from hongyan.core.pinyin import KEY_LENGTH, search_keys
from hongyan.members import services
from hongyan.members.demo import clear_demo_members
from hongyan.members.models import Member, MemberSearchKey

pytestmark = pytest.mark.django_db


def keys_of(member) -> set[str]:
    return set(MemberSearchKey.objects.filter(member=member).values_list("key", flat=True))


def test_a_members_keys_follow_its_name(people, alice):
    assert {"lyr", "liangyanrong"} <= keys_of(people.liang)
    services.member_update(actor=alice, member=people.liang, name="梁燕")
    assert {"ly", "liangyan"} <= keys_of(people.liang) and "lyr" not in keys_of(people.liang)


def test_keys_that_meet_when_cut_to_the_column_are_written_once(people):
    # 39 × liang, then 单 (dan/shan/chan): the full readings differ only past 60 letters
    name = "梁" * 39 + "单"
    keys = search_keys(name)
    assert all(len(k) <= KEY_LENGTH for k in keys) and len(set(keys)) == len(keys)
    assert "liang" * 12 in keys and ("l" * 39 + "s") in keys
    people.gao.name = name
    services.write_search_keys([people.gao])
    assert keys_of(people.gao) == set(keys)


def test_deleting_a_member_deletes_its_keys(people):
    gao = people.gao.pk
    assert MemberSearchKey.objects.filter(member_id=gao).exists()
    Member.records.filter(pk=gao).delete()  # the ORM cascades; the database would not
    assert not MemberSearchKey.objects.filter(member_id=gao).exists()
    assert MemberSearchKey.objects.filter(member=people.liang).exists()


def test_clearing_the_demo_register_deletes_every_key(people):
    clear_demo_members()
    assert not Member.records.exists() and not MemberSearchKey.objects.exists()


def test_a_prefix_search_uses_the_key_index(people):
    found = MemberSearchKey.objects.filter(key__under="lyr").values("member_id")
    assert list(found) == [{"member_id": people.liang.pk}]
    if connection.vendor == "postgresql":  # a few rows: make the planner show it can
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
    plan = found.explain()
    assert "search_key_prefix" in plan, plan
