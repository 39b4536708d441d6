"""Benchmark: importing a 100,000-row member register (.xlsx) — every check of the dry
run and the commit, with encryption and the blind index, as `hongyan import members`
runs it — beside a bare reader + bulk insert of the same file (and the dry run alone).

    python bench/members_import.py [--rows 100000] [--repeat 3]     # SQLite (a temp folder)
    DATABASE_URL=postgres://postgres@127.0.0.1/hongyan_bench python bench/members_import.py

Each pipeline runs in a fresh process so its peak RSS is its own (summed over the
process and any children it starts, sampled), the two alternately, `--repeat` times
each; the median runs are compared. Prints rows/s, peak memory and the ratio full/bare
(target ≥ 0.5, peak RSS < 500 MB). The PostgreSQL database is emptied of members
first: point it at a throwaway database."""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
COMMUNITY = "150902001001"  # 恩和路社区
COMPOUNDS = [f"小区{n:02d}" for n in range(1, 41)]


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongyan.settings")
    import django

    django.setup()


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc), in kB."""
    total, todo = 0, [pid]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            with open(f"/proc/{pid}/task/{pid}/children") as fh:
                todo += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue
    return total


class TreePeak:
    """The peak of the summed RSS of this process and its children (the importer's
    worker processes), sampled every 20 ms in a thread — beside this process's own
    peak (getrusage), whichever is higher."""

    def __init__(self):
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(os.getpid()))

    def mb(self) -> float:
        self._stop.set()
        self._thread.join()
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return max(self.peak_kb, own) / 1024


def cpu_seconds() -> float:
    """CPU time of this process (every thread) and of its finished children (the worker
    processes): steadier than the wall clock when the machine is shared (the wall clock
    is what counts; both are printed)."""
    cpu = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        cpu += usage.ru_utime + usage.ru_stime
    return cpu


def make_file(path: Path, rows: int) -> None:
    """A register like a community's, generated (valid check digits throughout)."""
    from openpyxl import Workbook

    from hongyan.core import pii
    from hongyan.demo import names

    rng = random.Random(42)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("党员花名册")
    ws.append(["党员花名册（基准测试）"])
    ws.append(
        [
            "序号",
            "姓名",
            "性别",
            "民族",
            "出生年月",
            "身份证号码",
            "联系电话",
            "文化程度",
            "入党时间",
            "党员类别",
            "所在小区",
            "楼栋单元房号",
            "工作单位",
            "是否在职",
            "特长",
            "备注",
        ]
    )
    seen = set()
    for i in range(rows):
        while True:
            born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 60 * 365))
            first17 = f"150902{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
            if first17 not in seen:
                seen.add(first17)
                break
        number = first17 + pii.id_check_char(first17)
        ws.append(
            [
                i + 1,
                names.person(rng),
                "男" if int(number[16]) % 2 else "女",
                "汉族",
                f"{born.year}.{born.month:02d}",
                number,
                f"13{rng.randrange(0, 10**9):09d}",
                rng.choice(["本科", "大专", "高中"]),
                f"{born.year + 25}.07",
                "正式党员",
                rng.choice(COMPOUNDS),
                f"{rng.randint(1, 20)}号楼{rng.randint(1, 4)}单元{rng.randint(1, 6)}01",
                "集宁区第一中学",
                rng.choice(["是", "否"]),
                rng.choice(["法律", "医疗", "", "文艺、书法"]),
                "",
            ]
        )
    wb.save(path)


def prepare_database():
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from hongyan.members.demo import clear_demo_members
    from hongyan.orgs.loader import load_divisions
    from hongyan.orgs.models import Unit, UnitKind
    from hongyan.orgs.services import unit_create_child

    load_divisions()
    clear_demo_members()
    community = Unit.objects.get(code=COMMUNITY)
    existing = set(Unit.objects.filter(parent=community).values_list("name", flat=True))
    for name in COMPOUNDS:
        if name not in existing:
            unit_create_child(actor=None, parent=community, kind=UnitKind.COMPOUND, name=name)


