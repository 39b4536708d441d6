"""The deadline endpoint and the city admin's calendar page and API."""

from datetime import date

import pytest

from hongyan.core.models import AuditEntry
from hongyan.core.roles import Role
from hongyan.workdays import calendar
from hongyan.workdays.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db

CITY = "1509"


@pytest.fixture
def city_admin(make_user):
    return make_user(Role.CITY_ADMIN, CITY, username="city")


def test_add_endpoint_national_day(api, bob):
    r = api(bob).get("/api/v1/workdays/add", {"start": "2026-09-30", "days": 3})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["due"] == "2026-10-10T23:59:59+08:00"
    assert body["due_date"] == "2026-10-10"
    assert body["fallback_years"] == []


def test_add_endpoint_reports_a_year_without_data(api, bob):
    r = api(bob).get("/api/v1/workdays/add", {"start": "2031-12-30T10:00:00+08:00", "days": 5})
    assert r.status_code == 200
    assert r.json()["fallback_years"] == [2031, 2032]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "30/09/2026", "days": 3}, "start"),
        ({"start": "2026-09-30", "days": -1}, "days"),
        ({"start": "2026-09-30", "days": "three"}, "days"),
        ({"days": 3}, "start"),
        ({"start": "9999-12-31", "days": 5}, "start"),
        ({"start": "0001-01-01", "days": 1}, "start"),
    ],
)
def test_add_endpoint_bad_input_names_the_field(api, bob, params, field):
    r = api(bob).get("/api/v1/workdays/add", params)
    assert r.status_code == 422
    assert r.json()["field"] == field


def test_add_endpoint_needs_an_account(api):
    assert (
        api(None).get("/api/v1/workdays/add", {"start": "2026-09-30", "days": 3}).status_code == 401
    )


def test_city_admin_sets_a_later_year_through_the_api(api, city_admin):
    client = api(city_admin)
    r = client.client.put(
        "/api/v1/workdays/days/2031-01-01",
        '{"kind": "holiday", "name": "元旦"}',
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert not calendar.is_working_day(date(2031, 1, 1))
    assert CalendarYear.objects.filter(year=2031, source="admin").exists()
    assert AuditEntry.objects.filter(action="workday.set").exists()
    year = client.get("/api/v1/workdays/years/2031").json()
    assert year["known"] is True and year["days"][0]["name"] == "元旦"
    assert client.client.delete("/api/v1/workdays/days/2031-01-01").status_code == 204
    assert calendar.is_working_day(date(2031, 1, 1))


def test_a_weekday_cannot_be_a_make_up_workday(api, city_admin):
    r = api(city_admin).client.put(
        "/api/v1/workdays/days/2031-01-01", '{"kind": "workday"}', content_type="application/json"
    )
    assert r.status_code == 422 and r.json()["field"] == "kind"


def test_only_a_city_admin_edits(api, alice):
    r = api(alice).client.put(
        "/api/v1/workdays/days/2031-01-01", '{"kind": "holiday"}', content_type="application/json"
    )
    assert r.status_code == 403
    assert not CalendarDay.objects.filter(date=date(2031, 1, 1)).exists()


def test_page_shows_the_year_and_warns_about_missing_years(login, city_admin, settings):
    client = login(city_admin)
    r = client.get("/workdays/?year=2026")
    html = r.content.decode()
    assert r.status_code == 200
    assert "国庆节" in html and "2026-10-10" in html
    # this year (2026) is known, next year is not yet in the package: the admin is warned
    assert 'data-test="missing-years"' in html and "2027" in html
    r = client.get("/workdays/?year=2031")
    assert 'data-test="year-unknown"' in r.content.decode()


def test_page_adds_and_removes_a_day(login, city_admin):
    client = login(city_admin)
    r = client.post("/workdays/", {"date": "2027-10-01", "kind": "holiday", "name": "国庆节"})
    assert r.status_code == 302 and r["Location"].endswith("?year=2027")
    assert not calendar.is_working_day(date(2027, 10, 1))
    r = client.post("/workdays/2027/clear/", {"date": "2027-10-01"})
    assert r.status_code == 302
    assert calendar.is_working_day(date(2027, 10, 1))


def test_page_keeps_the_form_on_a_refused_day(login, city_admin):
    r = login(city_admin).post("/workdays/", {"date": "2027-10-04", "kind": "workday", "name": "x"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "调休上班只用于周末" in html and 'value="x"' in html


def test_page_is_for_the_city_admin_only(login, alice, bob):
    assert login(alice).get("/workdays/").status_code == 403
    assert (
        login(bob).post("/workdays/", {"date": "2027-10-01", "kind": "holiday"}).status_code == 403
    )


def test_menu_shows_the_calendar_to_the_city_admin_only(login, city_admin, alice):
    assert "/workdays/" in login(city_admin).get("/").content.decode()
    assert "/workdays/" not in login(alice).get("/").content.decode()


@pytest.mark.parametrize("year", [0, 1999, 2101, 10000])
def test_a_year_out_of_range_is_named(api, bob, year):
    r = api(bob).get(f"/api/v1/workdays/years/{year}")
    assert r.status_code == 422 and r.json()["field"] == "year"
