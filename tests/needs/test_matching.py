"""Suggestions (who to dispatch to), duplicates (bigram similarity) and the rates."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hongyan.members.models import Member
from hongyan.needs import matching, selectors, services
from hongyan.needs.models import Need, Status

from .conftest import make_id, register

pytestmark = pytest.mark.django_db


def test_candidates_ranked_by_specialty_then_nearness_then_load(
    file_need, bob, helper, neighbour, alice, tree, django_assert_max_num_queries
):
    # a third registered member: same building as helper, same specialty, but busy
    from hongyan.members import services as member_services

    busy = member_services.member_create(
        actor=alice,
        unit=tree.building_a,
        name="忙师傅",
        id_number=make_id(333),
        specialties=["水电维修"],
    )
    register(busy, tree.community_a, alice)
    # an unregistered member with the right specialty is not suggested
    member_services.member_create(
        actor=alice,
        unit=tree.building_a,
        name="未报到",
        id_number=make_id(444),
        specialties=["水电维修"],
    )
    other = file_need()
    Need.objects.filter(pk=other.pk).update(handler_member=busy, status=Status.IN_PROGRESS)

    need = file_need(unit=tree.building_a)
    with django_assert_max_num_queries(6):
        ranked = matching.need_candidates(need)
    assert [c.member.name for c in ranked] == ["韩师傅", "忙师傅", "赵姐"]
    first = ranked[0]
    assert first.matched == ["水电维修"] and first.nearness == 0 and first.load == 0
    assert first.reason == "特长：水电维修；同楼栋；在办 0 件"
    assert ranked[1].load == 1
    assert ranked[2].reason == "同小区；在办 0 件"


def test_rank_candidates_takes_any_pool(tree, helper, neighbour):
    """The volunteers issue reuses it with its own pool and load."""
    pool = Member.objects.filter(pk__in=[helper.member.pk, neighbour.member.pk])
    ranked = matching.rank_candidates(
        place=tree.compound_a,
        specialty_ids=[],
        pool=pool,
        load=lambda ids: {helper.member.pk: 5},
    )
    assert [c.member.name for c in ranked] == ["赵姐", "韩师傅"]  # both in the compound


def test_similarity_of_short_chinese_texts():
    assert selectors.similarity("3号楼楼道灯坏了", "3号楼的楼道灯坏了") > 0.7
    assert selectors.similarity("楼道灯坏了", "垃圾没人清运") == 0
    assert selectors.similarity("", "x") == 0


def test_similar_open_needs_in_the_same_compound_only(file_need, bob, tree):
    same = file_need(text="1号楼电梯坏了，老人下不了楼")
    file_need(unit=tree.compound_a2, text="1号楼电梯坏了，老人下不了楼")  # another compound
    closed = file_need(text="1号楼电梯坏了，停了两天")
    services.need_reject(actor=bob, need=closed, reason="重复登记")
    found = selectors.need_similar(tree.building_a, "1号楼的电梯坏了")
    assert [n for n, _ in found] == [same]


def test_rates_count_on_time_and_satisfied(file_need, bob, helper, tree):
    needs = [file_need() for _ in range(4)]
    for need, rating in zip(needs[:3], (5, 4, 2), strict=True):
        n = services.need_dispatch(actor=bob, need=need, person=helper)
        n = services.need_start(actor=helper, need=n)
        n = services.need_resolve(actor=helper, need=n, resolution="已处理")
        services.need_rate(actor=None, need=n, rating=rating)
    # the third was reopened by its bad rating; resolve it late
    late = Need.objects.get(pk=needs[2].pk)
    Need.objects.filter(pk=late.pk).update(deadline=timezone.now() - timedelta(hours=1))
    services.need_resolve(actor=helper, need=late, resolution="返工完成")
    rates = selectors.need_rates(tree.community_a)
    assert rates["total"] == 4 and rates["resolved"] == 3
    assert rates["on_time"] == 2 and rates["on_time_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert rates["rated"] == 3 and rates["satisfaction_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert rates["resolution_rate"] == 0.75
    other = selectors.need_rates(tree.compound_a2)
    assert other["total"] == 0 and other["satisfaction_rate"] is None


def test_rates_in_a_fixed_number_of_queries(file_need, tree, django_assert_num_queries):
    for code in ("public_facilities", "sanitation", "policy"):
        file_need(category_code=code)
    with django_assert_num_queries(1):
        rates = selectors.need_rates(tree.district)
    assert {c["code"] for c in rates["by_category"]} == {
        "public_facilities",
        "sanitation",
        "policy",
    }
