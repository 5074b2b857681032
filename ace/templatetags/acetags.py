"""Template tags for ACE templates: ``{% load acetags %}``."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def get_action_links(context, channel, omit_unsubscribe_link=False):
    """The ``(url, label)`` action links (unsubscribe, ...) ``channel`` adds to the message.

    ``{% get_action_links channel omit_unsubscribe_link=True as links %}``. Channels without action
    links give an empty list.
    """
    links = getattr(channel, "get_action_links", None)
    if links is None:
        return []
    return links(message=context.get("message"), omit_unsubscribe_link=omit_unsubscribe_link)
