"""The needs API: the public intake, the workflow end to end, scope on every endpoint."""

import base64

import pytest
from django.test import Client

from hongyan.core.roles import Role
from hongyan.needs.models import Channel, Need, Status

from .conftest import PNG

pytestmark = pytest.mark.django_db

NEED = {
    "category": "public_facilities",
    "text": "小区东门路灯不亮<script>alert(1)</script>",
    "resident_name": "李大妈",
    "resident_mobile": "138 1234 5678",
}


def post_public(api, tree, **change):
    return api(None).post("/api/v1/needs", {**NEED, "unit": tree.compound_a.code, **change})


def test_public_intake_without_a_token(api, tree):
    r = post_public(api, tree)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["reference"].startswith("XQ") and body["follow_token"]
    assert body["status"] == "submitted" and body["channel"] == Channel.PUBLIC_WEB
    assert body["resident_mobile"] == "138****5678"
    assert body["text"] == NEED["text"]  # stored as typed; pages escape it
    follow = api(None).get(f"/api/v1/needs/follow/{body['follow_token']}")
    assert follow.status_code == 200 and follow.json()["reference"] == body["reference"]
    assert "138" not in follow.content.decode()


def test_public_intake_multipart_with_a_photo(tree):
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = Client().post(
        "/api/v1/needs",
        {
            **NEED,
            "unit": tree.compound_a.code,
            "photos": [SimpleUploadedFile("light.png", PNG, content_type="image/png")],
        },
    )
    assert r.status_code == 201, r.content
    assert Need.objects.get(reference=r.json()["reference"]).photos.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "字" * 2001}, "text"),
        ({"category": "no_such_thing"}, "category"),
        ({"unit": "999999999999"}, "unit"),
        ({"resident_mobile": "1381234"}, "resident_mobile"),
        ({"photos": [base64.b64encode(b"MZ not an image").decode()]}, "photos"),
        ({"photos": ["%%%"]}, "photos"),
    ],
)
def test_bad_input_is_4xx_naming_the_field(api, tree, change, field):
    r = post_public(api, tree, **change)
    assert r.status_code == 422, r.content
    assert r.json()["field"] == field and r.json()["message"]


def test_bad_json_is_400(api):
    r = api(None).post("/api/v1/needs", raw="{nope")
    assert r.status_code == 400 and r.json()["code"] == "bad_request"


def test_public_intake_is_rate_limited_per_mobile_and_per_ip(api, tree, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "need_intake_mobile": "2/3600"}
    for _ in range(2):
        assert post_public(api, tree).status_code == 201
    r = post_public(api, tree)
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    assert post_public(api, tree, resident_mobile="13900000000").status_code == 201
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "need_intake_ip": "4/3600"}
    r = post_public(api, tree, resident_mobile="13700000000")
    assert r.status_code == 429 and r["Retry-After"]


def test_staff_file_at_the_desk_and_for_a_resident(api, bob, tree):
    r = api(bob).post(
        "/api/v1/needs",
        {**NEED, "unit": tree.compound_a.code, "channel": "proxy", "resident_mobile": ""},
    )
    assert r.status_code == 201, r.content
    assert r.json()["channel"] == "proxy" and r.json()["proxy"] and r.json()["filed_by"] == "鲍勃"
    r = api(bob).post("/api/v1/needs", {**NEED, "unit": tree.compound_a.code})
    assert r.json()["channel"] == "desk"


def test_a_resident_account_files_its_own(api, make_user, tree):
    resident = make_user(Role.RESIDENT, tree.building_a, display_name="居民甲")
    r = api(resident).post("/api/v1/needs", {**NEED, "unit": tree.building_a.code})
    assert r.status_code == 201 and r.json()["channel"] == Channel.RESIDENT_ACCOUNT
    need_id = r.json()["id"]
    assert api(resident).get(f"/api/v1/needs/{need_id}").status_code == 200
    assert [n["id"] for n in api(resident).get("/api/v1/needs").json()["items"]] == [need_id]


