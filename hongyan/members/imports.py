"""Import batches (upload → dry run → commit) and exports, for the pages.

An uploaded sheet holds plaintext ID numbers, so it is kept only encrypted (SM4-GCM)
between the dry run and the commit, deleted on commit, and swept after a day."""

import hashlib
import json
import logging
import os
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import OperationalError, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hongyan.core import audit, pii
from hongyan.core.scope import scope

from . import excel, importer, selectors
from .models import ImportBatch, Member

logger = logging.getLogger(__name__)
UPLOAD_AAD = "members.ImportBatch.file"
KEEP_UPLOADS = timedelta(days=1)


def _folder() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _read_upload(upload) -> bytes:
    if upload.size > importer.MAX_BYTES:
        raise importer.FileRefused(
            _("文件有 %(size).1f MB，超过了 %(max)d MB 的上限：请按社区分成几个文件导入。")
            % {"size": upload.size / 1024 / 1024, "max": importer.MAX_BYTES // 1024 // 1024}
        )
    return upload.read()


def _problems(plan) -> list:
    return [[p.row, p.column, p.message, p.level] for p in plan.problems]


# --- import jobs --------------------------------------------------------------------------
#
# Checking and committing a sheet of 100,000 rows takes longer than a request should, so
# each runs as a job: the page starts it and polls its progress (htmx). The job runs in
# a thread of the web process that took the request (`launch`), not in `hongyan worker`:
# an import must make progress under a plain `hongyan quickstart` / `hongyan serve`,
# where no worker may be running, and a thread needs nothing else installed. What a
# thread cannot promise is to survive its process (a restart, gunicorn recycling a
# worker): then the job stops where it was, its transaction is rolled back by the
# database (all or nothing), its progress file stops changing, and the worker's
# `member_import_jobs` sweep — or, without a worker, the page itself — reports it as
# interrupted after STALE_AFTER. A job touches its progress file at least every few
# seconds, so STALE_AFTER is generous.
#
# Progress lives in a small file beside the stored upload, not in the database: during
# the commit SQLite admits no second writer until the import's transaction ends.

STALE_AFTER = timedelta(minutes=10)
PROGRESS_EVERY = 0.5  # seconds between writes of the progress file


def _progress_path(batch: ImportBatch) -> Path:
    return _folder() / f"{batch.stored or batch.pk}.progress"


class Progress:
    """progress(phase, done, total): written atomically, at most twice a second."""

    def __init__(self, batch: ImportBatch):
        self.path = _progress_path(batch)
        self.last = 0.0

    def __call__(self, phase: str, done: int, total: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_EVERY:
            return
        self.last = now
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"phase": phase, "done": done, "total": total}))
        os.replace(tmp, self.path)

    def phase(self, phase: str):
        return lambda done, total: self(phase, done, total)


def progress_of(batch: ImportBatch) -> dict:
    """{"phase", "done", "total", "stale"} of a running job (for the page)."""
    path = _progress_path(batch)
    try:
        info = json.loads(path.read_text())
        touched = path.stat().st_mtime
    except (OSError, ValueError):
        info, touched = {}, None
    started = batch.started_at or batch.created_at
    last = max(touched or 0, started.timestamp())
    info.setdefault("phase", "read")
    info.setdefault("done", 0)
    info.setdefault("total", 0)
    info["stale"] = time.time() - last > STALE_AFTER.total_seconds()
    info["percent"] = round(100 * info["done"] / info["total"]) if info["total"] else 0
    return info


def _fail(batch_id: int, message: str) -> None:
    ImportBatch.objects.filter(
        pk=batch_id, state__in=(ImportBatch.State.CHECKING, ImportBatch.State.COMMITTING)
    ).update(state=ImportBatch.State.FAILED, error=message[:300])


def _check_job(batch: ImportBatch, progress: Progress) -> None:
    plan = importer.check_file(
        _stored_bytes(batch),
        batch.filename,
        actor=batch.actor,
        unit=batch.unit,
        progress=progress.phase("check"),
    )
    with transaction.atomic():
        ImportBatch.objects.filter(pk=batch.pk, state=ImportBatch.State.CHECKING).update(
            state=ImportBatch.State.CHECKED,
            kind=plan.kind,
            summary=plan.summary(),
            problems=_problems(plan),
        )
        audit.record(
            "member.import_check",
            actor=batch.actor,
            obj=batch,
            unit=batch.unit,
            detail={"file": batch.filename, "sha256": plan.sha256, **plan.summary()},
        )


