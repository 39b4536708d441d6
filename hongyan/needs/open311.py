"""Open311 GeoReport v2 at /open311/v2/ (http://wiki.open311.org/GeoReport_v2).

Our need categories are its services (service_code = category code); a need is a service
request (service_request_id = the need's reference number). Our states map to the
spec's two: open while someone still has to act, closed once resolved, rejected or
merged — the detail goes in `status_notes`. Every answer comes in XML or JSON by the
suffix (`requests.json`, `requests.xml`; none means XML, as the spec's default), and
errors use the spec's list of {code, description}.

Reading and writing requests needs an `api_key` (`hongyan manage open311_key --name N`):
requests carry what residents wrote about their homes, so they are not an open feed
(个人信息保护法); discovery and the service list are public."""

import json
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from hongyan.core.errors import DomainError
from hongyan.open311.models import Open311Key
from hongyan.orgs.models import COMMUNITY_KINDS, PLACE_KINDS, Unit

from . import services as need_services
from .models import OPEN_STATUSES, Channel, Need, NeedCategory, Status

SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_REQUESTS = 1000
DEFAULT_WINDOW_DAYS = 90
CONTACT = "乌兰察布市党建引领基层治理平台（鸿雁） / Hongyan, Ulanqab"


# our field names → the spec's, so an error names what the client sent
SPEC_FIELDS = {
    "text": "description",
    "resident_mobile": "phone",
    "resident_name": "first_name",
    "address": "address_string",
    "unit": "address_id",
    "category": "service_code",
    "photos": "media_url",
}


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


# --- rendering -------------------------------------------------------------------------


def _xml_value(parent, key, value):
    child = ET.SubElement(parent, key)
    if isinstance(value, list):
        item_tag = {
            "formats": "format",
            "endpoints": "endpoint",
            "attributes": "attribute",
            "values": "value",
            "keywords": "keyword",
        }.get(key, "item")
        for item in value:
            _xml_value(child, item_tag, item)
    elif isinstance(value, dict):
        for k, v in value.items():
            _xml_value(child, k, v)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    elif value is not None:
        child.text = str(value)


def render(fmt: str, data, root: str, item: str | None = None, status: int = 200):
    """`data` is a dict (one root element) or a list (root of `item` elements)."""
    if fmt == "json":
        return HttpResponse(
            json.dumps(data, ensure_ascii=False),
            status=status,
            content_type="application/json; charset=utf-8",
        )
    top = ET.Element(root)
    if isinstance(data, list):
        for row in data:
            element = ET.SubElement(top, item)
            for k, v in row.items():
                _xml_value(element, k, v)
    else:
        for k, v in data.items():
            _xml_value(top, k, v)
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def error(fmt: str, status: int, description: str):
    return render(fmt, [{"code": status, "description": description}], "errors", "error", status)