def empty_register():
    """No members, and on PostgreSQL no dead rows of earlier runs either: each run
    inserts and deletes 100,000 members, and without this the next one writes into
    tables and indexes bloated with millions of dead entries (seen: 2,000,000 dead
    member rows, 810 MB, every write slower by half) — neither pipeline's true cost."""
    from django.db import connection

    from hongyan.members.demo import clear_demo_members
    from hongyan.members.models import Member, MemberSearchKey

    clear_demo_members()
    if connection.vendor == "postgresql":
        tables = [Member, MemberSearchKey, Member.specialties.through]
        with connection.cursor() as cursor:
            for model in tables:
                cursor.execute(f"VACUUM FULL ANALYZE {model._meta.db_table}")


def phase_bare(path: str) -> dict:
    """calamine reads the sheet; every row goes straight into the table (no checks,
    no encryption): the floor any importer stands on."""
    import python_calamine

    from hongyan.members import bulk
    from hongyan.members.bulk import MEMBER_COLUMNS
    from hongyan.members.demo import clear_demo_members
    from hongyan.members.models import Member
    from hongyan.orgs.models import Unit

    empty_register()
    compounds = dict(Unit.objects.filter(parent__code=COMMUNITY).values_list("name", "pk"))
    memory = TreePeak()
    started, cpu = time.perf_counter(), cpu_seconds()
    from django.db import transaction

    with transaction.atomic():
        sheet = python_calamine.CalamineWorkbook.from_path(path).get_sheet_by_index(0)
        now = bulk.db_now()
        next_id = bulk.next_id(Member)
        rows = []
        for i, cells in enumerate(sheet.iter_rows()):
            if i < 2:
                continue
            cpk = compounds[cells[10]]
            rows.append(
                (
                    next_id,
                    cpk,
                    cpk,
                    "",
                    "",
                    "",
                    cells[1],
                    "male",
                    "汉族",
                    None,
                    cells[5],
                    cells[5],
                    str(cells[6]),
                    "",
                    "full",
                    None,
                    None,
                    "",
                    "",
                    "in_service",
                    "",
                    "",
                    "",
                    "",
                    False,
                    now,
                    now,
                )
            )
            next_id += 1
        bulk.insert(Member, MEMBER_COLUMNS, rows)
    elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    clear_demo_members()
    return {"rows": len(rows), "seconds": elapsed, "cpu": cpu, "peak_mb": memory.mb()}


def phase_full(path: str) -> dict:
    """The real thing, as `hongyan import members FILE` and the upload page's import
    run it: sniff, limits, header, every check of the dry run, and the valid rows
    written as they pass — SM4-GCM encryption, blind indexes, pinyin keys and
    specialties — in one transaction, all or nothing."""
    from hongyan.members import importer
    from hongyan.members.demo import clear_demo_members
    from hongyan.orgs.models import Unit

    empty_register()
    data = Path(path).read_bytes()
    unit = Unit.objects.get(code=COMMUNITY)
    memory = TreePeak()
    started, cpu = time.perf_counter(), cpu_seconds()
    plan, result = importer.import_file(data, Path(path).name, actor=None, unit=unit)
    done, cpu = time.perf_counter(), cpu_seconds() - cpu
    if result is None:
        return {"error": [str(p) for p in plan.problems[:5]]}
    clear_demo_members()
    return {
        "rows": result["created"],
        "seconds": done - started,
        "cpu": cpu,
        "peak_mb": memory.mb(),
    }


