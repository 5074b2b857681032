"""The presentation step of the pipeline: render a message for a channel with its type's renderer.

While a message renders, :func:`current_message` returns it (and :func:`current_channel` the
channel), so template loaders and tags can choose content for it — per language, per site — without
the engine knowing about them. This is a public extension point.
"""

from __future__ import annotations

import contextvars

from django.utils import translation

from ace import renderers
from ace.channel import ChannelType
from ace.errors import UnsupportedChannelError

RENDERERS = {
    ChannelType.EMAIL: renderers.EmailRenderer(),
    ChannelType.PUSH: renderers.PushRenderer(),
}

_rendering: contextvars.ContextVar = contextvars.ContextVar("ace_rendering", default=(None, None))


def current_message():
    """The ``Message`` being rendered in this context, or ``None`` outside :func:`render`."""
    return _rendering.get()[0]


def current_channel():
    """The ``Channel`` being rendered for in this context, or ``None`` outside :func:`render`."""
    return _rendering.get()[1]


def render(channel, message):
    """The rendered content of ``message`` for ``channel``, in the message's language."""
    renderer = RENDERERS.get(channel.channel_type)
    if renderer is None:
        raise UnsupportedChannelError(f"No renderer for channel type {channel.channel_type!r}.")
    token = _rendering.set((message, channel))
    try:
        if message.language:
            with translation.override(message.language):
                return renderer.render(channel, message)
        return renderer.render(channel, message)
    finally:
        _rendering.reset(token)
