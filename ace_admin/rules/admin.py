"""Admin for who receives what and how: channel routes, policy rules, opt-outs, and the read-only delivery log."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages

from ace_admin.content.forms import ChannelRouteForm, PolicyRuleForm
from ace_admin.models import ChannelRoute, PolicyRule


class EnableDisableMixin:
    """Enable/disable actions; ``queryset.update()`` of these models bumps the shared stamp itself."""

    actions = ["enable", "disable"]

    @admin.action(description="Enable the selected rules", permissions=["change"])
    def enable(self, request, queryset):
        count = queryset.update(enabled=True)
        self.message_user(request, f"{count} rule(s) enabled.", messages.SUCCESS)

    @admin.action(description="Disable the selected rules", permissions=["change"])
    def disable(self, request, queryset):
        count = queryset.update(enabled=False)
        self.message_user(request, f"{count} rule(s) disabled.", messages.SUCCESS)


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
