"""Care recipients in the shared tree (tests/conftest.py).

- `gw`: a grid worker over grid_a (bob's community): visits, no children's data;
- `elder`: 王奶奶, living alone in building_a (weekly), registered 20 days ago, visited by gw;
- `child`: 小明, a left-behind child of 9 in building_a, registered by bob with the
  grandmother's consent;
- `make_recipient(...)`: through the service, as bob.
"""

from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from hongyan.care import services
from hongyan.care.models import CareGroup
from hongyan.core import pii
from hongyan.core.roles import Role


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def make_id(seq: int, born: date) -> str:
    first17 = f"150902{born:%Y%m%d}{seq:03d}"
    return first17 + pii.id_check_char(first17)


def group(code: str) -> CareGroup:
    return CareGroup.objects.get(code=code)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def gw(tree, make_user):
    return make_user(Role.GRID_WORKER, tree.grid_a, username="gw", display_name="网格员小李")


@pytest.fixture
def make_recipient(bob, tree, today):
    def make(**data):
        data.setdefault("unit", tree.building_a)
        data.setdefault("group", group("other"))
        data.setdefault("name", "张大爷")
        data.setdefault("registered_on", today - timedelta(days=20))
        actor = data.pop("actor", bob)
        return services.recipient_create(actor=actor, **data)

    return make


@pytest.fixture
def elder(make_recipient, gw, today):
    return make_recipient(
        name="王奶奶",
        group=group("elderly_alone"),
        id_number=make_id(301, date(1938, 5, 6)),
        mobile="13800001234",
        address="1号楼2单元301",
        visitor_user=gw,
    )


@pytest.fixture
def child(make_recipient, today):
    return make_recipient(
        name="李小明",
        group=group("left_behind_child"),
        birth_date=today.replace(year=today.year - 9),
        guardian_name="李奶奶",
        guardian_relation="祖母",
        consent_on=today - timedelta(days=21),
        consent_method="written",
    )
