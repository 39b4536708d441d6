"""The demo generator: a team in every community and village, a year of approved hours,
察右后旗 with 530+ deeds this year."""

import pytest

from hongyan.orgs.models import Unit, UnitKind
from hongyan.volunteers import selectors
from hongyan.volunteers.demo import build_demo_volunteers, clear_demo_volunteers
from hongyan.volunteers.models import Participation, Team

pytestmark = pytest.mark.django_db


def test_demo_volunteers():
    figures = build_demo_volunteers(1509)
    communities = Unit.objects.filter(kind__in=(UnitKind.COMMUNITY, UnitKind.VILLAGE))
    assert not communities.exclude(volunteer_teams__isnull=False).exists()
    assert figures["chayouhou_this_year"] >= 530
    chayouhou = selectors.unit_figures(Unit.objects.get(code="150928"))
    assert chayouhou["deeds"] >= 530 and chayouhou["hours"] > 0
    # only past services carry hours; upcoming ones have sign-ups waiting
    waiting = Participation.objects.filter(minutes__isnull=True)
    assert waiting.exists() and not waiting.filter(approved_at__isnull=False).exists()
    clear_demo_volunteers()
    assert not Team.objects.exists()
