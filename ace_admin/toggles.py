"""Enable/disable admin actions for the models with an ``enabled`` flag (message types, routes, policy rules).

Bulk updates go through the models' ``StampingQuerySet.update()``, which bumps the shared stamp, so every
process uses the change from its next send.
"""

from __future__ import annotations

from django.contrib import admin, messages


def enable_disable_actions(noun: str, disable_note: str = ""):
    """The two actions, worded for ``noun`` ("rule", "message type"); ``disable_note`` ends the disable
    action's description (what disabling means)."""

    def toggle(enabled: bool, past: str):
        def action(modeladmin, request, queryset):
            count = queryset.update(enabled=enabled)
            modeladmin.message_user(request, f"{count} {noun}(s) {past}.", messages.SUCCESS)
        return action

    enable = admin.action(description=f"Enable the selected {noun}s", permissions=["change"])(
        toggle(True, "enabled"))
    disable = admin.action(
        description=f"Disable the selected {noun}s{f' ({disable_note})' if disable_note else ''}",
        permissions=["change"])(toggle(False, "disabled"))
    return enable, disable
