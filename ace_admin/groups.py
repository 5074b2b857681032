"""The two staff groups of ACE and their permissions: "ACE editors" edit content, "ACE managers" also steer sending."""

from __future__ import annotations

EDITORS = "ACE editors"
MANAGERS = "ACE managers"

_CONTENT = ["messagetype", "template"]
_OPERATIONS = ["channelroute", "policyrule", "optout"]

#: group name -> {model name: actions}; permissions are exactly these (re-applying removes extra ones).
GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    EDITORS: {
        **{model: ("view", "add", "change") for model in _CONTENT},
        "templaterevision": ("view",),
        "deliverylog": ("view",),
    },
    MANAGERS: {
        **{model: ("view", "add", "change", "delete") for model in _CONTENT + _OPERATIONS},
        "templaterevision": ("view",),
        "deliverylog": ("view",),
    },
}


def apply_groups(group_model, permission_model, app_label: str = "ace_admin") -> dict[str, int]:
    """Create or update the groups so they hold exactly their permissions; returns group -> permission count.

    Takes the model classes so a data migration can pass its historical models.
    """
    counts = {}
    for group_name, models in GROUPS.items():
        codenames = [f"{action}_{model}" for model, actions in models.items() for action in actions]
        permissions = list(permission_model.objects.filter(content_type__app_label=app_label,
                                                           codename__in=codenames))
        missing = set(codenames) - {p.codename for p in permissions}
        if missing:
            raise RuntimeError(f"Permissions missing for {group_name}: {', '.join(sorted(missing))} "
                               "(run `manage.py migrate` first).")
        group, _ = group_model.objects.get_or_create(name=group_name)
        group.permissions.set(permissions)
        counts[group_name] = len(permissions)
    return counts
