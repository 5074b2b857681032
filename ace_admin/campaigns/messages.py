"""The ``Message`` a campaign sends to one recipient of its audience (used by runs and by the preflight)."""

from __future__ import annotations

from ace.message import Message
from ace.recipient import Recipient


def campaign_message(campaign, row: dict, *, send_uuid=None, expiration_time=None, message_type=None) -> Message:
    """The message of ``campaign`` for the audience row ``row`` (``{"id", "email", "lang", "ctx"}``): the
    campaign's shared details, overridden by the person's own. ``message_type``: an A/B variant's instead of the
    campaign's own."""
    message_type = message_type or campaign.message_type
    context = dict(campaign.context or {})
    context.update(row.get("ctx") or {})
    return Message(
        app_label=message_type.app_label, name=message_type.name,
        recipient=Recipient(lms_user_id=row["id"] or None, email_address=row["email"] or None),
        language=row.get("lang") or campaign.language or None, context=context,
        options=dict(campaign.options or {}), send_uuid=send_uuid, expiration_time=expiration_time)
