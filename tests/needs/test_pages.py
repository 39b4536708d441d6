"""The needs pages: the public intake and follow link, the staff queue and a need's page
with its step forms, a resident's own needs, and the rates panel on the unit page."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hongyan.core.roles import Role
from hongyan.needs import services
from hongyan.needs.models import Channel, Need, NeedSupporter, Status

from .conftest import PNG

pytestmark = pytest.mark.django_db


def public_post(tree, **overrides):
    data = {
        "resident_name": "李大妈",
        "resident_mobile": "13812345678",
        "county": "150902",
        "township": "150902001",
        "community": tree.community_a.code,
        "compound": tree.compound_a.code,
        "address": "",
        "category": "public_facilities",
        "text": "3号楼2单元楼道灯坏了一个星期，晚上上下楼看不见",
    }
    data.update(overrides)
    return data


# --- the public page ---------------------------------------------------------------


def test_public_page_offers_the_tree(tree):
    r = Client().get("/report/")
    html = r.content.decode()
    assert r.status_code == 200
    assert "集宁区" in html and "居民随手报" in html
    r = Client().get("/report/places/township/", {"county": "150902"})
    assert "新体路街道" in r.content.decode()
    r = Client().get("/report/places/compound/", {"community": tree.community_a.code})
    assert "御景华府" in r.content.decode()
    assert 'id="id_building" hx-swap-oob' in r.content.decode()
    r = Client().get("/report/places/building/", {"compound": tree.compound_a.code})
    assert "1号楼" in r.content.decode()  # under the compound's grid
    assert "hx-swap-oob" not in r.content.decode()  # nothing below a building to reset
    r = Client().get("/report/places/community/", {"township": "150902001"})
    assert 'id="id_compound" hx-swap-oob' in r.content.decode()


def test_resident_files_without_an_account_and_follows(tree):
    client = Client()
    r = client.post("/report/", public_post(tree))
    assert r.status_code == 302, r.content.decode()[:2000]
    need = Need.objects.get()
    assert need.channel == Channel.PUBLIC_WEB and need.unit == tree.compound_a
    assert need.resident_mobile == "13812345678"
    r = client.get(r["Location"])
    html = r.content.decode()
    assert need.reference in html and 'data-test="filed"' in html
    follow_link = re.search(r'data-test="follow-link">([^<]+)<', html).group(1)
    assert follow_link.endswith("/") and "/follow/" in follow_link
    # a later visit with the link alone shows the need (no "new" banner)
    html = Client().get(follow_link.split("testserver")[-1]).content.decode()
    assert need.reference in html and 'data-test="filed"' not in html
    assert "138****5678" not in html and "13812345678" not in html  # no mobile on the public page


def test_filed_at_a_building_is_seen_by_its_grid(tree, login, make_user):
    r = Client().post("/report/", public_post(tree, building=tree.building_a.code))
    assert r.status_code == 302
    need = Need.objects.get()
    assert need.unit == tree.building_a
    grid_worker = make_user(Role.GRID_WORKER, tree.grid_a)
    assert need.reference in login(grid_worker).get("/needs/").content.decode()


def test_a_place_chain_that_does_not_hold_is_refused(tree):
    other = public_post(tree, compound=tree.compound_b.code)  # a compound of street B
    r = Client().post("/report/", other)
    assert r.status_code == 422 and "请选择所在社区" in r.content.decode()
    assert Need.objects.count() == 0


def test_typed_address_under_a_community(tree):
    r = Client().post("/report/", public_post(tree, compound="", address="恩和路88号院3号楼"))
    assert r.status_code == 302
    need = Need.objects.get()
    assert need.unit == tree.community_a and need.address == "恩和路88号院3号楼"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"text": ""}, "text", "请填写需求内容"),
        ({"text": "长" * 2001}, "text", "不能超过 2000 个字"),
        ({"resident_mobile": "12345"}, "resident_mobile", "手机"),
        ({"category": "no_such"}, "category", "选择"),
        ({"compound": "", "address": ""}, "address", "详细地址"),
        ({"community": "", "compound": ""}, "community", "请选择所在社区"),
    ],
)
def test_bad_input_is_named_and_nothing_typed_is_lost(tree, overrides, field, message):
    data = public_post(tree, **overrides)
    r = Client().post("/report/", data)
    html = r.content.decode()
    assert r.status_code == 422
    assert message in html
    assert 'value="李大妈"' in html  # the name is still there
    if field != "text":
        assert data["text"] in html  # so is the text
    assert Need.objects.count() == 0


def test_every_mistake_shows_at_once(tree):
    data = public_post(
        tree, resident_name="", resident_mobile="12345", category="", community="", compound=""
    )
    html = Client().post("/report/", data).content.decode()
    for message in ("请填写您的姓名", "手机", "请选择需求类别", "请选择所在社区"):
        assert message in html, message
    assert data["text"] in html


def test_photos_must_be_images_and_at_most_three(tree):
    fake = SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg")
    r = Client().post("/report/", {**public_post(tree), "photos": [fake]})
    assert r.status_code == 422 and "不是图片" in r.content.decode()
    pngs = [SimpleUploadedFile(f"p{i}.png", PNG, content_type="image/png") for i in range(4)]
    r = Client().post("/report/", {**public_post(tree), "photos": pngs})
    assert r.status_code == 422 and "最多上传 3 张" in r.content.decode()
    ok = [SimpleUploadedFile("p.png", PNG, content_type="image/png")]
    r = Client().post("/report/", {**public_post(tree), "photos": ok})
    assert r.status_code == 302
    need = Need.objects.get()
    photo = need.photos.get()
    # the photo is no public file: the follow link and staff who see the need get it
    follow = r["Location"].split("?")[0]
    assert f"{follow}photos/{photo.pk}/" in Client().get(r["Location"]).content.decode()
    got = Client().get(f"{follow}photos/{photo.pk}/")
    assert got.status_code == 200 and got["Content-Type"] == "image/png"
    assert b"".join(got.streaming_content) == PNG


def test_need_photos_for_staff_only(tree, bob, charlie, login, file_need):
    need = file_need(photos=[("lamp.png", PNG)])
    photo = need.photos.get()
    url = f"/needs/{need.pk}/photos/{photo.pk}/"
    assert url in login(bob).get(f"/needs/{need.pk}/").content.decode()
    assert login(bob).get(url).status_code == 200
    assert login(charlie).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the sign-in page
    assert login(bob).get(f"/needs/{need.pk}/photos/999999/").status_code == 404


def test_html_in_text_is_shown_inert(tree, bob, login):
    text = '<script>alert("x")</script><b>灯坏了</b> 请尽快修'
    r = Client().post("/report/", public_post(tree, text=text), follow=True)
    html = r.content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    need = Need.objects.get()
    html = login(bob).get(f"/needs/{need.pk}/").content.decode()
    assert "<b>灯坏了</b>" not in html and "&lt;b&gt;灯坏了&lt;/b&gt;" in html


def test_rate_limited_per_mobile_keeps_the_form(tree, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "need_intake_mobile": "1/3600"}
    client = Client()
    assert client.post("/report/", public_post(tree)).status_code == 302
    r = client.post("/report/", public_post(tree, text="另一件事：小区门口路灯不亮"))
    assert r.status_code == 429
    assert int(r["Retry-After"]) > 0
    html = r.content.decode()
    assert 'data-test="rate-limited"' in html and "小区门口路灯不亮" in html
    assert Need.objects.count() == 1
    # another mobile from the same address still gets through
    r = client.post("/report/", public_post(tree, resident_mobile="13912345678"))
    assert r.status_code == 302


def test_rate_limited_per_ip(tree, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "need_intake_ip": "2/3600"}
    client = Client()
    for mobile in ("13812345671", "13812345672"):
        assert client.post("/report/", public_post(tree, resident_mobile=mobile)).status_code == 302
    r = client.post("/report/", public_post(tree, resident_mobile="13812345673"))
    assert r.status_code == 429 and r.has_header("Retry-After")


def test_similar_needs_offered_and_joined(tree, file_need):
    first = file_need()
    r = Client().get(
        "/report/similar/",
        {"compound": tree.compound_a.code, "text": "3号楼楼道灯坏了，晚上看不见"},
    )
    assert first.reference in r.content.decode()
    data = public_post(tree, resident_name="王大爷", resident_mobile="13700001111")
    data["join"] = first.reference
    r = Client().post("/report/join/", data)
    assert r.status_code == 302 and "joined=1" in r["Location"]
    assert NeedSupporter.objects.get().name == "王大爷"
    first.refresh_from_db()
    assert first.supporters == 1
    assert Need.objects.count() == 1  # joined, not filed again
    # the supporter's link follows the same need
    assert first.reference in Client().get(r["Location"]).content.decode()


def test_unknown_follow_link_is_404():
    assert Client().get("/follow/not-a-token/").status_code == 404


def test_resident_rates_on_the_follow_page(tree, bob, file_need):
    need = file_need()
    token = need.follow_token
    services.need_accept(actor=bob, need=need)
    services.need_claim(actor=bob, need=need)
    services.need_resolve(actor=bob, need=need, resolution="已更换楼道灯泡")
    client = Client()
    html = client.get(f"/follow/{token}/").content.decode()
    assert "请为这次办理打分" in html and "已更换楼道灯泡" in html
    r = client.post(f"/follow/{token}/rate/", {"comment": "还行"})
    assert r.status_code == 409 and "请选择 1 到 5 星" in r.content.decode()
    r = client.post(f"/follow/{token}/rate/", {"rating": "5", "comment": "很快就修好了"})
    assert r.status_code == 302
    need.refresh_from_db()
    assert need.status == Status.CLOSED and need.rating == 5
    # rating twice is refused with the reason, shown on the page
    r = client.post(f"/follow/{token}/rate/", {"rating": "1"})
    assert r.status_code == 409 and "不能评价" in r.content.decode()


# --- staff ---------------------------------------------------------------------------


def test_queue_per_unit_with_filters(tree, bob, login, file_need):
    lamp = file_need()
    other = file_need(text="小区垃圾桶满了没人清理", category_code="sanitation")
    client = login(bob)
    html = client.get("/needs/").content.decode()
    assert lamp.reference in html and other.reference in html
    html = client.get("/needs/", {"tab": "unit", "category": "sanitation"}).content.decode()
    assert other.reference in html and lamp.reference not in html
    html = client.get("/needs/", {"tab": "unit", "status": "closed"}).content.decode()
    assert 'data-test="empty"' in html
    html = client.get("/needs/", {"tab": "unit", "channel": "hotline"}).content.decode()
    assert lamp.reference not in html
    html = client.get("/needs/", {"tab": "unit", "overdue": "on"}).content.decode()
    assert lamp.reference not in html
    Need.objects.filter(pk=lamp.pk).update(deadline=lamp.created_at)
    html = client.get("/needs/", {"tab": "unit", "overdue": "on"}).content.decode()
    assert lamp.reference in html and "超期" in html


def test_queue_query_count_is_constant(tree, bob, login, file_need, django_assert_max_num_queries):
    for i in range(12):
        file_need(text=f"第{i}件：楼道灯坏了")
    client = login(bob)
    with django_assert_max_num_queries(25):
        r = client.get("/needs/")
    assert r.content.decode().count('class="list-group-item') == 12


def test_queue_outsider_and_wrong_role(tree, bob, charlie, login, make_user):
    assert (
        login(charlie).get("/needs/", {"tab": "unit", "unit": tree.community_a.code}).status_code
        == 404
    )
    resident = make_user(Role.RESIDENT, tree.building_a)
    r = login(resident).get("/needs/")
    assert r.status_code == 302 and r["Location"].endswith("/needs/mine/")


def test_need_page_outsider_gets_404(tree, charlie, login, file_need):
    need = file_need()
    assert login(charlie).get(f"/needs/{need.pk}/").status_code == 404
    assert login(charlie).post(f"/needs/{need.pk}/do/accept/").status_code == 404


def test_staff_walk_the_steps_on_the_page(tree, bob, helper, login, file_need):
    need = file_need()
    staff = login(bob)
    html = staff.get(f"/needs/{need.pk}/").content.decode()
    assert 'data-step="accept"' in html and 'data-step="reject"' in html
    assert 'data-test="suggestions"' in html and "韩师傅" in html and "水电维修" in html
    r = staff.post(f"/needs/{need.pk}/do/accept/", {"accept-note": "收到"})
    assert r.status_code == 302
    # dispatch to the suggested member by name
    r = staff.post(f"/needs/{need.pk}/do/dispatch/", {"dispatch-target": f"person:{helper.pk}"})
    assert r.status_code == 302
    need.refresh_from_db()
    assert need.status == Status.DISPATCHED and need.assignee == helper
    member = login(helper)
    assert 'data-step="start"' in member.get(f"/needs/{need.pk}/").content.decode()
    assert member.post(f"/needs/{need.pk}/do/start/").status_code == 302
    r = member.post(f"/needs/{need.pk}/do/resolve/", {"resolve-resolution": "换"})
    assert r.status_code == 422 and "办理结果" in r.content.decode()
    r = member.post(f"/needs/{need.pk}/do/resolve/", {"resolve-resolution": "换了新灯泡"})
    assert r.status_code == 302
    need.refresh_from_db()
    assert need.status == Status.RESOLVED
    html = staff.get(f"/needs/{need.pk}/").content.decode()
    for word in ("提交", "受理", "派单", "开始办理", "办结"):
        assert word in html


def test_illegal_step_shows_the_reason(tree, bob, login, file_need):
    need = file_need()
    r = login(bob).post(f"/needs/{need.pk}/do/close/")
    assert r.status_code == 409
    html = r.content.decode()
    assert "不能关闭" in html and 'data-test="step-error"' in html


def test_dispatch_needs_a_target(tree, bob, login, file_need):
    need = file_need()
    r = login(bob).post(f"/needs/{need.pk}/do/dispatch/", {"dispatch-note": "x"})
    assert r.status_code == 422 and "请选择一个派单对象" in r.content.decode()


def test_reject_needs_a_reason(tree, bob, login, file_need):
    need = file_need()
    r = login(bob).post(f"/needs/{need.pk}/do/reject/", {"reject-reason": ""})
    assert r.status_code == 422 and "不予受理原因" in r.content.decode()
    r = login(bob).post(
        f"/needs/{need.pk}/do/reject/", {"reject-reason": "不属于社区职责，请拨打12345"}
    )
    assert r.status_code == 302
    need.refresh_from_db()
    assert need.status == Status.REJECTED


def test_member_may_not_accept(tree, helper, login, file_need):
    need = file_need()
    assert login(helper).post(f"/needs/{need.pk}/do/accept/").status_code == 403


def test_member_claims_from_the_claimable_tab(tree, bob, neighbour, login, file_need):
    need = file_need()
    services.need_dispatch(actor=bob, need=need, unit=tree.grid_a)
    member = login(neighbour)
    html = member.get("/needs/").content.decode()
    assert need.reference in html  # the claimable tab is a member's default
    assert member.post(f"/needs/{need.pk}/do/claim/").status_code == 302
    need.refresh_from_db()
    assert need.handler == neighbour
    assert need.reference in member.get("/needs/", {"tab": "mine"}).content.decode()


def test_duplicates_hint_and_merge(tree, bob, login, file_need):
    first = file_need()
    second = file_need(text="3号楼2单元楼道灯坏了好几天，晚上看不见", resident_mobile="13900002222")
    client = login(bob)
    html = client.get(f"/needs/{second.pk}/").content.decode()
    assert 'data-test="duplicates"' in html and first.reference in html
    r = client.post(f"/needs/{second.pk}/do/merge/", {"merge-into": "XQ000"})
    assert r.status_code == 422 and "没有找到编号" in r.content.decode()
    r = client.post(f"/needs/{second.pk}/do/merge/", {"merge-into": first.reference})
    assert r.status_code == 302
    second.refresh_from_db()
    assert second.status == Status.MERGED and second.merged_into == first


def test_staff_files_for_a_resident_without_a_phone(tree, bob, login):
    data = public_post(tree, resident_name="张奶奶", resident_mobile="", channel="proxy")
    r = login(bob).post("/needs/new/", data)
    assert r.status_code == 302
    need = Need.objects.get()
    assert need.channel == Channel.PROXY and need.filed_by == bob and need.resident_name == "张奶奶"


def test_staff_filing_outside_scope_is_refused(tree, charlie, login):
    r = login(charlie).post("/needs/new/", public_post(tree, channel="desk"))
    assert r.status_code == 422 and "只有工作人员" in r.content.decode()
    assert Need.objects.count() == 0


def test_resident_account_files_and_sees_only_their_own(tree, login, make_user, file_need):
    file_need()  # someone else's
    resident = make_user(Role.RESIDENT, tree.building_a, display_name="钱阿姨")
    client = login(resident)
    assert 'data-test="need-rows"' not in client.get("/needs/mine/").content.decode()
    r = client.post("/needs/mine/new/", public_post(tree, resident_name="", resident_mobile=""))
    assert r.status_code == 302
    need = Need.objects.get(resident_account=resident)
    assert need.channel == Channel.RESIDENT_ACCOUNT and need.resident_name == "钱阿姨"
    html = client.get("/needs/mine/").content.decode()
    assert need.reference in html and html.count('class="list-group-item') == 1
    assert client.get(f"/needs/{need.pk}/").status_code == 200
    others = Need.objects.exclude(pk=need.pk).get()
    assert client.get(f"/needs/{others.pk}/").status_code == 404


def test_rates_panel_on_the_unit_page(tree, alice, bob, login, file_need, make_user):
    need = file_need()
    services.need_accept(actor=bob, need=need)
    services.need_claim(actor=bob, need=need)
    services.need_resolve(actor=bob, need=need, resolution="已修好")
    services.need_rate(actor=None, need=need, rating=5)
    client = login(alice)
    html = client.get(f"/units/{tree.community_a.code}/").content.decode()
    panel_url = f"/needs/rates/{tree.community_a.code}/"
    assert f'hx-get="{panel_url}"' in html  # the figures load after the page
    html = client.get(panel_url).content.decode()
    assert 'data-test="need-rates"' in html and "满意率" in html and "100.0%" in html
    resident = make_user(Role.RESIDENT, tree.building_a)
    html = login(resident).get(f"/units/{tree.building_a.code}/").content.decode()
    assert 'id="need-rates"' not in html
    assert login(resident).get(f"/needs/rates/{tree.building_a.code}/").status_code == 403
    assert login(resident).get(panel_url).status_code == 404


def test_queue_counts_agree_with_the_selector(tree, bob, file_need):
    from hongyan.needs import selectors

    needs = [file_need(text=f"第{i}件：楼道灯坏了") for i in range(6)]
    services.need_accept(actor=bob, need=needs[0])
    services.need_reject(actor=bob, need=needs[1], reason="不属于社区职责")
    services.need_accept(actor=bob, need=needs[2])
    services.need_claim(actor=bob, need=needs[2])
    services.need_resolve(actor=bob, need=needs[2], resolution="已修好")
    Need.objects.filter(pk=needs[3].pk).update(deadline=needs[3].created_at)
    services.need_accept(actor=bob, need=needs[4])
    services.need_claim(actor=bob, need=needs[4])
    services.need_resolve(actor=bob, need=needs[4], resolution="已修好")
    services.need_rate(actor=None, need=needs[4], rating=5)
    mine = selectors.need_queue_counts(bob, tree.community_a)
    assert (mine.submitted, mine.open, mine.overdue, mine.resolved) == (2, 3, 1, 1)


def test_menu_entries(tree, bob, login, make_user):
    assert "/needs/" in login(bob).get("/").content.decode()
    resident = make_user(Role.RESIDENT, tree.building_a)
    html = login(resident).get("/").content.decode()
    assert "/needs/mine/" in html


def test_reveal_the_mobile_with_a_reason(tree, bob, helper, login, stepped_up, file_need):
    from hongyan.core.models import AuditEntry

    need = file_need()
    client = login(bob)
    html = client.get(f"/needs/{need.pk}/").content.decode()
    assert "138****5678" in html and "13812345678" not in html
    # a fresh TOTP first, as for every reveal: the need's page is where it sends back to
    r = client.post(f"/needs/{need.pk}/reveal/", {"reason": "上门前电话联系居民"})
    assert r.status_code == 302 and r["Location"].startswith("/account/step-up/")
    assert f"%2Fneeds%2F{need.pk}%2F" in r["Location"]
    assert not AuditEntry.objects.filter(action="need.reveal").exists()
    stepped_up(client)
    r = client.post(f"/needs/{need.pk}/reveal/", {"reason": "x"})
    assert r.status_code == 422 and 'data-test="reveal-error"' in r.content.decode()
    r = client.post(f"/needs/{need.pk}/reveal/", {"reason": "上门前电话联系居民"})
    assert r.status_code == 200 and 'href="tel:13812345678"' in r.content.decode()
    assert r["Cache-Control"] == "no-store"
    assert AuditEntry.objects.filter(action="need.reveal").count() == 1
    # a member who may claim sees the need but may not call the resident
    services.need_dispatch(actor=bob, need=need, unit=tree.grid_a)
    member = login(helper)
    assert "显示完整手机号" not in member.get(f"/needs/{need.pk}/").content.decode()
    r = member.post(f"/needs/{need.pk}/reveal/", {"reason": "上门前电话联系居民"})
    assert r.status_code == 403 and "13812345678" not in r.content.decode()


def test_notices_page(tree, bob, charlie, login, file_need):
    from hongyan.needs.sweeps import notify_once

    need = file_need()
    notify_once(need=need, kind="warn", level=0, unit=tree.community_a, message="明天到期")
    client = login(bob)
    html = client.get("/needs/").content.decode()
    assert 'data-test="notices-link"' in html and 'text-bg-danger">1<' in html
    html = client.get("/needs/notices/").content.decode()
    assert need.reference in html and "明天到期" in html
    notice = need.notifications.get()
    assert login(charlie).post(f"/needs/notices/{notice.pk}/read/").status_code == 404
    assert client.post(f"/needs/notices/{notice.pk}/read/").status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert "已读</button>" not in client.get("/needs/notices/").content.decode()
    assert 'data-test="notices"' not in login(charlie).get("/needs/notices/").content.decode()


def test_need_page_query_count(tree, bob, helper, login, file_need, django_assert_max_num_queries):
    need = file_need()
    for i in range(5):
        file_need(text=f"3号楼2单元楼道灯坏了第{i}次", resident_mobile=f"1390000{i:04d}")
    client = login(bob)
    with django_assert_max_num_queries(45):
        assert client.get(f"/needs/{need.pk}/").status_code == 200


def test_city_admin_manages_categories(tree, alice, login, make_user):
    from hongyan.needs.models import NeedCategory

    admin = make_user(Role.CITY_ADMIN, "1509")
    client = login(admin)
    assert "/needs/categories/" in client.get("/needs/").content.decode()
    html = client.get("/needs/categories/").content.decode()
    assert "公共设施" in html and "安全隐患" in html
    # override a default for the city
    r = client.post(
        "/needs/categories/sanitation/",
        {
            "name": "环境卫生",
            "deadline_value": "2",
            "deadline_unit": "days",
            "response_hours": "8",
            "owner_level": "community",
            "active": "on",
        },
    )
    assert r.status_code == 302
    own = NeedCategory.objects.get(city__code="1509", code="sanitation")
    assert own.deadline_value == 2 and own.response_hours == 8
    # a new one; a bad code is named
    data = {
        "code": "Heating!",
        "name": "供暖",
        "deadline_value": "24",
        "deadline_unit": "hours",
        "response_hours": "2",
        "owner_level": "community",
        "specialties": ["水电维修"],
        "active": "on",
    }
    r = client.post("/needs/categories/new/", data)
    assert (
        r.status_code == 422
        and "类别代码" in r.content.decode()
        and 'value="供暖"' in r.content.decode()
    )
    r = client.post("/needs/categories/new/", {**data, "code": "heating"})
    assert r.status_code == 302
    heating = NeedCategory.objects.get(code="heating")
    assert [s.name for s in heating.specialties.all()] == ["水电维修"]
    # a street admin may not
    assert login(alice).get("/needs/categories/").status_code == 403
    assert client.get("/needs/categories/nope/").status_code == 404


def test_pages_in_english(tree, bob, login, file_need):
    need = file_need()
    client = Client()
    client.cookies["django_language"] = "en"
    html = client.get("/report/").content.decode()
    assert "Report a need" in html and "居民随手报" not in html
    r = client.post("/report/", public_post(tree, text="", resident_mobile="123"))
    assert "Please write what the need is." in r.content.decode()
    staff = login(bob)
    staff.cookies["django_language"] = "en"
    html = staff.get(f"/needs/{need.pk}/").content.decode()
    assert "Timeline" in html and "Next step" in html
