"""The audit log: a row for every write and security event, chained by HMAC-SM3 so that
an edited or deleted row is found and named."""

import io
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from hongyan.core import audit, services
from hongyan.core.audit import GENESIS, verify_chain
from hongyan.core.models import AuditEntry, AuditHead
from hongyan.core.roles import Role
from hongyan.orgs import services as org_services
from hongyan.orgs.models import OrgKind, Unit, UnitKind


def seqs():
    return list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))


@pytest.fixture
def chain(db):
    """Five rows, nothing else."""
    for n in range(1, 6):
        audit.record("test.event", actor_name="tester", detail={"n": n, "名": "值"})
    assert seqs() == [1, 2, 3, 4, 5]


def named(problems) -> dict[int, str]:
    return {p.seq: p.problem for p in problems}


GUARDED = connection.vendor == "postgresql"
needs_postgresql = pytest.mark.skipif(not GUARDED, reason="the guard trigger is PostgreSQL's")


def tampered():
    """The audit rows as an attacker with the table owner's rights sees them: on PostgreSQL
    the append-only trigger is switched off first (inside the test's transaction, so it is
    back on afterwards)."""
    if GUARDED:
        with connection.cursor() as cursor:
            # the rows' deferred foreign-key checks must run before the table can be altered
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "ALTER TABLE core_auditentry DISABLE TRIGGER core_auditentry_append_only"
            )
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return AuditEntry.objects


def guard_back():
    if GUARDED:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE core_auditentry ENABLE TRIGGER core_auditentry_append_only")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_every_write_through_the_services_leaves_a_row(alice, bob, tree, api, login, password):
    before = AuditEntry.objects.count()
    unit = org_services.unit_create_child(
        actor=alice, parent=tree.community_a, kind=UnitKind.COMPOUND, name="审计小区"
    )
    org_services.unit_rename(actor=alice, unit=unit, name="审计小区二期")
    org_services.party_org_create(actor=alice, unit=unit, kind=OrgKind.BRANCH, name="审计党支部")
    org_services.cadre_assign(actor=alice, compound=unit, cadre_name="李四")
    services.grant_add(actor=alice, user=bob, role="grid_worker", unit=tree.grid_a)
    client = api()
    token = client.post("/api/v1/auth/token", {"username": "alice", "password": password})
    assert token.status_code == 200
    browser = login(alice)
    browser.post("/logout/")
    browser.post("/login/", {"username": "alice", "password": password})
    browser.post(
        "/password/",
        {
            "old_password": password,
            "new_password": "Qingcheng-2027!",
            "new_password2": "Qingcheng-2027!",
        },
    )
    actions = list(
        AuditEntry.objects.filter(seq__gt=before).order_by("seq").values_list("action", flat=True)
    )
    assert actions == [
        "unit.create",
        "unit.rename",
        "org.create",
        "cadre.assign",
        "grant.add",
        "auth.login",  # the token endpoint checks the password first
        "auth.token",
        "auth.logout",
        "auth.login",
        "auth.password_change",
    ]
    assert set(AuditEntry.objects.filter(seq__gt=before).values_list("actor", flat=True)) == {
        alice.pk
    }


def test_a_row_records_who_what_where_and_from_which_address(alice, tree, api, password):
    response = api(alice).post(
        f"/api/v1/units/{tree.community_a.code}/children", {"kind": "compound", "name": "地址小区"}
    )
    row = AuditEntry.objects.order_by("seq").last()
    assert row.action == "unit.create"
    assert (row.actor, row.actor_name) == (alice, "alice")
    assert row.unit_code == response.json()["code"]
    assert row.object_type == "orgs.Unit"
    assert row.ip == "127.0.0.1"
    assert row.result == "ok"
    assert row.at is not None


def test_rows_are_chained(chain):
    rows = list(AuditEntry.objects.order_by("seq"))
    assert rows[0].prev_hash == GENESIS
    for previous, row in zip(rows, rows[1:], strict=False):
        assert row.prev_hash == previous.hash
    head = AuditHead.objects.get()
    assert (head.last_seq, head.last_hash) == (rows[-1].seq, rows[-1].hash)
    assert len({r.hash for r in rows}) == len(rows)


def test_a_clean_chain_verifies(chain):
    assert verify_chain() == (5, [])


def test_a_clean_chain_verifies_across_batches(chain):
    assert verify_chain(batch=2) == (5, [])


def test_an_empty_log_verifies(db):
    assert verify_chain() == (0, [])


