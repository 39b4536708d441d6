"""core.scope: who sees which subtree, and who may do what there."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from hongyan.core.models import Grant
from hongyan.core.roles import PERMISSIONS, Role, roles_for
from hongyan.core.scope import access, can, roles_at, scope, visible_paths
from hongyan.orgs.models import CadreAssignment, PartyOrganization, Unit

from ..helpers import subtree_ids_by_parent_links


def visible_ids(user):
    return set(scope(Unit.objects.all(), user).values_list("pk", flat=True))


def test_alice_sees_exactly_street_a_subtree(alice, tree):
    seen = visible_ids(alice)
    assert seen == subtree_ids_by_parent_links(tree.street_a)
    assert {tree.compound_a.pk, tree.compound_a2.pk, tree.building_a.pk} <= seen
    assert tree.street_b.pk not in seen
    assert tree.compound_b.pk not in seen
    assert tree.district.pk not in seen  # nothing above her grant


def test_bob_sees_only_his_community(bob, tree):
    seen = visible_ids(bob)
    assert seen == subtree_ids_by_parent_links(tree.community_a)
    assert {tree.compound_a.pk, tree.grid_a.pk, tree.building_a.pk} <= seen
    assert tree.compound_a2.pk not in seen
    assert tree.street_a.pk not in seen


def test_charlie_does_not_see_street_a(charlie, tree):
    seen = visible_ids(charlie)
    assert seen == subtree_ids_by_parent_links(tree.street_b)
    assert not seen & subtree_ids_by_parent_links(tree.street_a)


def test_scope_follows_scope_path_of_related_models(alice, charlie, tree, make_user):
    orgs = scope(PartyOrganization.objects.all(), alice)
    assert set(orgs) == {tree.org_a, tree.org_a2}
    assert set(scope(PartyOrganization.objects.all(), charlie)) == {tree.org_b}
    make_user(Role.GRID_WORKER, tree.grid_a, username="grid_a_worker")
    grants = scope(Grant.objects.all(), alice)
    assert {g.user.username for g in grants} == {"alice", "grid_a_worker"}
    assert not scope(Grant.objects.filter(user__username="charlie"), alice).exists()
    CadreAssignment.objects.create(compound=tree.compound_b, cadre_name="赵六")
    assert not scope(CadreAssignment.objects.all(), alice).exists()
    assert scope(CadreAssignment.objects.all(), charlie).count() == 1


def test_access_outside_the_subtree_is_404_not_403(charlie, tree):
    with pytest.raises(Http404):
        access(Unit.objects, charlie, action="unit.view", code=tree.compound_a.code)
    # even for an action charlie's role could take: the row does not exist for him
    with pytest.raises(Http404):
        access(Unit.objects, charlie, action="cadre.assign", code=tree.compound_a.code)
    with pytest.raises(Http404):
        access(PartyOrganization.objects, charlie, action="org.view", pk=tree.org_a.pk)


def test_access_unknown_code_is_404(alice, tree):
    with pytest.raises(Http404):
        access(Unit.objects, alice, action="unit.view", code="150902001999")


def test_access_inside_with_the_right_role_returns_the_row(alice, bob, tree):
    assert access(Unit.objects, alice, action="cadre.assign", code=tree.compound_a.code) == (
        tree.compound_a
    )
    assert access(Unit.objects, bob, action="org.manage", code=tree.compound_a.code) == (
        tree.compound_a
    )


def test_bob_may_not_assign_a_cadre(bob, tree):
    with pytest.raises(PermissionDenied):
        access(Unit.objects, bob, action="cadre.assign", code=tree.compound_a.code)


def test_grid_worker_may_not_create_a_child_unit(make_user, tree):
    worker = make_user(Role.GRID_WORKER, tree.grid_a)
    assert access(Unit.objects, worker, action="unit.view", code=tree.grid_a.code) == tree.grid_a
    with pytest.raises(PermissionDenied):
        access(Unit.objects, worker, action="unit.create_child", code=tree.grid_a.code)


def test_resident_may_view_but_not_browse_or_edit(make_user, tree):
    resident = make_user(Role.RESIDENT, tree.building_a)
    assert can(resident, "unit.view", tree.building_a.path)
    assert not can(resident, "unit.browse", tree.building_a.path)
    assert not can(resident, "unit.edit", tree.building_a.path)


def test_roles_are_inherited_down_the_tree_not_up(alice, tree):
    assert roles_at(alice, tree.building_a.path) == {Role.STREET_ADMIN}
    assert roles_at(alice, tree.district.path) == set()
    assert can(alice, "cadre.assign", tree.compound_a.path)
    assert not can(alice, "cadre.assign", tree.compound_b.path)


def test_nested_grants_collapse_to_the_outermost(make_user, tree):
    user = make_user(Role.STREET_ADMIN, tree.street_a)
    Grant.objects.create(user=user, role=Role.COMMUNITY_WORKER, unit=tree.community_a)
    Grant.objects.create(user=user, role=Role.COMMUNITY_WORKER, unit=tree.community_b)
    user.refresh_from_db()
    assert visible_paths(user) == sorted([tree.street_a.path, tree.community_b.path])
    # per action: cadre.assign only through the street grant
    assert visible_paths(user, "cadre.assign") == [tree.street_a.path]
    seen = visible_ids(user)
    assert seen == subtree_ids_by_parent_links(tree.street_a) | subtree_ids_by_parent_links(
        tree.community_b
    )


def test_no_grants_inactive_or_anonymous_see_nothing(make_user, alice, tree):
    from django.contrib.auth.models import AnonymousUser

    from .. import factories

    nobody = factories.UserFactory()
    assert visible_ids(nobody) == set()
    assert visible_ids(AnonymousUser()) == set()
    alice.is_active = False
    alice.save()
    alice.refresh_from_db()
    assert visible_ids(alice) == set()
    with pytest.raises(Http404):
        access(Unit.objects, nobody, action="unit.view", code=tree.street_a.code)


def test_every_action_names_only_known_roles():
    known = set(Role)
    for action, roles in PERMISSIONS.items():
        assert roles and roles <= known, action
    with pytest.raises(KeyError, match="unknown action"):
        roles_for("unit.explode")
