"""The shared world of the tests: the real divisions of 乌兰察布市 and three people.

- **alice** administers street A (新体路街道, 150902001);
- **bob** is a community worker in 恩和路社区 (150902001001), under street A;
- **charlie** administers street B (桥东街道, 150902002), the outsider for alice's units.

The 1,640 official divisions are loaded once per test database (session scope); every
test runs in a transaction that is rolled back, so what a test adds disappears again.
Compounds, grids, buildings and party organisations are made per test by the `tree`
fixture, through the same services the application uses.
"""

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from hongyan.core.models import ApiToken
from hongyan.core.roles import Role
from hongyan.orgs import services as org_services
from hongyan.orgs.loader import load_divisions
from hongyan.orgs.models import OrgKind, Unit, UnitKind

from .factories import PASSWORD, GrantFactory, UserFactory

DISTRICT = "150902"  # 集宁区
STREET_A = "150902001"  # 新体路街道
STREET_B = "150902002"  # 桥东街道
COMMUNITY_A = "150902001001"  # 恩和路社区居民委员会 (bob's)
COMMUNITY_A2 = "150902001002"  # 体育场社区居民委员会 (alice's, not bob's)
COMMUNITY_B = "150902002001"  # 龙湾社区居民委员会 (charlie's)

pytest_plugins = ["tests.browser"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the bundled divisions into the test database once."""
    with django_db_blocker.unblock():
        load_divisions()


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # the production hasher costs ~0.3 s a call; what is tested here is the flow, not PBKDF2
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


@pytest.fixture
def make_user(db):
    """make_user(role, unit, username=...) -> a user holding one grant."""

    def make(role: str, unit_or_code, username: str | None = None, **fields):
        target = unit(unit_or_code) if isinstance(unit_or_code, str) else unit_or_code
        kwargs = {"username": username} if username else {}
        user = UserFactory(**kwargs, **fields)
        GrantFactory(user=user, role=role, unit=target)
        return user

    return make


@pytest.fixture
def alice(make_user):
    return make_user(Role.STREET_ADMIN, STREET_A, username="alice", display_name="艾丽斯")


@pytest.fixture
def bob(make_user):
    return make_user(Role.COMMUNITY_WORKER, COMMUNITY_A, username="bob", display_name="鲍勃")


@pytest.fixture
def charlie(make_user):
    return make_user(Role.STREET_ADMIN, STREET_B, username="charlie", display_name="查理")


@dataclass
class Tree:
    district: Unit
    street_a: Unit
    street_b: Unit
    community_a: Unit
    community_a2: Unit
    community_b: Unit
    compound_a: Unit  # in bob's community
    compound_a2: Unit  # in street A, outside bob's community
    grid_a: Unit
    building_a: Unit
    compound_b: Unit  # in street B
    org_a: object  # a branch on compound_a
    org_a2: object  # a branch on compound_a2
    org_b: object  # a branch on compound_b


@pytest.fixture
def tree(alice, charlie) -> Tree:
    """Compounds, a grid, a building and branches under both streets."""
    add = org_services.unit_create_child
    community_a, community_a2, community_b = (
        unit(COMMUNITY_A),
        unit(COMMUNITY_A2),
        unit(COMMUNITY_B),
    )
    compound_a = add(actor=alice, parent=community_a, kind=UnitKind.COMPOUND, name="御景华府")
    compound_a2 = add(actor=alice, parent=community_a2, kind=UnitKind.COMPOUND, name="体育花园")
    grid_a = add(actor=alice, parent=compound_a, kind=UnitKind.GRID, name="御景华府第一网格")
    building_a = add(actor=alice, parent=grid_a, kind=UnitKind.BUILDING, name="1号楼")
    compound_b = add(actor=charlie, parent=community_b, kind=UnitKind.COMPOUND, name="龙湾新城")

    def branch(actor, compound):
        return org_services.party_org_create(
            actor=actor,
            unit=compound,
            kind=OrgKind.BRANCH,
            name=f"{compound.name}党支部",
            secretary="王书记",
            members_count=5,
        )

    return Tree(
        district=unit(DISTRICT),
        street_a=unit(STREET_A),
        street_b=unit(STREET_B),
        community_a=community_a,
        community_a2=community_a2,
        community_b=community_b,
        compound_a=compound_a,
        compound_a2=compound_a2,
        grid_a=grid_a,
        building_a=building_a,
        compound_b=compound_b,
        org_a=branch(alice, compound_a),
        org_a2=branch(alice, compound_a2),
        org_b=branch(charlie, compound_b),
    )


def token_for(user) -> str:
    """A fresh bearer token for the user (as POST /api/v1/auth/token would give)."""
    return ApiToken.issue(user)[1]


@pytest.fixture
def login():
    """login(user) -> a test client with the user's session (client.force_login)."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


class ApiClient:
    """A test client that speaks JSON to /api/v1/ with a bearer token (or none)."""

    def __init__(self, token: str | None = None):
        self.token = token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = Client(headers=headers)

    def get(self, path, data=None):
        return self.client.get(path, data)

    def post(self, path, data=None, raw: str | bytes | None = None):
        body = raw if raw is not None else json.dumps(data if data is not None else {})
        return self.client.post(path, body, content_type="application/json")


@pytest.fixture
def api():
    """api(user) -> ApiClient with a bearer token for the user; api(None) -> anonymous."""

    def make(user=None) -> ApiClient:
        return ApiClient(token_for(user) if user is not None else None)

    return make


@pytest.fixture
def stepped_up():
    """stepped_up(client) -> the same client with a fresh TOTP step-up (core.stepup), as
    after /account/step-up (a page client) or POST /api/v1/auth/step-up (an api client)."""

    def mark(client):
        import time
        from datetime import timedelta

        from django.utils import timezone

        from hongyan.core.models import hash_token
        from hongyan.core.stepup import SESSION_KEY

        if isinstance(client, ApiClient):
            ApiToken.objects.filter(key_hash=hash_token(client.token)).update(
                stepped_up_until=timezone.now() + timedelta(minutes=5)
            )
        else:
            session = client.session
            session[SESSION_KEY] = time.time()
            session.save()
        return client

    return mark


@pytest.fixture
def password():
    return PASSWORD
