"""Needs in the shared tree (tests/conftest.py).

- `helper`: 韩师傅, an in-service member living in building_a (bob's community), 双报到
  registered and confirmed there, specialty 水电维修, with a party-member account;
- `neighbour`: 赵姐, another registered member of the same community, living in
  compound_a (not in the building), no specialty;
- `file_need(...)`: a public-web need in compound_a (defaults), through the service.
"""

from datetime import date

import pytest
from django.utils import timezone, translation

from hongyan.core import pii
from hongyan.core.roles import Role
from hongyan.members import services as member_services
from hongyan.members.models import DualRegistration, Member
from hongyan.needs import services
from hongyan.needs.models import Channel, NeedCategory


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def make_id(seq: int, born: date = date(1985, 4, 2)) -> str:
    first17 = f"150902{born:%Y%m%d}{seq:03d}"
    return first17 + pii.id_check_char(first17)


def register(member: Member, community, actor) -> DualRegistration:
    return DualRegistration.objects.create(
        member=member,
        community=community,
        registered_at=timezone.now(),
        registered_by=actor,
        confirmed_at=timezone.now(),
        confirmed_by=actor,
    )


@pytest.fixture
def helper(tree, alice, make_user):
    user = make_user(Role.PARTY_MEMBER, tree.building_a, username="han", display_name="韩师傅")
    member = member_services.member_create(
        actor=alice,
        unit=tree.building_a,
        name="韩师傅",
        id_number=make_id(111),
        mobile="13900001111",
        specialties=["水电维修"],
    )
    member.account = user
    member.save(update_fields=["account"])
    register(member, tree.community_a, alice)
    user.member = member
    return user


@pytest.fixture
def neighbour(tree, alice, make_user):
    user = make_user(Role.PARTY_MEMBER, tree.compound_a, username="zhao", display_name="赵姐")
    member = member_services.member_create(
        actor=alice, unit=tree.compound_a, name="赵姐", id_number=make_id(222)
    )
    member.account = user
    member.save(update_fields=["account"])
    register(member, tree.community_a, alice)
    user.member = member
    return user


def category(code: str = "public_facilities") -> NeedCategory:
    return NeedCategory.objects.get(city=None, code=code)


@pytest.fixture
def file_need(tree):
    def make(**kwargs):
        fields = {
            "actor": None,
            "channel": Channel.PUBLIC_WEB,
            "category": category(kwargs.pop("category_code", "public_facilities")),
            "unit": tree.compound_a,
            "text": "3号楼2单元楼道灯坏了一个星期，晚上上下楼看不见",
            "resident_name": "李大妈",
            "resident_mobile": "13812345678",
        }
        fields.update(kwargs)
        return services.need_file(**fields)

    return make


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
