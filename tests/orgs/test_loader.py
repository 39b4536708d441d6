"""The unit tree as loaded from the bundled CSV of official divisions."""

import csv
import shutil

import pytest
from django.db import connection

from hongyan.orgs.loader import DIVISIONS_CSV, load_divisions
from hongyan.orgs.models import PATH_STEP, Unit

from ..helpers import subtree_ids_by_parent_links


def csv_rows() -> list[dict]:
    """The CSV read here with nothing but the csv module (not through the loader)."""
    with open(DIVISIONS_CSV, encoding="utf-8-sig", newline="") as fh:
        return [{k: v.strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def test_the_bundled_csv_has_1641_lines():
    with open(DIVISIONS_CSV, encoding="utf-8-sig") as fh:
        lines = fh.read().splitlines()
    assert len(lines) == 1641
    assert lines[0] == "code,name,parent_code,level"
    assert len(csv_rows()) == 1640


@pytest.mark.django_db
def test_every_row_is_loaded_with_its_code_name_kind_and_parent():
    rows = csv_rows()
    units = {u.code: u for u in Unit.objects.select_related("parent")}
    assert len(units) == len(rows) == 1640
    mismatches = []
    for row in rows:
        unit = units.get(row["code"])
        if unit is None:
            mismatches.append(f"{row['code']} missing")
            continue
        got = (unit.name, unit.kind, unit.parent.code if unit.parent else "")
        want = (row["name"], row["level"], row["parent_code"])
        if got != want:
            mismatches.append(f"{row['code']}: {got} != {want}")
    assert not mismatches, mismatches[:10]


@pytest.mark.django_db
def test_the_tree_has_the_shape_of_the_city():
    assert Unit.objects.get(code="1509").name == "乌兰察布市"
    counties = Unit.objects.filter(parent__code="1509")
    assert counties.count() == 11
    assert Unit.objects.get(code="150902").name == "集宁区"
    # statistical codes grow by 2, 2, 3, 3 digits down the levels
    lengths = {
        kind: {len(c) for c in Unit.objects.filter(kind=kind).values_list("code", flat=True)}
        for kind in ("province", "city", "county", "township", "community", "village")
    }
    assert lengths == {
        "province": {2},
        "city": {4},
        "county": {6},
        "township": {9},
        "community": {12},
        "village": {12},
    }


@pytest.mark.django_db
def test_paths_are_consistent_with_parent_links():
    problems = []
    step = PATH_STEP + 1
    for unit in Unit.objects.select_related("parent"):
        if unit.parent is None:
            if unit.depth != 0 or len(unit.path) != step:
                problems.append(f"root {unit.code}: {unit.path} depth {unit.depth}")
            continue
        if not unit.path.startswith(unit.parent.path):
            problems.append(f"{unit.code}: {unit.path} not under {unit.parent.path}")
        if len(unit.path) != len(unit.parent.path) + step:
            problems.append(f"{unit.code}: path {unit.path} is not one step below its parent")
        if unit.depth != unit.parent.depth + 1:
            problems.append(f"{unit.code}: depth {unit.depth}, parent {unit.parent.depth}")
    assert not problems, problems[:10]


@pytest.mark.django_db
def test_siblings_are_numbered_in_code_order():
    by_parent: dict[int, list[Unit]] = {}
    for unit in Unit.objects.exclude(parent=None):
        by_parent.setdefault(unit.parent_id, []).append(unit)
    for siblings in by_parent.values():
        assert sorted(s.code for s in siblings) == [
            s.code for s in sorted(siblings, key=lambda s: s.path)
        ]


@pytest.mark.django_db
def test_loading_twice_creates_nothing_new():
    before = dict(Unit.objects.values_list("code", "path"))
    assert load_divisions() == {"created": 0, "updated": 0}
    assert dict(Unit.objects.values_list("code", "path")) == before


@pytest.mark.django_db
def test_loading_into_an_empty_tree_creates_every_row_with_the_same_paths():
    before = dict(Unit.objects.values_list("code", "path"))
    for depth in range(max(u.depth for u in Unit.objects.all()), -1, -1):
        Unit.objects.filter(depth=depth).delete()
    assert not Unit.objects.exists()
    assert load_divisions() == {"created": 1640, "updated": 0}
    assert dict(Unit.objects.values_list("code", "path")) == before


@pytest.mark.django_db
def test_a_division_missing_from_a_gap_comes_back_on_a_fresh_path():
    """Deleting the first child leaves a gap; the reload must not reuse a taken path."""
    township = Unit.objects.get(code="150902105")
    first, *rest = Unit.objects.filter(parent=township, grants__isnull=True).order_by("path")
    first.delete()
    assert load_divisions() == {"created": 1, "updated": 0}
    back = Unit.objects.get(code=first.code)
    assert back.parent == township and back.path.startswith(township.path)
    assert back.path not in {u.path for u in rest}
    assert Unit.objects.filter(parent=township).count() == len(rest) + 1


@pytest.mark.django_db
def test_a_renamed_division_is_updated_in_place(tmp_path):
    changed = tmp_path / "divisions.csv"
    shutil.copy(DIVISIONS_CSV, changed)
    text = changed.read_text(encoding="utf-8")
    assert "150902001,新体路街道," in text
    changed.write_text(
        text.replace("150902001,新体路街道,", "150902001,新体路街道办事处,"), "utf-8"
    )
    street = Unit.objects.get(code="150902001")
    assert load_divisions(changed) == {"created": 0, "updated": 1}
    renamed = Unit.objects.get(code="150902001")
    assert renamed.name == "新体路街道办事处"
    assert (renamed.pk, renamed.path) == (street.pk, street.path)


@pytest.mark.django_db
def test_subtree_counts_match_a_walk_of_parent_links():
    units = list(Unit.objects.filter(depth__lte=3)) + list(
        Unit.objects.filter(depth=4).order_by("code")[::97]
    )
    for unit in units:
        expected = subtree_ids_by_parent_links(unit)
        found = set(Unit.objects.filter(path__under=unit.path).values_list("pk", flat=True))
        assert found == expected, unit.code
    assert Unit.objects.filter(path__under=Unit.objects.get(code="15").path).count() == 1640


@pytest.mark.django_db
def test_under_does_not_match_a_sibling_sharing_a_prefix():
    # 0001.0001.0001. must not match 0001.0001.0011. and the like
    county = Unit.objects.get(code="150902")
    siblings = Unit.objects.filter(parent=county.parent).exclude(pk=county.pk)
    assert siblings.exists()
    under = set(Unit.objects.filter(path__under=county.path).values_list("code", flat=True))
    assert all(code.startswith("150902") for code in under)
    assert not under & set(siblings.values_list("code", flat=True))


def _path_index_names(cursor) -> set[str]:
    """Names of the indexes whose only column is orgs_unit.path."""
    if connection.vendor == "sqlite":
        cursor.execute("PRAGMA index_list(orgs_unit)")
        names = [row[1] for row in cursor.fetchall()]
        found = set()
        for name in names:
            cursor.execute(f'PRAGMA index_info("{name}")')
            if [row[2] for row in cursor.fetchall()] == ["path"]:
                found.add(name)
        return found
    constraints = connection.introspection.get_constraints(cursor, "orgs_unit")
    return {name for name, c in constraints.items() if c["columns"] == ["path"] and c["index"]}


@pytest.mark.django_db
def test_the_under_lookup_uses_the_path_index():
    district = Unit.objects.get(code="150902")
    with connection.cursor() as cursor:
        indexes = _path_index_names(cursor)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
    assert indexes, "no index on orgs_unit.path"
    plan = Unit.objects.filter(path__under=district.path).explain()
    assert any(name in plan for name in indexes), plan
    if connection.vendor == "sqlite":
        assert "SEARCH orgs_unit USING" in plan, plan
    else:
        assert "Seq Scan" not in plan, plan
