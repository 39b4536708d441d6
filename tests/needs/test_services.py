"""The workflow through the services: intake, every step, illegal steps, the clock."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from hongyan.core.models import AuditEntry
from hongyan.core.roles import Role
from hongyan.members.selectors import SERVICE_SOURCES, quarter_start
from hongyan.needs import clock, services
from hongyan.needs.models import (
    Channel,
    EventAction,
    Need,
    NeedPhoto,
    Status,
    hash_follow_token,
)
from hongyan.needs.rules import NeedError

from .conftest import PNG

pytestmark = pytest.mark.django_db


def test_filing_gives_a_reference_a_deadline_and_a_follow_token(file_need, tree):
    need = file_need()
    assert need.reference.startswith("XQ") and len(need.reference) == 16
    assert need.status == Status.SUBMITTED
    assert need.owner == tree.community_a  # public facilities belong to the community
    assert need.deadline > need.created_at and need.response_due > need.created_at
    assert need.follow_token and need.follow_token_hash == hash_follow_token(need.follow_token)
    assert services.need_by_follow_token(need.follow_token) == need
    # the mobile is stored encrypted, shown masked
    stored = Need.objects.get(pk=need.pk)
    assert "13812345678" not in stored.resident_mobile_enc
    assert stored.resident_mobile_masked == "138****5678"
    assert [e.action for e in stored.events.all()] == [EventAction.SUBMITTED]
    assert AuditEntry.objects.filter(action="need.file", object_id=str(need.pk)).exists()


def test_deadline_in_working_days_around_national_day(file_need):
    # filed on 2026-09-30 with a 3-working-day limit: due at the end of Saturday 10-10
    at = timezone.make_aware(datetime(2026, 9, 30, 10, 0))
    need = file_need(category_code="sanitation", at=at)  # 环境卫生: 3 working days
    due = timezone.localtime(need.deadline)
    assert (due.date().isoformat(), due.hour, due.minute) == ("2026-10-10", 23, 59)


def test_employment_needs_are_owned_by_the_street(file_need, tree):
    need = file_need(category_code="employment_social")
    assert need.owner == tree.street_a


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": "  "}, "text"),
        ({"text": "长" * 2001}, "text"),
        ({"resident_mobile": "12345"}, "resident_mobile"),
        ({"resident_mobile": ""}, "resident_mobile"),
        ({"resident_name": ""}, "resident_name"),
        ({"photos": [("a.png", b"not an image")]}, "photos"),
        ({"photos": [("a.png", PNG)] * 4}, "photos"),
        ({"photos": [("big.png", PNG + b"\0" * (5 * 1024 * 1024))]}, "photos"),
    ],
)
def test_bad_input_names_the_field(file_need, change, field):
    with pytest.raises(NeedError) as caught:
        file_need(**change)
    assert caught.value.field == field and caught.value.status == 422
    assert not Need.objects.exists()


def test_a_community_needs_a_typed_address(file_need, tree):
    with pytest.raises(NeedError) as caught:
        file_need(unit=tree.community_a)
    assert caught.value.field == "address"
    need = file_need(unit=tree.community_a, address="恩和路 12 号院 3 号楼")
    assert need.address == "恩和路 12 号院 3 号楼"
    with pytest.raises(NeedError) as caught:
        file_need(unit=tree.street_a, address="x")
    assert caught.value.field == "unit"


def test_photos_are_kept(file_need):
    need = file_need(photos=[("stairs.png", PNG)])
    photo = NeedPhoto.objects.get(need=need)
    assert photo.content_type == "image/png" and photo.size == len(PNG)
    assert photo.file.read() == PNG


def test_proxy_intake_records_the_resident_and_the_proxy(file_need, make_user, tree):
    grid_worker = make_user(Role.GRID_WORKER, tree.grid_a, display_name="网格员小王")
    need = file_need(
        actor=grid_worker,
        channel=Channel.PROXY,
        unit=tree.building_a,
        resident_name="刘奶奶",
        resident_mobile="",
    )
    assert need.owner == tree.community_a
    assert need.channel == Channel.PROXY and need.filed_by == grid_worker
    assert need.resident_name == "刘奶奶" and need.resident_mobile == ""


def test_only_staff_file_for_a_resident(file_need, charlie, helper):
    for actor in (None, charlie, helper):  # anonymous, outsider, a party member
        with pytest.raises(NeedError) as caught:
            file_need(actor=actor, channel=Channel.DESK)
        assert caught.value.status == 403


def test_full_workflow(file_need, bob, helper, tree):
    need = file_need()
    need = services.need_accept(actor=bob, need=need)
    assert need.status == Status.ACCEPTED and need.responded_in_time
    need = services.need_dispatch(actor=bob, need=need, unit=tree.compound_a, note="请认领")
    assert need.status == Status.DISPATCHED and need.assignee_label == "御景华府"
    need = services.need_claim(actor=helper, need=need)
    assert need.status == Status.CLAIMED and need.handler_member == helper.member
    need = services.need_start(actor=helper, need=need)
    assert need.status == Status.IN_PROGRESS
    need = services.need_resolve(
        actor=helper, need=need, resolution="已更换楼道灯", photos=[("done.png", PNG)]
    )
    assert need.status == Status.RESOLVED and need.resolved_in_time
    assert need.photos.filter(stage="resolution").count() == 1
    need = services.need_rate(actor=None, need=need, rating=5, comment="很及时")
    assert need.status == Status.CLOSED and need.rating == 5 and need.closed_at
    actions = list(need.events.values_list("action", flat=True))
    assert actions == [
        "submitted",
        "accepted",
        "dispatched",
        "claimed",
        "started",
        "resolved",
        "rated",
        "closed",
    ]
    # the 办实事 tally counts the member's claimed-and-resolved need
    assert services.resolved_needs_by_member in SERVICE_SOURCES
    counted = services.resolved_needs_by_member([helper.member.pk], quarter_start())
    assert counted == {helper.member.pk: 1}


def test_a_bad_rating_reopens_for_the_same_handler(file_need, bob, helper, tree):
    need = file_need()
    need = services.need_dispatch(actor=bob, need=need, unit=tree.compound_a)
    need = services.need_claim(actor=helper, need=need)
    need = services.need_resolve(actor=helper, need=need, resolution="已处理")
    need = services.need_rate(actor=None, need=need, rating=2, comment="灯还是不亮")
    assert need.status == Status.IN_PROGRESS and need.reopen_count == 1
    assert need.handler == helper and need.rating == 2 and need.resolved_at is None
    assert need.deadline > timezone.now()


def test_illegal_steps_answer_409_with_the_reason(file_need, bob, helper):
    need = file_need()
    with pytest.raises(NeedError) as caught:
        services.need_resolve(actor=bob, need=need, resolution="x" * 5)
    assert caught.value.status == 409 and "待受理" in caught.value.message
    with pytest.raises(NeedError) as caught:
        services.need_rate(actor=None, need=need, rating=5)
    assert caught.value.status == 409
    services.need_reject(actor=bob, need=need, reason="不属于社区职责，请拨打12345")
    with pytest.raises(NeedError) as caught:
        services.need_accept(actor=bob, need=need)
    assert caught.value.status == 409


def test_second_claim_is_refused(file_need, bob, helper, neighbour, tree):
    need = services.need_dispatch(actor=bob, need=file_need(), unit=tree.compound_a)
    services.need_claim(actor=helper, need=need)
    with pytest.raises(NeedError) as caught:
        services.need_claim(actor=neighbour, need=need)
    assert caught.value.status == 409 and caught.value.code == "already_claimed"
    assert "韩师傅" in caught.value.message


def test_dispatch_to_a_person_only_they_start(file_need, bob, helper, neighbour):
    need = services.need_dispatch(actor=bob, need=file_need(), person=helper)
    assert need.status == Status.DISPATCHED and need.assignee == helper
    with pytest.raises(NeedError):
        services.need_claim(actor=neighbour, need=need)
    with pytest.raises(NeedError) as caught:
        services.need_start(actor=neighbour, need=need)
    assert caught.value.status == 403
    need = services.need_start(actor=helper, need=need)
    assert need.handler == helper and need.status == Status.IN_PROGRESS


def test_dispatch_needs_exactly_one_target(file_need, bob, tree):
    need = file_need()
    with pytest.raises(NeedError) as caught:
        services.need_dispatch(actor=bob, need=need)
    assert caught.value.field == "target"
    with pytest.raises(NeedError) as caught:
        services.need_dispatch(actor=bob, need=need, unit=tree.compound_a, team_name="志愿队")
    assert caught.value.field == "target"
    with pytest.raises(NeedError) as caught:  # another street's compound
        services.need_dispatch(actor=bob, need=need, unit=tree.compound_b)
    assert caught.value.field == "unit"
    need = services.need_dispatch(actor=bob, need=need, party_org=tree.org_a)
    assert need.assigned_org == tree.org_a and need.accepted_at  # accepted on the way
    need = services.need_dispatch(actor=bob, need=need, team_name="御景华府志愿服务队")
    assert need.assignee_label == "御景华府志愿服务队" and need.assigned_org is None


def test_pause_stops_the_clock(file_need, bob, helper, tree):
    need = services.need_dispatch(actor=bob, need=file_need(), unit=tree.compound_a)
    need = services.need_claim(actor=helper, need=need)
    before = need.deadline
    need = services.need_pause(actor=helper, need=need, note="居民外出，约定下周上门")
    assert need.status == Status.PAUSED and not need.is_overdue(need.deadline + timedelta(days=9))
    # two working days later (pretend): the deadline moves by the working time paused
    Need.objects.filter(pk=need.pk).update(
        paused_at=timezone.make_aware(datetime(2026, 11, 23, 9, 0))  # a Monday
    )
    need.refresh_from_db()
    now = timezone.make_aware(datetime(2026, 11, 25, 9, 0))
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=now):
        need = services.need_resume(actor=helper, need=need)
    assert need.status == Status.CLAIMED and need.paused_seconds == 2 * 86400
    # the deadline moves on by exactly the two working days paused
    assert clock.working_seconds_between(before, need.deadline) == 2 * 86400


def test_transfer_escalate_and_merge(file_need, alice, bob, tree):
    need = file_need()
    other = file_need(text="3号楼2单元楼道灯不亮，好几天了")
    need = services.need_transfer(
        actor=alice, need=need, to_unit=tree.community_a2, note="地址在体育场社区"
    )
    assert need.owner == tree.community_a2 and need.unit == tree.community_a2
    need = services.need_escalate(actor=alice, need=need, note="督办")
    assert need.owner == tree.street_a and need.escalation_level == 1
    merged = services.need_merge(actor=bob, need=other, into=file_need(text="同一件事"))
    assert merged.status == Status.MERGED and merged.merged_into.supporters == 1
    assert services.need_by_follow_token(other.follow_token) == merged.merged_into
    with pytest.raises(NeedError):
        services.need_merge(actor=bob, need=merged.merged_into, into=merged.merged_into)


def test_join_instead_of_filing(file_need):
    need = file_need()
    supporter = services.need_join(actor=None, need=need, name="王叔", mobile="13700000001")
    need.refresh_from_db()
    assert need.supporters == 1 and supporter.follow_token
    assert services.need_by_follow_token(supporter.follow_token) == need
    with pytest.raises(NeedError) as caught:  # the filer cannot join their own need
        services.need_join(actor=None, need=need, name="李大妈", mobile="13812345678")
    assert caught.value.status == 409
