"""Setting up party organisations (中国共产党支部工作条例（试行）, 2018, and local practice):
which compounds need their own branch, which belong in a grid branch, which need a
cadre assigned, and how an organisation of a given size should be structured."""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _


class Advice:
    OWN_BRANCH = "own_branch"
    GRID_BRANCH = "grid_branch"
    CADRE = "cadre"


@dataclass(frozen=True)
class BranchAdvice:
    advice: str
    reason: str

    @property
    def label(self):
        return {
            Advice.OWN_BRANCH: _("应单独成立小区党支部"),
            Advice.GRID_BRANCH: _("应纳入网格（联合）党支部"),
            Advice.CADRE: _("应安排干部联系包保"),
        }[self.advice]


def compound_advice(full_members: int | None) -> BranchAdvice:
    """What a compound needs, given the full party members living there."""
    minimum = settings.BRANCH_MIN_FULL_MEMBERS
    n = full_members or 0
    if n >= minimum:
        return BranchAdvice(
            Advice.OWN_BRANCH,
            _("居住正式党员 %(n)d 名，达到 %(min)d 名，可单独成立党支部。")
            % {"n": n, "min": minimum},
        )
    if n > 0:
        return BranchAdvice(
            Advice.GRID_BRANCH,
            _("居住正式党员 %(n)d 名，不足 %(min)d 名，与邻近小区组建网格（联合）党支部。")
            % {"n": n, "min": minimum},
        )
    return BranchAdvice(
        Advice.CADRE,
        _("没有居住的正式党员，由街道或社区干部联系包保。"),
    )


def organisation_advice(members: int) -> str:
    """How an organisation with `members` members should be set up."""
    if members < settings.BRANCH_MIN_FULL_MEMBERS:
        return _("正式党员不足 %(n)d 名，应与邻近单位成立联合党支部。") % {
            "n": settings.BRANCH_MIN_FULL_MEMBERS
        }
    if members < settings.BRANCH_COMMITTEE_MIN_MEMBERS:
        return _("党员不足 %(n)d 名，不设支部委员会，设书记一名，必要时设副书记。") % {
            "n": settings.BRANCH_COMMITTEE_MIN_MEMBERS
        }
    if members <= settings.BRANCH_MAX_MEMBERS:
        return _("党员 %(n)d 名以上，应设支部委员会（3—5 人）。") % {
            "n": settings.BRANCH_COMMITTEE_MIN_MEMBERS
        }
    if members <= settings.PARTY_COMMITTEE_MIN_MEMBERS:
        return _("党员超过 %(n)d 名，可成立党总支。") % {"n": settings.BRANCH_MAX_MEMBERS}
    return _("党员超过 %(n)d 名，可成立党的基层委员会。") % {
        "n": settings.PARTY_COMMITTEE_MIN_MEMBERS
    }
