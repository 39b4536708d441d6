from django.utils.module_loading import import_string

from .scope import visible_paths

# menu entry -> the actions that open it (any one is enough)
MENU_ACTIONS = {
    "units": ("unit.browse",),
    "members": ("member.view",),
    "member_import": ("member.import",),
    "dual": ("dual.manage", "dual.register_self"),
    "audit": ("audit.view",),
    "accounts": ("account.manage", "grant.manage", "factor.reset"),
    "exports": ("member.export", "export.approve"),
    "workdays": ("workday.manage",),
    "needs": ("need.view", "need.claim", "dual.register_self"),
    "my_needs": ("need.own",),
    "care": ("care.view", "care.visit"),
    "volunteers": ("volunteer.view",),
}


# entries someone may open without a role for them, asked only when the roles said no:
# a 三户四长 head holding just a party-member grant visits the care recipients assigned
# to their post (one EXISTS query, the same test the page itself makes)
MENU_WITHOUT_ROLE = {"care": "hongyan.care.selectors.may_use_care"}


def navigation(request):
    """Which entries of the left menu the user may open, from the permission map."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    nav = {
        entry: any(visible_paths(user, action) for action in actions)
        for entry, actions in MENU_ACTIONS.items()
    }
    for entry, check in MENU_WITHOUT_ROLE.items():
        if not nav[entry]:
            nav[entry] = import_string(check)(user)
    return {"nav": nav}
