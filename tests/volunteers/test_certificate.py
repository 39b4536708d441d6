"""The certificate: free, audited, an A4 PDF by Chromium carrying its code, checked by
anyone on /certificates/verify/{code}; a forged code is clearly not valid."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from hongyan.core.models import AuditEntry
from hongyan.volunteers import services
from hongyan.volunteers.models import Certificate

from .conftest import happening_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(publish, resident, leader_user):
    """王芳 served 2 hours, approved."""
    service = publish()
    services.service_signup(actor=resident, service=service)
    service = happening_now(service, started_minutes_ago=150)
    volunteer = services.volunteer_of(resident)
    start = service.starts_at
    services.service_checkin(actor=leader_user, service=service, volunteer=volunteer, at=start)
    services.service_checkout(
        actor=leader_user, service=service, volunteer=volunteer, at=start + timedelta(hours=2)
    )
    services.service_approve(actor=leader_user, service=service)
    return volunteer


def _title(pdf: bytes) -> str:
    raw = re.search(rb"/Title <FEFF([0-9A-F]+)>", pdf).group(1)
    return bytes.fromhex(raw.decode()).decode("utf-16-be")


def test_certificate_issued_free_audited_and_verified(api, resident, served, login, charlie):
    r = api(resident).post(f"/api/v1/people/{served.pk}/certificates")
    assert r.status_code == 201, r.content
    body = r.json()
    code = body["code"]
    assert body["hours"] == 2.0 and body["deeds"] == 1 and body["star"] == 0
    assert body["verify_url"].endswith(f"/certificates/verify/{code}")
    assert AuditEntry.objects.filter(action="volunteer.certificate.issue").count() == 1

    page = Client().get(f"/certificates/verify/{code}")  # no account
    assert page.status_code == 200
    text = page.content.decode()
    assert "证明有效" in text and "王芳" in text and "2.00" in text
    assert "恩和路社区" in text and "1号楼" not in text  # the community, not her building

    forged = Client().get("/certificates/verify/ABCD-EFGH-JKLM")
    assert forged.status_code == 404
    assert "无效的核验码" in forged.content.decode() and "王芳" not in forged.content.decode()

    # the outsider may not have one issued for her
    assert api(charlie).post(f"/api/v1/people/{served.pk}/certificates").status_code == 404


@pytest.mark.e2e
def test_certificate_pdf_is_a4_and_carries_the_code(resident, served, login, charlie):
    certificate = services.certificate_issue(actor=resident, volunteer=served)
    r = login(resident).get(f"/volunteers/certificates/{certificate.code}.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    pdf = r.content
    assert pdf.startswith(b"%PDF")
    assert certificate.code in _title(pdf)
    box = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf).groups()
    width, height = (float(x) for x in box)
    assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2  # A4 in points
    assert b"NotoSerifCJK" in pdf or b"NotoSansCJK" in pdf  # the CJK font is embedded
    assert login(charlie).get(f"/volunteers/certificates/{certificate.code}.pdf").status_code == 404


def test_no_certificate_without_approved_hours(api, resident, publish):
    volunteer = services.volunteer_join(actor=resident)
    r = api(resident).post(f"/api/v1/people/{volunteer.pk}/certificates")
    assert r.status_code == 409 and r.json()["code"] == "no_record"
    assert not Certificate.objects.exists()
