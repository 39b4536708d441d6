"""Import batches (upload → dry run → commit) and exports, for the pages.

An uploaded sheet holds plaintext ID numbers, so it is kept only encrypted (SM4-GCM)
between the dry run and the commit, deleted on commit, and swept after a day."""

import os
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hongyan.core import audit, pii
from hongyan.core.scope import scope

from . import excel, importer, selectors
from .models import ImportBatch, Member

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


@transaction.atomic
def upload_check(*, actor, unit, upload) -> ImportBatch:
    """Dry-run an uploaded sheet for `unit` (access-checked by the caller)."""
    data = _read_upload(upload)
    filename = os.path.basename(upload.name or "upload")[:200]
    plan = importer.check_file(data, filename, actor=actor, unit=unit)
    stored = f"{uuid.uuid4().hex}.bin"
    path = _folder() / stored
    try:
        path.write_bytes(pii.encrypt_bytes(data, UPLOAD_AAD))
    except OSError:  # e.g. the disk is full: leave no half-written upload behind
        path.unlink(missing_ok=True)
        raise
    batch = ImportBatch.objects.create(
        actor=actor,
        unit=unit,
        filename=filename,
        kind=plan.kind,
        sha256=plan.sha256,
        size=len(data),
        stored=stored,
        summary=plan.summary(),
        problems=_problems(plan),
    )
    audit.record(
        "member.import_check",
        actor=actor,
        obj=batch,
        unit=unit,
        detail={"file": filename, "sha256": plan.sha256, **plan.summary()},
    )
    return batch


def _stored_bytes(batch: ImportBatch) -> bytes:
    path = _folder() / batch.stored
    if not batch.stored or not path.exists():
        raise importer.FileRefused(_("上传的文件已过期，请重新上传。"))
    return pii.decrypt_bytes(path.read_bytes(), UPLOAD_AAD)


def batch_commit(*, actor, batch: ImportBatch) -> dict:
    """Check the stored sheet again (the register may have changed) and import it."""
    if batch.state == ImportBatch.State.COMMITTED:
        raise importer.ImportRefused(_("这个文件已经导入过了。"))
    plan = importer.check_file(_stored_bytes(batch), batch.filename, actor=actor, unit=batch.unit)
    if not plan.ok:
        batch.summary, batch.problems = plan.summary(), _problems(plan)
        batch.save(update_fields=["summary", "problems"])
        raise importer.ImportRefused(
            _("重新检查时发现 %(n)d 处错误，整份文件都没有导入。") % {"n": plan.error_count}
        )
    with transaction.atomic():
        result = importer.commit(plan, actor=actor)
        batch.state, batch.result = ImportBatch.State.COMMITTED, result
        batch.committed_at = timezone.now()
        batch.save(update_fields=["state", "result", "committed_at"])
    (_folder() / batch.stored).unlink(missing_ok=True)
    return result


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
    for batch in ImportBatch.objects.filter(created_at__lt=cutoff).exclude(stored=""):
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
