"""The rates API and the page's period picker share one rule for a period
(selectors.rates_period_check): ending today at the latest, start no later than end,
at most three years. The API answers 422 naming the problem; the page falls back."""

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from hongyan.core.errors import DomainError
from hongyan.needs.selectors import rates_period_check
from hongyan.needs.views import rates_period

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 20)


def local(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10)))


def years_ago(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return date(day.year - years, 3, 1)


def test_the_rule_fills_in_missing_dates_like_the_page():
    assert rates_period_check(today=TODAY) == (TODAY - timedelta(days=365), TODAY)
    assert rates_period_check(None, date(2026, 1, 31), today=TODAY) == (
        date(2025, 1, 31),
        date(2026, 1, 31),
    )
    assert rates_period_check(date(2026, 1, 1), None, today=TODAY) == (date(2026, 1, 1), TODAY)


@pytest.mark.parametrize(
    ("date_from", "date_to", "field", "message"),
    [
        (date(2026, 5, 1), date(2026, 5, 21), "to", "结束日期不能晚于今天"),
        (date(2026, 3, 1), date(2026, 1, 1), "from", "开始日期不能晚于结束日期"),
        (date(2026, 6, 1), None, "from", "开始日期不能晚于结束日期"),
        (date(2023, 5, 20), date(2026, 5, 20), "from", "时间段最长三年"),
    ],
)
def test_the_rule_names_the_problem_and_the_field(date_from, date_to, field, message):
    with pytest.raises(DomainError) as caught:
        rates_period_check(date_from, date_to, today=TODAY)
    assert caught.value.status == 422 and caught.value.field == field
    assert message in caught.value.message


def test_three_years_is_the_pages_three_years():
    """Exactly three years (ending the day before the same date) is allowed; one day
    more is not — on 29 February the three years end on 28 February."""
    assert rates_period_check(date(2023, 5, 20), date(2026, 5, 19), today=TODAY)
    leap = date(2028, 3, 2)
    assert rates_period_check(date(2024, 2, 29), date(2027, 2, 28), today=leap)
    with pytest.raises(DomainError):
        rates_period_check(date(2024, 2, 29), date(2027, 3, 1), today=leap)
    for params in (
        {"from": "2023-05-20", "to": "2026-05-19"},
        {"from": "2023-05-20", "to": "2026-05-20"},
        {"from": "2026-05-01", "to": "2026-05-21"},
        {"from": "2026-05-10", "to": "2026-05-01"},
    ):
        page = rates_period(params, today=TODAY)
        try:
            expected = rates_period_check(
                date.fromisoformat(params["from"]), date.fromisoformat(params["to"]), today=TODAY
            )
            assert (page.date_from, page.date_to, page.error) == (*expected, "")
        except DomainError as exc:
            assert page.error == exc.message
            assert (page.date_from, page.date_to) == (TODAY - timedelta(days=365), TODAY)


def test_the_api_refuses_a_wrong_period_with_a_message(api, alice, tree):
    url = f"/api/v1/units/{tree.street_a.code}/need-rates"
    today = timezone.localdate()
    cases = [
        (
            {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()},
            "to",
            "结束日期不能晚于今天",
        ),
        ({"to": (today + timedelta(days=30)).isoformat()}, "to", "结束日期不能晚于今天"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "from", "开始日期不能晚于结束日期"),
        ({"from": (today + timedelta(days=1)).isoformat()}, "from", "开始日期不能晚于结束日期"),
        (
            {"from": years_ago(today, 3).isoformat(), "to": today.isoformat()},
            "from",
            "时间段最长三年",
        ),
        ({"from": "2015-01-01", "to": "2025-01-01"}, "from", "时间段最长三年"),
    ]
    for params, field, message in cases:
        r = api(alice).get(url, params)
        assert r.status_code == 422, (params, r.content)
        body = r.json()
        assert body["code"] == "invalid" and body["field"] == field
        assert message in body["message"]
    r = api(alice).get(url, {"from": "2026-02-30"})  # not a day: the schema says so
    assert r.status_code == 422


def test_the_api_counts_a_valid_period(api, alice, charlie, tree, file_need):
    today = timezone.localdate()
    file_need(at=local(today))
    file_need(at=local(today - timedelta(days=400)), text="小区门口路灯不亮，晚上很黑")
    file_need(at=local(years_ago(today, 4)), text="楼下垃圾桶满了没人清理")
    url = f"/api/v1/units/{tree.street_a.code}/need-rates"
    r = api(alice).get(url)  # nothing given: the 365 days up to today, as the page
    assert r.status_code == 200, r.content
    assert r.json()["total"] == 1
    assert (r.json()["date_from"], r.json()["date_to"]) == (
        (today - timedelta(days=365)).isoformat(),
        today.isoformat(),
    )
    start = years_ago(today, 3) + timedelta(days=1)  # the longest period allowed
    r = api(alice).get(url, {"from": start.isoformat(), "to": today.isoformat()})
    assert r.status_code == 200 and r.json()["total"] == 2
    r = api(alice).get(
        url, {"from": start.isoformat(), "to": (today - timedelta(days=1)).isoformat()}
    )
    assert r.status_code == 200 and r.json()["total"] == 1
    # the outsider still gets 404 before the period is looked at
    r = api(charlie).get(url, {"from": "2026-02-01", "to": "2026-01-01"})
    assert r.status_code == 404
