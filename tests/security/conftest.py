import pytest

# Defects the fuzzer (test_api_fuzz.py) found in endpoints other people own, reported to
# them; kept visible here (xfail, not strict: the mark falls away unnoticed once fixed —
# delete the entry then).
KNOWN_DEFECTS = {
    "GET /api/v1/workdays/years/{year}": "year 0 (or 10000) answers 500: date out of range",
}


def pytest_collection_modifyitems(items):
    for item in items:
        if not item.nodeid.startswith("tests/security/test_api_fuzz.py"):
            continue
        for label, reason in KNOWN_DEFECTS.items():
            if item.name.endswith(f"[{label}]"):
                item.add_marker(pytest.mark.xfail(reason=reason, strict=False))
