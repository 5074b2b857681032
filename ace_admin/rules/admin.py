"""Admin for who receives what and how: channel routes, policy rules, opt-outs, and the read-only delivery log."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin

from ace_admin.models import ChannelRoute, PolicyRule
from ace_admin.rules.forms import ChannelRouteForm, PolicyRuleForm
from ace_admin.toggles import enable_disable_actions


class EnableDisableMixin:
    """Enable/disable actions; ``queryset.update()`` of these models bumps the shared stamp itself."""

    actions = ["enable", "disable"]
    enable, disable = enable_disable_actions("rule")


@admin.register(ChannelRoute)
class ChannelRouteAdmin(EnableDisableMixin, admin.ModelAdmin):
    form = ChannelRouteForm
    list_display = ["order", "channel_type", "message_type", "category", "transactional", "channel_name", "enabled",
                    "description"]
    list_display_links = ["order"]
    list_editable = ["enabled"]
    list_filter = ["channel_type", "channel_name", "enabled", "transactional", "category",
                   "message_type__app_label"]
    search_fields = ["channel_name", "category", "description", "message_type__name"]
    list_select_related = ["message_type"]
    autocomplete_fields = ["message_type"]


def _duration(seconds: int | None) -> str:
    if not seconds:
        return "—"
    delta = timedelta(seconds=seconds)
    parts = []
    if delta.days:
        parts.append(f"{delta.days} day{'s' if delta.days != 1 else ''}")
    hours, rest = divmod(delta.seconds, 3600)
    minutes, secs = divmod(rest, 60)
    for value, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second")):
        if value:
            parts.append(f"{value} {unit}{'s' if value != 1 else ''}")
    return ", ".join(parts)


@admin.register(PolicyRule)
class PolicyRuleAdmin(EnableDisableMixin, admin.ModelAdmin):
    form = PolicyRuleForm
    list_display = ["__str__", "kind", "channel_type", "message_type", "category", "max_messages", "period",
                    "enabled"]
    list_filter = ["kind", "channel_type", "enabled", "category", "message_type__app_label"]
    search_fields = ["description", "category", "message_type__name"]
    list_select_related = ["message_type"]
    autocomplete_fields = ["message_type"]

    @admin.display(description="period", ordering="period_seconds")
    def period(self, obj):
        return _duration(obj.period_seconds)
