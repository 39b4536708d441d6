"""三员分立: the system administrator keeps accounts, the security administrator roles and
grants, the audit administrator reads the log; no account holds two of these roles;
no superuser outside development; resetting a second factor takes two administrators."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from hongyan.core import factors, services, stepup
from hongyan.core.errors import DomainError
from hongyan.core.models import AuditEntry, FactorReset, Grant, User
from hongyan.core.roles import Role

CITY = "1509"


def admin_client(user):
    """A client signed in as an administrator who passed the TOTP at sign-in."""
    from hongyan.core.accounts import SECOND_FACTOR

    client = Client()
    client.force_login(user)
    session = client.session
    session[SECOND_FACTOR] = True
    session.save()
    return client


@pytest.fixture
def sysadmin(make_user):
    return make_user(Role.SYSTEM_ADMIN, CITY, username="sysadmin")


@pytest.fixture
def secadmin(make_user):
    return make_user(Role.SECURITY_ADMIN, CITY, username="secadmin")


@pytest.fixture
def auditor(make_user):
    return make_user(Role.AUDIT_ADMIN, CITY, username="auditor")


# --- separation of duties ---------------------------------------------------------------------


@pytest.mark.parametrize("second", [Role.SECURITY_ADMIN, Role.AUDIT_ADMIN, Role.CITY_ADMIN])
def test_a_system_admin_holds_no_second_role(sysadmin, secadmin, second):
    from hongyan.orgs.models import Unit

    with pytest.raises(DomainError) as exc:
        services.grant_add(
            actor=secadmin, user=sysadmin, role=second, unit=Unit.objects.get(code=CITY)
        )
    assert exc.value.code == "separation_of_duties" and exc.value.status == 409
    assert set(sysadmin.grants.values_list("role", flat=True)) == {Role.SYSTEM_ADMIN}


def test_a_business_account_cannot_become_an_administrator(secadmin, bob, tree):
    with pytest.raises(DomainError) as exc:
        services.grant_add(actor=secadmin, user=bob, role=Role.AUDIT_ADMIN, unit=tree.district)
    assert exc.value.code == "separation_of_duties"
    # business roles still combine as before
    services.grant_add(actor=secadmin, user=bob, role=Role.GRID_WORKER, unit=tree.grid_a)


def test_administrators_see_no_personal_data_and_system_admin_no_audit_log(
    sysadmin, secadmin, auditor
):
    for user in (sysadmin, secadmin, auditor):
        client = admin_client(user)
        assert client.get("/members/").status_code in (403, 404)
    assert admin_client(sysadmin).get("/audit/").status_code == 403
    assert admin_client(secadmin).get("/audit/").status_code == 403
    assert admin_client(auditor).get("/audit/").status_code == 200
    assert admin_client(auditor).get("/accounts/").status_code == 403


def test_createsuperuser_is_refused_outside_debug(settings, db):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="HONGYAN_DEBUG"):
        call_command("createsuperuser", username="root", email="", interactive=False)
    assert not User.objects.filter(username="root").exists()


def test_createsuperuser_works_in_debug(settings, monkeypatch, db):
    settings.DEBUG = True
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Debug-Only-2026!")
    call_command("createsuperuser", username="root", email="", interactive=False, verbosity=0)
    assert User.objects.get(username="root").is_superuser


# --- the system administrator: accounts ----------------------------------------------------


def test_system_admin_creates_an_account_with_a_password_to_change(sysadmin):
    client = admin_client(sysadmin)
    assert client.get("/accounts/").status_code == 200
    response = client.post("/accounts/new/", {"username": "wangfang", "display_name": "王芳"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    issued = response.context["password"]
    assert issued in response.content.decode()
    user = User.objects.get(username="wangfang")
    assert user.must_change_password and user.check_password(issued)
    assert AuditEntry.objects.filter(action="account.create", actor=sysadmin).count() == 1
    # the first sign-in goes straight to the password page
    new = Client()
    new.post("/login/", {"username": "wangfang", "password": issued})
    assert new.get("/")["Location"] == "/password/"
    assert "初始密码" in new.get("/password/").content.decode()
    new.post(
        "/password/",
        {
            "old_password": issued,
            "new_password": "Qingcheng-2027!",
            "new_password2": "Qingcheng-2027!",
        },
    )
    assert new.get("/").status_code == 200


@pytest.mark.parametrize(
    ("username", "message"),
    [("", "必填"), ("bad name!", "只能由字母"), ("bob", "已被使用")],
)
def test_bad_usernames_are_refused_by_field(sysadmin, bob, username, message):
    response = admin_client(sysadmin).post("/accounts/new/", {"username": username})
    assert response.status_code == 200
    assert message in str(response.context["form"].errors["username"])


def test_only_the_system_admin_creates_and_disables(secadmin, alice, bob, sysadmin):
    assert admin_client(secadmin).post("/accounts/new/", {"username": "x1"}).status_code == 403
    assert Client().get("/accounts/")["Location"].startswith("/login/")
    client = Client()
    client.force_login(alice)
    assert client.get("/accounts/").status_code == 403
    url = "/accounts/detail/?username=bob"
    assert admin_client(secadmin).post(url, {"action": "disable"}).status_code == 403
    assert admin_client(sysadmin).post(url, {"action": "disable"}).status_code == 302
    bob.refresh_from_db()
    assert not bob.is_active
    assert admin_client(sysadmin).get("/accounts/detail/?username=nobody").status_code == 404


def test_reset_password_shows_it_once_and_forces_a_change(sysadmin, bob, api):
    token = api(bob)
    response = admin_client(sysadmin).post(
        "/accounts/detail/?username=bob", {"action": "reset_password"}
    )
    issued = response.context["password"]
    bob.refresh_from_db()
    assert bob.check_password(issued) and bob.must_change_password
    assert token.get("/api/v1/me").status_code == 401


# --- the security administrator: grants --------------------------------------------------------


def test_security_admin_grants_and_revokes(secadmin, bob, tree):
    client = admin_client(secadmin)
    url = "/accounts/detail/?username=bob"
    response = client.post(
        url, {"action": "grant_add", "role": "grid_worker", "unit": tree.grid_a.code}
    )
    assert response.status_code == 302
    grant = Grant.objects.get(user=bob, role="grid_worker")
    assert client.post(url, {"action": "grant_remove", "grant": grant.pk}).status_code == 302
    assert not Grant.objects.filter(pk=grant.pk).exists()
    bad = client.post(url, {"action": "grant_add", "role": "grid_worker", "unit": "999"})
    assert "没有这个单位代码" in bad.content.decode()
    two = client.post(url, {"action": "grant_add", "role": "audit_admin", "unit": "1509"})
    assert "三员分立" in two.content.decode()
    own = client.post(
        "/accounts/detail/?username=secadmin",
        {"action": "grant_add", "role": "grid_worker", "unit": tree.grid_a.code},
    )
    assert "不能修改自己的授权" in own.content.decode()


def test_system_admin_cannot_grant(sysadmin, bob, tree):
    response = admin_client(sysadmin).post(
        "/accounts/detail/?username=bob",
        {"action": "grant_add", "role": "grid_worker", "unit": tree.grid_a.code},
    )
    assert response.status_code == 403


# --- resetting a second factor takes two administrators ----------------------------------------


def test_a_factor_reset_needs_a_second_admin(sysadmin, secadmin, bob):
    factors.totp_create_confirmed(bob)
    url = "/accounts/detail/?username=bob"
    requester, approver = admin_client(sysadmin), admin_client(secadmin)
    assert (
        requester.post(url, {"action": "factor_request", "reason": "手机丢失"}).status_code == 302
    )
    reset = FactorReset.objects.get(user=bob)
    # the one who asked cannot approve
    own = requester.post(url, {"action": "factor_approve", "reset": reset.pk})
    assert "另一位管理员" in own.content.decode()
    assert factors.has_factor(bob)
    assert approver.post(url, {"action": "factor_approve", "reset": reset.pk}).status_code == 302
    assert not factors.has_factor(bob)
    reset.refresh_from_db()
    assert (reset.status, reset.decided_by) == ("approved", secadmin)
    actions = list(
        AuditEntry.objects.filter(action__startswith="factor_reset").values_list(
            "action", flat=True
        )
    )
    assert actions == ["factor_reset.request", "factor_reset.approve"]


def test_factor_reset_bad_input(sysadmin, secadmin, bob, alice):
    url = "/accounts/detail/?username=bob"
    client = admin_client(sysadmin)
    none = client.post(url, {"action": "factor_request", "reason": "手机丢失"})
    assert "还没有绑定" in none.content.decode()
    factors.totp_create_confirmed(bob)
    short = client.post(url, {"action": "factor_request", "reason": "丢"})
    assert "至少 4 个字" in short.content.decode()
    assert client.post(url, {"action": "factor_reject", "reset": 999999}).status_code == 404
    assert client.post(url, {"action": "explode"}).status_code == 200
    with pytest.raises(Exception):  # noqa: B017 — PermissionDenied: a street admin
        services.factor_reset_request(actor=alice, user=bob, reason="手机丢失")


def test_admin_pages_render_at_every_step(sysadmin, bob):
    factors.totp_create_confirmed(bob)
    client = admin_client(sysadmin)
    html = client.get("/accounts/?q=bo").content.decode()
    assert "bob" in html and "已绑定" in html
    assert "重置动态口令" in client.get("/accounts/detail/?username=bob").content.decode()
    assert stepup.SESSION_KEY not in client.session


# --- the audit administrator exports the log ---------------------------------------------------


def test_audit_admin_exports_the_log_as_csv(auditor, sysadmin, alice, bob):
    services.account_set_active(actor=sysadmin, user=bob, active=False)
    client = admin_client(auditor)
    assert "导出 CSV" in client.get("/audit/").content.decode()
    response = client.get("/audit/export.csv?action=account.")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("seq,at,actor")
    assert len(lines) == 2 and "account.disable" in lines[1] and "sysadmin" in lines[1]
    row = AuditEntry.objects.filter(action="audit.export").get()
    assert row.actor == auditor and row.detail == {"action": "account."}
    # nobody else exports, not even the city admin who may read it
    city = User.objects.get(pk=alice.pk)
    for user in (sysadmin, city):
        other = admin_client(user)
        assert other.get("/audit/export.csv").status_code == 403


# --- the demo ------------------------------------------------------------------------------------


def test_the_demo_makes_the_three_administrators_with_authenticators(db):
    from base64 import b32decode

    from django_otp.oath import totp

    from hongyan.demo.city import load_demo_city

    summary = load_demo_city(password="Demo-Accounts-2026", seed=1509, progress=lambda _m: None)
    roles = {name: role for name, role, _unit in summary["accounts"]}
    assert roles["system_admin"] == "系统管理员"
    assert roles["security_admin"] == "安全管理员"
    assert roles["audit_admin"] == "审计管理员"
    secrets = dict(summary["totp"])
    assert set(secrets) == {
        "system_admin",
        "security_admin",
        "audit_admin",
        "city_admin",
        "jining_admin",
        "street_admin",
        "community_worker",
        "fengzhen_admin",
    }
    assert not User.objects.filter(username__in=roles, must_change_password=True).exists()

    def token(**body):
        return Client().post("/api/v1/auth/token", body, content_type="application/json")

    # scripts keep taking tokens with the password alone
    assert token(username="community_worker", password="Demo-Accounts-2026").status_code == 200
    assert token(username="system_admin", password="Demo-Accounts-2026").status_code == 401
    code = f"{totp(b32decode(secrets['audit_admin'])):06d}"
    ok = token(username="audit_admin", password="Demo-Accounts-2026", totp=code)
    assert ok.status_code == 200


def test_an_administrator_sees_only_accounts_in_their_subtree(make_user, bob, charlie):
    fengzhen_sysadmin = make_user(Role.SYSTEM_ADMIN, "150981", username="fz_sysadmin")
    client = admin_client(fengzhen_sysadmin)
    listing = client.get("/accounts/").content.decode()
    assert "fz_sysadmin" in listing and "bob" not in listing and "charlie" not in listing
    assert client.get("/accounts/detail/?username=bob").status_code == 404
    assert client.post("/accounts/detail/?username=bob", {"action": "disable"}).status_code == 404
    bob.refresh_from_db()
    assert bob.is_active


def test_administrators_land_on_their_tools(sysadmin, auditor):
    html = admin_client(sysadmin).get("/").content.decode()
    assert 'href="/accounts/"' in html and "个下级单位" not in html
    html = admin_client(auditor).get("/").content.decode()
    assert 'href="/audit/"' in html and 'href="/accounts/"' not in html


def test_the_audit_csv_does_not_let_a_typed_username_become_a_formula(auditor, db):
    """A failed sign-in records whatever was typed as the username; in the CSV it stays text."""
    typed = '=HYPERLINK("http://evil.example","点我")'
    with pytest.raises(DomainError):
        services.login_check(username=typed, password="wrong")
    response = admin_client(auditor).get("/audit/export.csv?action=auth.")
    text = response.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert not any(cell.startswith("=") for line in text.splitlines() for cell in line.split(","))
