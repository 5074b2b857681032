"""Delivery events in the admin: read-only evidence (the provider's raw report), addresses masked for staff
without ``view_recipient_address``; suppressions and opt-outs link to the event they rest on."""

from __future__ import annotations

import json

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from ace_admin.models import DeliveryEvent
from ace_admin.privacy.masking import MaskedAddressesMixin, add_masked_displays, mask_text


def evidence_link(event) -> str:
    """A link to ``event``'s page (for the suppression and opt-out pages), or '-'."""
    if event is None:
        return "-"
    url = reverse("admin:ace_admin_deliveryevent_change", args=[event.pk])
    return format_html('<a href="{}">{}</a>', url, str(event))


@admin.register(DeliveryEvent)
@add_masked_displays
class DeliveryEventAdmin(MaskedAddressesMixin, admin.ModelAdmin):
    """What providers and ACE's tracking reported after sending. Nobody edits evidence."""

    masked_fields = ("recipient",)
    masked_text_fields = ("description",)

    list_display = ["occurred_at", "event_type", "recipient", "provider", "machine", "delivery_link"]
    list_filter = ["event_type", "provider", "machine", "occurred_at"]
    search_fields = ["recipient", "provider_event_id"]
    date_hierarchy = "occurred_at"
    list_select_related = ["delivery"]
    fields = ["event_type", "occurred_at", "received_at", "provider", "provider_event_id", "recipient",
              "delivery_link", "link", "description", "user_agent", "machine", "machine_reason", "raw_payload"]
    readonly_fields = fields

    @admin.display(description="message")
    def delivery_link(self, obj):
        if obj.delivery_id is None:
            return "-"
        url = reverse("admin:ace_admin_deliverylog_change", args=[obj.delivery_id])
        return format_html('<a href="{}">#{}</a>', url, obj.delivery_id)

    @admin.display(description="raw payload")
    def raw_payload(self, obj):
        if obj.raw is None:
            return "(removed after the retention period)"
        text = obj.raw["mime"] if isinstance(obj.raw, dict) and set(obj.raw) == {"mime"} else json.dumps(
            obj.raw, indent=2, ensure_ascii=False)
        if getattr(obj, "_ace_masked", False):
            text = mask_text(text)
        return format_html("<pre>{}</pre>", text)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