@pytest.mark.parametrize(
    "change",
    [
        {"result": "failed"},
        {"actor_name": "someone-else"},
        {"detail": {"n": 3, "名": "改"}},
        {"unit_code": "150902"},
        {"ip": "10.0.0.1"},
    ],
)
def test_an_edited_row_is_named(chain, change):
    tampered().filter(seq=3).update(**change)
    checked, problems = verify_chain()
    assert checked == 5
    assert list(named(problems)) == [3]
    assert "altered" in named(problems)[3]


def test_an_edited_link_is_named(chain):
    tampered().filter(seq=4).update(prev_hash="f" * 64)
    assert 4 in named(verify_chain()[1])


def test_a_row_deleted_in_the_middle_is_named(chain):
    tampered().filter(seq=3).delete()
    checked, problems = verify_chain()
    assert checked == 4
    assert list(named(problems)) == [3]
    assert "deleted" in named(problems)[3]


def test_rows_deleted_at_the_end_are_named(chain):
    tampered().filter(seq__gte=4).delete()
    problems = named(verify_chain()[1])
    assert list(problems) == [4, 5]
    assert all("deleted" in p for p in problems.values())


def test_the_first_row_deleted_is_named(chain):
    tampered().filter(seq=1).delete()
    assert 1 in named(verify_chain()[1])


def test_appending_after_a_check_still_verifies(chain):
    verify_chain()
    audit.record("test.event", actor_name="tester")
    assert verify_chain() == (6, [])


def test_verify_audit_command_reports_an_intact_chain(chain):
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "5" in out.getvalue()
    assert "intact" in out.getvalue()


def test_verify_audit_command_fails_naming_the_row(chain):
    tampered().filter(seq=2).update(action="test.other")
    tampered().filter(seq=4).delete()
    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit", stderr=err)
    assert "2 problem" in str(exc.value)
    assert "row 2" in err.getvalue()
    assert "row 4" in err.getvalue()


# --- the append-only guard (PostgreSQL) ---------------------------------------------------


@needs_postgresql
@pytest.mark.parametrize(
    "change",
    [
        lambda: AuditEntry.objects.filter(seq=3).update(result="failed"),
        lambda: AuditEntry.objects.filter(seq=3).delete(),
        lambda: AuditEntry.objects.all().delete(),
    ],
)
def test_the_database_refuses_to_change_or_delete_audit_rows(chain, change):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        change()
    assert seqs() == [1, 2, 3, 4, 5]
    assert verify_chain() == (5, [])


def test_a_failed_audit_write_rolls_back_the_business_change(alice, tree):
    failing = mock.patch.object(audit, "record", side_effect=DatabaseError("audit table gone"))
    with failing, pytest.raises(DatabaseError):
        org_services.unit_create_child(
            actor=alice, parent=tree.community_a, kind=UnitKind.COMPOUND, name="无审计小区"
        )
    assert not Unit.objects.filter(name="无审计小区").exists()


# --- purging old rows ---------------------------------------------------------------------


def age(days_by_seq: dict[int, int]):
    """Backdate rows: {seq: days ago} (rehashing the whole chain, as if written then)."""
    rows = list(AuditEntry.objects.order_by("seq"))
    prev = GENESIS
    now = timezone.now()
    for row in rows:
        if row.seq in days_by_seq:
            row.at = now - timedelta(days=days_by_seq[row.seq])
        row.prev_hash = prev
        row.hash = audit._hash(prev, row)
        tampered().filter(pk=row.pk).update(at=row.at, prev_hash=row.prev_hash, hash=row.hash)
        prev = row.hash
    AuditHead.objects.update(last_hash=prev)
    guard_back()


@pytest.fixture
def old_chain(chain):
    """Rows 1–3 a year old, 4–5 recent."""
    age({1: 400, 2: 390, 3: 380})
    assert verify_chain() == (5, [])


def purge_before(days_ago: int, **options):
    out = io.StringIO()
    day = timezone.localdate() - timedelta(days=days_ago)
    call_command("purge_audit", "--before", day.isoformat(), stdout=out, **options)
    return out.getvalue()


def test_purge_deletes_old_rows_and_the_chain_still_verifies(old_chain):
    out = purge_before(200)
    assert "purged 3 audit rows" in out
    assert seqs() == [4, 5, 6]
    purge_row = AuditEntry.objects.get(seq=6)
    assert purge_row.action == "audit.purge"
    assert purge_row.detail["deleted"] == 3
    assert purge_row.detail["first_seq"] == 4
    assert verify_chain() == (3, [])
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()


def test_purge_refuses_anything_younger_than_180_days(old_chain):
    with pytest.raises(CommandError, match="180"):
        purge_before(179)
    assert seqs() == [1, 2, 3, 4, 5]


