"""Walk every URL of the project and attack it as an outsider and as nobody.

For every route in the resolver (the HTML pages and each operation of the ninja API),
the parameters are filled with objects inside alice's subtree. Then:

- charlie (street B admin, signed in) gets 404 for every method the route takes;
- an anonymous visitor is sent to the login page (HTML) or gets 401 JSON (API);
- alice herself reaches every GET (so the 404s above are about scope, not a bad URL).

A route whose parameter nobody here knows how to fill fails `test_every_route_is_known`,
so a new endpoint cannot slip past these checks unnoticed.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from hongyan.core.api import api as ninja_api

# Routes that are public or carry no data, by URL name, each with the reason.
EXCLUDED_NAMES = {
    "core:login": "the login page itself: where anonymous visitors are sent",
    "core:logout": "signing out needs no session (POST-only, clears whatever there is)",
    "core:login_verify": "the sign-in's TOTP step: only for a session that passed the password",
    "api:token": "public by design: exchanges a username and password for a token",
    "api:openapi-json": "the public API description; holds no data",
    "api:openapi-view": "the public API docs page; holds no data",
    "api:api-root": "django-ninja's root, only there so operations can be reversed (404)",
    "certificate_verify": "public by design: anyone checks a volunteer certificate's code",
    "needs:report": "the residents' public intake page (no account, rate-limited)",
    "needs:places": "the public intake's place picker: names of units, no personal data",
    "needs:similar": "the public intake's duplicate hint: open needs' texts, no personal data",
    "needs:join": "the public intake's 'me too' (附议): rate-limited like filing",
    "needs:follow": "a resident's follow link: the secret token is the key",
    "needs:follow_rate": "a resident's follow link: the secret token is the key",
    "needs:follow_photo": "a resident's follow link: the secret token is the key",
    "api:need_follow": "a resident's follow link: the secret token is the key",
}
# Signed-in routes that hold no object of a unit's subtree (the city's settings, the same
# for everyone): the anonymous walk covers them, the scope walks don't.
CITY_WIDE = {
    "api:workdays_year": "the city's holiday calendar, the same for every signed-in user",
    "api:workdays_day_set": "the city's holiday calendar: city admins only (tests/workdays)",
    "workdays:clear": "the city's holiday calendar: city admins only (tests/workdays)",
    "api:city_categories": "the city's need categories: its public service list",
    "api:city_category_save": "a city's own need categories: city admins only (tests/needs)",
    "needs:category_edit": "a need category (its code, not a unit's): city admins only",
    "api:group_save": "a care group's default interval (its code, not a unit's): city admins",
}
# Operations open to the public on an otherwise signed-in route: (route, method) → why.
PUBLIC_OPERATIONS = {
    ("api/v1/needs", "POST"): "the residents' public intake (rate-limited per IP and mobile)",
    ("api/v1/needs/categories", "GET"): "the intake's list of categories",
    ("api/v1/needs/similar", "GET"): "the intake's duplicate hint, no personal data",
    ("api/v1/needs/<pk>/join", "POST"): "a resident's 附议 from the public page",
    ("api/v1/needs/<pk>/rate", "POST"): "a resident rates with the follow token",
}
# Whole areas outside the data, by route prefix.
EXCLUDED_PREFIXES = {
    "i18n/": "Django's set_language: switches the interface language, no data",
    "static/": "static files (whitenoise), no data",
    "media/": "uploads are served through scoped views, never directly",
    "open311/": "Open311 is public by its spec (requests need an api_key): tests/needs",
}
PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>")


@dataclass
class Route:
    route: str  # e.g. "api/v1/units/<code>/children"
    name: str  # e.g. "api:unit_children"
    params: tuple[str, ...]
    is_api: bool

    @property
    def openapi_path(self) -> str:
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.route)

    def url(self, **values) -> str:
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), self.route)


def _walk(resolver: URLResolver, prefix: str = "", namespaces: tuple = ()):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(
                entry, route, namespaces + ((entry.namespace,) if entry.namespace else ())
            )
        elif isinstance(entry, URLPattern):
            name = ":".join((*namespaces, entry.name or "?"))
            params = tuple(a or b for a, b in PARAM.findall(route))
            yield Route(route, name, params, is_api="api" in namespaces)


def all_routes() -> list[Route]:
    """Every route once (ninja registers a path once per operation name; keep the first)."""
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver()):
        seen.setdefault(route.route, route)
    return list(seen.values())


def excluded(route: Route) -> str | None:
    if route.name in EXCLUDED_NAMES:
        return EXCLUDED_NAMES[route.name]
    for prefix, reason in EXCLUDED_PREFIXES.items():
        if route.route.startswith(prefix):
            return reason
    return None


WALKED = [r for r in all_routes() if not excluded(r)]
PARAM_ROUTES = [r for r in WALKED if r.params and r.name not in CITY_WIDE]


# How to fill each parameter with objects inside alice's subtree: for a unit code, the
# root of her grant and a compound deep below it; for an object id, one such object.
def _member_in(tree, alice):
    from hongyan.core import pii
    from hongyan.members import services as member_services

    first17 = "15090219800517123"
    member = member_services.member_create(
        actor=alice,
        unit=tree.compound_a,
        name="梁艳荣",
        id_number=first17 + pii.id_check_char(first17),
        mobile="13530246633",
    )
    return member.pk


def _export_of(tree, alice):
    """An export alice asked for (small and masked, so ready to download)."""
    from hongyan.exports import services as export_services

    _member_in(tree, alice)
    export = export_services.export_request(actor=alice, kind="members", unit=tree.street_a)
    return export.pk


def _need_in(tree, alice):
    from hongyan.needs import services as need_services
    from hongyan.needs.models import Channel, NeedCategory

    need = need_services.need_file(
        actor=None,
        channel=Channel.PUBLIC_WEB,
        category=NeedCategory.objects.get(city=None, code="public_facilities"),
        unit=tree.compound_a,
        text="3号楼楼道灯坏了",
        resident_name="李大妈",
        resident_mobile="13812345678",
    )
    return need


def _notice_in(tree, alice):
    from hongyan.needs.models import NeedNotification

    need = _need_in(tree, alice)
    return NeedNotification.objects.create(
        need=need, kind="warning", level=0, unit=tree.compound_a, message="临期"
    ).pk


def _recipient_in(tree, alice):
    from hongyan.care import services as care_services
    from hongyan.care.models import CareGroup

    return care_services.recipient_create(
        actor=alice,
        unit=tree.building_a,
        group=CareGroup.objects.get(code="other"),
        name="张大爷",
        registered_on=date.today() - timedelta(days=20),
    )


def _visit_in(tree, alice):
    from hongyan.care import services as care_services

    recipient = _recipient_in(tree, alice)
    return care_services.visit_log(actor=alice, recipient=recipient, seen=False).pk


def _volunteer_in(tree, alice):
    from hongyan.volunteers import services as volunteer_services

    return volunteer_services.volunteer_register(actor=alice, unit=tree.grid_a, name="李队长")


def _team_in(tree, alice):
    from hongyan.volunteers import services as volunteer_services
    from hongyan.volunteers.models import TeamKind

    return volunteer_services.team_create(
        actor=alice,
        unit=tree.community_a,
        name="恩和路网格先锋队",
        kind=TeamKind.objects.get(name="网格先锋队"),
        leader=_volunteer_in(tree, alice),
    )


def _service_in(tree, alice):
    from django.utils import timezone

    from hongyan.volunteers import services as volunteer_services

    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    return volunteer_services.service_publish(
        actor=alice,
        unit=tree.community_a,
        title="楼道清理",
        place="御景华府1号楼",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=5,
        team=_team_in(tree, alice),
    ).pk


# An object id ("pk") means a different kind of object under each prefix of the route.
PK_BY_PREFIX = {
    "api/v1/needs/notifications/": _notice_in,
    "needs/notices/": _notice_in,
    "api/v1/needs/": lambda tree, alice: _need_in(tree, alice).pk,
    "needs/": lambda tree, alice: _need_in(tree, alice).pk,
    "care/recipients/": lambda tree, alice: _recipient_in(tree, alice).pk,
    "care/visits/": _visit_in,
    "api/v1/volunteer-teams/": lambda tree, alice: _team_in(tree, alice).pk,
    "volunteers/teams/": lambda tree, alice: _team_in(tree, alice).pk,
    "api/v1/services/": _service_in,
    "volunteers/services/": _service_in,
    "api/v1/people/": lambda tree, alice: _volunteer_in(tree, alice).pk,
    "api/v1/volunteers/": lambda tree, alice: _volunteer_in(tree, alice).pk,
    "volunteers/people/": lambda tree, alice: _volunteer_in(tree, alice).pk,
}


def _pk_for(tree, alice, route):
    for prefix, make in PK_BY_PREFIX.items():
        if route.route.startswith(prefix):
            return [make(tree, alice)]
    pytest.fail(f"{route.name}: teach tests/test_urls.py PK_BY_PREFIX what <pk> is here")


def _need_photo(tree, alice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from hongyan.needs import services as need_services
    from hongyan.needs.models import Channel, NeedCategory

    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
        b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe"
        b"\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    need = need_services.need_file(
        actor=None,
        channel=Channel.PUBLIC_WEB,
        category=NeedCategory.objects.get(city=None, code="public_facilities"),
        unit=tree.compound_a,
        text="楼道灯坏了，附照片",
        resident_name="李大妈",
        resident_mobile="13812345678",
        photos=[SimpleUploadedFile("a.png", png, content_type="image/png")],
    )
    return need


def _certificate_code(tree, alice):
    from hongyan.volunteers import services as volunteer_services
    from hongyan.volunteers.models import Certificate

    # made directly: issuing one through the service needs a year of approved hours
    volunteer = volunteer_services.volunteer_register(actor=alice, unit=tree.grid_a, name="王芳")
    return Certificate.objects.create(
        code="TESTCODE0001",
        volunteer=volunteer,
        unit=volunteer.unit,
        name=volunteer.name,
        hours=12,
        deeds=3,
        star=0,
    ).code


# Routes whose parameters must belong together (a photo of that need), by URL name.
ROUTE_FILLERS = {
    "needs:photo": lambda tree, alice: [
        {"pk": (need := _need_photo(tree, alice)).pk, "photo_id": need.photos.get().pk}
    ],
    "volunteers:certificate_pdf": lambda tree, alice: [{"code": _certificate_code(tree, alice)}],
}

FILLERS = {
    "code": lambda tree, alice, route: [tree.street_a.code, tree.compound_a.code],
    "org_id": lambda tree, alice, route: [tree.org_a.pk],
    "member_id": lambda tree, alice, route: [_member_in(tree, alice)],
    "export_id": lambda tree, alice, route: [_export_of(tree, alice)],
    "recipient_id": lambda tree, alice, route: [_recipient_in(tree, alice).pk],
    "visit_id": lambda tree, alice, route: [_visit_in(tree, alice)],
    "pk": _pk_for,
    # a step of the need's or the service's workflow, named in the URL
    # the city-wide routes' own keys (only the anonymous walk visits them)
    "year": lambda tree, alice, route: [2026],
    "day": lambda tree, alice, route: ["2026-10-10"],
    "category_code": lambda tree, alice, route: ["public_facilities"],
    "step": lambda tree, alice, route: ["accept" if route.route.startswith("needs/") else "signup"],
}
KNOWN_PARAMS = set(FILLERS)


def _api_methods() -> dict[str, list[str]]:
    schema = ninja_api.get_openapi_schema()
    return {
        path: sorted(m.upper() for m in ops if m in {"get", "post", "put", "patch", "delete"})
        for path, ops in schema["paths"].items()
    }


API_METHODS = _api_methods()


def methods_of(route: Route) -> list[str]:
    if route.is_api:
        return API_METHODS[route.openapi_path]
    return ["GET", "POST"]


def _example(schema: dict, components: dict):
    """A minimal valid value for a JSON schema (required fields only)."""
    if "$ref" in schema:
        return _example(components[schema["$ref"].split("/")[-1]], components)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _example(options[0], components)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        return {
            name: _example(schema["properties"][name], components)
            for name in schema.get("required", [])
        }
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if schema.get("format") == "date":
        return "2026-01-05"
    return "测试" * max(1, schema.get("minLength", 1))


def body_for(route: Route, method: str) -> dict:
    """A schema-valid body, so that an outsider's 404 is about scope, not validation."""
    schema = ninja_api.get_openapi_schema()
    operation = schema["paths"][route.openapi_path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return {}
    return _example(content["application/json"]["schema"], schema["components"]["schemas"])


def request(client: Client, route: Route, method: str, url: str):
    if method == "GET":
        return client.get(url)
    if route.is_api:
        import json

        return client.generic(
            method, url, json.dumps(body_for(route, method)), content_type="application/json"
        )
    return client.generic(method, url, "", content_type="application/x-www-form-urlencoded")


def urls_for(route: Route, tree, alice) -> list[str]:
    if route.name in ROUTE_FILLERS:
        return [route.url(**values) for values in ROUTE_FILLERS[route.name](tree, alice)]
    unknown = set(route.params) - KNOWN_PARAMS
    if unknown:
        pytest.fail(f"{route.name}: teach tests/test_urls.py FILLERS to fill {unknown}")
    urls = [{}]
    for param in route.params:
        urls = [{**u, param: v} for u in urls for v in FILLERS[param](tree, alice, route)]
    return [route.url(**u) for u in urls]


def test_every_route_is_known():
    """Each route is either walked with known parameters or excluded with a reason."""
    unknown = [
        f"{r.name} ({r.route}) takes {set(r.params) - KNOWN_PARAMS}"
        for r in WALKED
        if set(r.params) - KNOWN_PARAMS and r.name not in ROUTE_FILLERS
    ]
    assert not unknown, "teach tests/test_urls.py how to fill: " + "; ".join(unknown)
    unmatched_api = [r.name for r in WALKED if r.is_api and r.openapi_path not in API_METHODS]
    assert not unmatched_api, f"API routes missing from the OpenAPI document: {unmatched_api}"


def test_exclusions_are_still_real():
    names = {r.name for r in all_routes()}
    stale = set(EXCLUDED_NAMES) - names
    assert not stale, f"excluded routes that no longer exist: {stale}"
    operations = {
        (r.route, m)
        for r in all_routes()
        if r.is_api and r.openapi_path in API_METHODS
        for m in methods_of(r)
    }
    stale_public = set(PUBLIC_OPERATIONS) - operations
    assert not stale_public, f"public operations that no longer exist: {stale_public}"


def test_the_walk_covers_the_scoped_endpoints():
    # a floor, so that a broken walker (finding nothing) cannot pass silently
    assert len([r for r in PARAM_ROUTES if r.is_api]) >= 5
    assert len([r for r in PARAM_ROUTES if not r.is_api]) >= 4
    assert any(r.name == "api:unit_coverage" for r in PARAM_ROUTES)
    assert any(r.name == "orgs:unit" for r in PARAM_ROUTES)


@pytest.mark.parametrize("route", PARAM_ROUTES, ids=lambda r: r.name)
def test_outsider_gets_404(route, tree, alice, charlie, login):
    client = login(charlie)
    failures = []
    for url in urls_for(route, tree, alice):
        for method in methods_of(route):
            if (route.route, method) in PUBLIC_OPERATIONS:
                continue  # open to anyone by design; its own tests guard it
            response = request(client, route, method, url)
            if response.status_code == 405 and not route.is_api:
                continue  # a page refuses the method before it looks anything up
            if response.status_code != 404:
                failures.append(f"{method} {url} -> {response.status_code}")
            elif route.is_api:
                body = response.json()
                if body.get("code") != "not_found" or not body.get("message"):
                    failures.append(f"{method} {url} -> 404 without code/message: {body}")
    assert not failures, failures


@pytest.mark.parametrize("route", WALKED, ids=lambda r: r.name)
def test_anonymous_is_sent_to_login_or_gets_401(route, tree, alice):
    client = Client()
    login_url = resolve_url(settings.LOGIN_URL)
    failures = []
    for url in urls_for(route, tree, alice):
        for method in methods_of(route):
            if (route.route, method) in PUBLIC_OPERATIONS:
                continue
            response = request(client, route, method, url)
            if route.is_api:
                ok = response.status_code == 401 and response.json()["code"] == "unauthenticated"
            else:
                ok = response.status_code == 302 and response["Location"].startswith(
                    login_url + "?next="
                )
            if not ok:
                failures.append(f"{method} {url} -> {response.status_code}")
    assert not failures, failures


@pytest.mark.parametrize("route", PARAM_ROUTES, ids=lambda r: r.name)
def test_alice_reaches_what_charlie_cannot(route, tree, alice, login, stepped_up):
    """The control for the outsider test: alice reaches every route and method with at
    least one of the objects charlie was refused (a page may fit only some kinds of
    unit, e.g. assigning a cadre only a compound); none of them is ever a 500."""
    client = stepped_up(login(alice))  # a fresh TOTP, as revealing personal data needs
    failures = []
    urls = urls_for(route, tree, alice)
    allowed = 0
    for method in methods_of(route):
        answers = {}
        for url in urls:
            answers[url] = request(client, route, method, url).status_code
        if not route.is_api and set(answers.values()) == {405}:
            continue  # a page that takes only the other method
        allowed += 1
        if method == "GET":
            reached = any(status == 200 for status in answers.values())
        else:
            reached = any(status not in (401, 403, 404) for status in answers.values())
        if not reached or any(status >= 500 for status in answers.values()):
            failures.append(f"{method}: {answers}")
    assert allowed and not failures, failures
