"""The rates panel's period picker: presets and explicit dates change the figures, wrong
input falls back to the recent window with a message, and the access check stays."""

from datetime import date, datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from hongyan.needs.views import rates_period

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 20)


def local(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10)))


def total(html: str) -> str:
    """The first figure of the panel: how many needs the period counts."""
    figures = html.split('data-test="need-rates"', 1)[1]
    return figures.split('class="hy-fig-num">', 1)[1].split("<", 1)[0].strip()


@pytest.fixture
def two_periods(file_need):
    """One need today, two on 15 and 16 June last year; returns today and how many needs
    the recent window (the last 365 days) counts."""
    today = timezone.localdate()
    file_need(at=local(today))
    june = [date(today.year - 1, 6, 15), date(today.year - 1, 6, 16)]
    file_need(at=local(june[0]))
    file_need(at=local(june[1]), text="小区门口路灯不亮，晚上很黑")
    return today, str(1 + sum(day >= today - timedelta(days=365) for day in june))


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("month", (date(2026, 5, 1), TODAY)),
        ("quarter", (date(2026, 4, 1), TODAY)),
        ("year", (date(2026, 1, 1), TODAY)),
        ("last_year", (date(2025, 1, 1), date(2025, 12, 31))),
    ],
)
def test_presets_end_today_in_local_dates(preset, expected):
    period = rates_period({"preset": preset}, today=TODAY)
    assert (period.date_from, period.date_to, period.preset, period.error) == (
        *expected,
        preset,
        "",
    )


def test_explicit_dates_win_over_a_preset():
    period = rates_period({"preset": "month", "from": "2024-01-01", "to": "2024-03-31"}, TODAY)
    assert (period.date_from, period.date_to, period.preset) == (
        date(2024, 1, 1),
        date(2024, 3, 31),
        "",
    )
    # exactly three years is allowed, one day more is not
    assert not rates_period({"from": "2023-05-20", "to": "2026-05-19"}, TODAY).error
    assert rates_period({"from": "2023-05-20", "to": "2026-05-20"}, TODAY).error


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-03-01", "to": "2026-01-01"}, "开始日期不能晚于结束日期"),
        ({"from": "yesterday", "to": "2026-01-01"}, "日期格式不对"),
        ({"from": "2026-02-30"}, "日期格式不对"),
        ({"from": "2016-01-01", "to": "2026-01-01"}, "时间段最长三年"),
        ({"from": "2026-05-01", "to": "2026-06-01"}, "结束日期不能晚于今天"),
        ({"preset": "decade"}, "没有这个时间段"),
    ],
)
def test_wrong_input_gives_the_recent_window_and_says_why(params, message):
    period = rates_period(params, today=TODAY)
    assert message in period.error
    assert (period.date_from, period.date_to) == (TODAY - timedelta(days=365), TODAY)


def test_a_preset_and_explicit_dates_change_the_figures(two_periods, alice, login, tree):
    today, recent = two_periods
    client = login(alice)
    url = f"/needs/rates/{tree.community_a.code}/"
    assert total(client.get(url, HTTP_HX_REQUEST="true").content.decode()) == recent
    assert total(client.get(url, {"preset": "month"}).content.decode()) == "1"
    html = client.get(url, {"preset": "last_year"}, HTTP_HX_REQUEST="true").content.decode()
    assert total(html) == "2"
    assert f"{today.year - 1}年1月1日—{today.year - 1}年12月31日" in html
    assert 'aria-current="true">去年</a>' in html
    # explicit dates win over the preset: only the first of the two June needs
    june = {"from": f"{today.year - 1}-06-01", "to": f"{today.year - 1}-06-15"}
    html = client.get(url, {"preset": "month", **june}).content.decode()
    assert total(html) == "1"
    assert f"{today.year - 1}年6月1日—{today.year - 1}年6月15日" in html
    assert f'value="{today.year - 1}-06-01"' in html  # the fields keep the period


def test_the_panel_answers_htmx_with_the_panel_and_a_browser_with_a_page(alice, login, tree):
    client = login(alice)
    url = f"/needs/rates/{tree.community_a.code}/"
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<section class="hy-section" id="need-rates"')
    assert f'hx-get="{url}?preset=quarter"' in fragment and 'hx-swap="outerHTML"' in fragment
    assert f'href="{url}?preset=quarter"' in fragment  # works without JavaScript
    assert f'<form class="d-flex flex-wrap align-items-end gap-2" method="get" action="{url}"' in (
        fragment
    )
    page = client.get(url).content.decode()
    assert "<html" in page and 'id="need-rates"' in page
    assert "<script>" not in fragment and "style=" not in fragment  # the CSP


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-03-01", "to": "2026-01-01"},
        {"from": "not-a-day", "to": "garbage"},
        {"from": "2015-01-01", "to": "2025-01-01"},
    ],
)
def test_wrong_input_shows_the_message_and_the_default_window(
    two_periods, alice, login, tree, params
):
    today, recent = two_periods
    client = login(alice)
    r = client.get(f"/needs/rates/{tree.community_a.code}/", params, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-test="need-rates-error"' in html and 'role="alert"' in html
    start = today - timedelta(days=365)
    assert f"{start.year}年{start.month}月{start.day}日—" in html
    assert total(html) == recent
    assert f'value="{params["from"]}"' in html  # as typed, to correct it


def test_outsider_gets_404_and_anonymous_is_sent_to_log_in(alice, bob, charlie, login, tree):
    for code in (tree.street_a.code, tree.community_a.code):
        url = f"/needs/rates/{code}/"
        assert login(charlie).get(url, {"preset": "year"}).status_code == 404
        assert login(charlie).get(url, {"from": "2026-01-01"}).status_code == 404
    assert login(bob).get(f"/needs/rates/{tree.community_a.code}/").status_code == 200
    r = Client().get(f"/needs/rates/{tree.community_a.code}/", {"preset": "year"})
    assert r.status_code == 302 and "login" in r["Location"]
