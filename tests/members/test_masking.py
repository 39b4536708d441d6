"""Walk every member page and API endpoint (GET) as a user who may reveal, and check
that no ID number or mobile ever leaves unmasked without a reveal."""

import io
import re
import zipfile

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from hongyan.core.api import api as ninja_api
from hongyan.members import services

pytestmark = pytest.mark.django_db


def member_routes() -> list[str]:
    routes = []

    def walk(resolver, prefix=""):
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry, route)
            elif isinstance(entry, URLPattern) and "members" in route:
                routes.append(route)

    walk(get_resolver())
    return sorted(set(routes))


def fill(route: str, people, tree) -> str:
    values = {"member_id": people.liang.pk, "code": tree.compound_a.code}
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)


def text_of(response) -> str:
    body = response.content
    if body[:4] == b"PK\x03\x04":  # an .xlsx: look inside
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            return " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return body.decode("utf-8", "replace")


def test_no_page_or_endpoint_shows_personal_data_unmasked(login, people, bob, tree):
    services.post_assign(actor=bob, member=people.liang, kind="compound_head", unit=tree.compound_a)
    services.dual_register(actor=bob, member=people.liang)
    routes = member_routes()
    assert len(routes) >= 12, routes
    api_paths = {
        p for p in ninja_api.get_openapi_schema()["paths"] if p.startswith("/api/v1/members")
    }
    assert "/api/v1/members/{member_id}" in api_paths
    client = login(bob)
    secrets = [people.liang_id, people.liang_mobile, people.shan.id_number, people.shan.mobile]
    checked = 0
    for route in routes:
        url = fill(route, people, tree)
        for query in ("", "?q=lyr", f"?q={people.liang_id}"):
            response = client.get(url + query)
            assert response.status_code < 500, url
            if response.status_code != 200:
                continue
            body = text_of(response)
            # what the user typed into the search box may come back to them (the box,
            # the paging links); nothing else may
            leaked = [s for s in secrets if s in body and s not in query]
            assert not leaked, f"{url}{query} shows {leaked}"
            checked += 1
    assert checked >= 20
