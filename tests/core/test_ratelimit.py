"""Rate limits: counted in the database, so two clients (two processes in production)
share one count; 429 with Retry-After past the limit; a new window starts afresh."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from hongyan.core.models import RateCounter

from ..conftest import ApiClient


@pytest.fixture
def limits(settings):
    """limits(name="N/S", ...) -> override the named rules for one test."""

    def set_(**rules):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **rules}

    return set_


def end_windows():
    """Move time past every open window (as if a minute had gone by)."""
    RateCounter.objects.update(expires_at=timezone.now() - timedelta(seconds=1))


def login_post(client, username="alice", password="wrong-password"):
    return client.post("/login/", {"username": username, "password": password})


def test_normal_logins_are_not_limited(alice, password):
    client = Client()
    for _ in range(5):
        response = login_post(client, password=password)
        assert response.status_code == 302
        client.post("/logout/")


def test_a_script_taking_a_token_per_job_is_not_limited(alice, password):
    client = ApiClient()
    for _ in range(30):
        response = client.post("/api/v1/auth/token", {"username": "alice", "password": password})
        assert response.status_code == 200


def test_login_brute_force_from_two_clients_is_stopped(db, limits):
    limits(login_user_ip="3/60")
    first, second = Client(), Client()
    assert login_post(first).status_code == 200
    assert login_post(second).status_code == 200
    assert login_post(first).status_code == 200
    response = login_post(second)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "操作过于频繁" in response.content.decode()
    # another username from the same address has its own count
    assert login_post(first, username="bob").status_code == 200


def test_login_flood_from_one_address_is_stopped_whatever_the_username(db, limits):
    limits(login_ip="4/60")
    client = Client()
    for n in range(4):
        assert login_post(client, username=f"user{n}").status_code == 200
    assert login_post(Client(), username="someone").status_code == 429


def test_the_login_page_itself_is_not_counted(db, limits):
    limits(login_ip="1/60")
    for _ in range(3):
        assert Client().get("/login/").status_code == 200


def test_token_limit_answers_json_429_with_retry_after(alice, password, limits):
    limits(token_user_ip="2/60")
    body = {"username": "alice", "password": password}
    assert ApiClient().post("/api/v1/auth/token", body).status_code == 200
    assert ApiClient().post("/api/v1/auth/token", body).status_code == 200
    response = ApiClient().post("/api/v1/auth/token", body)
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert "频繁" in response.json()["message"]
    assert 0 < int(response["Retry-After"]) <= 60


def test_token_flood_per_address(db, limits):
    limits(token_ip="3/60")
    for n in range(3):
        body = {"username": f"user{n}", "password": "x"}
        assert ApiClient().post("/api/v1/auth/token", body).status_code == 401
    response = ApiClient().post("/api/v1/auth/token", {"username": "other", "password": "x"})
    assert response.status_code == 429


def test_the_limit_lifts_when_the_window_ends(db, limits):
    limits(login_user_ip="2/60")
    client = Client()
    login_post(client), login_post(client)
    assert login_post(client).status_code == 429
    end_windows()
    assert login_post(Client()).status_code == 200
    assert login_post(Client()).status_code == 200
    assert login_post(Client()).status_code == 429


def test_a_limit_can_be_turned_off(db, limits):
    limits(login_user_ip="", login_ip="")
    for _ in range(15):
        assert login_post(Client()).status_code == 200


def test_member_reveal_api_is_limited_per_user(bob, api, limits):
    limits(reveal_user="2/60")
    body = {"field": "mobile", "reason": "核对"}
    first, second = api(bob), api(bob)
    assert first.post("/api/v1/members/999999/reveal", body).status_code == 404
    assert second.post("/api/v1/members/999999/reveal", body).status_code == 404
    response = first.post("/api/v1/members/999999/reveal", body)
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert "Retry-After" in response


def test_member_reveal_page_is_limited_per_user(bob, login, limits):
    limits(reveal_user="1/60")
    data = {"field": "mobile", "reason": "核对"}
    assert login(bob).post("/members/999999/reveal/", data).status_code == 404
    response = login(bob).post("/members/999999/reveal/", data)
    assert response.status_code == 429
    assert "Retry-After" in response
    # looking at the page (GET) is not counted
    assert login(bob).get("/members/999999/reveal/").status_code == 404


def test_member_search_is_limited_but_plain_listing_is_not(bob, api, limits):
    limits(search_user="2/60")
    client = api(bob)
    assert client.get("/api/v1/members", {"q": "王"}).status_code == 200
    assert client.get("/api/v1/members", {"q": "李"}).status_code == 200
    response = api(bob).get("/api/v1/members", {"q": "张"})
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    for _ in range(3):
        assert client.get("/api/v1/members").status_code == 200


def test_exports_are_limited_per_user(bob, login, limits):
    limits(export_user="1/600")
    assert login(bob).get("/members/export.xlsx").status_code == 200
    response = login(bob).get("/members/export.xlsx")
    assert response.status_code == 429
    assert 500 < int(response["Retry-After"]) <= 600


def test_clients_behind_one_trusted_proxy_have_their_own_budgets(db, limits, settings):
    from ipaddress import ip_network

    settings.TRUSTED_PROXIES = (ip_network("10.0.0.0/24"),)
    limits(login_ip="3/60")

    def behind_proxy(client_ip):
        return Client(REMOTE_ADDR="10.0.0.2", headers={"X-Forwarded-For": client_ip})

    abuser, neighbour = behind_proxy("203.0.113.5"), behind_proxy("198.51.100.7")
    for n in range(3):
        assert login_post(abuser, username=f"user{n}").status_code == 200
    assert login_post(abuser, username="another").status_code == 429
    assert login_post(neighbour).status_code == 200
    # a forged header from outside the trusted network does not buy a fresh budget
    forger = Client(REMOTE_ADDR="203.0.113.5", headers={"X-Forwarded-For": "192.0.2.1"})
    assert login_post(forger, username="someone").status_code == 429


def test_without_trusted_proxies_everyone_behind_the_proxy_shares_one_budget(db, limits):
    limits(login_ip="3/60")
    for n in range(3):
        client = Client(REMOTE_ADDR="10.0.0.2", headers={"X-Forwarded-For": f"203.0.113.{n}"})
        assert login_post(client, username=f"user{n}").status_code == 200
    other = Client(REMOTE_ADDR="10.0.0.2", headers={"X-Forwarded-For": "198.51.100.7"})
    assert login_post(other).status_code == 429
