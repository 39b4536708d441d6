"""Benchmark: member search by pinyin initials on 100,000 members, through the scoped
selector the API uses (first page + count), beside a bare indexed query on the keys.

    python bench/members_search.py [--members 100000] [--queries 300]
    DATABASE_URL=postgres://postgres@127.0.0.1/hongyan_bench python bench/members_search.py

Prints the median and p95 of each, in milliseconds. (PostgreSQL: a throwaway database;
its members are replaced.)"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
DISTRICT = "150902"
COMMUNITIES = ("150902001001", "150902001002", "150902002001", "150902003001")


def setup():
    if not os.environ.get("DATABASE_URL"):
        os.environ["HONGYAN_DATA_DIR"] = tempfile.mkdtemp(prefix="hongyan-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongyan.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def populate(count: int, rng: random.Random) -> list[str]:
    from django.db import transaction

    from hongyan.core import pii
    from hongyan.core.pinyin import search_keys
    from hongyan.demo import names
    from hongyan.members import bulk
    from hongyan.members.bulk import MEMBER_COLUMNS
    from hongyan.members.demo import clear_demo_members
    from hongyan.members.models import (
        ID_AAD,
        ID_PURPOSE,
        MOBILE_AAD,
        MOBILE_PURPOSE,
        Member,
        MemberSearchKey,
    )
    from hongyan.orgs.loader import load_divisions
    from hongyan.orgs.models import Unit, UnitKind
    from hongyan.orgs.services import unit_create_child

    load_divisions()
    clear_demo_members()
    compounds = []
    for code in COMMUNITIES:
        community = Unit.objects.get(code=code)
        have = list(Unit.objects.filter(parent=community, kind=UnitKind.COMPOUND))
        for n in range(len(have), 25):
            have.append(
                unit_create_child(
                    actor=None, parent=community, kind=UnitKind.COMPOUND, name=f"基准小区{n:02d}"
                )
            )
        compounds += have
    used, rows, keys, all_names = set(), [], [], []
    with transaction.atomic():
        next_id = bulk.next_id(Member)
        now = bulk.db_now()
        for _ in range(count):
            while True:
                born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 60 * 365))
                first17 = f"150902{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
                if first17 not in used:
                    used.add(first17)
                    break
            number = first17 + pii.id_check_char(first17)
            mobile = f"13{rng.randrange(0, 10**9):09d}"
            name = names.person(rng)
            all_names.append(name)
            compound = rng.choice(compounds)
            rows.append(
                (
                    next_id,
                    compound.pk,
                    compound.pk,
                    "",
                    "1",
                    "101",
                    name,
                    "male" if int(number[16]) % 2 else "female",
                    "汉族",
                    bulk.db_date(born),
                    pii.encrypt(number, ID_AAD),
                    pii.blind_index(number, ID_PURPOSE),
                    pii.encrypt(mobile, MOBILE_AAD),
                    pii.blind_index(mobile, MOBILE_PURPOSE),
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
                    True,
                    now,
                    now,
                )
            )
            keys.extend((next_id, k) for k in search_keys(name))
            next_id += 1
        bulk.insert(Member, MEMBER_COLUMNS, rows)
        bulk.insert(MemberSearchKey, ["member", "key"], keys, batch=5000)
        bulk.reset_sequence(Member)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return all_names


def timed(fn, queries) -> list[float]:
    out = []
    for q in queries:
        started = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(label: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return f"{label:<42} median {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    setup()
    from django.db import connection

    from hongyan.core.models import Grant, User
    from hongyan.core.pinyin import search_keys
    from hongyan.core.roles import Role
    from hongyan.members.models import Member, MemberSearchKey
    from hongyan.members.selectors import member_list
    from hongyan.orgs.models import Unit

    rng = random.Random(7)
    started = time.perf_counter()
    names = populate(args.members, rng)
    print(
        f"{args.members:,} members loaded in {time.perf_counter() - started:.1f} s "
        f"({connection.vendor})"
    )
    user, _ = User.objects.get_or_create(username="bench_admin")
    Grant.objects.get_or_create(
        user=user, role=Role.DISTRICT_ADMIN, unit=Unit.objects.get(code=DISTRICT)
    )
    user = User.objects.get(pk=user.pk)
    queries = [search_keys(rng.choice(names))[0] for _ in range(args.queries)]

    def scoped(q):
        qs = member_list(user, q=q)
        qs.count()
        list(qs[:50])

    def bare(q):
        list(MemberSearchKey.objects.filter(key__under=q).values_list("member_id", flat=True)[:50])

    def bare_rows(q):
        ids = MemberSearchKey.objects.filter(key__under=q).values("member_id")
        list(Member.objects.filter(pk__in=ids)[:50])

    for fn in (scoped, bare, bare_rows):  # warm up
        timed(fn, queries[:10])
    scoped_ms, bare_ms, rows_ms = (
        timed(scoped, queries),
        timed(bare, queries),
        timed(bare_rows, queries),
    )
    hits = statistics.median(member_list(user, q=q).count() for q in queries[:50])
    print(
        f"queries: {len(queries)} initials such as {', '.join(queries[:5])} (median {hits:.0f} hits)"
    )
    print(summary("scoped search (count + first page of 50)", scoped_ms))
    print(summary("bare indexed key query (50 ids)", bare_ms))
    print(summary("bare key query + member rows (50)", rows_ms))
    print(
        f"ratio scoped/bare (median): {statistics.median(scoped_ms) / statistics.median(bare_ms):.1f}×"
    )


if __name__ == "__main__":
    main()
