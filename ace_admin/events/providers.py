"""Events from email services, through django-anymail: ACE listens to anymail's normalised ``tracking`` signal
(sent by the webhook views under ``/ace/events/esp/``, each protected by anymail's ``WEBHOOK_SECRET`` basic auth
and, where the service signs its webhooks, by anymail's signature check) and records each event against its
delivery-log row: by the provider's message id that the send recorded, else by ``metadata["ace_message_id"]``
that ACE's email channel attaches (the services echo it back)."""

from __future__ import annotations

import hashlib
import json
from uuid import UUID

from ace_admin.events import machines
from ace_admin.events.ingest import Incoming, ingest
from ace_admin.models import EventType

#: anymail's normalised event types -> ACE's (bounces are told apart below; queued, sent, autoresponded,
#: subscribed and unknown change nothing and are not recorded).
TYPES = {
    "delivered": EventType.DELIVERED, "deferred": EventType.DEFERRED, "complained": EventType.COMPLAINED,
    "opened": EventType.OPENED, "clicked": EventType.CLICKED, "unsubscribed": EventType.UNSUBSCRIBED,
    "failed": EventType.FAILED, "rejected": EventType.REJECTED, "bounced": EventType.BOUNCED_HARD,
}
#: SparkPost's bounce classes that mean the address is bad (others: mailbox full, blocked, spam...).
SPARKPOST_HARD_CLASSES = {"10", "30", "90"}


def _soft(esp_event) -> bool:
    """Whether the service's own payload calls a bounce temporary (anymail files both under "bounced")."""
    if not isinstance(esp_event, dict):
        return False
    bounce = esp_event.get("bounce")
    if isinstance(bounce, dict) and bounce.get("bounceType") in ("Transient", "Undetermined"):  # Amazon SES
        return True
    if esp_event.get("event") == "soft_bounce" or esp_event.get("Type") == "SoftBounce":  # Brevo, Postmark
        return True
    if esp_event.get("hard_bounce") is False:  # Mailjet
        return True
    if esp_event.get("event") == "bounce" and esp_event.get("type") == "blocked":  # SendGrid
        return True
    klass = esp_event.get("bounce_class")  # SparkPost
    return klass is not None and str(klass) not in SPARKPOST_HARD_CLASSES


def _raw(esp_event):
    try:
        return json.loads(json.dumps(esp_event, default=str))
    except (TypeError, ValueError):
        return {"payload": str(esp_event)}


def _provider(esp_name: str) -> str:
    return (esp_name or "esp").lower().replace(" ", "_")


def to_incoming(event, esp_name: str) -> Incoming | None:
    """ACE's ``Incoming`` for one ``AnymailTrackingEvent``, or None for event types ACE does not record."""
    event_type = TYPES.get(str(getattr(event.event_type, "value", event.event_type)))
    if event_type is None:
        return None
    if event_type == EventType.BOUNCED_HARD and (_soft(event.esp_event) or event.reject_reason == "timed_out"):
        event_type = EventType.BOUNCED_SOFT
    recipient = (event.recipient or "").strip().lower()
    if event.event_id:
        # One notification may cover several recipients (Amazon SES): the id is per recipient and type.
        event_id = f"{event.event_id}:{recipient}:{event_type}"
    else:
        facts = [event.message_id, event_type, event.timestamp, recipient, event.click_url]
        event_id = "sha256:" + hashlib.sha256(repr(facts).encode()).hexdigest()
    machine = ""
    if event_type == EventType.OPENED:
        machine = machines.open_reason(event.user_agent) if event.user_agent else ""
        if isinstance(event.esp_event, dict) and "proxy_open" in str(event.esp_event.get("event", "")):
            machine = "proxy open reported by the service"  # Brevo tells Apple's proxy apart itself
    elif event_type == EventType.CLICKED and event.user_agent:
        machine = machines.click_reason(event.user_agent)
    ace_id = (event.metadata or {}).get("ace_message_id") if isinstance(event.metadata, dict) else None
    try:
        message_uuid = UUID(str(ace_id)) if ace_id else None
    except ValueError:
        message_uuid = None
    return Incoming(
        event_type=event_type, provider=_provider(esp_name), occurred_at=event.timestamp,
        provider_event_id=event_id, recipient=recipient, message_uuid=message_uuid,
        provider_message_id=str(event.message_id or ""), url=event.click_url or "",
        description=" ".join(filter(None, [event.description, event.mta_response])),
        user_agent=event.user_agent or "", machine_reason=machine, raw=_raw(event.esp_event))


def on_tracking(sender, event, esp_name, **kwargs) -> None:
    """Receiver of ``anymail.signals.tracking``."""
    incoming = to_incoming(event, esp_name)
    if incoming is not None:
        ingest([incoming])
