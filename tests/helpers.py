"""Independent oracles: answers computed without the code under test's shortcuts."""

from hongyan.orgs.models import Unit


def subtree_ids_by_parent_links(root: Unit) -> set[int]:
    """The unit and everything below it, found by following parent links (not paths)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Unit.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, stack = set(), [root.pk]
    while stack:
        pk = stack.pop()
        found.add(pk)
        stack.extend(children.get(pk, ()))
    return found