def endpoint(view):
    """Resolve the format, turn Open311Error (and DomainError) into the spec's errors."""

    def wrapper(request, *args, fmt=None, **kwargs):
        fmt = fmt or "xml"
        try:
            return view(request, fmt, *args, **kwargs)
        except Open311Error as exc:
            return error(fmt, exc.status, exc.description)
        except DomainError as exc:
            field = f"{SPEC_FIELDS.get(exc.field, exc.field)}: " if exc.field else ""
            status = 400 if exc.status in (400, 422) else exc.status
            return error(fmt, status, field + exc.message)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _w3c(moment: datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def _parse_w3c(raw: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(
            400, f"{name}: not a W3C date-time (e.g. 2026-10-01T00:00:00+08:00)"
        ) from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _key(request) -> Open311Key:
    raw = (request.POST.get("api_key") if request.method == "POST" else None) or request.GET.get(
        "api_key", ""
    )
    key = Open311Key.find(raw.strip())
    if key is None:
        raise Open311Error(403, "api_key: missing, unknown or revoked")
    Open311Key.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key


# --- services --------------------------------------------------------------------------


def categories():
    """The active categories: the default list, with any city's own of the same code
    taking its place (one list per installation: one city)."""
    chosen: dict[str, NeedCategory] = {}
    for category in NeedCategory.objects.filter(active=True).order_by("city_id", "position"):
        if category.city_id is not None or category.code not in chosen:
            chosen[category.code] = category
    return sorted(chosen.values(), key=lambda c: (c.position, c.code))


def _service(category: NeedCategory) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": False,
        "type": "realtime",
        "keywords": category.deadline_label,
        "group": "居民需求",
    }


@require_GET
@endpoint
def discovery(request, fmt):
    base = request.build_absolute_uri(reverse("open311:discovery").rsplit("/", 1)[0] + "/")
    data = {
        "changeset": "2026-11-27T00:00:00+08:00",
        "contact": CONTACT,
        "key_service": "hongyan manage open311_key --name NAME",
        "endpoints": [
            {
                "specification": SPEC,
                "url": base,
                "changeset": "2026-11-27T00:00:00+08:00",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(fmt, data, "discovery")


@require_GET
@endpoint
def services(request, fmt):
    return render(fmt, [_service(c) for c in categories()], "services", "service")


@require_GET
@endpoint
def service_definition(request, fmt, code):
    category = next((c for c in categories() if c.code == code), None)
    if category is None:
        raise Open311Error(404, f"service_code: no service {code}")
    return render(fmt, {"service_code": category.code, "attributes": []}, "service_definition")


# --- requests --------------------------------------------------------------------------


def _status(need: Need) -> str:
    return "open" if need.status in OPEN_STATUSES else "closed"


def _notes(need: Need) -> str:
    notes = [str(need.get_status_display())]
    if need.status == Status.REJECTED and need.reject_reason:
        notes.append(need.reject_reason)
    elif need.status == Status.MERGED and need.merged_into_id:
        notes.append(f"→ {need.merged_into.reference}")
    elif need.status in (Status.RESOLVED, Status.CLOSED) and need.resolution:
        notes.append(need.resolution)
    return "：".join(notes)[:500]


def _request_row(need: Need) -> dict:
    unit = need.unit
    lat = float(unit.latitude) if unit.latitude is not None else None
    lon = float(unit.longitude) if unit.longitude is not None else None
    return {
        "service_request_id": need.reference,
        "status": _status(need),
        "status_notes": _notes(need),
        "service_name": need.category.name,
        "service_code": need.category.code,
        "description": need.text,
        "agency_responsible": need.owner.name,
        "service_notice": f"{need.category.deadline_label}内办结",
        "requested_datetime": _w3c(need.created_at),
        "updated_datetime": _w3c(need.updated_at),
        "expected_datetime": _w3c(need.deadline),
        "address": " ".join(x for x in (unit.name, need.address) if x),
        "address_id": unit.code,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": None,
    }


def _needs():
    return Need.objects.select_related("category", "unit", "owner", "merged_into")


@csrf_exempt
@require_http_methods(["GET", "POST"])
@endpoint
def requests(request, fmt):
    _key(request)
    if request.method == "POST":
        return _create(request, fmt)
    params = request.GET
    rows = _needs()
    ids = [i.strip() for i in params.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        rows = rows.filter(reference__in=ids[:MAX_REQUESTS])
    else:
        if params.get("service_code"):
            codes = [c.strip() for c in params["service_code"].split(",") if c.strip()]
            rows = rows.filter(category__code__in=codes)
        end = _parse_w3c(params["end_date"], "end_date") if params.get("end_date") else None
        start = _parse_w3c(params["start_date"], "start_date") if params.get("start_date") else None
        if start is None and end is None:
            start = timezone.now() - timedelta(days=DEFAULT_WINDOW_DAYS)
        if start:
            rows = rows.filter(created_at__gte=start)
        if end:
            rows = rows.filter(created_at__lte=end)
        if params.get("status"):
            wanted = {s.strip() for s in params["status"].split(",")}
            if not wanted <= {"open", "closed"}:
                raise Open311Error(400, "status: use open, closed or open,closed")
            if wanted == {"open"}:
                rows = rows.filter(status__in=OPEN_STATUSES)
            elif wanted == {"closed"}:
                rows = rows.exclude(status__in=OPEN_STATUSES)
    rows = rows.order_by("-created_at", "-pk")[:MAX_REQUESTS]
    return render(fmt, [_request_row(n) for n in rows], "service_requests", "request")


def _unit_for(post, key: Open311Key) -> tuple[Unit, str]:
    address = post.get("address_string", "").strip()[:200]
    if post.get("address_id"):
        unit = Unit.objects.filter(code=post["address_id"].strip()).first()
        if unit is None or unit.kind not in COMMUNITY_KINDS + PLACE_KINDS:
            raise Open311Error(400, "address_id: not a community, compound, grid or building code")
        return unit, address
    if post.get("lat") or post.get("long"):
        raise Open311Error(
            400, "lat/long: not matched to a place here; send address_id (a compound code)"
        )
    if address and key.unit is not None:
        return key.unit, address
    raise Open311Error(
        400,
        "address_id: required (a compound code), or address_string for a key with a default unit",
    )


def _create(request, fmt):
    key = _key(request)
    post = request.POST
    code = post.get("service_code", "").strip()
    category = next((c for c in categories() if c.code == code), None)
    if category is None:
        raise Open311Error(400, "service_code: missing or unknown")
    unit, address = _unit_for(post, key)
    name = " ".join(
        x for x in (post.get("last_name", "").strip(), post.get("first_name", "").strip()) if x
    )
    with transaction.atomic():
        need = need_services.need_file(
            actor=None,
            channel=Channel.OPEN311,
            category=category,
            unit=unit,
            text=post.get("description", ""),
            resident_name=name or "Open311",
            resident_mobile=post.get("phone", "").strip(),
            address=address,
            source_ref=f"open311:{key.name}"[:60],
        )
    row = {
        "service_request_id": need.reference,
        "token": need.follow_token,
        "service_notice": f"{category.deadline_label}内办结",
        "account_id": None,
    }
    return render(fmt, [row], "service_requests", "request")


@require_GET
@endpoint
def request_detail(request, fmt, request_id):
    _key(request)
    need = _needs().filter(reference=request_id).first()
    if need is None:
        raise Open311Error(404, f"service_request_id: no request {request_id}")
    return render(fmt, [_request_row(need)], "service_requests", "request")


@require_GET
@endpoint
def token_detail(request, fmt, token):
    _key(request)
    need = need_services.need_by_follow_token(token)
    if need is None:
        raise Open311Error(404, "token: unknown")
    return render(
        fmt, [{"service_request_id": need.reference, "token": token}], "service_requests", "request"
    )
