"""Export control (issue 6, item 5): small masked exports at once; big or unmasked ones
wait for a second person; the file carries a watermark, expires, and every download is
audited. Wrong role 403, outsider 404, self-approval refused."""

import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from hongyan.core.models import AuditEntry
from hongyan.core.roles import Role
from hongyan.exports import services as export_services
from hongyan.exports.models import ExportRequest
from hongyan.members import services as member_services
from tests.members.conftest import make_id

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def members(tree, alice, charlie):
    """Three members in bob's compound, one in charlie's street."""
    made = [
        member_services.member_create(
            actor=alice,
            unit=tree.compound_a,
            name=name,
            id_number=make_id(born=date(1970 + i, 1, 2), seq=100 + 2 * i),
            mobile=f"1353024{i:04d}",
        )
        for i, name in enumerate(["梁艳荣", "高娃", "单雄信"])
    ]
    member_services.member_create(
        actor=charlie, unit=tree.compound_b, name="龙海", id_number=make_id(seq=11)
    )
    return made


def rows_of(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


def audit_rows(action: str):
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def test_small_masked_export_downloads_at_once_with_watermark_and_audit(login, bob, members):
    response = login(bob).get(reverse("members:export"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    export = ExportRequest.objects.get(requester=bob)
    assert export.state == "ready" and not export.needs_approval and export.row_count == 3
    rows = rows_of(response.content)
    mark = rows[0][0]
    assert "鲍勃（bob）" in mark and export.ref in mark and "严禁外传" in mark
    assert timezone.localtime().strftime("%Y-%m-%d") in mark
    assert sorted(r[0] for r in rows[2:]) == ["单雄信", "梁艳荣", "高娃"]
    assert members[0].id_number not in str(rows)  # masked
    assert audit_rows("export.request")[-1].detail["needs_approval"] is False
    download = audit_rows("export.download")[-1]
    assert download.actor == bob and download.detail["request"] == export.ref
    # the stored copy is encrypted, not a readable spreadsheet
    stored = (export_services.folder() / export.stored).read_bytes()
    assert not stored.startswith(b"PK") and "梁艳荣".encode() not in stored


def test_big_export_waits_for_a_second_person(login, api, bob, alice, members, settings):
    settings.EXPORT_APPROVAL_ROWS = 2
    response = login(bob).get(reverse("members:export"))
    export = ExportRequest.objects.get(requester=bob)
    assert response.status_code == 302
    assert response["Location"] == reverse("exports:detail", args=[export.pk])
    assert export.state == "pending" and export.needs_approval and export.row_count == 3
    assert not export.stored

    # the requester cannot download yet
    early = api(bob).get(f"/api/v1/exports/{export.pk}/download")
    assert early.status_code == 409 and early.json()["code"] == "pending"
    assert login(bob).get(reverse("exports:download", args=[export.pk])).status_code == 409

    # alice (street admin over bob's community) sees it waiting and approves it
    waiting = api(alice).get("/api/v1/exports/approvals").json()
    assert [e["ref"] for e in waiting["items"]] == [export.ref]
    page = login(alice).get(reverse("exports:approvals"))
    assert export.ref in page.content.decode()
    decided = login(alice).post(
        reverse("exports:detail", args=[export.pk]), {"decision": "approve", "note": "同意"}
    )
    assert decided.status_code == 302
    export.refresh_from_db()
    assert export.state == "ready" and export.approver == alice
    assert audit_rows("export.approve")[-1].actor == alice

    # alice approved, but only bob downloads; every download is audited
    assert api(alice).get(f"/api/v1/exports/{export.pk}/download").status_code == 403
    for n in (1, 2):
        got = api(bob).get(f"/api/v1/exports/{export.pk}/download")
        assert got.status_code == 200
        assert got["Content-Type"].startswith("application/vnd.openxmlformats")
        mark = rows_of(got.content)[0][0]
        assert export.ref in mark and "艾丽斯（alice）" in mark and "鲍勃（bob）" in mark
        assert audit_rows("export.download")[-1].detail["download"] == n
    export.refresh_from_db()
    assert export.downloads == 2
    listed = api(bob).get("/api/v1/exports").json()["items"]
    assert listed[0]["state"] == "ready" and listed[0]["downloads"] == 2


def test_self_approval_is_refused(api, alice, make_user, members, settings):
    settings.EXPORT_APPROVAL_ROWS = 0
    made = api(alice).post("/api/v1/exports", {"kind": "members"})
    assert made.status_code == 201 and made.json()["state"] == "pending"
    export_id = made.json()["id"]
    assert api(alice).get("/api/v1/exports/approvals").json()["count"] == 0
    refused = api(alice).post(f"/api/v1/exports/{export_id}/approve", {})
    assert refused.status_code == 403
    assert "不能审批自己" in refused.json()["message"]
    assert ExportRequest.objects.get(pk=export_id).state == "pending"

    colleague = make_user(Role.STREET_ADMIN, "150902001", username="dora")
    approved = api(colleague).post(f"/api/v1/exports/{export_id}/approve", {"note": "ok"})
    assert approved.status_code == 200 and approved.json()["approver"] == "dora"
    again = api(colleague).post(f"/api/v1/exports/{export_id}/refuse", {})
    assert again.status_code == 409 and again.json()["code"] == "already_decided"


def test_wrong_role_and_outsider(api, login, bob, charlie, make_user, tree, members, settings):
    settings.EXPORT_APPROVAL_ROWS = 0
    export_id = api(bob).post("/api/v1/exports", {"unit": tree.community_a.code}).json()["id"]

    # another community worker of the same community: inside the scope, no approving role
    peer = make_user(Role.COMMUNITY_WORKER, tree.community_a, username="peer")
    assert api(peer).get(f"/api/v1/exports/{export_id}").status_code == 403
    assert api(peer).post(f"/api/v1/exports/{export_id}/approve", {}).status_code == 403
    assert api(peer).get("/api/v1/exports/approvals").json()["count"] == 0
    assert login(peer).get(reverse("exports:approvals")).status_code == 403

    # charlie (street B) — the request does not exist for him
    for path in ("", "/download"):
        assert api(charlie).get(f"/api/v1/exports/{export_id}{path}").status_code == 404
    assert api(charlie).post(f"/api/v1/exports/{export_id}/approve", {}).status_code == 404
    assert api(charlie).post(f"/api/v1/exports/{export_id}/refuse", {}).status_code == 404
    assert login(charlie).get(reverse("exports:detail", args=[export_id])).status_code == 404
    assert api(charlie).post("/api/v1/exports", {"unit": tree.community_a.code}).status_code == 404

    # a grid worker may not export at all
    grid = make_user(Role.GRID_WORKER, tree.grid_a)
    assert api(grid).post("/api/v1/exports", {"unit": tree.grid_a.code}).status_code == 403
    assert login(grid).get(reverse("exports:list")).status_code == 403
    assert ExportRequest.objects.get(pk=export_id).state == "pending"


def test_unmasked_export_always_needs_approval_and_a_reason(
    api, bob, alice, tree, members, stepped_up
):
    body = {"unit": tree.compound_a.code, "masked": False, "filters": {"q": "梁艳荣"}}
    client = api(bob)
    no_step_up = client.post("/api/v1/exports", {**body, "reason": "核对"})
    assert no_step_up.status_code == 403 and no_step_up.json()["code"] == "step_up_required"
    assert not ExportRequest.objects.exists()
    stepped_up(client)
    no_reason = client.post("/api/v1/exports", body)
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    made = client.post("/api/v1/exports", {**body, "reason": "换届选举核对身份"})
    assert made.status_code == 201
    out = made.json()
    assert out["row_count"] == 1 and out["state"] == "pending" and out["needs_approval"]
    assert out["download_url"] is None
    assert api(alice).post(f"/api/v1/exports/{out['id']}/approve", {}).status_code == 200
    got = client.get(f"/api/v1/exports/{out['id']}/download")
    rows = rows_of(got.content)
    assert "含完整个人信息" in rows[0][0]
    assert rows[1][4] == "身份证号码" and rows[2][4] == members[0].id_number
    assert rows[2][5] == members[0].mobile
    entry = audit_rows("member.export")[-1]
    assert entry.detail["masked"] is False and entry.detail["approver"] == "alice"


def test_refused_export_cannot_be_downloaded(api, bob, alice, members, settings):
    settings.EXPORT_APPROVAL_ROWS = 0
    export_id = api(bob).post("/api/v1/exports", {}).json()["id"]
    refused = api(alice).post(f"/api/v1/exports/{export_id}/refuse", {"note": "用途不明"})
    assert refused.status_code == 200 and refused.json()["state"] == "refused"
    got = api(bob).get(f"/api/v1/exports/{export_id}/download")
    assert got.status_code == 409 and got.json()["code"] == "refused"
    assert audit_rows("export.refuse")[-1].detail["request"] == refused.json()["ref"]


def test_expired_link_answers_410_and_the_file_is_swept(api, login, bob, members):
    export_id = api(bob).post("/api/v1/exports", {}).json()["id"]
    export = ExportRequest.objects.get(pk=export_id)
    path = export_services.folder() / export.stored
    assert path.exists()
    ExportRequest.objects.filter(pk=export_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert export_services.sweep_expired() == 1
    assert not path.exists()
    gone = api(bob).get(f"/api/v1/exports/{export_id}/download")
    assert gone.status_code == 410 and gone.json()["code"] == "expired"
    assert "过期" in gone.json()["message"] and "重新申请" in gone.json()["message"]
    page = login(bob).get(reverse("exports:download", args=[export_id]))
    assert page.status_code == 410 and "已过期" in page.content.decode()
    assert api(bob).get(f"/api/v1/exports/{export_id}").json()["state"] == "expired"


def test_expiry_is_checked_at_download_even_before_the_sweep(api, bob, members, settings):
    settings.EXPORT_EXPIRY_HOURS = 1
    export_id = api(bob).post("/api/v1/exports", {}).json()["id"]
    export = ExportRequest.objects.get(pk=export_id)
    assert timedelta(minutes=59) < export.expires_at - timezone.now() <= timedelta(hours=1)
    ExportRequest.objects.filter(pk=export_id).update(expires_at=timezone.now())
    assert api(bob).get(f"/api/v1/exports/{export_id}/download").status_code == 410
    assert not (export_services.folder() / export.stored).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "needs"}, "kind"),
        ({"filters": {"colour": "red"}}, "filters.colour"),
        ({"filters": {"status": "dead"}}, "filters.status"),
        ({"masked": "perhaps"}, "masked"),
    ],
)
def test_bad_requests_name_the_problem(api, bob, members, body, field):
    response = api(bob).post("/api/v1/exports", body)
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert not ExportRequest.objects.exists()


