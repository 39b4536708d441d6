"""Members in the shared tree (tests/conftest.py): bob's compound, a building in it,
and charlie's compound in street B."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from django.utils import translation

from hongyan.core import pii
from hongyan.members import services
from hongyan.members.models import Member

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def imports_inline(request, settings):
    """Import jobs run inside the request here (a thread could not see the test's open
    transaction); the browser journey, on a live server, runs them in their thread."""
    if "live_server" not in request.fixturenames:
        settings.HONGYAN_IMPORT_INLINE = True


@pytest.fixture(autouse=True)
def chinese():
    """Messages are checked in Chinese, whatever language an earlier test left active."""
    with translation.override("zh-hans"):
        yield


def make_id(area: str = "150902", born: date = date(1980, 5, 17), seq: int = 123) -> str:
    """A valid ID number; an odd `seq` is a man, an even one a woman."""
    first17 = f"{area}{born:%Y%m%d}{seq:03d}"
    return first17 + pii.id_check_char(first17)


@dataclass
class People:
    liang: Member  # 梁艳荣, bob's compound, full member, specialties 文艺/书法
    shan: Member  # 单雄信, in the building of bob's compound, retired
    gao: Member  # 高娃, probationary, 蒙古族
    long: Member  # 龙湾新城 (charlie's street)
    liang_id: str
    liang_mobile: str


@pytest.fixture
def people(tree, alice, charlie) -> People:
    liang_id = make_id(born=date(1962, 3, 10), seq=100)
    liang = services.member_create(
        actor=alice,
        unit=tree.compound_a,
        name="梁艳荣",
        id_number=liang_id,
        mobile="13530246633",
        ethnicity="汉族",
        joined_on="1985.07",
        work_unit="集宁区第一中学",
        specialties=["文艺", "书法"],
        plate="pioneer",
    )
    shan = services.member_create(
        actor=alice,
        unit=tree.building_a,
        name="单雄信",
        id_number=make_id(born=date(1958, 12, 14), seq=149),
        mobile="13588220482",
        status="retired",
        entrance="2",
        room="501",
    )
    gao = services.member_create(
        actor=alice,
        unit=tree.compound_a,
        name="高娃",
        id_number=make_id(born=date(1992, 3, 18), seq=186),
        ethnicity="蒙古族",
        category="probationary",
        specialties=["教育"],
    )
    long = services.member_create(
        actor=charlie,
        unit=tree.compound_b,
        name="龙海",
        id_number=make_id(born=date(1970, 1, 1), seq=11),
        mobile="13900001111",
        specialties=["法律"],
    )
    return People(liang, shan, gao, long, liang_id, "13530246633")
