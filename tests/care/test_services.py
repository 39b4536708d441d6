"""Due dates and overdue (boundaries), the visit log's rules, children's consent, groups."""

from datetime import date, timedelta

import pytest

from hongyan.care import selectors, services
from hongyan.care.models import CareRecipient, Visit, add_years
from hongyan.care.services import CareError
from hongyan.care.sweeps import remind_due_visits
from hongyan.core.models import AuditEntry

from .conftest import group, make_id

pytestmark = pytest.mark.django_db


def test_default_frequencies_elderly_alone_weekly_others_monthly():
    assert group("elderly_alone").interval_days == 7
    for code in ("elderly_couple", "disabled", "dibao", "tekun", "left_behind_child", "other"):
        assert group(code).interval_days == 30


def test_due_date_runs_from_registration_then_from_the_last_visit_seen(elder, gw, today):
    # registered 20 days ago, weekly: due 13 days ago
    assert elder.next_due == today - timedelta(days=13)
    assert elder.is_overdue(today) and elder.days_overdue(today) == 13
    services.visit_log(
        actor=gw, recipient=elder, visited_on=today - timedelta(days=7), wellbeing="good"
    )
    elder.refresh_from_db()
    assert elder.next_due == today  # seen 7 days ago: due today, not overdue
    assert not elder.is_overdue(today) and elder.days_overdue(today) == 0
    assert not elder.is_overdue(today - timedelta(days=1))
    assert elder.is_overdue(today + timedelta(days=1))  # the day after the due day: overdue


def test_a_visit_that_did_not_see_the_person_leaves_them_due(elder, gw, today):
    services.visit_log(actor=gw, recipient=elder, seen=False, note="敲门无人应答")
    elder.refresh_from_db()
    assert elder.last_visit_on == today and elder.last_seen_on is None
    assert elder.next_due == today - timedelta(days=13)


def test_an_older_visit_entered_afterwards_does_not_move_the_due_date_back(elder, gw, today):
    services.visit_log(actor=gw, recipient=elder, wellbeing="good")
    services.visit_log(
        actor=gw, recipient=elder, visited_on=today - timedelta(days=3), wellbeing="fair"
    )
    elder.refresh_from_db()
    assert elder.last_seen_on == today and elder.next_due == today + timedelta(days=7)


def test_own_frequency_beats_the_groups_and_a_group_change_moves_the_others(
    make_recipient, city_admin_user, today
):
    own = make_recipient(name="甲", interval_days=14)
    default = make_recipient(name="乙")
    assert own.next_due == today - timedelta(days=6)
    assert default.next_due == today + timedelta(days=10)
    services.group_save(actor=city_admin_user, group=group("other"), interval_days=10)
    own.refresh_from_db()
    default.refresh_from_db()
    assert own.next_due == today - timedelta(days=6)
    assert default.next_due == today - timedelta(days=10)


@pytest.fixture
def city_admin_user(make_user):
    from hongyan.core.roles import Role

    return make_user(Role.CITY_ADMIN, "1509", username="cityadmin")


@pytest.mark.parametrize(
    ("offset", "ok"), [(0, True), (-31, True), (-32, False), (1, False)], ids=str
)
def test_visit_dates_today_back_31_days_not_the_future(elder, gw, today, offset, ok):
    elder.registered_on = today - timedelta(days=60)
    elder.save()
    day = today + timedelta(days=offset)
    if ok:
        assert services.visit_log(actor=gw, recipient=elder, visited_on=day, wellbeing="good")
    else:
        with pytest.raises(CareError) as exc:
            services.visit_log(actor=gw, recipient=elder, visited_on=day, wellbeing="good")
        assert exc.value.field == "visited_on" and exc.value.status == 422


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"wellbeing": ""}, "wellbeing"),
        ({"wellbeing": "happy"}, "wellbeing"),
        ({"wellbeing": "good", "services": ["cleaning", "massage"]}, "services"),
        ({"wellbeing": "good", "dibao_status": "maybe"}, "dibao_status"),
        ({"wellbeing": "good", "finding_kind": "hazard"}, "findings"),
        ({"wellbeing": "good", "visited_on": "2026-13-01"}, "visited_on"),
    ],
)
def test_bad_visit_input_names_the_field(elder, gw, data, field):
    with pytest.raises(CareError) as exc:
        services.visit_log(actor=gw, recipient=elder, **data)
    assert exc.value.field == field and exc.value.status == 422
    assert not Visit.objects.exists()


def test_an_ended_recipient_takes_no_visit(elder, bob, gw):
    services.recipient_update(actor=bob, recipient=elder, active=False, ended_reason="已迁出")
    with pytest.raises(CareError) as exc:
        services.visit_log(actor=gw, recipient=elder, wellbeing="good")
    assert exc.value.status == 409


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"group": None}, "group"),
        ({"name": ""}, "name"),
        ({"id_number": "150902193805060000"}, "id_number"),
        ({"mobile": "12345"}, "mobile"),
        ({"interval_days": 0}, "interval_days"),
        ({"interval_days": 400}, "interval_days"),
        ({"birth_date": "2099-01-01"}, "birth_date"),
    ],
)
def test_bad_recipient_input_names_the_field(make_recipient, data, field):
    with pytest.raises(CareError) as exc:
        make_recipient(**data)
    assert exc.value.field == field and exc.value.status == 422


def test_a_place_not_a_community_and_the_same_person_once_per_group(make_recipient, tree):
    with pytest.raises(CareError) as exc:
        make_recipient(unit=tree.community_a)
    assert exc.value.field == "unit"
    number = make_id(5, date(1940, 1, 1))
    make_recipient(id_number=number)
    with pytest.raises(CareError) as exc:
        make_recipient(id_number=number)
    assert exc.value.status == 409


