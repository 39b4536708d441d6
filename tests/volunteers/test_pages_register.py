"""Registering a volunteer on a page: a party member found in the register by name, or
a resident by name, mobile and home; errors next to the field; roles and scope."""

from datetime import date

import pytest

from hongyan.volunteers.models import Volunteer

from .conftest import skill

pytestmark = pytest.mark.django_db

URL = "/volunteers/people/new/"


@pytest.fixture
def member(alice, tree):
    from hongyan.members import services as member_services
    from tests.care.conftest import make_id

    return member_services.member_create(
        actor=alice, unit=tree.building_a, name="赵党员", id_number=make_id(501, date(1970, 2, 3))
    )


def test_staff_find_a_member_and_register_them(login, bob, member, tree):
    client = login(bob)
    page = client.get(URL, {"q": "赵"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "赵党员" in html and f'name="member" value="{member.pk}"' in html
    # htmx asks for the list alone
    part = client.get(URL, {"q": "赵"}, headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.content.decode()
    assert 'data-test="member-choices"' in part.content.decode()
    r = client.post(
        f"{URL}?unit={tree.community_a.code}",
        {"q": "赵", "member": member.pk, "mobile": "13900001111"},
    )
    assert r.status_code == 302, r.content.decode()
    volunteer = Volunteer.objects.get(member=member)
    assert r["Location"] == f"/volunteers/people/{volunteer.pk}/"
    assert volunteer.unit == tree.building_a and volunteer.mobile == "13900001111"
    # once a volunteer, the member is no longer offered
    assert f'name="member" value="{member.pk}"' not in client.get(URL, {"q": "赵"}).content.decode()


def test_staff_register_a_resident_with_skills(login, bob, tree):
    r = login(bob).post(
        URL,
        {
            "member": "",
            "name": "钱居民",
            "home": tree.building_a.code,
            "mobile": "138 0000 2222",
            "specialties": [skill("电脑维修").pk],
        },
    )
    assert r.status_code == 302
    volunteer = Volunteer.objects.get(name="钱居民")
    assert volunteer.unit == tree.building_a and volunteer.member is None
    assert [s.name for s in volunteer.specialties.all()] == ["电脑维修"]


def test_bad_input_comes_back_on_the_form(login, bob, tree):
    client = login(bob)
    r = client.post(URL, {"member": "", "name": "", "home": ""})
    assert r.status_code == 422
    html = r.content.decode()
    assert "请选择一名党员，或填写居民姓名" in html and "请选择居民的居住单位" in html
    r = client.post(URL, {"name": "孙某", "home": tree.building_a.code, "mobile": "12345"})
    assert r.status_code == 422 and 'id="id_mobile_error"' in r.content.decode()
    assert not Volunteer.objects.filter(name="孙某").exists()


def test_a_member_outside_the_unit_is_not_a_choice(login, bob, charlie, tree):
    from hongyan.members import services as member_services
    from tests.care.conftest import make_id

    other = member_services.member_create(
        actor=charlie, unit=tree.compound_b, name="赵外人", id_number=make_id(502, date(1971, 1, 1))
    )
    client = login(bob)
    assert "赵外人" not in client.get(URL, {"q": "赵"}).content.decode()
    r = client.post(URL, {"member": other.pk})
    assert r.status_code == 422 and not Volunteer.objects.filter(member=other).exists()


def test_wrong_role_403_and_outsider_404(login, resident, charlie, bob, tree):
    assert login(resident).get(URL).status_code == 403
    assert login(resident).post(URL, {"name": "x", "home": tree.building_a.code}).status_code == 403
    # charlie manages street B: alice's community is not there
    assert login(charlie).get(URL, {"unit": tree.community_a.code}).status_code == 404
    r = login(charlie).post(
        f"{URL}?unit={tree.community_a.code}", {"name": "x", "home": tree.building_a.code}
    )
    assert r.status_code == 404
    # nor can a home of someone else's area be posted on one's own page
    r = login(charlie).post(URL, {"name": "x", "home": tree.building_a.code})
    assert r.status_code == 422 and not Volunteer.objects.filter(name="x").exists()


def test_the_register_link_is_on_the_index_and_team_pages(login, bob, resident, team):
    assert URL in login(bob).get("/volunteers/").content.decode()
    assert URL in login(bob).get("/volunteers/teams/").content.decode()
    assert (
        f"{URL}?unit={team.unit.code}" in login(bob).get(team.get_absolute_url()).content.decode()
    )
    assert URL not in login(resident).get("/volunteers/").content.decode()
    assert URL not in login(resident).get("/volunteers/teams/").content.decode()


def test_register_page_query_bound(login, alice, bob, tree, django_assert_max_num_queries):
    from hongyan.members import services as member_services
    from tests.care.conftest import make_id

    for i in range(12):  # the list of matches costs the same for 1 or 12
        member_services.member_create(
            actor=alice,
            unit=tree.building_a,
            name=f"赵{i}",
            id_number=make_id(520 + i, date(1970, 1, 1)),
        )
    client = login(bob)
    with django_assert_max_num_queries(13):
        assert client.get(URL, {"q": "赵"}).status_code == 200