def test_whole_workflow_through_the_api(api, bob, helper, tree):
    need_id = post_public(api, tree).json()["id"]
    staff, member = api(bob), api(helper)
    assert staff.post(f"/api/v1/needs/{need_id}/accept", {"note": "已受理"}).status_code == 200
    candidates = staff.get(f"/api/v1/needs/{need_id}/candidates").json()
    assert candidates[0]["name"] == "韩师傅" and "水电维修" in candidates[0]["reason"]
    r = staff.post(f"/api/v1/needs/{need_id}/dispatch", {"unit": tree.compound_a.code})
    assert r.status_code == 200 and r.json()["status"] == "dispatched"
    claimable = member.get("/api/v1/needs", {"claimable": "true"}).json()["items"]
    assert [n["id"] for n in claimable] == [need_id]
    assert member.post(f"/api/v1/needs/{need_id}/claim").json()["status"] == "claimed"
    assert member.post(f"/api/v1/needs/{need_id}/start").json()["status"] == "in_progress"
    r = member.post(
        f"/api/v1/needs/{need_id}/resolve",
        {"resolution": "已换新灯泡", "photos": [base64.b64encode(PNG).decode()]},
    )
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    assert len(r.json()["photos"]) == 1
    timeline = [e["action"] for e in r.json()["timeline"]]
    assert timeline == ["submitted", "accepted", "dispatched", "claimed", "started", "resolved"]
    assert r.json()["timeline"][2]["actor_name"] == "鲍勃"


def test_rate_by_follow_token_and_reopen_on_a_bad_rating(api, bob, helper, tree):
    filed = post_public(api, tree).json()
    need_id, token = filed["id"], filed["follow_token"]
    api(bob).post(f"/api/v1/needs/{need_id}/dispatch", {"person": "han"})
    api(helper).post(f"/api/v1/needs/{need_id}/start")
    api(helper).post(f"/api/v1/needs/{need_id}/resolve", {"resolution": "修好了"})
    r = api(None).post(f"/api/v1/needs/{need_id}/rate", {"rating": 1, "follow_token": "wrong"})
    assert r.status_code == 404
    r = api(None).post(f"/api/v1/needs/{need_id}/rate", {"rating": 9, "follow_token": token})
    assert r.status_code == 422 and r.json()["field"] == "rating"
    r = api(None).post(
        f"/api/v1/needs/{need_id}/rate", {"rating": 2, "comment": "没修好", "follow_token": token}
    )
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    api(helper).post(f"/api/v1/needs/{need_id}/resolve", {"resolution": "换了整条线路"})
    r = api(None).post(f"/api/v1/needs/{need_id}/rate", {"rating": 5, "follow_token": token})
    assert r.json()["status"] == "closed"
    r = api(None).post(f"/api/v1/needs/{need_id}/rate", {"rating": 5})
    assert r.status_code == 401


def test_illegal_step_is_409_with_the_reason(api, bob, tree):
    need_id = post_public(api, tree).json()["id"]
    r = api(bob).post(f"/api/v1/needs/{need_id}/resolve", {"resolution": "已处理"})
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    assert "待受理" in r.json()["message"]