def test_a_child_needs_the_guardians_consent_and_a_role_that_may_see_children(
    make_recipient, gw, today
):
    born = today.replace(year=today.year - 9)
    with pytest.raises(CareError) as exc:
        make_recipient(group=group("left_behind_child"), name="小红")
    assert exc.value.field == "birth_date"
    with pytest.raises(CareError) as exc:
        make_recipient(group=group("left_behind_child"), name="小红", birth_date=born)
    assert exc.value.field == "guardian_name"
    with pytest.raises(CareError) as exc:
        make_recipient(
            group=group("left_behind_child"),
            name="小红",
            birth_date=born,
            guardian_name="王妈妈",
            guardian_relation="母亲",
            consent_on=today,
        )
    assert exc.value.field == "consent_method"
    with pytest.raises(CareError) as exc:  # a grid worker may not register a child
        make_recipient(
            actor=gw,
            group=group("left_behind_child"),
            name="小红",
            birth_date=born,
            guardian_name="王妈妈",
            guardian_relation="母亲",
            consent_on=today,
            consent_method="oral",
        )
    assert exc.value.status == 403
    # nor visit one
    with pytest.raises(CareError) as exc:
        make_recipient(
            group=group("left_behind_child"),
            name="小红",
            birth_date=born,
            guardian_name="王妈妈",
            guardian_relation="母亲",
            consent_on=today,
            consent_method="oral",
            visitor_user=gw,
        )
    assert exc.value.field == "visitor_user"


def test_fourteenth_birthday_is_the_boundary(make_recipient, today):
    born = add_years(today, -14)
    r = make_recipient(name="小刚", birth_date=born)  # 14 today: no consent needed
    assert not r.is_minor(today)
    assert r.is_minor(today - timedelta(days=1))


def test_a_finding_becomes_a_need_once(elder, gw, today):
    from hongyan.needs.models import Channel

    visit = services.visit_log(
        actor=gw,
        recipient=elder,
        wellbeing="fair",
        finding_kind="hazard",
        findings="楼道里有人给电动车充电",
    )
    need = services.visit_raise_need(actor=gw, visit=visit)
    assert need.channel == Channel.VISIT and need.source_ref == f"visit:{visit.pk}"
    assert need.category.code == "safety_hazard" and need.unit == elder.unit
    assert need.resident_name == "王奶奶" and need.text == "楼道里有人给电动车充电"
    visit.refresh_from_db()
    assert visit.need == need
    with pytest.raises(CareError) as exc:
        services.visit_raise_need(actor=gw, visit=visit)
    assert exc.value.status == 409
    with pytest.raises(CareError) as exc:
        services.visit_raise_need(
            actor=gw,
            visit=services.visit_log(actor=gw, recipient=elder, wellbeing="good", findings="x"),
            category="no_such_category",
        )
    assert exc.value.field == "category"


def test_a_childs_need_is_filed_by_the_guardian(child, bob):
    visit = services.visit_log(
        actor=bob, recipient=child, wellbeing="fair", finding_kind="hardship", findings="缺少冬衣"
    )
    need = services.visit_raise_need(actor=bob, visit=visit)
    assert need.resident_name == "李奶奶" and "小明" not in need.resident_name


def test_reminders_once_per_due_date(elder, child, gw, today):
    assert remind_due_visits() == 1  # elder is overdue; the child is due in 10 days
    assert remind_due_visits() == 0  # a rerun reminds nobody again
    reminder = elder.reminders.get()
    assert reminder.user == gw and reminder.due_on == elder.next_due
    services.visit_log(
        actor=gw, recipient=elder, visited_on=today - timedelta(days=7), wellbeing="good"
    )
    reminder.refresh_from_db()
    assert reminder.read_at is not None  # the visit answered it
    assert remind_due_visits() == 1  # due again today: a new due date, a new reminder
    assert remind_due_visits() == 0
    assert remind_due_visits(today + timedelta(days=30)) == 1  # the child, when due


def test_minors_are_absent_for_roles_without_the_permission(elder, child, gw, bob, today):
    assert set(selectors.recipient_list(bob)) == {elder, child}
    assert set(selectors.recipient_list(gw)) == {elder}
    assert selectors.recipient_list(gw, status="ok").count() == 0
    # a building head over the place sees adults only too
    assert child not in selectors.recipient_queryset(gw)


def test_figures_count_done_against_due(elder, child, gw, bob, tree, today):
    start = today - timedelta(days=13)
    services.visit_log(
        actor=gw, recipient=elder, visited_on=today - timedelta(days=8), wellbeing="good"
    )
    services.visit_log(
        actor=gw, recipient=elder, visited_on=today - timedelta(days=1), wellbeing="good"
    )
    services.visit_log(actor=gw, recipient=elder, visited_on=today, seen=False)
    figures = selectors.care_figures(tree.community_a, start, today)
    # 14 days: elder (weekly) owes 2, child (monthly) 0
    assert figures["recipients"] == 2 and figures["due"] == 2 and figures["done"] == 2
    assert figures["completion_rate"] == 1.0
    by = {g["code"]: g for g in figures["by_group"]}
    assert by["elderly_alone"]["recipients"] == 1 and by["left_behind_child"]["recipients"] == 1
    assert selectors.care_figures(tree.community_b, start, today)["recipients"] == 0


def test_writes_and_childrens_reads_are_audited(child, bob):
    services.minor_read(actor=bob, recipient=child, how="page")
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"care.recipient.create", "care.minor.read"} <= actions
    assert CareRecipient.objects.get(pk=child.pk).consent_recorded_by == bob
