"""The roles a staff grant can carry, and which actions each may take.

A grant is (role, unit): the role says what the holder may do, the unit says where
(the unit's whole subtree). Checking both happens in `core.scope.access`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", _("市级管理员")
    DISTRICT_ADMIN = "district_admin", _("旗县区管理员")
    STREET_ADMIN = "street_admin", _("街道/乡镇管理员")
    COMMUNITY_WORKER = "community_worker", _("社区工作者")
    GRID_WORKER = "grid_worker", _("网格员")
    BUILDING_HEAD = "building_head", _("楼栋长")
    PARTY_MEMBER = "party_member", _("党员")
    RESIDENT = "resident", _("居民")
    # 三员分立 (GB/T 22239 level 3): three administrators who check one another; an account
    # holding one of them holds no other role (core.services.grant_add refuses it)
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")


ADMINS = {Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.STREET_ADMIN}
STAFF = ADMINS | {Role.COMMUNITY_WORKER, Role.GRID_WORKER}
# the three administrators (三员) do no business work: they see no register, no tree
TRIAD = {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}
EVERYONE = set(Role) - TRIAD

# action -> roles allowed to take it (inside the subtree of the grant that carries the role)
PERMISSIONS: dict[str, set[str]] = {
    "unit.view": EVERYONE,
    "unit.browse": STAFF | {Role.BUILDING_HEAD},
    "unit.create_child": STAFF - {Role.GRID_WORKER},
    "unit.edit": STAFF - {Role.GRID_WORKER},
    "org.view": EVERYONE,
    "org.manage": ADMINS | {Role.COMMUNITY_WORKER},
    "cadre.assign": ADMINS,
    "audit.view": {Role.CITY_ADMIN, Role.AUDIT_ADMIN},
    "audit.export": {Role.AUDIT_ADMIN},
    # 三员分立: accounts (system admin), roles and grants (security admin); resetting
    # someone's second factor is asked by one of them and approved by another
    "account.manage": {Role.SYSTEM_ADMIN},
    "grant.manage": {Role.SECURITY_ADMIN},
    "factor.reset": {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN},
    # residents' needs (居民需求): claiming is also open to 双报到 members of the community
    "need.view": STAFF | {Role.BUILDING_HEAD},
    "need.file": STAFF | {Role.BUILDING_HEAD},
    "need.manage": STAFF,
    "need.claim": STAFF | {Role.BUILDING_HEAD},
    "need.rates": STAFF,
    "need.category": {Role.CITY_ADMIN},
    # the member register (党员名册)
    "member.view": STAFF | {Role.BUILDING_HEAD},
    "member.edit": STAFF - {Role.GRID_WORKER},
    "member.reveal": ADMINS | {Role.COMMUNITY_WORKER},
    "member.import": STAFF - {Role.GRID_WORKER},
    "member.export": STAFF - {Role.GRID_WORKER},
    "member.roles": STAFF - {Role.GRID_WORKER},
    # 双报到: members register with their home community, which confirms
    "dual.register_self": {Role.PARTY_MEMBER},
    "dual.manage": STAFF - {Role.GRID_WORKER},
    # exports above the row limit, or unmasked, wait for a second person (hongyan/exports)
    "export.approve": ADMINS,
    # the working-day calendar (holidays, 调休) is the whole city's
    "workday.manage": {Role.CITY_ADMIN},
    # a resident's (or member's) own needs, filed with their account
    "need.own": {Role.RESIDENT, Role.PARTY_MEMBER},
    # volunteers (志愿服务): anyone signs up to a service in their area; staff (and a
    # team's leader, for its own services) publish, assign and approve hours
    "volunteer.view": EVERYONE,
    "volunteer.join": EVERYONE,
    "volunteer.manage": STAFF,
    "volunteer.record": STAFF,
    # care visits (关爱走访): the registry and its visits; children under 14 only for
    # those who hold care.minors (others do not see them at all)
    "care.view": STAFF | {Role.BUILDING_HEAD},
    "care.edit": STAFF,
    "care.visit": STAFF | {Role.BUILDING_HEAD},
    "care.minors": ADMINS | {Role.COMMUNITY_WORKER},
    "care.reveal": ADMINS | {Role.COMMUNITY_WORKER},
    "care.figures": STAFF,
    "care.groups": {Role.CITY_ADMIN},
}


def roles_for(action: str) -> set[str]:
    try:
        return PERMISSIONS[action]
    except KeyError:
        raise KeyError(f"unknown action {action!r}: add it to core.roles.PERMISSIONS") from None
