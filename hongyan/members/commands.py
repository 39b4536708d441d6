"""`hongyan import members` and `hongyan export members` (wired up in hongyan/cli.py).

The command line is the server operator's: it acts with no account (audited as the
command) over the whole tree, or over `--unit`."""

import os
import sys
import time

from django.utils.translation import gettext as _

from hongyan.orgs.models import Unit

from . import excel, importer


def _unit(code: str | None) -> Unit | None:
    if not code:
        return None
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        print(_("没有代码为 %(code)s 的单位。") % {"code": code}, file=sys.stderr)
        raise SystemExit(2)
    return unit


def import_members(path: str, *, unit_code: str | None, dry_run: bool, report: str | None) -> int:
    started = time.monotonic()
    unit = _unit(unit_code)
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        print(f"{path}: {exc.strerror}", file=sys.stderr)
        return 2
    if size > importer.MAX_BYTES:
        print(
            _("文件有 %(size).1f MB，超过了 %(max)d MB 的上限：请按社区分成几个文件导入。")
            % {"size": size / 1024 / 1024, "max": importer.MAX_BYTES // 1024 // 1024},
            file=sys.stderr,
        )
        return 2
    with open(path, "rb") as fh:
        data = fh.read()
    print(_("检查 %(name)s …") % {"name": os.path.basename(path)}, flush=True)

    def progress(done, total):
        if done:
            print(f"  {done}/{total}", flush=True)

    try:
        if dry_run:
            plan, result = (
                importer.check_file(data, os.path.basename(path), actor=None, unit=unit),
                None,
            )
        else:  # the same checks, the valid rows written as they pass: all or nothing
            plan, result = importer.import_file(
                data, os.path.basename(path), actor=None, unit=unit, progress=progress
            )
    except importer.FileRefused as exc:
        print(_("文件被拒绝：%(why)s") % {"why": exc}, file=sys.stderr)
        return 2
    if report:
        with open(report, "wb") as fh:
            fh.write(excel.report(plan))
    for problem in plan.problems:
        if problem.level == "error":
            print(str(problem))
    notices = [p for p in plan.problems if p.level != "error"]
    for problem in notices:
        print("note: " + str(problem))
    s = plan.summary()
    print(
        _(
            "%(unit)s：共 %(rows)d 行，错误 %(errors)d 处；将新增 %(create)d 名、更新 %(update)d 名。"
        )
        % {**s, "unit": plan.unit.name},
        flush=True,
    )
    if not plan.ok:
        print(_("有错误，整份文件都没有导入。"), file=sys.stderr)
        return 1
    if dry_run:
        print(_("试导入完成（--dry-run）：没有写入任何数据。"))
        return 0
    print(
        _("已导入：新增 %(created)d 名，更新 %(updated)d 名，用时 %(s).1f 秒。")
        % {**result, "s": time.monotonic() - started}
    )
    return 0


def export_members(*, unit_code: str | None, output: str) -> int:
    from hongyan.core import audit

    from .models import Member

    unit = _unit(unit_code)
    members = Member.objects.select_related("compound", "party_org").prefetch_related("specialties")
    if unit is not None:
        members = members.filter(unit__path__under=unit.path)
    label = unit.name if unit else _("全部")
    data, count = excel.export(
        members.order_by("compound__path", "name", "pk").iterator(chunk_size=2000),
        exported_by=_("命令行 hongyan export"),
        unit_label=label,
    )
    with open(output, "wb") as fh:
        fh.write(data)
    audit.record(
        "member.export",
        unit=unit,
        actor_name="hongyan export (command line)",
        detail={"rows": count, "masked": True, "file": os.path.basename(output)},
    )
    print(
        _("已导出 %(n)d 名党员（身份证号码、手机号码已脱敏）到 %(file)s")
        % {"n": count, "file": output}
    )
    return 0
