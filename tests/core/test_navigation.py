"""The left menu offers what the permission map lets each role open, and nothing else."""

import pytest

from hongyan.core.roles import Role

from ..conftest import COMMUNITY_A

ENTRIES = {
    "组织架构": "/units/",
    "党员名册": "/members/",
    "导入花名册": "/members/import/",
    "双报到": "/members/dual/",
    "审计日志": "/audit/",
}


def menu_of(client) -> set[str]:
    page = client.get("/").content.decode()
    menu = page[page.index('id="hy-menu"') :]
    return {label for label, href in ENTRIES.items() if f'href="{href}"' in menu}


@pytest.mark.parametrize(
    ("role", "unit", "expected"),
    [
        (Role.CITY_ADMIN, "1509", set(ENTRIES)),
        (Role.COMMUNITY_WORKER, COMMUNITY_A, set(ENTRIES) - {"审计日志"}),
        (Role.GRID_WORKER, COMMUNITY_A, {"组织架构", "党员名册"}),
        (Role.PARTY_MEMBER, COMMUNITY_A, {"双报到"}),
        (Role.RESIDENT, COMMUNITY_A, set()),
    ],
)
def test_each_role_sees_its_own_menu(client, make_user, role, unit, expected):
    client.force_login(make_user(role, unit))
    assert menu_of(client) == expected
    for label in expected:  # and every entry offered opens
        assert client.get(ENTRIES[label]).status_code == 200, label
