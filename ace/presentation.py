"""The presentation step of the pipeline: render a message for a channel with its type's renderer.

While a message renders, :func:`current_message` returns it (and :func:`current_channel` the
channel), so template loaders and tags can choose content for it — per language, per site — without
the engine knowing about them. This is a public extension point, and so is
``ACE_RENDERED_MESSAGE_PROCESSORS``: callables that finish what the renderer produced (inline CSS,
derive a text part, rewrite links) before any channel sees it.
"""

from __future__ import annotations

import contextvars
import functools

from django.utils import translation

from ace import renderers
from ace.channel import ChannelType
from ace.errors import UnsupportedChannelError
from ace.settings import callables, on_reload

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
                return process_rendered(channel, message, renderer.render(channel, message))
        return process_rendered(channel, message, renderer.render(channel, message))
    finally:
        _rendering.reset(token)


@functools.cache
def _processors() -> tuple:
    return callables("ACE_RENDERED_MESSAGE_PROCESSORS")


on_reload(_processors.cache_clear)


def process_rendered(channel, message, rendered):
    """``rendered`` passed through every ``ACE_RENDERED_MESSAGE_PROCESSORS`` callable, in order.

    :func:`render` calls this inside the message's language, while :func:`current_message` is set. A processor
    is ``processor(channel, message, rendered)``; it returns the rendered message to pass on (the same object
    changed, or a new one of the same class) or ``None`` to keep it as it is. An exception it raises fails the
    render, like a template error. None are configured by default: the rendered message is left as edx-ace
    leaves it.
    """
    for processor in _processors():
        result = processor(channel, message, rendered)
        if result is not None:
            rendered = result
    return rendered
