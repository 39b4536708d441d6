"""Imports run as jobs outside the request: progress the page polls, a real thread,
one commit at a time, interrupted jobs swept to "failed", the fast helpers equal to
core.pii."""

import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from hongyan.core import pii
from hongyan.members import bulk, importer, imports
from hongyan.members.models import ID_AAD, ID_PURPOSE, ImportBatch, Member

from .test_import import ENHE, sheet_rows, upload, xlsx_bytes

pytestmark = pytest.mark.django_db


def test_fast_helpers_give_what_core_pii_gives():
    encrypt, index = bulk.Encryptor(ID_AAD), bulk.Indexer(ID_PURPOSE)
    number = "150902196203101007"
    assert index.current(number) == pii.blind_index(number, ID_PURPOSE)
    assert index.every(number) == pii.blind_indexes(number, ID_PURPOSE)
    tokens = {encrypt(number) for _ in range(3)}
    assert len(tokens) == 3  # a fresh nonce each time
    assert {pii.decrypt(t, ID_AAD) for t in tokens} == {number}


def test_running_job_shows_progress_then_the_report(login, tree, bob, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.HONGYAN_IMPORT_INLINE = False  # started, but its thread never runs here
    client = login(bob)
    response = upload(client, xlsx_bytes(sheet_rows(60)), "名册.xlsx")
    batch = ImportBatch.objects.get()
    assert batch.state == "checking" and response.status_code == 302
    imports.Progress(batch)("check", 30, 60, force=True)
    page = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in page and "30 / 60 行（50%）" in page
    poll = client.get(reverse("members:import_progress"), {"batch": batch.pk})
    assert poll.status_code == 200 and 'value="30"' in poll.content.decode()
    # the job ends: the poll sends the page to the report
    imports.run_job(batch.pk, "check")
    batch.refresh_from_db()
    assert batch.state == "checked" and batch.summary["rows"] == 60
    done = client.get(reverse("members:import_progress"), {"batch": batch.pk})
    assert done.status_code == 204 and done["HX-Redirect"].endswith(f"?batch={batch.pk}")
    assert "确认导入" in client.get(done["HX-Redirect"]).content.decode()


def test_outsider_cannot_poll_a_job(login, tree, bob, charlie):
    upload(login(bob), xlsx_bytes(sheet_rows(2)), "名册.xlsx")
    batch = ImportBatch.objects.get()
    url = reverse("members:import_progress")
    assert login(charlie).get(url, {"batch": batch.pk}).status_code == 404
    assert login(charlie).get(url, {"batch": "x"}).status_code == 404


def test_commit_starts_once(login, tree, bob):
    client = login(bob)
    upload(client, xlsx_bytes(sheet_rows(5)), "名册.xlsx")
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(state="committing")
    batch.refresh_from_db()
    with pytest.raises(importer.ImportRefused):
        imports.commit_start(actor=bob, batch=batch)
    response = client.post(reverse("members:import_commit"), {"batch": batch.pk})
    assert response.status_code == 302 and Member.objects.count() == 0


def test_a_sheet_without_a_header_fails_with_its_reason(login, tree, bob):
    client = login(bob)
    response = upload(client, "甲,乙\n1,2\n".encode(), "名册.csv")
    batch = ImportBatch.objects.get()
    assert batch.state == "failed" and "找不到表头" in batch.error
    page = client.get(response["Location"]).content.decode()
    assert "找不到表头" in page and "确认导入" not in page


def test_interrupted_jobs_are_swept_to_failed(login, tree, bob, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.HONGYAN_IMPORT_INLINE = False
    upload(login(bob), xlsx_bytes(sheet_rows(3)), "名册.xlsx")
    upload(login(bob), xlsx_bytes(sheet_rows(3)), "名册2.xlsx")
    old, fresh = ImportBatch.objects.order_by("pk")
    long_ago = timezone.now() - timedelta(hours=1)
    ImportBatch.objects.filter(pk=old.pk).update(started_at=long_ago, created_at=long_ago)
    assert imports.sweep_jobs() == 1
    old.refresh_from_db(), fresh.refresh_from_db()
    assert old.state == "failed" and "中断" in old.error and fresh.state == "checking"
    assert imports.sweep_jobs() == 0


@pytest.mark.django_db(transaction=True)
def test_import_job_runs_in_a_thread(settings, tmp_path):
    """The real thing: the job's own thread and connection, checked then committed."""
    from hongyan.core.models import Grant, User
    from hongyan.core.roles import Role
    from hongyan.orgs.loader import load_divisions
    from hongyan.orgs.models import Unit

    load_divisions()
    settings.MEDIA_ROOT = tmp_path
    settings.HONGYAN_IMPORT_INLINE = False
    user = User.objects.create_user("job_worker", password="Job-worker-2026")
    unit = Unit.objects.get(code=ENHE)
    Grant.objects.create(user=user, role=Role.COMMUNITY_WORKER, unit=unit)

    def wait(batch):
        for thread in threading.enumerate():
            if thread.name == f"member-import-{batch.pk}":
                thread.join(timeout=60)
        batch.refresh_from_db()
        return batch

    data = xlsx_bytes(sheet_rows(40, compound="恩和花园"))
    batch = imports.upload_start(
        actor=user, unit=unit, upload=SimpleUploadedFile("名册.xlsx", data)
    )
    assert wait(batch).state == "checked" and batch.summary["create"] == 40
    imports.commit_start(actor=user, batch=batch)
    assert wait(batch).state == "committed" and batch.result["created"] == 40
    assert Member.objects.filter(compound__parent=unit).count() == 40
    assert not (tmp_path / "imports" / batch.stored).exists()