def _commit_job(batch: ImportBatch, progress: Progress) -> None:
    """Import the stored sheet: every row is checked again (the register may have
    changed since the dry run) as it is written; any error and nothing is."""
    with transaction.atomic():
        # still ours (a sweep may have given up on it): lock it until the import is in
        if not ImportBatch.objects.select_for_update().filter(
            pk=batch.pk, state=ImportBatch.State.COMMITTING
        ):
            raise importer.ImportRefused(_("这次导入已被中止。"))
        plan, result = importer.import_file(
            _stored_bytes(batch),
            batch.filename,
            actor=batch.actor,
            unit=batch.unit,
            progress=progress.phase("commit"),
        )
        if result is None:
            ImportBatch.objects.filter(pk=batch.pk).update(
                state=ImportBatch.State.CHECKED,
                summary=plan.summary(),
                problems=_problems(plan),
                error=_("重新检查时发现 %(n)d 处错误，整份文件都没有导入。")
                % {"n": plan.error_count},
            )
            return
        ImportBatch.objects.filter(pk=batch.pk).update(
            state=ImportBatch.State.COMMITTED,
            result=result,
            error="",
            committed_at=timezone.now(),
        )
    (_folder() / batch.stored).unlink(missing_ok=True)


JOBS = {"check": _check_job, "commit": _commit_job}


def run_job(batch_id: int, phase: str) -> None:
    """Run one job to its end; any failure is recorded on the batch, never raised."""
    batch = ImportBatch.objects.select_related("actor", "unit").get(pk=batch_id)
    progress = Progress(batch)
    try:
        progress("read", 0, 0, force=True)
        JOBS[phase](batch, progress)
    except (importer.FileRefused, importer.ImportRefused, pii.DecryptionError) as exc:
        _fail(batch_id, str(exc))
    except Exception:  # a bug or a lost database: say so on the page, keep the trace
        logger.exception("member import job %s (%s) failed", batch_id, phase)
        _fail(batch_id, _("导入时出现内部错误，没有写入任何数据。请稍后重试或联系管理员。"))
    finally:
        _progress_path(batch).unlink(missing_ok=True)


def _thread_main(batch_id: int, phase: str, language: str) -> None:
    translation.activate(language)
    try:
        run_job(batch_id, phase)
    finally:
        connections.close_all()  # this thread's own connections


def launch(batch: ImportBatch, phase: str) -> None:
    """Start the job once the request's transaction has committed (so the thread sees
    the batch). HONGYAN_IMPORT_INLINE runs it within the request instead (the tests'
    single transaction; a deployment that prefers it)."""
    if getattr(settings, "HONGYAN_IMPORT_INLINE", False):
        run_job(batch.pk, phase)
        return
    language = translation.get_language() or settings.LANGUAGE_CODE

    def start():
        threading.Thread(
            target=_thread_main,
            args=(batch.pk, phase, language),
            name=f"member-import-{batch.pk}",
            daemon=True,
        ).start()

    transaction.on_commit(start)


def upload_start(*, actor, unit, upload) -> ImportBatch:
    """Store an uploaded sheet for `unit` (access-checked by the caller) and start its
    dry run. A file that is plainly no spreadsheet is refused at once (FileRefused)."""
    data = _read_upload(upload)
    filename = os.path.basename(upload.name or "upload")[:200]
    kind = importer.precheck(data, filename)
    stored = f"{uuid.uuid4().hex}.bin"
    path = _folder() / stored
    try:
        path.write_bytes(pii.encrypt_bytes(data, UPLOAD_AAD))
    except OSError:  # e.g. the disk is full: leave no half-written upload behind
        path.unlink(missing_ok=True)
        raise
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            actor=actor,
            unit=unit,
            filename=filename,
            kind=kind,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            stored=stored,
            state=ImportBatch.State.CHECKING,
            started_at=timezone.now(),
        )
        launch(batch, "check")
    return batch


