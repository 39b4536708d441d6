"""Open311 GeoReport v2 at /open311/v2/: discovery, services, requests (GET with the
spec's filters, POST with an api_key), one request, tokens — in XML and JSON, with the
spec's error list; keys issued and revoked by `open311_key`."""

import io
import json
from xml.etree import ElementTree as ET

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from hongyan.needs import services
from hongyan.needs.models import Channel, Need, Status
from hongyan.open311.models import Open311Key

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"


@pytest.fixture
def key(tree):
    out = io.StringIO()
    call_command("open311_key", "--name", "12345热线", stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("o311_")
    return raw


def as_json(r):
    assert r["Content-Type"].startswith("application/json"), r["Content-Type"]
    return json.loads(r.content)


def as_xml(r):
    assert r["Content-Type"].startswith("text/xml"), r["Content-Type"]
    return ET.fromstring(r.content)


def test_key_is_stored_hashed_and_revocable(key):
    row = Open311Key.objects.get(name="12345热线")
    assert key not in row.key_hash and Open311Key.find(key) == row
    with pytest.raises(CommandError):
        call_command("open311_key", "--name", "12345热线", stdout=io.StringIO())
    call_command("open311_key", "--revoke", "12345热线", stdout=io.StringIO())
    assert Open311Key.find(key) is None
    r = Client().get(f"{BASE}/requests.json", {"api_key": key})
    assert r.status_code == 403 and as_json(r)[0]["code"] == 403
    with pytest.raises(CommandError):
        call_command("open311_key", "--revoke", "12345热线", stdout=io.StringIO())


def test_discovery_in_both_formats():
    data = as_json(Client().get(f"{BASE}/discovery.json"))
    endpoint = data["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert "application/json" in endpoint["formats"] and "text/xml" in endpoint["formats"]
    root = as_xml(Client().get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert root.find("endpoints/endpoint/specification").text.endswith("GeoReport_v2")


def test_services_are_our_categories():
    data = as_json(Client().get(f"{BASE}/services.json"))
    codes = {s["service_code"]: s for s in data}
    assert codes["public_facilities"]["service_name"] == "公共设施"
    assert codes["safety_hazard"]["type"] == "realtime"
    assert codes["public_facilities"]["metadata"] is False
    root = as_xml(Client().get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    names = [s.find("service_name").text for s in root.findall("service")]
    assert "环境卫生" in names
    assert root.find("service/metadata").text == "false"
    definition = as_json(Client().get(f"{BASE}/services/sanitation.json"))
    assert definition == {"service_code": "sanitation", "attributes": []}
    r = Client().get(f"{BASE}/services/nope.xml")
    assert r.status_code == 404
    assert as_xml(r).find("error/code").text == "404"


def test_post_a_request_then_read_it_back(tree, key):
    r = Client().post(
        f"{BASE}/requests.json",
        {
            "api_key": key,
            "service_code": "public_facilities",
            "address_id": tree.compound_a.code,
            "address_string": "3号楼2单元",
            "description": "楼道灯坏了",
            "first_name": "大妈",
            "last_name": "李",
            "phone": "13812345678",
        },
    )
    assert r.status_code == 200, r.content
    created = as_json(r)[0]
    need = Need.objects.get(reference=created["service_request_id"])
    assert need.channel == Channel.OPEN311 and need.unit == tree.compound_a
    assert need.resident_name == "李 大妈" and need.source_ref == "open311:12345热线"
    token = created["token"]
    assert created["service_notice"]
    # the token leads to the request id
    found = as_json(Client().get(f"{BASE}/tokens/{token}.json", {"api_key": key}))
    assert found == [{"service_request_id": need.reference, "token": token}]
    # read it back as JSON and XML
    row = as_json(Client().get(f"{BASE}/requests/{need.reference}.json", {"api_key": key}))[0]
    assert row["status"] == "open" and row["service_code"] == "public_facilities"
    assert row["description"] == "楼道灯坏了" and row["address_id"] == tree.compound_a.code
    assert "待受理" in row["status_notes"]
    assert "13812345678" not in json.dumps(row, ensure_ascii=False)  # no personal data out
    root = as_xml(Client().get(f"{BASE}/requests/{need.reference}.xml", {"api_key": key}))
    assert root.tag == "service_requests"
    assert root.find("request/service_request_id").text == need.reference
    assert root.find("request/status").text == "open"


def test_post_as_xml(tree, key):
    r = Client().post(
        f"{BASE}/requests.xml",
        {
            "api_key": key,
            "service_code": "sanitation",
            "address_id": tree.compound_a.code,
            "description": "垃圾没人清",
            "phone": "13812345678",
        },
    )
    root = as_xml(r)
    assert r.status_code == 200
    assert root.find("request/service_request_id").text.startswith("XQ")


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        ({"service_code": "nope"}, 400, "service_code"),
        (
            {"service_code": "sanitation", "address_id": None, "address_string": "某处"},
            400,
            "address_id",
        ),
        ({"service_code": "sanitation", "address_id": "150902"}, 400, "address_id"),
        ({"service_code": "sanitation", "description": ""}, 400, "description"),
        ({"service_code": "sanitation", "phone": "123"}, 400, "phone"),
    ],
)
def test_post_errors_in_the_spec_format(tree, key, data, status, words):
    payload = {
        "api_key": key,
        "address_id": tree.compound_a.code,
        "description": "楼道灯坏了",
        "phone": "13812345678",
        **data,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    r = Client().post(f"{BASE}/requests.json", payload)
    assert r.status_code == status
    body = as_json(r)
    assert body[0]["code"] == status and words in body[0]["description"]
    assert Need.objects.count() == 0
    r = Client().post(f"{BASE}/requests.xml", payload)
    assert as_xml(r).find("error/description").text


def test_requests_need_a_key(tree):
    r = Client().get(f"{BASE}/requests.json")
    assert r.status_code == 403 and "api_key" in as_json(r)[0]["description"]
    r = Client().post(f"{BASE}/requests.xml", {"api_key": "wrong", "service_code": "sanitation"})
    assert r.status_code == 403 and as_xml(r).tag == "errors"


def test_get_requests_with_the_spec_filters(tree, key, bob, file_need):
    lamp = file_need()
    rubbish = file_need(text="垃圾桶满了", category_code="sanitation")
    services.need_reject(actor=bob, need=rubbish, reason="已由物业处理，重复反映")
    client = Client()

    def refs(**params):
        rows = as_json(client.get(f"{BASE}/requests.json", {"api_key": key, **params}))
        return {r["service_request_id"]: r for r in rows}

    assert set(refs()) == {lamp.reference, rubbish.reference}
    assert set(refs(status="open")) == {lamp.reference}
    closed = refs(status="closed")
    assert set(closed) == {rubbish.reference}
    assert "不予受理" in closed[rubbish.reference]["status_notes"]
    assert "重复反映" in closed[rubbish.reference]["status_notes"]
    assert set(refs(service_code="sanitation")) == {rubbish.reference}
    assert set(refs(service_request_id=f"{lamp.reference},XQ0")) == {lamp.reference}
    assert refs(start_date="2099-01-01T00:00:00+08:00") == {}
    assert set(refs(end_date="2099-01-01T00:00:00Z")) == {lamp.reference, rubbish.reference}
    r = client.get(f"{BASE}/requests.json", {"api_key": key, "start_date": "yesterday"})
    assert r.status_code == 400 and "start_date" in as_json(r)[0]["description"]
    r = client.get(f"{BASE}/requests.json", {"api_key": key, "status": "pending"})
    assert r.status_code == 400
    root = as_xml(client.get(f"{BASE}/requests.xml", {"api_key": key, "status": "open"}))
    assert [e.text for e in root.findall("request/service_request_id")] == [lamp.reference]
    r = client.get(f"{BASE}/requests/XQ00000000.json", {"api_key": key})
    assert r.status_code == 404 and as_json(r)[0]["code"] == 404


def test_resolved_maps_to_closed_with_the_resolution(tree, key, bob, file_need):
    need = file_need()
    services.need_accept(actor=bob, need=need)
    services.need_claim(actor=bob, need=need)
    services.need_resolve(actor=bob, need=need, resolution="已更换灯泡")
    row = as_json(Client().get(f"{BASE}/requests/{need.reference}.json", {"api_key": key}))[0]
    assert row["status"] == "closed" and "已更换灯泡" in row["status_notes"]
    need.refresh_from_db()
    assert need.status == Status.RESOLVED


def test_a_key_with_a_home_unit_takes_a_typed_address(tree):
    out = io.StringIO()
    call_command("open311_key", "--name", "街道App", "--unit", tree.community_a.code, stdout=out)
    key = out.getvalue().strip()
    r = Client().post(
        f"{BASE}/requests.json",
        {
            "api_key": key,
            "service_code": "sanitation",
            "address_string": "恩和路88号院",
            "description": "垃圾没人清",
            "phone": "13812345678",
        },
    )
    assert r.status_code == 200, r.content
    need = Need.objects.get()
    assert need.unit == tree.community_a and need.address == "恩和路88号院"
    with pytest.raises(CommandError):
        call_command("open311_key", "--name", "x", "--unit", "999", stdout=io.StringIO())
