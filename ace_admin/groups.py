"""ACE's staff roles and their permissions (the live definition; ``manage.py ace_groups`` applies it).

- "ACE editors" change content (message types' texts, templates, sample data) and preview; they cannot change
  what a message claims to be (sender, reply-to, transactional flag), where tests go (seed addresses), routes,
  policies, or publish (their edits stay drafts); they see recipients' addresses masked.
- "ACE managers" also publish (now, scheduled, rollback), change senders and seed lists, routes, policies,
  opt-outs, campaigns and audiences, and lift suppressions. They cannot erase people.
- "ACE privacy officers" erase people and export opt-outs.

Migrations carry their own frozen copy of these lists (never import this module from a migration).
"""

from __future__ import annotations

EDITORS = "ACE editors"
MANAGERS = "ACE managers"
PRIVACY_OFFICERS = "ACE privacy officers"

_CRUD = ("view", "add", "change", "delete")
_CONTENT = ["messagetype", "template"]
_OPERATIONS = ["channelroute", "policyrule", "optout", "audience", "audiencemember", "campaign"]

#: group name -> {model name: permission codenames, as actions ("view" -> "view_<model>") or full codenames}.
#: Groups hold exactly these (re-applying removes extra ones).
GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    EDITORS: {
        **{model: ("view", "add", "change") for model in _CONTENT},
        "templaterevision": ("view",),
        "snippet": ("view", "add", "change"),
        "imageasset": ("view", "add", "change"),
        "publishingevent": ("view",),
        "deliverylog": ("view",),
        "deliveryevent": ("view",),
        "campaign": ("view",),
        "campaignrun": ("view",),
        "audience": ("view",),
    },
    MANAGERS: {
        "messagetype": (*_CRUD, "change_sending"),
        "template": (*_CRUD, "publish_template"),
        "templaterevision": ("view",),
        "snippet": _CRUD,
        "imageasset": _CRUD,
        "publishingevent": ("view",),
        **{model: _CRUD for model in _OPERATIONS},
        "campaignrun": ("view", "change"),
        "deliverylog": ("view", "view_recipient_address"),
        "deliveryevent": ("view",),
        "suppression": ("view", "add", "change"),
    },
    PRIVACY_OFFICERS: {
        "deliverylog": ("view", "view_recipient_address"),
        "deliveryevent": ("view",),
        "optout": ("view", "delete", "export_optout"),
        "suppression": ("view", "erase_recipient"),
        "audience": ("view",),
        "audiencemember": ("view",),
    },
}


def codenames(models: dict[str, tuple[str, ...]]) -> list[str]:
    return sorted({action if "_" in action else f"{action}_{model}" for model, actions in models.items()
                   for action in actions})


def apply_groups(group_model, permission_model, groups: dict | None = None,
                 app_label: str = "ace_admin") -> dict[str, int]:
    """Create or update the groups so they hold exactly their permissions; returns group -> permission count.

    Takes the model classes (and the definition) so that a data migration can pass its historical models and
    its frozen lists.
    """
    counts = {}
    for group_name, models in (GROUPS if groups is None else groups).items():
        wanted = codenames(models)
        permissions = list(permission_model.objects.filter(content_type__app_label=app_label, codename__in=wanted))
        missing = set(wanted) - {p.codename for p in permissions}
        if missing:
            raise RuntimeError(f"Permissions missing for {group_name}: {', '.join(sorted(missing))} "
                               "(run `manage.py migrate` first).")
        group, _ = group_model.objects.get_or_create(name=group_name)
        group.permissions.set(permissions)
        counts[group_name] = len(permissions)
    return counts
