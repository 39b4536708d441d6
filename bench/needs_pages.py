"""Benchmark: the needs *pages* at city scale — 集宁区's queue page (30 rows, the count and
the tab counts) and the rates panel of its unit page, each beside hand-written SQL over
the same rows, and the queries a queue page takes (the same for 3 rows as for 30).
The needs are the ones bench/needs.py makes (its `populate`, same seed).

    DATABASE_URL=postgres://postgres@127.0.0.1/hongyan_bench_pages python bench/needs_pages.py [--needs 1000000]
    python bench/needs_pages.py --needs 100000          (SQLite in a throwaway folder)

Prints the median of each in milliseconds and the ratios. (PostgreSQL: a throwaway
database — its needs are replaced when the count differs.)"""

import argparse
import importlib.util
import random
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_needs", HERE / "needs.py")
bench_needs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_needs)

DISTRICT = bench_needs.DISTRICT
PAGE = 30
OPEN = "('submitted','accepted','dispatched','claimed','in_progress','paused')"
QUEUE_SQL = f"""
SELECT n.id, n.reference, n.status, n.text, n.created_at, n.deadline, n.channel,
       c.name, u.name
FROM needs_need n JOIN orgs_unit u ON u.id = n.unit_id
     JOIN needs_needcategory c ON c.id = n.category_id
WHERE u.path >= %(lo)s AND u.path < %(hi)s AND n.status IN {OPEN}
ORDER BY n.created_at DESC, n.id DESC LIMIT {PAGE}
"""
COUNTS_SQL = f"""
SELECT COUNT(*) FILTER (WHERE n.status IN {OPEN}),
       COUNT(*) FILTER (WHERE n.status = 'submitted'),
       COUNT(*) FILTER (WHERE n.status IN {OPEN} AND n.status <> 'paused' AND n.deadline < %(now)s),
       COUNT(*) FILTER (WHERE n.status = 'resolved')
FROM needs_need n JOIN orgs_unit u ON u.id = n.unit_id
WHERE u.path >= %(lo)s AND u.path < %(hi)s
  AND n.status IN ('submitted','accepted','dispatched','claimed','in_progress','paused','resolved')
"""
COUNTS_SQL_SQLITE = (
    COUNTS_SQL.replace("COUNT(*) FILTER (WHERE ", "SUM(CASE WHEN ")
    .replace("),", " THEN 1 ELSE 0 END),")
    .replace("= 'resolved')", "= 'resolved' THEN 1 ELSE 0 END)")
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--needs", type=int, default=None)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    bench_needs.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from hongyan.core.models import Grant, User
    from hongyan.core.roles import Role
    from hongyan.orgs.models import Unit

    count = args.needs or (1_000_000 if connection.vendor == "postgresql" else 100_000)
    bench_needs.populate(count, random.Random(1509))
    district = Unit.objects.get(code=DISTRICT)
    admin, _ = User.objects.get_or_create(username="bench_pages_admin")
    Grant.objects.get_or_create(user=admin, role=Role.DISTRICT_ADMIN, unit=district)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin)
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    params = {
        "lo": district.path,
        "hi": district.path + "~",
        "now": timezone.now(),
        "start": datetime.combine(today - timedelta(days=365), datetime.min.time(), tzinfo=tz),
        "end": datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=tz),
    }
    counts_sql = COUNTS_SQL if connection.vendor == "postgresql" else COUNTS_SQL_SQLITE

    def sql(query):
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()

    def page(path):
        def run():
            response = client.get(path)
            assert response.status_code == 200, response.content[:300]
            return response

        return run

    def rates_panel():
        html = page(f"/needs/rates/{DISTRICT}/")().content.decode()
        assert "need-rates" in html
        return html

    queue_path = f"/needs/?tab=unit&unit={DISTRICT}&status=open"
    print(
        f"{connection.vendor}: {count:,} needs, median of {args.runs} runs, 集宁区 as a district admin"
    )
    rows = [
        (
            "queue page (30 rows, count, tab counts)",
            bench_needs.median_ms(page(queue_path), args.runs),
        ),
        (
            "hand-written SQL (30 rows, count, tab counts)",
            bench_needs.median_ms(lambda: (sql(QUEUE_SQL), sql(counts_sql)), args.runs),
        ),
        (
            "rates panel (GET /needs/rates/150902/, 365 days)",
            bench_needs.median_ms(rates_panel, args.runs),
        ),
        (
            "hand-written SQL (the same rates)",
            bench_needs.median_ms(lambda: sql(bench_needs.RATES_SQL), args.runs),
        ),
    ]
    for name, ms in rows:
        print(f"  {name:<48} {ms:9.1f} ms")
    print(f"  ratio queue page / SQL: {rows[0][1] / rows[1][1]:.2f}")
    print(f"  ratio rates panel / SQL: {rows[2][1] / rows[3][1]:.2f}")
    from hongyan.needs.models import OPEN_STATUSES, Need

    one = (
        Need.objects.filter(unit__path__under=district.path, status__in=OPEN_STATUSES)
        .values_list("reference", flat=True)
        .first()
    )
    for label, path in (("30 rows", queue_path), ("one row", f"{queue_path}&q={one}")):
        with CaptureQueriesContext(connection) as queries:
            html = page(path)().content.decode()
        shown = html.count('class="list-group-item')
        print(f"  queries for a queue page of {label} ({shown} shown): {len(queries)}")


if __name__ == "__main__":
    main()
