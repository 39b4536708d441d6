"""Adversarial: schemathesis over the whole OpenAPI document (/api/v1/openapi.json) with
a staff token — every operation, generated (and deliberately invalid) input. No answer
may be a server error, and every documented answer must match its schema and content
type. Bounded: HONGYAN_FUZZ_EXAMPLES examples per operation (default 5)."""

import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from hongyan.core.api import api as ninja_api
from tests.conftest import token_for

EXAMPLES = int(os.environ.get("HONGYAN_FUZZ_EXAMPLES", "5"))


@pytest.fixture(autouse=True)
def keep_the_test_transaction():
    # the WSGI handler closes "old" connections at each request's start and end, which
    # would close the test's transaction under it: the test client switches that off
    # too, and so do we while the fuzzer calls the app
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# the document the app serves at /api/v1/openapi.json, called through the WSGI app
# the examples and generated phases only: the coverage phase adds dozens of boundary cases
# an operation, past the time this suite may take (HONGYAN_FUZZ_COVERAGE=1 turns it on)
CONFIG = SchemathesisConfig.from_dict(
    {"phases": {"coverage": {"enabled": os.environ.get("HONGYAN_FUZZ_COVERAGE") == "1"}}}
)
schema = schemathesis.openapi.from_dict(
    json.loads(json.dumps(ninja_api.get_openapi_schema())), config=CONFIG
)
schema.app = get_wsgi_application()
schema.location = "/api/v1/openapi.json"


@pytest.fixture
def staff_token(tree, alice, settings):
    settings.RATE_LIMITS = {}  # the fuzzer is one client hammering: limits are tested elsewhere
    from hongyan.members import services as member_services
    from tests.members.conftest import make_id

    member_services.member_create(
        actor=alice, unit=tree.compound_a, name="梁艳荣", id_number=make_id(), mobile="13530246633"
    )
    return token_for(alice)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_never_fails_and_answers_as_documented(db, case, staff_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {staff_token}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