def _stored_bytes(batch: ImportBatch) -> bytes:
    path = _folder() / batch.stored
    if not batch.stored or not path.exists():
        raise importer.FileRefused(_("上传的文件已过期，请重新上传。"))
    return pii.decrypt_bytes(path.read_bytes(), UPLOAD_AAD)


def commit_start(*, actor, batch: ImportBatch) -> None:
    """Start importing a checked batch (once: a second click finds it running)."""
    if batch.state == ImportBatch.State.COMMITTED:
        raise importer.ImportRefused(_("这个文件已经导入过了。"))
    if batch.running:
        raise importer.ImportRefused(_("这个文件正在处理，请稍候。"))
    if not batch.ok:
        raise importer.ImportRefused(
            _("还有 %(n)d 处错误，整份文件都没有导入。") % {"n": batch.summary.get("errors", 0)}
        )
    if not batch.stored or not (_folder() / batch.stored).exists():
        raise importer.FileRefused(_("上传的文件已过期，请重新上传。"))
    with transaction.atomic():
        started = ImportBatch.objects.filter(
            pk=batch.pk, state__in=(ImportBatch.State.CHECKED, ImportBatch.State.FAILED)
        ).update(state=ImportBatch.State.COMMITTING, error="", started_at=timezone.now())
        if not started:
            raise importer.ImportRefused(_("这个文件正在处理，请稍候。"))
        launch(batch, "commit")


def sweep_jobs() -> int:
    """Jobs whose thread died with its process (no progress for STALE_AFTER) → failed.
    Their transaction never committed, so nothing of them is in the register."""
    done = 0
    running = ImportBatch.objects.filter(
        state__in=(ImportBatch.State.CHECKING, ImportBatch.State.COMMITTING)
    )
    for batch in running:
        if not progress_of(batch)["stale"]:
            continue
        try:
            _fail(batch.pk, _("导入中断（服务器重启或进程退出），没有写入任何数据，请重新开始。"))
        except OperationalError:  # SQLite: an import holds the write lock: it is alive
            continue
        done += 1
    return done


def report_xlsx(batch: ImportBatch) -> bytes:
    plan = importer.Plan(
        filename=batch.filename, sha256=batch.sha256, kind=batch.kind, unit=batch.unit
    )
    plan.problems = [importer.Problem(*p) for p in batch.problems]
    plan.error_count = batch.summary.get("errors", 0)
    plan.notice_count = batch.summary.get("notices", 0)
    plan.total_rows = batch.summary.get("rows", 0)
    return excel.report(plan)


def sweep_uploads() -> int:
    """Delete stored uploads older than a day (committed or abandoned)."""
    cutoff = timezone.now() - KEEP_UPLOADS
    done = 0
    old = ImportBatch.objects.filter(created_at__lt=cutoff).exclude(stored="")
    for batch in old.exclude(state__in=(ImportBatch.State.CHECKING, ImportBatch.State.COMMITTING)):
        (_folder() / batch.stored).unlink(missing_ok=True)
        ImportBatch.objects.filter(pk=batch.pk).update(stored="")
        done += 1
    return done


def _loggable(filters: dict) -> dict:
    """Filters for the audit log, with a searched ID number or mobile masked."""
    out = {k: v for k, v in filters.items() if v}
    q = out.get("q", "")
    if sum(ch.isdigit() for ch in q) >= 7:
        out["q"] = pii.mask_id_number(q) if len(q) > 11 else pii.mask_mobile(q)
    return out


def export_xlsx(*, actor, unit=None, **filters) -> tuple[bytes, int, str]:
    """The members the actor may export (in `unit`, filtered), masked, audited."""
    members = selectors.member_list(actor, unit=unit, **filters)
    members = members.filter(pk__in=scope(Member.objects.all(), actor, action="member.export"))
    label = unit.short_name if unit else (actor.display_name or actor.username)
    who = f"{actor.display_name or actor.username}（{actor.username}）"
    data, count = excel.export(
        members.iterator(chunk_size=2000),
        exported_by=who,
        unit_label=unit.name if unit else _("我管辖的单位"),
    )
    audit.record(
        "member.export",
        actor=actor,
        unit=unit,
        detail={"rows": count, "masked": True, "filters": _loggable(filters)},
    )
    return data, count, label
