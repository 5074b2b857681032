"""Template tags for ACE templates: ``{% load acetags %}``."""

import functools
import inspect

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def get_action_links(context, channel, omit_unsubscribe_link=None):
    """The ``(url, label)`` action links (unsubscribe, ...) ``channel`` adds to the message.

    ``{% get_action_links channel omit_unsubscribe_link=True as links %}``. Calls
    ``channel.get_action_links(omit_unsubscribe_link=...)`` as edx-ace does (channels written for it take
    no other argument), adding ``message=`` only for a method that names that parameter; channels without
    action links give an empty list.
    """
    links = getattr(channel, "get_action_links", None)
    if not links:
        return []
    if omit_unsubscribe_link is None:
        omit_unsubscribe_link = context.get("omit_unsubscribe_link")
    if _takes_message(links):  # an ACE channel whose links depend on the message (a preferences link...)
        return links(message=context.get("message"), omit_unsubscribe_link=omit_unsubscribe_link)
    return links(omit_unsubscribe_link=omit_unsubscribe_link)


def _takes_message(method) -> bool:
    """Whether ``method`` names a ``message`` parameter (not just ``**kwargs``); asked once per function (every
    email renders this tag, and ``inspect.signature`` costs more than the rest of the tag)."""
    target = getattr(method, "__func__", method)
    try:
        return _names_message(target)
    except TypeError:  # an unhashable callable object: asked each time
        return _names_message.__wrapped__(target)


@functools.lru_cache(maxsize=256)
def _names_message(function) -> bool:
    try:
        return "message" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
