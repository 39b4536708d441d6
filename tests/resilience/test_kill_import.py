"""Fault drill (issue 6, item 8a): `kill -9` of `hongyan import members FILE` half-way,
once rows are being written — then the rerun gives exactly one clean import.

Runs on the test run's database kind (a scratch PostgreSQL database in CI's PostgreSQL
pass, a SQLite file otherwise): the import commits in one transaction, so the killed
run leaves nothing, and the rerun writes every row once."""

import csv
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

from hongyan.core import pii

from .drills import ROOT, django_eval, hongyan, scratch_database

COMMUNITY = "150902001001"  # 恩和路社区
ROWS = 12_000  # progress is printed (after a write) every 5,000 rows
COMPOUNDS = [f"演练小区{n:02d}" for n in range(1, 13)]


def make_register(path, rows: int) -> set[str]:
    rng = random.Random(8)
    numbers: set[str] = set()
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        out = csv.writer(fh)
        out.writerow(["姓名", "性别", "身份证号码", "联系电话", "所在小区", "楼栋单元房号", "特长"])
        while len(numbers) < rows:
            born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 60 * 365))
            first17 = f"150902{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
            number = first17 + pii.id_check_char(first17)
            if number in numbers:
                continue
            numbers.add(number)
            out.writerow(
                [
                    "王"
                    + "明华强伟芳军丽静"[len(numbers) % 8]
                    + "一二三四五六七八九十"[len(numbers) % 10],
                    "",
                    number,
                    f"13{rng.randrange(10**8, 10**9)}",
                    COMPOUNDS[len(numbers) % len(COMPOUNDS)],
                    f"{rng.randrange(1, 30)}号楼{rng.randrange(1, 6)}单元{rng.randrange(101, 1802)}",
                    rng.choice(["", "文艺", "书法", "法律"]),
                ]
            )
    return numbers


STATE = """
from hongyan.members.models import Member
from hongyan.core.models import AuditEntry
from hongyan.orgs.models import Unit
from django.db.models import Count
community = Unit.objects.get(code="150902001001")
members = Member.objects.filter(unit__path__startswith=community.path)
out = {
    "members": members.count(),
    "distinct_ids": members.values("id_number_index").distinct().count(),
    "duplicated": members.values("id_number_index").annotate(n=Count("pk")).filter(n__gt=1).count(),
    "compounds": sorted(Unit.objects.filter(parent=community, kind="compound").values_list("name", flat=True)),
    "imports": list(AuditEntry.objects.filter(action="member.import").values_list("detail", flat=True)),
}
"""


def test_kill_9_half_way_then_rerun_imports_once(tmp_path):
    sheet = tmp_path / "党员花名册-演练.csv"
    make_register(sheet, ROWS)
    with scratch_database(tmp_path) as env:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hongyan.cli",
                "import",
                "members",
                str(sheet),
                "--unit",
                COMMUNITY,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        seen = []
        deadline = time.monotonic() + 300
        for line in proc.stdout:  # wait until rows are being written
            seen.append(line)
            progress = re.fullmatch(r"(\d+)/(\d+)", line.strip())  # "  5000/12000": written
            if progress and 0 < int(progress[1]) < int(progress[2]):
                break
            assert time.monotonic() < deadline, "".join(seen)
        else:
            raise AssertionError("the import ended before writing:\n" + "".join(seen))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL

        after_kill = django_eval(STATE, env)
        assert after_kill["members"] == 0, after_kill  # nothing half-written
        assert after_kill["compounds"] == [] and after_kill["imports"] == []

        rerun = hongyan("import", "members", str(sheet), "--unit", COMMUNITY, env=env, timeout=300)
        assert f"{ROWS}" in rerun.stdout

        state = django_eval(STATE, env)
        assert state["members"] == ROWS
        assert state["distinct_ids"] == ROWS and state["duplicated"] == 0
        assert state["compounds"] == sorted(COMPOUNDS)
        assert len(state["imports"]) == 1
        assert state["imports"][0]["created"] == ROWS and state["imports"][0]["updated"] == 0