def test_pages_list_my_requests_and_the_new_form(login, bob, tree, members, settings):
    settings.EXPORT_APPROVAL_ROWS = 0
    client = login(bob)
    made = client.post(
        reverse("exports:new"), {"unit": tree.community_a.code, "masked": "on", "reason": ""}
    )
    export = ExportRequest.objects.get(requester=bob)
    assert made.status_code == 302 and export.state == "pending"
    listing = client.get(reverse("exports:list")).content.decode()
    assert export.ref in listing and "等待审批" in listing
    refused = client.post(reverse("exports:new"), {"unit": tree.community_a.code, "reason": ""})
    assert refused.status_code == 200 and "须说明用途" in refused.content.decode()
    assert ExportRequest.objects.count() == 1


def test_unmasked_export_page_asks_for_a_step_up_first(login, bob, tree, members, stepped_up):
    client = login(bob)
    form = {"unit": tree.community_a.code, "reason": "换届选举核对身份"}  # masked unticked
    response = client.post(reverse("exports:new"), form)
    assert response.status_code == 302 and "step-up" in response["Location"]
    assert not ExportRequest.objects.exists()
    response = stepped_up(client).post(reverse("exports:new"), form)
    export = ExportRequest.objects.get(requester=bob)
    assert response.status_code == 302 and export.state == "pending" and not export.masked
