"""The Django admin of ACE. Django's autodiscovery imports this module; each wing's admin registers its models,
and the delivery log (every wing writes to it) is registered here."""

from __future__ import annotations

import uuid

from django.contrib import admin
from django.db.models import Q

from ace_admin.campaigns import admin as campaigns_admin  # noqa: F401  (audiences, campaigns, runs)
from ace_admin.content import admin as content_admin  # noqa: F401  (message types, templates, history)
from ace_admin.content import assets_admin  # noqa: F401  (snippets, images)
from ace_admin.events import admin as events_admin  # noqa: F401  (delivery events: bounces, opens, clicks)
from ace_admin.models import DeliveryLog
from ace_admin.privacy import admin as privacy_admin  # noqa: F401  (opt-outs, suppressions, erasure)
from ace_admin.privacy.masking import MaskedAddressesMixin, add_masked_displays
from ace_admin.readonly_admin import ReadOnlyAdminMixin
from ace_admin.reports import admin as reports_admin  # noqa: F401  (reports and the dashboard on the index)
from ace_admin.rules import admin as rules_admin  # noqa: F401  (routes, policies)


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
class DeliveryLogAdmin(ReadOnlyAdminMixin, MaskedAddressesMixin, admin.ModelAdmin):
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

