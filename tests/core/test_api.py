"""The API frame: tokens, authentication, the error format, unescaped Chinese, OpenAPI
and the docs page."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from hongyan.core.models import ApiToken, AuditEntry, User

from ..test_urls import all_routes


def token_call(body, raw=None):
    import json

    return Client().post(
        "/api/v1/auth/token",
        raw if raw is not None else json.dumps(body),
        content_type="application/json",
    )


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_a_token_for_the_right_password(alice, password):
    response = token_call({"username": "alice", "password": password})
    assert response.status_code == 200
    token = response.json()["token"]
    assert set(response.json()) == {"token"}
    assert len(token) >= 32
    # only the hash is kept
    stored = ApiToken.objects.get(user=alice)
    assert stored.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.key_hash
    assert stored.expires_at > timezone.now() + timedelta(days=29)
    me = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/me")
    assert me.json()["username"] == "alice"
    assert AuditEntry.objects.filter(action="auth.token", actor=alice).count() == 1


def test_a_wrong_password_is_401_with_code_and_message(alice):
    body = assert_error(
        token_call({"username": "alice", "password": "nope"}), 401, "invalid_credentials"
    )
    assert "用户名或密码不正确" in body["message"]
    assert not ApiToken.objects.exists()


def test_an_unknown_user_gets_the_same_401(db):
    assert_error(token_call({"username": "ghost", "password": "nope"}), 401, "invalid_credentials")


def test_a_malformed_token_request_is_400(db):
    assert_error(token_call(None, raw="{username: alice"), 400, "bad_request")


def test_a_token_request_without_a_password_is_422_naming_it(db):
    body = assert_error(token_call({"username": "alice"}), 422, "invalid")
    assert body["field"] == "password"
    body = assert_error(token_call({"username": ["alice"], "password": "x"}), 422, "invalid")
    assert body["field"] == "username"


def test_bearer_and_session_both_authenticate(alice, api, login):
    by_token = api(alice).get("/api/v1/me")
    by_session = login(alice).get("/api/v1/me")
    assert by_token.status_code == by_session.status_code == 200
    assert by_token.json() == by_session.json()
    body = by_token.json()
    assert body["username"] == "alice"
    assert body["grants"] == [
        {"role": "street_admin", "unit_code": "150902001", "unit_name": "新体路街道"}
    ]


def test_anonymous_and_bad_tokens_get_401_json(alice):
    for headers in (
        {},
        {"Authorization": "Bearer hy_not-a-token"},
        {"Authorization": "Basic YWxpY2U6eA=="},
    ):
        response = Client(headers=headers).get("/api/v1/me")
        assert response["Content-Type"].startswith("application/json")
        assert_error(response, 401, "unauthenticated")


def test_an_expired_token_is_refused(alice, api):
    client = api(alice)
    ApiToken.objects.filter(user=alice).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(client.get("/api/v1/me"), 401, "unauthenticated")


def test_a_deactivated_users_token_is_refused(alice, api):
    client = api(alice)
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert_error(client.get("/api/v1/me"), 401, "unauthenticated")


def test_token_use_is_noted(alice, api):
    client = api(alice)
    assert ApiToken.objects.get(user=alice).last_used_at is None
    client.get("/api/v1/me")
    assert ApiToken.objects.get(user=alice).last_used_at is not None


def test_chinese_is_not_escaped(alice, api, tree):
    response = api(alice).get("/api/v1/me")
    raw = response.content
    assert "艾丽斯".encode() in raw
    assert b"\\u" not in raw
    error = api(alice).get("/api/v1/units/000000")
    assert "没有找到".encode() in error.content
    assert b"\\u" not in error.content
    unit = api(alice).get(f"/api/v1/units/{tree.compound_a.code}")
    assert "御景华府".encode() in unit.content


def test_the_openapi_document_lists_every_operation(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    paths = set(doc["paths"])
    # every ninja route in the URL resolver, except the document, the docs and the root
    resolver_paths = {
        "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.route)
        for r in all_routes()
        if r.is_api and r.name not in {"api:openapi-json", "api:openapi-view", "api:api-root"}
    }
    assert resolver_paths == paths
    # and the ones DESIGN.md promises
    assert {
        "/api/v1/auth/token",
        "/api/v1/units/{code}",
        "/api/v1/units/{code}/children",
        "/api/v1/units/{code}/coverage",
    } <= paths
    assert "post" in doc["paths"]["/api/v1/auth/token"]
    assert doc["components"]["securitySchemes"]


def test_the_docs_page_uses_no_cdn(db):
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html.lower()
    assert "http://" not in html and "https://" not in html
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references
    for ref in references:
        assert ref.startswith("/") and not ref.startswith("//"), ref
        if ref.startswith("/static/"):
            assert finders.find(ref.removeprefix("/static/")), f"{ref} is not a local static file"


def test_pages_and_the_api_carry_a_strict_content_security_policy(client):
    for url in ("/login/", "/api/v1/docs"):
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'", url
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
        assert directives["frame-ancestors"] == "'none'"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/members", "/api/v1/needs", "/api/v1/care-recipients", "/api/v1/volunteer-teams"],
)
@pytest.mark.parametrize("field, value", [("offset", 10**25), ("limit", 10**25), ("limit", 0)])
def test_every_list_bounds_its_paging_with_a_422_naming_the_field(
    api, alice, tree, path, field, value
):
    response = api(alice).get(path, {"unit": tree.street_a.code, field: value})
    assert response.status_code == 422, response.content
    assert field in response.json()["message"]


def test_a_list_pages_within_its_bounds(api, alice, tree):
    response = api(alice).get("/api/v1/units", {"limit": 500, "offset": 10_000_000})
    assert response.status_code == 200
    assert response.json()["items"] == []
