"""Setting up party organisations (DOMAIN.md §3): the rules as pure functions."""

import pytest
from django.test import override_settings

from hongyan.orgs.rules import Advice, compound_advice, organisation_advice


@pytest.mark.parametrize(
    ("full_members", "advice"),
    [
        (None, Advice.CADRE),  # never counted: treat as nobody
        (0, Advice.CADRE),  # no members living there: a cadre is assigned (联系包保)
        (1, Advice.GRID_BRANCH),
        (2, Advice.GRID_BRANCH),  # fewer than 3: a grid (joint) branch with neighbours
        (3, Advice.OWN_BRANCH),  # 3 or more: a branch of its own
        (4, Advice.OWN_BRANCH),
        (45, Advice.OWN_BRANCH),
    ],
)
def test_compound_advice_at_the_three_member_boundary(full_members, advice):
    result = compound_advice(full_members)
    assert result.advice == advice
    assert result.label  # a Chinese label for every advice
    if full_members:
        assert str(full_members) in result.reason


def test_the_labels_say_what_to_do():
    assert "单独成立" in compound_advice(3).label
    assert "网格" in compound_advice(2).label
    assert "包保" in compound_advice(0).label


@override_settings(BRANCH_MIN_FULL_MEMBERS=5)
def test_the_boundary_is_a_setting():
    assert compound_advice(4).advice == Advice.GRID_BRANCH
    assert compound_advice(5).advice == Advice.OWN_BRANCH
    assert "5" in compound_advice(4).reason


def structure(members: int) -> str:
    """What organisation_advice recommends, read from its Chinese text."""
    text = organisation_advice(members)
    if "联合党支部" in text:
        return "joint_branch"
    if "不设支部委员会" in text:
        return "secretary_only"
    if "应设支部委员会" in text:
        return "branch_committee"
    if "党总支" in text:
        return "general_branch"
    if "基层委员会" in text:
        return "party_committee"
    raise AssertionError(f"unrecognised advice for {members}: {text}")


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        (0, "joint_branch"),
        (2, "joint_branch"),  # fewer than 3 full members: a joint branch
        (3, "secretary_only"),  # 3–6: a secretary (and deputy), no committee
        (6, "secretary_only"),
        (7, "branch_committee"),  # 7 or more: a branch committee of 3–5
        (50, "branch_committee"),  # a branch generally has at most 50
        (51, "general_branch"),  # 50–100 may form a general branch
        (100, "general_branch"),
        (101, "party_committee"),  # over 100: a party committee
        (5000, "party_committee"),
    ],
)
def test_organisation_advice_boundaries(members, expected):
    assert structure(members) == expected


@override_settings(BRANCH_COMMITTEE_MIN_MEMBERS=9)
def test_organisation_thresholds_are_settings():
    assert structure(8) == "secretary_only"
    assert structure(9) == "branch_committee"
