"""The demo's needs (hongyan/needs/demo.py) on a small generated tree: a year of them,
most closed with a rating, some still open, the same draw for the same seed, and the
pages and rates have something true to show."""

import pytest
from django.db.models import Count

from hongyan.needs.demo import build_demo_needs, clear_demo_needs
from hongyan.needs.models import Need, NeedEvent, Status
from hongyan.needs.selectors import need_rates
from hongyan.orgs.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated(tree):
    Unit.objects.filter(
        pk__in=[tree.compound_a.pk, tree.compound_a2.pk, tree.compound_b.pk, tree.building_a.pk]
    ).update(generated=True)
    return tree


def draw():
    return list(Need.objects.order_by("pk").values_list("status", "category__code", "rating"))


def test_a_year_of_needs_mostly_closed_and_rated(generated, bob, login):
    figures = build_demo_needs(7)
    needs = Need.objects.all()
    assert figures["needs"] == needs.count() >= 3
    assert figures["events"] == NeedEvent.objects.count() > figures["needs"]
    by_status = dict(needs.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    assert by_status.get(Status.CLOSED, 0) >= needs.count() // 2
    for need in needs.filter(status=Status.CLOSED, rating__isnull=False):
        assert need.resolved_at <= need.closed_at and 1 <= need.rating <= 5
        assert need.events.filter(action="rated").exists()
    rates = need_rates(generated.district)
    assert (
        rates["total"]
        == needs.filter(unit__path__startswith=generated.district.path)
        .exclude(status=Status.MERGED)
        .count()
    )
    # bob's queue has the needs of his community
    html = login(bob).get("/needs/").content.decode()
    mine = needs.filter(unit__path__startswith=generated.community_a.path).first()
    assert mine.reference in html


def test_same_seed_same_needs_and_reload_replaces(generated):
    build_demo_needs(7)
    first = draw()
    clear_demo_needs()
    assert Need.objects.count() == 0 and NeedEvent.objects.count() == 0
    build_demo_needs(7)
    assert draw() == first
