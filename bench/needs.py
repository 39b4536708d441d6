"""Benchmark: residents' needs at city scale — the rates of 集宁区 and a unit's queue page,
each through the code the API runs beside one hand-written SQL over the same rows, and
the number of queries a queue page takes (the same for 10 rows and for 100).

    DATABASE_URL=postgres://postgres@127.0.0.1/hongyan_bench python bench/needs.py [--needs 1000000]
    python bench/needs.py --needs 100000          (SQLite in a throwaway folder)

Prints the median of each in milliseconds and the ratio. (PostgreSQL: use a throwaway
database — its needs are replaced when the count differs.)"""

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
DISTRICT = "150902"  # 集宁区
OTHER = "150981"  # 丰镇市: rows outside the subtree, so the filter has work to do


def setup():
    if not os.environ.get("DATABASE_URL"):
        os.environ["HONGYAN_DATA_DIR"] = tempfile.mkdtemp(prefix="hongyan-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongyan.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _compounds(county_code: str, want: int):
    from hongyan.orgs.models import Unit, UnitKind
    from hongyan.orgs.services import unit_create_child

    county = Unit.objects.get(code=county_code)
    communities = list(
        Unit.objects.filter(path__under=county.path, kind=UnitKind.COMMUNITY).order_by("path")
    ) or list(Unit.objects.filter(path__under=county.path, kind=UnitKind.VILLAGE).order_by("path"))
    have = list(Unit.objects.filter(path__under=county.path, kind=UnitKind.COMPOUND))
    i = len(have)
    while len(have) < want:
        parent = communities[i % len(communities)]
        have.append(
            unit_create_child(
                actor=None, parent=parent, kind=UnitKind.COMPOUND, name=f"基准小区{i:03d}"
            )
        )
        i += 1
    return have


def populate(count: int, rng: random.Random) -> None:
    from django.db import connection, transaction

    from hongyan.core import pii
    from hongyan.members import bulk
    from hongyan.needs.models import (
        MOBILE_AAD,
        MOBILE_PURPOSE,
        Channel,
        Need,
        NeedCategory,
        NeedEvent,
        NeedNotification,
        NeedPhoto,
        NeedSupporter,
        Status,
    )
    from hongyan.orgs.loader import load_divisions

    load_divisions()
    if Need.objects.count() == count:
        return
    print(f"inserting {count:,} needs …", flush=True)
    for model in (NeedNotification, NeedSupporter, NeedPhoto, NeedEvent):
        model.objects.all()._raw_delete("default")
    Need.objects.update(merged_into=None)
    Need.objects.all()._raw_delete("default")
    places = [(c, c.parent) for c in _compounds(DISTRICT, 200)]
    places += [(c, c.parent) for c in _compounds(OTHER, 50)]
    categories = list(NeedCategory.objects.filter(city=None))
    channels = [c for c in Channel.values if c != Channel.OPEN311]
    mobile_enc = pii.encrypt("13800000000", MOBILE_AAD)
    mobile_index = pii.blind_index("13800000000", MOBILE_PURPOSE)
    now = datetime.now(UTC).replace(microsecond=0)
    sqlite = connection.vendor == "sqlite"

    def t(value):
        if value is None or not sqlite:
            return value
        return str(value.replace(tzinfo=None))

    fields = list(Need._meta.concrete_fields)
    columns = [f.name for f in fields]

    def rows():
        for i in range(1, count + 1):
            compound, community = places[rng.randrange(len(places))]
            category = categories[rng.randrange(len(categories))]
            created = now - timedelta(seconds=rng.randrange(365 * 86400))
            roll = rng.random()
            row = {f.name: f.get_default() for f in fields}
            row.update(
                id=i,
                reference=f"XQB{i:013d}",
                channel=channels[rng.randrange(len(channels))],
                category=category.pk,
                text="楼道灯坏了，晚上看不见路",
                unit=compound.pk,
                owner=community.pk,
                resident_name="居民",
                resident_mobile_enc=mobile_enc,
                resident_mobile_index=mobile_index,
                follow_token_hash=hashlib.sha256(f"bench{i}".encode()).hexdigest(),
                created_at=t(created),
                response_due=t(created + timedelta(hours=24)),
                deadline=t(created + timedelta(days=7)),
                generated=True,
                updated_at=t(created),
            )
            responded = created + timedelta(hours=rng.choice((1, 3, 8, 20, 30)))
            if roll < 0.05:
                row.update(
                    status=Status.REJECTED, responded_at=t(responded), closed_at=t(responded)
                )
            elif roll < 0.85 and created < now - timedelta(days=10):
                resolved = created + timedelta(days=rng.choice((1, 2, 4, 6, 9)))
                rating = rng.choice((5, 5, 5, 4, 4, 3, 2, 1))
                row.update(
                    status=Status.CLOSED,
                    accepted_at=t(responded),
                    responded_at=t(responded),
                    resolved_at=t(resolved),
                    closed_at=t(resolved + timedelta(days=1)),
                    rating=rating,
                    rated_at=t(resolved + timedelta(days=1)),
                    resolution="已处理",
                )
            else:
                status = rng.choice((Status.SUBMITTED, Status.ACCEPTED, Status.DISPATCHED))
                row.update(
                    status=status,
                    responded_at=t(responded) if status != Status.SUBMITTED else None,
                    accepted_at=t(responded) if status != Status.SUBMITTED else None,
                )
            yield tuple(row[c] for c in columns)

    started = time.perf_counter()
    with transaction.atomic():
        bulk.insert(Need, columns, rows(), batch=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE needs_need")  # the visibility map: index-only counts
            cursor.execute("SELECT setval(pg_get_serial_sequence('needs_need', 'id'), %s)", [count])
    print(f"  {time.perf_counter() - started:.0f} s", flush=True)


RATES_SQL = """
SELECT n.category_id, n.channel, COUNT(*),
  SUM(CASE WHEN n.responded_at IS NOT NULL OR n.response_due < %(now)s THEN 1 ELSE 0 END),
  SUM(CASE WHEN n.responded_at <= n.response_due THEN 1 ELSE 0 END),
  SUM(CASE WHEN n.status <> 'rejected' THEN 1 ELSE 0 END),
  SUM(CASE WHEN n.status <> 'rejected' AND n.resolved_at IS NOT NULL THEN 1 ELSE 0 END),
  SUM(CASE WHEN n.status <> 'rejected' AND (n.resolved_at IS NOT NULL OR n.deadline < %(now)s)
      THEN 1 ELSE 0 END),
  SUM(CASE WHEN n.status <> 'rejected' AND n.resolved_at <= n.deadline THEN 1 ELSE 0 END),
  SUM(CASE WHEN n.rating IS NOT NULL THEN 1 ELSE 0 END),
  SUM(CASE WHEN n.rating >= 4 THEN 1 ELSE 0 END),
  SUM(CASE WHEN n.status IN ('submitted','accepted','dispatched','claimed','in_progress','paused')
      THEN 1 ELSE 0 END),
  SUM(CASE WHEN n.status IN ('resolved','closed') THEN 1 ELSE 0 END)
FROM needs_need n JOIN orgs_unit u ON u.id = n.unit_id
WHERE u.path >= %(lo)s AND u.path < %(hi)s AND n.status <> 'merged'
  AND n.created_at >= %(start)s AND n.created_at < %(end)s
GROUP BY n.category_id, n.channel
"""

QUEUE_SQL = """
SELECT n.* FROM needs_need n JOIN orgs_unit u ON u.id = n.unit_id
WHERE u.path >= %(lo)s AND u.path < %(hi)s
  AND n.status IN ('submitted','accepted','dispatched','claimed','in_progress','paused')
ORDER BY n.created_at DESC, n.id DESC LIMIT 50
"""
QUEUE_COUNT_SQL = """
SELECT COUNT(*) FROM needs_need n JOIN orgs_unit u ON u.id = n.unit_id
WHERE u.path >= %(lo)s AND u.path < %(hi)s
  AND n.status IN ('submitted','accepted','dispatched','claimed','in_progress','paused')
"""


def median_ms(func, runs: int) -> float:
    func()  # warm the caches and the plan
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--needs", type=int, default=None)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from hongyan.core.models import ApiToken, Grant, User
    from hongyan.core.roles import Role
    from hongyan.needs import selectors
    from hongyan.orgs.models import Unit

    count = args.needs or (1_000_000 if connection.vendor == "postgresql" else 100_000)
    populate(count, random.Random(1509))
    district = Unit.objects.get(code=DISTRICT)
    admin, _ = User.objects.get_or_create(username="bench_jining_admin")
    Grant.objects.get_or_create(user=admin, role=Role.DISTRICT_ADMIN, unit=district)
    token = ApiToken.issue(admin)[1]
    client = Client(headers={"Authorization": f"Bearer {token}"}, HTTP_HOST="127.0.0.1")
    today = timezone.localdate()
    start = today - timedelta(days=365)
    tz = timezone.get_current_timezone()
    params = {
        "lo": district.path,
        "hi": district.path + "~",
        "now": timezone.now(),
        "start": datetime.combine(start, datetime.min.time(), tzinfo=tz),
        "end": datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=tz),
    }

    def sql(query, one=False):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchone() if one else cursor.fetchall()

        return run

    def api(path):
        def run():
            response = client.get(path)
            assert response.status_code == 200, response.content[:300]
            return response

        return run

    rates_path = f"/api/v1/units/{DISTRICT}/need-rates?from={start}&to={today}"
    queue_path = f"/api/v1/needs?unit={DISTRICT}&status=open&limit=50"
    total = Unit.objects.filter(path__under=district.path).count()
    print(
        f"{connection.vendor}: {count:,} needs ({total:,} units under 集宁区), "
        f"median of {args.runs} runs"
    )
    rates = selectors.need_rates(district, start, today)
    print(
        f"  集宁区 rates: {rates['total']:,} needs, 响应率 {rates['response_rate']}, "
        f"按时办结率 {rates['on_time_rate']}, 解决率 {rates['resolution_rate']}, "
        f"满意率 {rates['satisfaction_rate']}"
    )
    rows = [
        (
            "rates: selector",
            median_ms(lambda: selectors.need_rates(district, start, today), args.runs),
        ),
        ("rates: GET /need-rates", median_ms(api(rates_path), args.runs)),
        ("rates: hand-written SQL", median_ms(sql(RATES_SQL), args.runs)),
        ("queue: GET /needs (50 rows + count)", median_ms(api(queue_path), args.runs)),
        (
            "queue: hand-written SQL (page + count)",
            median_ms(lambda: (sql(QUEUE_SQL)(), sql(QUEUE_COUNT_SQL, one=True)()), args.runs),
        ),
    ]
    for name, ms in rows:
        print(f"  {name:<40} {ms:9.1f} ms")
    print(f"  ratio rates API / SQL: {rows[1][1] / rows[2][1]:.2f}")
    print(f"  ratio queue API / SQL: {rows[3][1] / rows[4][1]:.2f}")
    for limit in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            api(f"/api/v1/needs?unit={DISTRICT}&status=open&limit={limit}")()
        print(f"  queries for a queue page of {limit:>3} rows: {len(queries)}")
    with CaptureQueriesContext(connection) as queries:
        api(rates_path)()
    print(f"  queries for the rates: {len(queries)}")


if __name__ == "__main__":
    main()
