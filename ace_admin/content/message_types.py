"""The admin's message types as sending sees them: one in-memory table, reloaded when the stamp changes."""

from __future__ import annotations

from ace_admin.models import MessageType
from ace_admin.stamp import StampedValue


class MessageTypeInfo:
    """What sending needs to know about a ``MessageType`` row, kept in memory."""

    __slots__ = ("pk", "app_label", "name", "category", "transactional", "enabled", "from_address", "reply_to",
                 "archived", "engagement_tracking")

    def __init__(self, pk, app_label, name, category, transactional, enabled, from_address="", reply_to="",
                 archived=False, engagement_tracking=""):
        self.pk, self.app_label, self.name = pk, app_label, name
        self.category, self.transactional, self.enabled = category, transactional, enabled
        self.from_address, self.reply_to, self.archived = from_address, reply_to, archived
        self.engagement_tracking = engagement_tracking


def _load_message_types() -> dict:
    fields = ("pk", "app_label", "name", "category", "transactional", "enabled", "from_address", "reply_to",
              "archived", "engagement_tracking")
    return {(row[1], row[2]): MessageTypeInfo(*row) for row in MessageType.objects.values_list(*fields)}


message_types = StampedValue(_load_message_types)


def message_type_for(message) -> MessageTypeInfo | None:
    """The admin's record of ``message``'s type, or None when the admin does not know it (no query once warm)."""
    return message_types.get(message).get((message.app_label, message.name))


def is_transactional(message, info: MessageTypeInfo | None = None) -> bool:
    """Transactional when the sender says so (options) or the admin marks the message type so."""
    return bool(message.transactional or (info is not None and info.transactional))


def category_of(message, info: MessageTypeInfo | None = None) -> str:
    """The admin's category for the message type, else ``options['category']``."""
    return (info.category if info is not None and info.category else "") or str(
        (message.options or {}).get("category") or "")
