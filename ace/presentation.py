"""The presentation step of the pipeline: render a message for a channel with its type's renderer."""

from __future__ import annotations

from django.utils import translation

from ace import renderers
from ace.channel import ChannelType
from ace.errors import UnsupportedChannelError

RENDERERS = {
    ChannelType.EMAIL: renderers.EmailRenderer(),
    ChannelType.PUSH: renderers.PushRenderer(),
}


def render(channel, message):
    """The rendered content of ``message`` for ``channel``, in the message's language."""
    renderer = RENDERERS.get(channel.channel_type)
    if renderer is None:
        raise UnsupportedChannelError(f"No renderer for channel type {channel.channel_type!r}.")
    if message.language:
        with translation.override(message.language):
            return renderer.render(channel, message)
    return renderer.render(channel, message)
