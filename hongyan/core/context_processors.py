from .scope import visible_paths


def navigation(request):
    """What the left menu needs: whether the user has any unit to browse."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    return {"nav_has_units": bool(visible_paths(user, "unit.browse"))}
