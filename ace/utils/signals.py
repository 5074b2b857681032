"""``ACE_MESSAGE_SENT`` as edx-ace 1.15 sends it: a JSON-able dict describing the message that went out."""

from __future__ import annotations

import logging

from django.utils import translation

from ace.signals import ACE_MESSAGE_SENT

LOG = logging.getLogger(__name__)


def make_serializable_object(obj):
    """``obj`` with every value that JSON cannot hold turned into its ``str()``; dicts and lists are walked."""
    try:
        if obj is None or isinstance(obj, int | float | str | bool):
            return obj
        if isinstance(obj, dict):
            return {key: make_serializable_object(value) for key, value in obj.items()}
        if isinstance(obj, list):
            return [make_serializable_object(item) for item in obj]
    except Exception:  # a value whose walking fails is carried as its text, as edx-ace does
        pass
    return str(obj)


def message_sent_payload(channel, message) -> dict:
    """What ``ACE_MESSAGE_SENT`` carries as ``message``: the message's identity, recipient, context and options."""
    recipient = getattr(message, "recipient", None)
    return make_serializable_object({
        "name": message.name,
        "app_label": message.app_label,
        "recipient": {
            "email": getattr(recipient, "email_address", ""),
            "user_id": getattr(recipient, "lms_user_id", ""),
        },
        "channel": type(channel).__name__,
        "context": message.context,
        "options": message.options,
        "uuid": str(message.uuid),
        "send_uuid": str(message.send_uuid),
        "message_language": message.language,
        "translation_language": translation.get_language(),
    })


def send_ace_message_sent_signal(channel, message) -> None:
    """Send ``ACE_MESSAGE_SENT(sender=channel, message=<dict>)``. The message is out already: a failing
    receiver is logged, never raised (the caller would send the message again)."""
    payload = message_sent_payload(channel, message)
    for receiver, error in ACE_MESSAGE_SENT.send_robust(sender=channel, message=payload):
        if isinstance(error, Exception):
            message.get_message_specific_logger(LOG).error(
                "ACE_MESSAGE_SENT receiver %r failed: %r", receiver, error, exc_info=error)
