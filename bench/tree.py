"""Benchmark: subtree reads on the demo city — the materialised-path prefix query beside a
walk of parent links (one query per level, the plain adjacency-list alternative) — and
the coverage figure of a district, a street and the whole city.

    python bench/tree.py [--repeat 50]
    DATABASE_URL=postgres://postgres@127.0.0.1/hongyan_bench python bench/tree.py

Loads the demo city into a throwaway SQLite folder (or the given PostgreSQL database,
whose demo city is rebuilt) and prints the median and p95 in milliseconds, and ratios."""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def setup():
    if not os.environ.get("DATABASE_URL"):
        os.environ["HONGYAN_DATA_DIR"] = tempfile.mkdtemp(prefix="hongyan-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongyan.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from hongyan.demo.city import load_demo_city

    started = time.perf_counter()
    load_demo_city(password="Bench-Tree-2026", progress=lambda _m: None)
    return time.perf_counter() - started


def timed(func, repeat: int) -> tuple[float, float, object]:
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    load_seconds = setup()
    from django.db import connection

    from hongyan.orgs.models import Unit
    from hongyan.orgs.selectors import coverage_of

    def by_prefix(unit):
        return lambda: Unit.objects.filter(path__under=unit.path).count()

    def by_parent_links(unit):
        def walk():
            frontier, total = [unit.pk], 1
            while frontier:
                frontier = list(
                    Unit.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
                )
                total += len(frontier)
            return total

        return walk

    print(
        f"database: {connection.vendor}; demo city loaded in {load_seconds:.1f} s; "
        f"{Unit.objects.count():,} units"
    )
    print(
        f"{'subtree of':<14}{'units':>8}{'prefix ms (p50/p95)':>24}{'parent walk ms':>22}{'ratio':>8}"
    )
    for code, label in (("1509", "city"), ("150902", "集宁区"), ("150902001", "新体路街道")):
        unit = Unit.objects.get(code=code)
        p50, p95, count = timed(by_prefix(unit), args.repeat)
        w50, w95, walked = timed(by_parent_links(unit), max(5, args.repeat // 5))
        assert count == walked, (count, walked)
        print(
            f"{label:<14}{count:>8,}{p50:>14.2f} / {p95:<8.2f}{w50:>12.2f} / {w95:<8.2f}{w50 / p50:>7.1f}×"
        )
    print(f"\n{'coverage of':<14}{'compounds':>10}{'ms (p50/p95)':>20}")
    for code, label in (("1509", "city"), ("150902", "集宁区"), ("150902001", "新体路街道")):
        unit = Unit.objects.get(code=code)
        p50, p95, cov = timed(lambda unit=unit: coverage_of(unit), args.repeat)
        print(f"{label:<14}{cov.compounds:>10,}{p50:>11.2f} / {p95:<8.2f}")


if __name__ == "__main__":
    main()
