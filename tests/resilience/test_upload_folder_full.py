"""Fault drill (issue 6, item 8c): the upload folder is full (a small tmpfs mounted
over MEDIA_ROOT, filled up) → uploading a member register gives a clean error, leaves
nothing half-written (no batch, no audit row, no partial file), and reads keep working."""

import os
import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hongyan.core.models import AuditEntry
from hongyan.members.models import ImportBatch

from .drills import cannot_drill

SHEET = Path(__file__).parents[1] / "members" / "fixtures" / "党员花名册-恩和路社区.xlsx"
pytestmark = pytest.mark.django_db


@pytest.fixture
def full_uploads(tmp_path, settings):
    """MEDIA_ROOT on a 64 KiB tmpfs with 4 KiB left: a real ENOSPC, half-way through a write."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    if os.geteuid() != 0:
        cannot_drill("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        cannot_drill(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        stat = os.statvfs(folder)
        room = stat.f_bavail * stat.f_frsize
        (folder / "filler").write_bytes(b"\0" * (room - 4096))  # one 4 KiB block left
        assert os.statvfs(folder).f_bavail * stat.f_frsize == 4096
        settings.MEDIA_ROOT = folder
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def files_in(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_upload_into_a_full_folder_fails_cleanly(full_uploads, login, api, bob, tree):
    assert SHEET.stat().st_size > 4096  # bigger than the room left
    client = login(bob)
    batches, audits = ImportBatch.objects.count(), AuditEntry.objects.count()
    upload = SimpleUploadedFile(
        SHEET.name,
        SHEET.read_bytes(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response = client.post(
        reverse("members:import"), {"file": upload, "unit": tree.community_a.code}
    )
    assert response.status_code < 500 or response.status_code == 507, response.status_code
    text = response.content.decode()
    assert "存储空间已满" in text and "没有保存" in text

    # nothing half-written: no batch, no audit row, no partial file in the folder
    assert ImportBatch.objects.count() == batches
    assert AuditEntry.objects.count() == audits
    assert files_in(full_uploads) == {"filler"}, files_in(full_uploads)

    # reads keep working, on the pages and the API
    assert client.get(reverse("members:list")).status_code == 200
    assert client.get(reverse("members:import")).status_code == 200
    assert api(bob).get("/api/v1/members").status_code == 200
