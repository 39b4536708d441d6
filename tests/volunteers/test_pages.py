"""The volunteer pages answer: the panel on the unit page, the public check, scope."""

import pytest

pytestmark = pytest.mark.django_db


def test_unit_page_shows_the_volunteer_figures_to_staff(login, bob, tree, team, resident):
    r = login(bob).get(f"/units/{tree.community_a.code}/")
    assert r.status_code == 200
    text = r.content.decode()
    assert 'data-test="volunteer-figures"' in text and "件实事" in text
    # a resident sees no figures panel
    r = login(resident).get(f"/units/{tree.building_a.code}/")
    assert 'data-test="volunteer-figures"' not in r.content.decode()


def test_pages_scope(login, bob, charlie, publish, resident):
    service = publish()
    assert login(bob).get(f"/volunteers/services/{service.pk}/").status_code == 200
    assert login(resident).get(f"/volunteers/services/{service.pk}/").status_code == 200
    assert login(charlie).get(f"/volunteers/services/{service.pk}/").status_code == 404
    assert login(resident).get("/volunteers/").status_code == 200
    assert login(bob).get("/volunteers/teams/").status_code == 200


def test_leader_entry_form_shows_errors_next_to_the_field(login, bob, publish, resident):
    from hongyan.volunteers import services

    from .conftest import happening_now

    service = publish()
    services.service_signup(actor=resident, service=service)
    service = happening_now(service)
    volunteer = services.volunteer_of(resident)
    r = login(bob).post(
        f"/volunteers/services/{service.pk}/entry/",
        {
            "volunteer": volunteer.pk,
            "checkin_at": "2026-01-01T10:00",
            "checkout_at": "2026-01-01T09:00",
        },
    )
    assert r.status_code == 422
    assert "签退时间须晚于签到时间" in r.content.decode()


def test_publish_page(login, bob, resident, team):
    assert login(bob).get("/volunteers/services/new/").status_code == 200
    assert login(resident).get("/volunteers/services/new/").status_code == 403
    r = login(bob).post(
        "/volunteers/services/new/",
        {
            "title": "",
            "kind": "other",
            "place": "x",
            "starts_at": "2030-01-01T09:00",
            "ends_at": "2030-01-01T08:00",
            "capacity": "3",
        },
    )
    assert r.status_code == 422
    assert 'id="id_title_error"' in r.content.decode()  # the error sits next to the field


def test_team_pages(login, bob, resident, charlie, leader, team, tree):
    from hongyan.volunteers.models import Team, TeamKind

    client = login(bob)
    assert client.get(f"/volunteers/teams/new/?unit={tree.community_a.code}").status_code == 200
    kind = TeamKind.objects.get(name="法律援助队")
    r = client.post(
        "/volunteers/teams/new/",
        {
            "unit": tree.community_a.code,
            "name": "恩和路法律援助队",
            "kind": kind.pk,
            "leader": leader.pk,
        },
    )
    made = Team.objects.get(name="恩和路法律援助队")
    assert r.status_code == 302 and made.leader == leader and made.unit == tree.community_a
    r = client.post(
        "/volunteers/teams/new/",
        {"unit": tree.community_a.code, "name": "恩和路法律援助队", "kind": kind.pk},
    )
    assert r.status_code == 422 and 'id="id_name_error"' in r.content.decode()
    assert login(resident).get("/volunteers/teams/new/").status_code == 403
    assert (
        login(charlie).get(f"/volunteers/teams/new/?unit={tree.community_a.code}").status_code
        == 404
    )
    # status: staff change it, a resident may not, the outsider does not see the team
    assert (
        client.post(f"/volunteers/teams/{team.pk}/status/", {"status": "paused"}).status_code == 302
    )
    team.refresh_from_db()
    assert team.status == "paused"
    assert (
        login(resident)
        .post(f"/volunteers/teams/{team.pk}/status/", {"status": "active"})
        .status_code
        == 403
    )
    assert (
        login(charlie)
        .post(f"/volunteers/teams/{team.pk}/status/", {"status": "active"})
        .status_code
        == 404
    )