def test_the_retention_can_be_longer_but_not_shorter(old_chain, settings):
    settings.AUDIT_RETENTION_DAYS = 385
    with pytest.raises(CommandError, match="385"):
        purge_before(200)
    purge_before(385)
    assert seqs() == [3, 4, 5, 6]  # rows 1 and 2 were older than 385 days
    settings.AUDIT_RETENTION_DAYS = 30
    with pytest.raises(CommandError, match="180"):
        purge_before(100)


def test_purge_refuses_a_broken_chain(old_chain):
    tampered().filter(seq=2).update(result="failed")
    with pytest.raises(CommandError, match="row 2"):
        purge_before(200)
    assert len(seqs()) == 5


def test_rows_deleted_after_a_purge_are_still_named(old_chain):
    purge_before(200)
    audit.record("test.event", actor_name="tester")
    tampered().filter(seq=5).delete()
    assert list(named(verify_chain()[1])) == [5]


def test_moving_the_chain_start_by_hand_is_noticed(old_chain):
    row3 = AuditEntry.objects.get(seq=3)
    tampered().filter(seq__lte=3).delete()
    AuditHead.objects.update(first_seq=4, first_prev_hash=row3.hash)
    problems = named(verify_chain()[1])
    assert "no purge recorded" in problems[4]


def test_a_second_purge_moves_the_anchor_again(old_chain):
    purge_before(385)
    purge_before(200)
    assert seqs() == [4, 5, 6, 7]
    assert verify_chain() == (4, [])


def test_the_guard_is_back_after_a_purge(old_chain):
    purge_before(200)
    if GUARDED:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEntry.objects.filter(seq=5).delete()


# --- searching the log --------------------------------------------------------------------


@pytest.fixture
def city_admin(make_user):
    return make_user(Role.CITY_ADMIN, "1509", username="mayor")


@pytest.fixture
def log(alice, tree):
    """The tree's writes, plus a login failure of bob's from another address."""
    audit.record("auth.login", actor_name="bob", result="failed")


def test_the_audit_api_filters_and_pages(city_admin, log, api):
    client = api(city_admin)
    everything = client.get("/api/v1/audit-log").json()
    assert everything["count"] == AuditEntry.objects.count()
    assert [r["seq"] for r in everything["items"]][:2] == sorted(seqs(), reverse=True)[:2]
    by_actor = client.get("/api/v1/audit-log", {"actor": "charlie"}).json()
    assert by_actor["count"] > 0
    assert {r["actor_name"] for r in by_actor["items"]} == {"charlie"}
    street_b = client.get("/api/v1/audit-log", {"unit": "150902002"}).json()
    assert street_b["count"] > 0
    assert all(r["unit_code"].startswith("150902002") for r in street_b["items"])
    failed = client.get("/api/v1/audit-log", {"action": "auth."}).json()
    assert [(r["actor_name"], r["result"]) for r in failed["items"]] == [("bob", "failed")]
    unit = AuditEntry.objects.filter(action="unit.create").first()
    by_object = client.get(
        "/api/v1/audit-log", {"object_type": "orgs.Unit", "object_id": unit.object_id}
    ).json()
    assert [r["seq"] for r in by_object["items"]] == [unit.seq]
    page = client.get("/api/v1/audit-log", {"limit": 2, "offset": 2}).json()
    assert len(page["items"]) == 2
    assert page["count"] == everything["count"]


def test_the_audit_api_filters_by_time(city_admin, log, api):
    age({1: 10, 2: 10})
    client = api(city_admin)
    since = (timezone.now() - timedelta(days=1)).isoformat()
    recent = client.get("/api/v1/audit-log", {"since": since}).json()
    assert recent["count"] == AuditEntry.objects.count() - 2
    old = client.get("/api/v1/audit-log", {"until": since}).json()
    assert sorted(r["seq"] for r in old["items"]) == [1, 2]


def test_only_a_city_admin_reads_the_audit_log(alice, bob, log, api, login):
    for user in (alice, bob):
        response = api(user).get("/api/v1/audit-log")
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
        assert login(user).get("/audit/").status_code == 403
    assert api(None).get("/api/v1/audit-log").status_code == 401


def test_the_audit_page_searches_and_pages(city_admin, log, login):
    for n in range(60):
        audit.record("test.event", actor_name="pager", detail={"n": n})
    client = login(city_admin)
    page = client.get("/audit/", {"actor": "pager"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "审计日志" in html
    assert "共 60 条记录" in html
    assert "page=2" in html
    second = client.get("/audit/", {"actor": "pager", "page": 2}).content.decode()
    assert second.count("test.event") == 10
    dated = client.get("/audit/", {"since": timezone.localdate().isoformat(), "action": "auth."})
    assert "bob" in dated.content.decode()
    bad = client.get("/audit/", {"since": "not-a-date"})
    assert bad.status_code == 200
    assert "is-invalid" in bad.content.decode()