def test_reject_needs_a_reason(api, bob, tree):
    need_id = post_public(api, tree).json()["id"]
    r = api(bob).post(f"/api/v1/needs/{need_id}/reject", {"reason": ""})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = api(bob).post(f"/api/v1/needs/{need_id}/reject", {"reason": "属于供热公司职责，已告知电话"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"


STEPS = [
    ("accept", {}),
    ("reject", {"reason": "不属于社区职责"}),
    ("dispatch", {"unit": "x"}),
    ("claim", {}),
    ("start", {}),
    ("pause", {"note": "等待居民"}),
    ("resume", {}),
    ("resolve", {"resolution": "已处理"}),
    ("close", {}),
    ("reopen", {"note": "居民来电"}),
    ("transfer", {"unit": "150902001002", "note": "转办"}),
    ("escalate", {}),
    ("merge", {"into": 1}),
]


@pytest.mark.parametrize(("step", "body"), STEPS)
def test_outsider_gets_404_on_every_step(api, charlie, tree, step, body):
    need_id = post_public(api, tree).json()["id"]
    r = api(charlie).post(f"/api/v1/needs/{need_id}/{step}", body)
    assert r.status_code == 404, (step, r.content)
    assert api(charlie).get(f"/api/v1/needs/{need_id}").status_code == 404
    assert api(charlie).get(f"/api/v1/needs/{need_id}/candidates").status_code == 404
    assert api(charlie).get("/api/v1/needs").json()["count"] == 0


@pytest.mark.parametrize(("step", "body"), [s for s in STEPS if s[0] != "claim"])
def test_building_head_sees_but_may_not_manage(api, make_user, tree, step, body):
    head = make_user(Role.BUILDING_HEAD, tree.compound_a)
    need_id = post_public(api, tree).json()["id"]
    assert api(head).get(f"/api/v1/needs/{need_id}").status_code == 200
    r = api(head).post(f"/api/v1/needs/{need_id}/{step}", body)
    assert r.status_code == 403, (step, r.content)


def test_members_outside_the_community_cannot_claim(api, bob, helper, make_user, tree):
    need_id = post_public(api, tree, unit=tree.compound_a2.code).json()["id"]
    # helper is registered in community_a; the need is in community_a2
    assert api(helper).post(f"/api/v1/needs/{need_id}/claim").status_code == 404
    # a party member without 双报到 in the community cannot even see it
    loner = make_user(Role.PARTY_MEMBER, tree.building_a)
    need_a = post_public(api, tree).json()["id"]
    assert api(loner).get(f"/api/v1/needs/{need_a}").status_code == 404


def test_anonymous_reads_need_a_token(api, tree):
    need_id = post_public(api, tree).json()["id"]
    assert api(None).get(f"/api/v1/needs/{need_id}").status_code == 401
    assert api(None).get("/api/v1/needs").status_code == 401


def test_list_filters_and_a_constant_number_of_queries(
    api, bob, tree, django_assert_max_num_queries
):
    for _ in range(3):
        post_public(api, tree)
    post_public(api, tree, unit=tree.compound_a2.code)  # alice's, not bob's
    client = api(bob)
    r = client.get("/api/v1/needs", {"unit": tree.community_a.code, "status": "submitted"})
    assert r.json()["count"] == 3
    assert client.get("/api/v1/needs", {"status": "open"}).json()["count"] == 3
    r = client.get("/api/v1/needs", {"status": "nonsense"})
    assert r.status_code == 422 and r.json()["field"] == "status"
    assert client.get("/api/v1/needs", {"unit": tree.community_b.code}).status_code == 404
    for _ in range(10):
        post_public(api, tree, resident_mobile=f"1390000{_:04d}")
    with django_assert_max_num_queries(12):
        r = client.get("/api/v1/needs", {"limit": 50})
    assert r.json()["count"] == 13


def test_similar_needs_and_joining_one(api, tree):
    first = post_public(api, tree, text="3号楼楼道灯坏了，晚上看不见路").json()
    post_public(api, tree, text="小区里垃圾桶满了没人清运", category="sanitation")
    r = api(None).get(
        "/api/v1/needs/similar", {"unit": tree.compound_a.code, "text": "3号楼的楼道灯坏了"}
    )
    assert r.status_code == 200
    assert [s["reference"] for s in r.json()] == [first["reference"]]
    assert "resident" not in r.content.decode()
    r = api(None).post(
        f"/api/v1/needs/{first['id']}/join", {"name": "王叔", "mobile": "13700001111"}
    )
    assert r.status_code == 201 and r.json()["follow_token"]
    assert Need.objects.get(pk=first["id"]).supporters == 1
    r = api(None).get("/api/v1/needs/similar", {"unit": "nope", "text": "灯"})
    assert r.status_code == 422 and r.json()["field"] == "unit"


def test_rates_for_a_unit(api, alice, bob, charlie, helper, tree):
    ids = [post_public(api, tree).json()["id"] for _ in range(3)]
    staff = api(bob)
    staff.post(f"/api/v1/needs/{ids[0]}/dispatch", {"person": "han"})
    api(helper).post(f"/api/v1/needs/{ids[0]}/start")
    api(helper).post(f"/api/v1/needs/{ids[0]}/resolve", {"resolution": "修好了"})
    staff.post(f"/api/v1/needs/{ids[0]}/close")
    staff.post(f"/api/v1/needs/{ids[1]}/reject", {"reason": "重复登记"})
    r = api(alice).get(f"/api/v1/units/{tree.street_a.code}/need-rates")
    assert r.status_code == 200, r.content
    rates = r.json()
    assert rates["total"] == 3 and rates["accepted"] == 2 and rates["resolved"] == 1
    assert rates["resolution_rate"] == 0.5
    assert rates["response_rate"] == 1.0  # two responded at once; one not yet due
    assert rates["by_channel"] == [{"channel": "public_web", "name": "居民网页", "count": 3}]
    assert rates["by_category"][0]["count"] == 3
    assert api(charlie).get(f"/api/v1/units/{tree.street_a.code}/need-rates").status_code == 404
    # a party member's grant covers their building only: the street is outside
    assert api(helper).get(f"/api/v1/units/{tree.street_a.code}/need-rates").status_code == 404
    r = api(alice).get(
        f"/api/v1/units/{tree.street_a.code}/need-rates", {"from": "2020-01-01", "to": "2020-12-31"}
    )
    assert r.json()["total"] == 0 and r.json()["response_rate"] is None
    r = api(alice).get(
        f"/api/v1/units/{tree.street_a.code}/need-rates", {"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert r.status_code == 422 and r.json()["field"] == "from"


def test_rates_wrong_role_is_403(api, make_user, tree):
    head = make_user(Role.BUILDING_HEAD, tree.compound_a)
    assert api(head).get(f"/api/v1/units/{tree.compound_a.code}/need-rates").status_code == 403


def test_the_status_filter_counts_a_pause(api, bob, helper, tree):
    need_id = post_public(api, tree).json()["id"]
    api(bob).post(f"/api/v1/needs/{need_id}/dispatch", {"person": "han"})
    r = api(helper).post(f"/api/v1/needs/{need_id}/pause", {"note": ""})
    assert r.status_code == 422 and r.json()["field"] == "note"
    r = api(helper).post(f"/api/v1/needs/{need_id}/pause", {"note": "居民不在家"})
    assert r.json()["status"] == Status.PAUSED
    assert api(helper).post(f"/api/v1/needs/{need_id}/resume").json()["status"] == "dispatched"


def test_a_resident_rates_with_their_account(api, bob, helper, make_user, tree):
    resident = make_user(Role.RESIDENT, tree.building_a)
    need_id = (
        api(resident).post("/api/v1/needs", {**NEED, "unit": tree.building_a.code}).json()["id"]
    )
    api(bob).post(f"/api/v1/needs/{need_id}/dispatch", {"person": "han"})
    api(helper).post(f"/api/v1/needs/{need_id}/start")
    api(helper).post(f"/api/v1/needs/{need_id}/resolve", {"resolution": "修好了"})
    other = make_user(Role.RESIDENT, tree.building_a)
    assert api(other).post(f"/api/v1/needs/{need_id}/rate", {"rating": 1}).status_code == 404
    assert api(helper).post(f"/api/v1/needs/{need_id}/rate", {"rating": 1}).status_code == 403
    r = api(resident).post(f"/api/v1/needs/{need_id}/rate", {"rating": 4, "comment": "满意"})
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["rating"] == 4


def test_a_session_without_the_csrf_token_files_as_the_public(login, bob, tree):
    """The intake takes no token, so a signed-in browser counts as the account only when
    the request carries the CSRF token (otherwise another site could file in its name)."""
    import json as _json

    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)
    r = client.post(
        "/api/v1/needs",
        _json.dumps({**NEED, "unit": tree.compound_a.code}),
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["channel"] == Channel.PUBLIC_WEB
    client.get("/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    r = client.post(
        "/api/v1/needs",
        _json.dumps({**NEED, "unit": tree.compound_a.code}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert r.status_code == 201 and r.json()["channel"] == Channel.DESK


def test_reveal_the_mobile_with_a_reason_and_a_step_up(
    api, bob, charlie, helper, neighbour, stepped_up, tree
):
    from hongyan.core.models import AuditEntry

    need_id = post_public(api, tree).json()["id"]
    url = f"/api/v1/needs/{need_id}/reveal"
    r = api(bob).post(url, {"reason": "上门前电话联系"})
    assert r.status_code == 403 and r.json()["code"] == "step_up_required"
    staff = stepped_up(api(bob))
    r = staff.post(url, {"reason": "短"})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = staff.post(url, {"reason": "上门前电话联系"})
    assert r.status_code == 200 and r.json()["value"] == "13812345678"
    entry = AuditEntry.objects.get(action="need.reveal")
    assert entry.detail["reason"] == "上门前电话联系" and entry.actor == bob
    # a member who may claim sees the need but not the mobile until they handle it
    r = stepped_up(api(neighbour)).post(url, {"reason": "上门前电话联系"})
    assert r.status_code == 403
    api(bob).post(f"/api/v1/needs/{need_id}/dispatch", {"person": "han"})
    r = stepped_up(api(helper)).post(url, {"reason": "上门前电话联系"})
    assert r.status_code == 200
    assert stepped_up(api(charlie)).post(url, {"reason": "上门前电话联系"}).status_code == 404
