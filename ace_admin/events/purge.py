"""Raw payloads (which hold addresses and whole bounce messages) are kept ACE_EVENTS_RAW_PAYLOAD_DAYS days."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ace_admin.models import DeliveryEvent
from ace_admin.settings import admin_settings


def purge_raw_payloads() -> int:
    """Set ``raw`` to NULL on events received before the retention period; returns how many."""
    before = timezone.now() - timedelta(days=admin_settings.ACE_EVENTS_RAW_PAYLOAD_DAYS)
    return DeliveryEvent.objects.filter(received_at__lt=before, raw__isnull=False).update(raw=None)
