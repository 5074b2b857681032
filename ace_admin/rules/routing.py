"""A channel router (``ACE_CHANNEL_ROUTERS``) that applies the channel routes edited in the admin."""

from __future__ import annotations

import logging

from ace.channel import channels
from ace_admin import stamp
from ace_admin.content import message_types
from ace_admin.models import ChannelRoute

LOG = logging.getLogger(__name__)


class _Route:
    __slots__ = ("pk", "channel_type", "message_type_id", "category", "transactional", "channel_name")

    def __init__(self, pk, channel_type, message_type_id, category, transactional, channel_name):
        self.pk, self.channel_type, self.message_type_id = pk, channel_type, message_type_id
        self.category, self.transactional, self.channel_name = category, transactional, channel_name


def _load_routes() -> list[_Route]:
    fields = ("pk", "channel_type", "message_type_id", "category", "transactional", "channel_name")
    return [_Route(*row) for row in ChannelRoute.objects.filter(enabled=True).order_by("order", "pk")
            .values_list(*fields)]


routes = stamp.StampedValue(_load_routes)


class DatabaseRouter:
    """Picks the channel of the first enabled ``ChannelRoute`` matching the message; None when none matches."""

    def channel_for_message(self, channel_type, message) -> str | None:
        wanted = getattr(channel_type, "value", channel_type)
        candidates = [route for route in routes.get(message) if route.channel_type == wanted]
        if not candidates:
            return None
        info = message_types.message_type_for(message)
        transactional = message_types.is_transactional(message, info)
        category = message_types.category_of(message, info)
        for route in candidates:
            if route.message_type_id is not None and (info is None or info.pk != route.message_type_id):
                continue
            if route.category and route.category != category:
                continue
            if route.transactional is not None and route.transactional != transactional:
                continue
            if route.channel_name not in channels().channels.get(channel_type, {}):
                # Validated when saved; a channel disabled since then must not stop sending.
                LOG.warning("Channel route #%s names %r, which is not enabled; ignored.", route.pk, route.channel_name)
                continue
            return route.channel_name
        return None
