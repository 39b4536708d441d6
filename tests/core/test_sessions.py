"""Sessions and passwords: a new session key at sign-in, a 12-hour absolute limit, password
expiry and the forced change of an issued password, idle accounts disabled by the
worker, and every session and token ending when the account is disabled, its grants
change or its password changes."""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from hongyan.core import accounts, services, worker
from hongyan.core.models import ApiToken, AuditEntry, User
from hongyan.core.roles import Role

NEW_PASSWORD = "Qingcheng-2027!"


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_session_key_changes_at_sign_in(client, alice, password):
    client.get("/login/")
    client.cookies["sessionid"] = "attacker-chosen-key"
    before = client.session.session_key
    assert client.post("/login/", {"username": "alice", "password": password}).status_code == 302
    assert client.session.session_key != before
    assert client.cookies["sessionid"].value not in ("attacker-chosen-key", before)


def test_a_session_ends_12_hours_after_sign_in(settings, client, alice, password):
    assert settings.SESSION_ABSOLUTE_HOURS == 12
    client.post("/login/", {"username": "alice", "password": password})
    assert client.get("/").status_code == 200
    session = client.session
    session[accounts.LOGIN_AT] = int(time.time()) - 12 * 3600 + 60
    session.save()
    assert client.get("/").status_code == 200  # busy all day: still inside the limit
    session = client.session
    session[accounts.LOGIN_AT] = int(time.time()) - 12 * 3600 - 1
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert not signed_in(client)
    assert client.get("/api/v1/me").status_code == 401


def test_an_expired_password_must_be_changed_first(settings, login, alice, password):
    assert settings.PASSWORD_MAX_AGE_DAYS == 90
    User.objects.filter(pk=alice.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    client = login(alice)
    response = client.get("/units/")
    assert response.status_code == 302 and response["Location"] == "/password/"
    assert "超过 90 天" in client.get("/password/").content.decode()
    api = client.get("/api/v1/me")
    assert api.status_code == 403 and api.json()["code"] == "password_change_required"
    token = Client().post(
        "/api/v1/auth/token",
        {"username": "alice", "password": password},
        content_type="application/json",
    )
    assert token.status_code == 403 and token.json()["code"] == "password_change_required"
    client.post(
        "/password/",
        {"old_password": password, "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert client.get("/units/").status_code == 200


def test_expiry_can_be_turned_off(settings, login, alice):
    settings.PASSWORD_MAX_AGE_DAYS = 0
    User.objects.filter(pk=alice.pk).update(
        password_changed_at=timezone.now() - timedelta(days=900)
    )
    assert login(alice).get("/").status_code == 200


def test_the_new_password_must_differ(login, alice, password):
    response = login(alice).post(
        "/password/",
        {"old_password": password, "new_password": password, "new_password2": password},
    )
    assert "不能与原密码相同" in response.content.decode()


def test_disabling_an_account_ends_its_sessions_and_tokens(login, api, alice, bob):
    browser, token = login(bob), api(bob)
    assert browser.get("/").status_code == 200 and token.get("/api/v1/me").status_code == 200
    services.account_set_active(actor=alice, user=bob, active=False)
    assert browser.get("/").status_code == 302
    assert token.get("/api/v1/me").status_code == 401
    assert not ApiToken.objects.filter(user=bob).exists()


def test_a_grant_change_ends_sessions_and_tokens(login, api, alice, bob, tree):
    browser, token = login(bob), api(bob)
    grant = services.grant_add(actor=alice, user=bob, role=Role.GRID_WORKER, unit=tree.grid_a)
    assert browser.get("/").status_code == 302  # moved: sign in again
    assert token.get("/api/v1/me").status_code == 401
    browser, token = login(bob), api(bob)
    services.grant_remove(actor=alice, grant=grant)
    assert browser.get("/").status_code == 302
    assert token.get("/api/v1/me").status_code == 401
    assert AuditEntry.objects.filter(action="grant.remove", actor=alice).count() == 1


def test_a_password_change_ends_the_other_sessions(login, alice, password):
    here, elsewhere = login(alice), login(alice)
    here.post(
        "/password/",
        {"old_password": password, "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302


# --- idle accounts ------------------------------------------------------------------------


def test_idle_accounts_are_disabled_once(alice, bob, charlie):
    now = timezone.now()
    User.objects.filter(pk=alice.pk).update(last_login=now - timedelta(days=91))
    User.objects.filter(pk=bob.pk).update(last_login=now - timedelta(days=89))
    User.objects.filter(pk=charlie.pk).update(last_login=None, date_joined=now - timedelta(days=95))
    sweep = next(s for s in worker.SWEEPS if s.name == "idle_accounts")
    assert sweep.run() == 2
    assert sweep.run() == 0  # idempotent
    states = dict(
        User.objects.filter(pk__in=[alice.pk, bob.pk, charlie.pk]).values_list(
            "username", "is_active"
        )
    )
    assert states == {"alice": False, "bob": True, "charlie": False}
    rows = AuditEntry.objects.filter(action="account.disable", result="ok")
    assert rows.count() == 2 and rows.first().detail == {"reason": "idle", "days": 90}


def test_the_idle_sweep_can_be_turned_off(settings, alice):
    settings.ACCOUNT_IDLE_DAYS = 0
    User.objects.filter(pk=alice.pk).update(last_login=timezone.now() - timedelta(days=400))
    assert services.disable_idle_accounts() == 0


@pytest.mark.parametrize("value", ["-1", "ninety"])
def test_bad_policy_settings_stop_start_up(monkeypatch, value):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import hongyan.settings as settings_module

    monkeypatch.setenv("HONGYAN_PASSWORD_MAX_AGE_DAYS", value)
    with pytest.raises(ImproperlyConfigured, match="HONGYAN_PASSWORD_MAX_AGE_DAYS"):
        importlib.reload(settings_module)
    monkeypatch.delenv("HONGYAN_PASSWORD_MAX_AGE_DAYS")
    importlib.reload(settings_module)
