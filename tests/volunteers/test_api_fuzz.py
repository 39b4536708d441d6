"""Adversarial: schemathesis over the volunteers' operations only (the whole document is
fuzzed in tests/security) — generated and deliberately invalid input with a staff token
and a team, a service and a volunteer in place. Never a server error; every documented
answer matches its schema and content type."""

import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from hongyan.core.api import api as ninja_api
from tests.conftest import token_for

EXAMPLES = int(os.environ.get("HONGYAN_FUZZ_EXAMPLES", "5"))
OURS = r"^/api/v1/(volunteer|services|people|units/\{code\}/volunteer-figures)"

schema = schemathesis.openapi.from_dict(
    json.loads(json.dumps(ninja_api.get_openapi_schema()))
).include(path_regex=OURS)
schema.app = get_wsgi_application()
schema.location = "/api/v1/openapi.json"


@pytest.fixture(autouse=True)
def keep_the_test_transaction():
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def staff_token(bob, publish, resident, settings):
    settings.RATE_LIMITS = {}
    publish()
    return token_for(bob)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_volunteer_api_never_fails(db, case, staff_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {staff_token}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
