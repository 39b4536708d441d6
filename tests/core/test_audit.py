"""The audit log: a row for every write and security event, chained by HMAC-SM3 so that
an edited or deleted row is found and named."""

import io

import pytest
from django.core.management import CommandError, call_command

from hongyan.core import audit, services
from hongyan.core.audit import GENESIS, verify_chain
from hongyan.core.models import AuditEntry, AuditHead
from hongyan.orgs import services as org_services
from hongyan.orgs.models import OrgKind, UnitKind


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
    AuditEntry.objects.filter(seq=3).update(**change)
    checked, problems = verify_chain()
    assert checked == 5
    assert list(named(problems)) == [3]
    assert "altered" in named(problems)[3]


def test_an_edited_link_is_named(chain):
    AuditEntry.objects.filter(seq=4).update(prev_hash="f" * 64)
    assert 4 in named(verify_chain()[1])


def test_a_row_deleted_in_the_middle_is_named(chain):
    AuditEntry.objects.filter(seq=3).delete()
    checked, problems = verify_chain()
    assert checked == 4
    assert list(named(problems)) == [3]
    assert "deleted" in named(problems)[3]


def test_rows_deleted_at_the_end_are_named(chain):
    AuditEntry.objects.filter(seq__gte=4).delete()
    problems = named(verify_chain()[1])
    assert list(problems) == [4, 5]
    assert all("deleted" in p for p in problems.values())


def test_the_first_row_deleted_is_named(chain):
    AuditEntry.objects.filter(seq=1).delete()
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
    AuditEntry.objects.filter(seq=2).update(action="test.other")
    AuditEntry.objects.filter(seq=4).delete()
    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit", stderr=err)
    assert "2 problem" in str(exc.value)
    assert "row 2" in err.getvalue()
    assert "row 4" in err.getvalue()
