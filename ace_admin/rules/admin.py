"""Admin for who receives what and how: channel routes, policy rules, opt-outs, and the read-only delivery log."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import Q
from import_export.admin import ImportExportMixin

from ace_admin.content.forms import ChannelRouteForm, PolicyRuleForm
from ace_admin.content.resources import OptOutResource
from ace_admin.importing import SafeCSV, SafeImportExportMixin
from ace_admin.models import ChannelRoute, DeliveryLog, OptOut, PolicyRule
from ace_admin.privacy.masking import MaskedAddressesMixin, add_masked_displays


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


@admin.register(OptOut)
@add_masked_displays
class OptOutAdmin(MaskedAddressesMixin, SafeImportExportMixin, ImportExportMixin, admin.ModelAdmin):
    resource_classes = [OptOutResource]
    masked_fields = ("email",)
    formats = [SafeCSV]
    list_display = ["email", "lms_user_id", "category", "message_type_display", "source", "created_at"]
    list_filter = ["source", "category", "app_label", "message_name", "created_at"]
    search_fields = ["email", "lms_user_id", "category", "app_label", "message_name"]
    fields = ["lms_user_id", "email", "category", "app_label", "message_name", "source", "created_at"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"

    @admin.display(description="message type", ordering="message_name")
    def message_type_display(self, obj):
        return obj.message_type_key or "—"


class MessageTypeFilter(admin.SimpleListFilter):
    """By message name as logged (also for messages whose type is not registered in the admin)."""

    title = "message type"
    parameter_name = "message"

    def lookups(self, request, model_admin):
        names = DeliveryLog.objects.order_by().values_list("app_label", "message_name").distinct()
        return [(f"{app}.{name}", f"{app}.{name}") for app, name in sorted(set(names))]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        app_label, _, name = self.value().partition(".")
        return queryset.filter(app_label=app_label, message_name=name)


@admin.register(DeliveryLog)
@add_masked_displays
class DeliveryLogAdmin(MaskedAddressesMixin, admin.ModelAdmin):
    """What became of every message on every channel. Nobody edits history. Addresses are masked for staff
    without ``view_recipient_address`` (editors)."""

    masked_fields = ("recipient_address",)
    masked_text_fields = ("error",)

    list_display = ["created_at", "recipient_address", "recipient_id", "app_label", "message_name", "channel_type",
                    "channel_name", "status", "policy", "attempts", "transactional"]
    list_filter = ["status", "channel_type", "channel_name", MessageTypeFilter, "app_label", "transactional",
                   "is_test", "created_at"]
    search_fields = ["recipient_address", "recipient_id"]
    date_hierarchy = "created_at"
    list_select_related = ["message_type"]

    def get_search_results(self, request, queryset, search_term):
        # A uuid pasted from a log line or an email header finds its message or its whole bulk send.
        term = search_term.strip()
        try:
            value = uuid.UUID(term)
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(Q(message_uuid=value) | Q(send_uuid=value)), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
