"""What events change: a hard bounce or a complaint suppresses the address (the event is the evidence),
``ACE_EVENTS_SOFT_BOUNCE_LIMIT`` soft bounces within ``ACE_EVENTS_SOFT_BOUNCE_WINDOW_DAYS`` suppress it for
``ACE_EVENTS_SOFT_BOUNCE_SUPPRESS_DAYS``, and an unsubscribe reported by an email service records an opt-out
of all non-transactional messages."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from ace_admin.models import DeliveryEvent, EventType, OptOut, Suppression
from ace_admin.privacy.suppression import suppress
from ace_admin.settings import admin_settings

LOG = logging.getLogger(__name__)


def _soft_bounces_reached(event) -> bool:
    limit = admin_settings.ACE_EVENTS_SOFT_BOUNCE_LIMIT
    if not limit:
        return False
    since = event.occurred_at - timedelta(days=admin_settings.ACE_EVENTS_SOFT_BOUNCE_WINDOW_DAYS)
    return DeliveryEvent.objects.filter(recipient=event.recipient, event_type=EventType.BOUNCED_SOFT,
                                        occurred_at__gte=since).count() >= limit


def _opt_out(event) -> None:
    if not OptOut.objects.filter(email=event.recipient, category="", message_name="").exists():
        OptOut.objects.create(email=event.recipient, source="provider", event=event)


def _apply_one(event) -> None:
    what = f"{event.get_event_type_display()}: {event.description}".strip(": ")
    if event.event_type == EventType.BOUNCED_HARD:
        suppress(event.recipient, reason=Suppression.REASON_BOUNCE, details=what, source=event.provider, event=event)
    elif event.event_type == EventType.COMPLAINED:
        suppress(event.recipient, reason=Suppression.REASON_COMPLAINT, details=what, source=event.provider,
                 event=event)
    elif event.event_type == EventType.BOUNCED_SOFT and _soft_bounces_reached(event):
        until = timezone.now() + timedelta(days=admin_settings.ACE_EVENTS_SOFT_BOUNCE_SUPPRESS_DAYS)
        suppress(event.recipient, reason=Suppression.REASON_SOFT_BOUNCE, source=event.provider, event=event,
                 details=f"{admin_settings.ACE_EVENTS_SOFT_BOUNCE_LIMIT} soft bounces within "
                         f"{admin_settings.ACE_EVENTS_SOFT_BOUNCE_WINDOW_DAYS} days; last: {what}",
                 expires_at=until)
    elif event.event_type == EventType.UNSUBSCRIBED and event.provider != "ace":
        _opt_out(event)


CONSEQUENTIAL = {EventType.BOUNCED_HARD, EventType.COMPLAINED, EventType.BOUNCED_SOFT, EventType.UNSUBSCRIBED}


def apply(events) -> None:
    """Apply the consequences of newly recorded ``events`` (each only once: ingest passes new events only)."""
    for event in events:
        if event.event_type not in CONSEQUENTIAL or not event.recipient or event.machine:
            continue
        try:
            _apply_one(event)
        except Exception:  # the event is recorded; a failed consequence is logged, not lost silently
            LOG.exception("Could not apply the consequence of event %s.", event.pk)