def phase_dry(path: str) -> dict:
    """The dry run alone (the upload page's report): every check, nothing written."""
    from hongyan.members import importer
    from hongyan.orgs.models import Unit

    empty_register()
    data = Path(path).read_bytes()
    unit = Unit.objects.get(code=COMMUNITY)
    memory = TreePeak()
    started, cpu = time.perf_counter(), cpu_seconds()
    plan = importer.check_file(data, Path(path).name, actor=None, unit=unit)
    done, cpu = time.perf_counter(), cpu_seconds() - cpu
    if not plan.ok:
        return {"error": [str(p) for p in plan.problems[:5]]}
    return {"rows": plan.valid_rows, "seconds": done - started, "cpu": cpu, "peak_mb": memory.mb()}


PHASES = {"bare": phase_bare, "full": phase_full, "dry": phase_dry}


def run_phase(name: str, path: Path, env: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--file", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        sys.exit(f"phase {name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_run(runs: list[dict]) -> dict:
    """The run with the median wall-clock time, peak memory the highest of all."""
    chosen = dict(sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2])
    chosen["peak_mb"] = max(r["peak_mb"] for r in runs)
    return chosen


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each pipeline")
    parser.add_argument("--phase", choices=sorted(PHASES))
    parser.add_argument("--file")
    args = parser.parse_args()
    if args.phase:
        setup_django()
        result = PHASES[args.phase](args.file)
        print(json.dumps(result))
        return
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["HONGYAN_DATA_DIR"] = tempfile.mkdtemp(prefix="hongyan-bench-")
    os.environ.update(env)
    setup_django()
    from django.db import connection

    cache = Path(tempfile.gettempdir()) / f"hongyan-bench-members-{args.rows}.xlsx"
    if not cache.exists():
        print(f"generating {args.rows:,} rows → {cache} …", flush=True)
        make_file(cache, args.rows)
    print(
        f"file: {cache} ({cache.stat().st_size / 1024 / 1024:.1f} MB); database: {connection.vendor}"
    )
    prepare_database()
    # alternated, each in a fresh process, `--repeat` times: the median run of each is
    # compared (on a shared machine one run can be off by half)
    bares, fulls, dries = [], [], []
    for _round in range(args.repeat):
        bares.append(run_phase("bare", cache, env))
        fulls.append(run_phase("full", cache, env))
        dries.append(run_phase("dry", cache, env))
        if "error" in fulls[-1] or "error" in dries[-1]:
            sys.exit(f"the import found problems: {fulls[-1].get('error') or dries[-1]['error']}")
    bare, full, dry = median_run(bares), median_run(fulls), median_run(dries)
    if args.repeat > 1:
        print(
            f"runs ({args.repeat} each, median shown): bare "
            + ", ".join(f"{b['seconds']:.1f}" for b in bares)
            + " s; import "
            + ", ".join(f"{f['seconds']:.1f}" for f in fulls)
            + " s"
        )
    bare_rate = bare["rows"] / bare["seconds"]
    full_rate = full["rows"] / full["seconds"]
    print(
        f"bare reader + bulk insert : {bare['rows']:>7,} rows in {bare['seconds']:6.1f} s = "
        f"{bare_rate:8,.0f} rows/s, peak RSS {bare['peak_mb']:6.0f} MB, CPU {bare['cpu']:.1f} s"
    )
    print(
        f"import (checks + writes)  : {full['rows']:>7,} rows in {full['seconds']:6.1f} s = "
        f"{full_rate:8,.0f} rows/s, peak RSS {full['peak_mb']:6.0f} MB, CPU {full['cpu']:.1f} s"
    )
    print(
        f"dry run alone (report)    : {dry['rows']:>7,} rows in {dry['seconds']:6.1f} s = "
        f"{dry['rows'] / dry['seconds']:8,.0f} rows/s, peak RSS {dry['peak_mb']:6.0f} MB"
    )
    ratio = full_rate / bare_rate
    print(
        f"ratio full/bare           : {ratio:.2f} (target ≥ 0.5)  "
        f"peak RSS {'OK' if full['peak_mb'] < 500 else 'OVER'} (target < 500 MB)"
    )
    print(f"ratio by CPU time         : {bare['cpu'] / full['cpu']:.2f}")
    print(f"load average (1 min)      : {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
