"""Exports: masked, formula-safe, a watermark row, audited, scoped."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from hongyan.cli import main as hongyan
from hongyan.core.models import AuditEntry
from hongyan.core.roles import Role
from hongyan.members import services

from .conftest import make_id

pytestmark = pytest.mark.django_db


def rows_of(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


def test_export_page(login, people, bob, tree):
    services.member_create(
        actor=bob, unit=tree.compound_a, name="=HYPERLINK(1)", id_number=make_id(seq=131)
    )
    response = login(bob).get(reverse("members:export"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    rows = rows_of(response.content)
    assert "鲍勃（bob）" in rows[0][0] and "严禁外传" in rows[0][0]  # the watermark
    assert rows[1][0] == "姓名"
    body = rows[2:]
    names = {r[0] for r in body}
    assert {"梁艳荣", "单雄信", "高娃", "'=HYPERLINK(1)"} == names  # formula-safe, bob's only
    flat = " ".join(str(v) for r in rows for v in r)
    assert people.liang_id not in flat and people.liang_mobile not in flat
    assert people.liang_id[:6] + "********" + people.liang_id[-4:] in flat
    entry = AuditEntry.objects.filter(action="member.export").last()
    assert entry.actor == bob and entry.detail["rows"] == 4 and entry.detail["masked"] is True


def test_export_follows_the_filters(login, people, bob):
    rows = rows_of(login(bob).get(reverse("members:export"), {"q": "lyr"}).content)
    assert [r[0] for r in rows[2:]] == ["梁艳荣"]


def test_export_search_by_id_is_masked_in_the_audit_log(login, people, bob):
    login(bob).get(reverse("members:export"), {"q": people.liang_id})
    entry = AuditEntry.objects.filter(action="member.export").last()
    assert people.liang_id not in str(entry.detail)


def test_export_scope_and_roles(login, people, charlie, make_user, tree):
    response = login(charlie).get(reverse("members:export"), {"unit": tree.community_a.code})
    assert response.status_code == 404
    rows = rows_of(login(charlie).get(reverse("members:export")).content)
    assert [r[0] for r in rows[2:]] == ["龙海"]
    grid_worker = make_user(Role.GRID_WORKER, tree.compound_a)
    assert login(grid_worker).get(reverse("members:export")).status_code == 403


def test_cli_export(people, tmp_path, capsys):
    out = tmp_path / "members.xlsx"
    assert hongyan(["export", "members", "--unit", "150902001001", "-o", str(out)]) == 0
    rows = rows_of(out.read_bytes())
    assert sorted(r[0] for r in rows[2:]) == sorted(["梁艳荣", "单雄信", "高娃"])
    assert "命令行" in rows[0][0]
    assert people.liang_id not in str(rows)
    assert AuditEntry.objects.filter(action="member.export", unit_code="150902001001").exists()
