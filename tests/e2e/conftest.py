"""The demo city for the browser journeys (the browser itself: tests/browser.py)."""

import pytest

DEMO_PASSWORD = "E2e-Journey-2026"


@pytest.fixture
def demo_city(transactional_db):
    from hongyan.demo.city import load_demo_city

    return load_demo_city(password=DEMO_PASSWORD, seed=1509, progress=lambda _m: None)
