import pytest

# Defects the fuzzer (test_api_fuzz.py) found in endpoints other people own and that are
# not fixed yet, by operation ("GET /api/v1/…/{id}": "what fails"), each reported to its
# owner; kept visible here as xfail (not strict: delete the entry once it is fixed).
KNOWN_DEFECTS: dict[str, str] = {}


def pytest_collection_modifyitems(items):
    for item in items:
        if not item.nodeid.startswith("tests/security/test_api_fuzz.py"):
            continue
        for label, reason in KNOWN_DEFECTS.items():
            if item.name.endswith(f"[{label}]"):
                item.add_marker(pytest.mark.xfail(reason=reason, strict=False))
