"""Signing in (with lockout), signing out, the idle timeout and changing the password —
through the login page, the token endpoint and the services behind both."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from hongyan.core import services
from hongyan.core.errors import DomainError
from hongyan.core.models import ApiToken, AuditEntry, User

NEW_PASSWORD = "Qingcheng-2027!"


def login_page(client, username, password, **extra):
    return client.post("/login/", {"username": username, "password": password, **extra})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def audit_rows(action, **filters):
    return AuditEntry.objects.filter(action=action, **filters).order_by("seq")


def unlock(user):
    """Let the lock time pass."""
    User.objects.filter(pk=user.pk).update(locked_until=timezone.now() - timedelta(seconds=1))


# --- the login page ---------------------------------------------------------------------


def test_login_page_signs_in_and_audits(client, alice, password):
    assert client.get("/login/").status_code == 200
    response = login_page(client, "alice", password)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in(client)
    row = audit_rows("auth.login").last()
    assert (row.actor, row.result, row.ip) == (alice, "ok", "127.0.0.1")
    assert client.get("/").status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_answer(client, alice):
    wrong = login_page(client, "alice", "not-the-password").content.decode()
    unknown = login_page(client, "nobody-here", "not-the-password").content.decode()
    assert "用户名或密码不正确" in wrong
    assert "用户名或密码不正确" in unknown
    assert not signed_in(client)
    assert audit_rows("auth.login", result="failed", actor_name="nobody-here").exists()


def test_five_failures_on_the_login_page_lock_the_account(client, alice, password):
    attempts = settings.LOCKOUT_ATTEMPTS
    assert attempts == 5
    for n in range(1, attempts + 1):
        response = login_page(client, "alice", f"wrong-{n}")
        assert response.status_code == 200
        alice.refresh_from_db()
        assert alice.is_locked() == (n == attempts), n
    assert "锁定" in response.content.decode()
    minutes = (alice.locked_until - timezone.now()).total_seconds() / 60
    assert settings.LOCKOUT_MINUTES - 1 < minutes <= settings.LOCKOUT_MINUTES

    # locked: even the right password is refused
    response = login_page(client, "alice", password)
    assert not signed_in(client)
    assert "锁定" in response.content.decode()

    # audited: five failures, one lockout, one refusal while locked
    assert audit_rows("auth.login", actor=alice, result="failed").count() == attempts
    assert audit_rows("auth.lockout", actor=alice, result="locked").count() == 1
    assert audit_rows("auth.login", actor=alice, result="locked").count() == 1

    # after the lock time the right password works again
    unlock(alice)
    response = login_page(client, "alice", password)
    assert response.status_code == 302
    assert signed_in(client)


def test_a_success_resets_the_failure_count(client, alice, password):
    for _ in range(settings.LOCKOUT_ATTEMPTS - 1):
        login_page(Client(), "alice", "wrong")
    assert login_page(Client(), "alice", password).status_code == 302
    for _ in range(settings.LOCKOUT_ATTEMPTS - 1):
        login_page(Client(), "alice", "wrong")
    alice.refresh_from_db()
    assert not alice.is_locked()


def test_an_inactive_account_cannot_sign_in(client, alice, password):
    User.objects.filter(pk=alice.pk).update(is_active=False)
    response = login_page(client, "alice", password)
    assert not signed_in(client)
    assert "用户名或密码不正确" in response.content.decode()


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/units/", "/units/"),
        ("https://evil.example/steal", "/"),
        ("//evil.example/", "/"),
    ],
)
def test_login_follows_only_local_next_urls(client, alice, password, next_url, expected):
    response = login_page(client, "alice", password, next=next_url)
    assert response.status_code == 302
    assert response["Location"] == expected


def test_a_nul_in_the_username_is_refused(client, api, alice):
    # a form post: Django's form refuses the field; a urlencoded or JSON body: the middleware
    response = login_page(client, "ali\x00ce", "x")
    assert response.status_code == 200 and response.context["form"].errors
    assert not signed_in(client)
    raw = client.post(
        "/login/", "username=ali%00ce&password=x", content_type="application/x-www-form-urlencoded"
    )
    assert raw.status_code == 400
    token = api().post("/api/v1/auth/token", {"username": "ali\x00ce", "password": "x"})
    assert token.status_code == 400


def test_logout_is_post_only_and_audited(alice, login):
    client = login(alice)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert not signed_in(client)
    assert audit_rows("auth.logout", actor=alice).count() == 1
    assert client.get("/").status_code == 302


# --- the token endpoint -----------------------------------------------------------------


def token_call(username, password):
    return Client().post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
    )


def test_five_failures_on_the_token_endpoint_lock_the_account(alice, password):
    for n in range(1, settings.LOCKOUT_ATTEMPTS):
        response = token_call("alice", "wrong")
        assert response.status_code == 401, n
        assert response.json()["code"] == "invalid_credentials"
    response = token_call("alice", "wrong")
    assert response.status_code == 423
    assert response.json()["code"] == "account_locked"

    refused = token_call("alice", password)
    assert refused.status_code == 423
    body = refused.json()
    assert body["code"] == "account_locked"
    assert "分钟" in body["message"]
    assert audit_rows("auth.lockout", actor=alice).count() == 1

    unlock(alice)
    assert token_call("alice", password).status_code == 200


def test_the_login_page_and_the_api_share_one_counter(client, alice, password):
    for _ in range(3):
        login_page(client, "alice", "wrong")
    token_call("alice", "wrong")
    assert token_call("alice", "wrong").status_code == 423


# --- services ---------------------------------------------------------------------------


def test_login_check_raises_401_then_423(alice, password):
    with pytest.raises(DomainError) as exc:
        services.login_check(username="alice", password="wrong")
    assert exc.value.status == 401
    for _ in range(settings.LOCKOUT_ATTEMPTS - 1):
        with pytest.raises(DomainError):
            services.login_check(username="alice", password="wrong")
    with pytest.raises(DomainError) as exc:
        services.login_check(username="alice", password=password)
    assert (exc.value.status, exc.value.code) == (423, "account_locked")


def test_failures_are_kept_even_though_the_call_fails(alice):
    # the failure count and its audit row are committed before the error is raised
    with pytest.raises(DomainError):
        services.login_check(username="alice", password="wrong")
    alice.refresh_from_db()
    assert alice.failed_logins == 1
    assert audit_rows("auth.login", actor=alice, result="failed").count() == 1


def test_grant_add_is_audited_once(alice, bob, tree):
    services.grant_add(actor=alice, user=bob, role="grid_worker", unit=tree.grid_a)
    services.grant_add(actor=alice, user=bob, role="grid_worker", unit=tree.grid_a)
    rows = audit_rows("grant.add", actor=alice)
    assert rows.count() == 1
    assert rows.get().detail == {"role": "grid_worker"}
    assert rows.get().unit_code == tree.grid_a.code


# --- idle timeout -----------------------------------------------------------------------


def test_sessions_expire_after_30_idle_minutes():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_an_expired_session_is_sent_to_login(alice, login):
    client = login(alice)
    assert client.get("/").status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert client.get("/api/v1/me").status_code == 401


def test_each_request_renews_the_idle_timeout(alice, login):
    client = login(alice)
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + timedelta(minutes=2)
    )
    assert client.get("/").status_code == 200
    remaining = Session.objects.get(session_key=key).expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)


# --- changing the password ----------------------------------------------------------------


def change(client, old, new, again=None):
    return client.post(
        "/password/",
        {"old_password": old, "new_password": new, "new_password2": again or new},
    )


def test_password_change_page(alice, login):
    assert login(alice).get("/password/").status_code == 200
    assert Client().get("/password/").status_code == 302


def test_changing_the_password_revokes_tokens_and_other_sessions(alice, login, api, password):
    client = login(alice)
    elsewhere = login(alice)
    old_token = api(alice)
    assert old_token.get("/api/v1/me").status_code == 200

    response = change(client, password, NEW_PASSWORD)
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert alice.password_changed_at is not None
    assert not ApiToken.objects.filter(user=alice).exists()
    assert old_token.get("/api/v1/me").status_code == 401
    assert client.get("/").status_code == 200  # this session carries on
    assert elsewhere.get("/").status_code == 302  # the others end
    assert audit_rows("auth.password_change", actor=alice).count() == 1
    assert token_call("alice", NEW_PASSWORD).status_code == 200
    assert token_call("alice", password).status_code == 401


@pytest.mark.parametrize(
    ("old", "new", "again", "message"),
    [
        ("wrong-old", NEW_PASSWORD, None, "原密码不正确"),
        (None, "Short1!", None, "至少需要 10 个字符"),
        (None, "alllowercaseletters", None, "至少 3 类"),
        (None, NEW_PASSWORD, NEW_PASSWORD + "x", "两次输入的新密码不一致"),
    ],
)
def test_a_refused_password_change_says_why(alice, login, password, old, new, again, message):
    client = login(alice)
    response = change(client, old or password, new, again)
    assert response.status_code == 200
    assert message in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(password)
    assert not audit_rows("auth.password_change").exists()
