"""A message preparer applying what the admin set on a message type: sender, reply-to, transactional.

Listed first in ``ACE_MESSAGE_PREPARERS``. What the platform's code put in ``message.options`` wins;
the admin's values fill only what the code left out. Reads the in-memory message types (no query once
warm).
"""

from __future__ import annotations

from ace_admin.content import message_types


def apply_message_type_defaults(message) -> None:
    """Fill ``from_address``, ``reply_to`` and ``transactional`` from the admin's message type."""
    info = message_types.message_type_for(message)
    if info is None:
        return
    defaults = {}
    if info.from_address and not message.options.get("from_address"):
        defaults["from_address"] = info.from_address
    if info.reply_to and not message.options.get("reply_to"):
        defaults["reply_to"] = info.reply_to
    if info.transactional and "transactional" not in message.options:
        # So the engine's routing (ACE_CHANNEL_TRANSACTIONAL_EMAIL) treats it as the admin says.
        defaults["transactional"] = True
    if defaults:
        # A new dict: the caller may share one options dict between several messages.
        message.options = {**message.options, **defaults}
