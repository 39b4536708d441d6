"""The register's page search: an ID number or mobile never goes into a URL; the page
search is rate limited like the API's."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_search_form_posts(login, people, bob):
    html = login(bob).get(reverse("members:list")).content.decode()
    form = html[html.index('id="member-search"') - 200 : html.index('id="member-search"') + 300]
    assert 'method="post"' in form and "hx-post=" in form and "hx-get=" not in form
    assert "csrfmiddlewaretoken" in html


def test_an_id_number_search_stays_out_of_the_url(login, people, bob):
    client = login(bob)
    url = reverse("members:list")
    response = client.post(url, {"q": people.liang_id})
    assert response.status_code == 200  # answered in place, not redirected to ?q=…
    html = response.content.decode()
    assert "梁艳荣" in html and "高娃" not in html
    assert people.liang_id not in response.get("HX-Push-Url", "")
    assert people.liang_id not in html.split('id="member-q"')[0]  # no link carries it
    assert "导出 Excel" not in html  # the export link would drop the number: not offered
    rows = client.post(url, {"q": people.liang_mobile}, headers={"HX-Request": "true"})
    assert "梁艳荣" in rows.content.decode()
    assert rows["HX-Push-Url"] == url and rows["Cache-Control"] == "no-store"


def test_a_search_without_numbers_gets_its_address(login, people, bob, tree):
    client = login(bob)
    url = reverse("members:list")
    response = client.post(url, {"q": "lyr", "unit": tree.community_a.code, "status": "x"})
    assert response.status_code == 302
    assert response["Location"] == f"{url}?unit={tree.community_a.code}&q=lyr"
    rows = client.post(url, {"q": "lyr", "specialty": "文艺"}, headers={"HX-Request": "true"})
    assert "梁艳荣" in rows.content.decode()
    assert rows["HX-Push-Url"] == f"{url}?q=lyr&specialty=%E6%96%87%E8%89%BA"


def test_outsider_and_wrong_role_on_the_post_search(login, people, bob, charlie, tree, make_user):
    from hongyan.core.roles import Role

    url = reverse("members:list")
    refused = login(charlie).post(url, {"q": "lyr", "unit": tree.compound_a.code})
    assert refused.status_code == 404
    html = login(charlie).post(url, {"q": people.liang_id}).content.decode()
    assert "梁艳荣" not in html
    resident = make_user(Role.RESIDENT, tree.compound_a)
    assert login(resident).post(url, {"q": people.liang_id}).status_code == 403


def test_page_search_is_rate_limited(login, people, bob, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "search_user": "3/60"}
    client = login(bob)
    url = reverse("members:list")
    assert client.get(url).status_code == 200  # browsing is not searching
    for q in ("lyr", "sxx", people.liang_id):
        assert client.post(url, {"q": q}, headers={"HX-Request": "true"}).status_code == 200
    response = client.post(url, {"q": "gw"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert client.get(url, {"q": "lyr"}).status_code == 429
    assert client.get(url).status_code == 200
