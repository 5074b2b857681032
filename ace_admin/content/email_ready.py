"""Email-client-ready HTML: the send-time step that inlines CSS and keeps the text part in step with the HTML.

Plugged into the engine as an ``ACE_RENDERED_MESSAGE_PROCESSORS`` entry (``finish_email``), so it runs for
every render — sends, campaign batches, test sends and the preview alike — after the templates rendered and
before any channel sees the message. Other send-time steps (link rewriting...) are processors of their own,
listed before or after this one.

- **CSS inlined** with css-inline: every ``<style>`` rule is copied into the ``style`` attributes of the
  elements it matches (an existing ``style`` attribute wins), for the clients that ignore ``<style>`` (Gmail's
  apps with non-Google accounts, many Outlook versions). The ``<style>`` blocks stay, so media queries,
  ``:hover`` and dark-mode rules still work where they are honoured. Remote stylesheets are never fetched (a
  template author could point ``<link>`` at an internal address) and ``<link rel=stylesheet>`` is dropped.
  A whole document (a body that extends a layout) is inlined as the channel will send it, ``head.html``
  merged in; a fragment is inlined with the CSS of ``head.html`` and its own ``<style>`` blocks.
  The result is cached by the exact HTML (so a new template version never meets a stale entry; identical
  messages — test sends, previews, unpersonalised campaigns — are inlined once).
- **Text part derived** from the HTML when the HTML comes from the admin (saved or unsaved) and the text part
  does not: a ``body.txt`` file written for the original HTML would silently diverge from the edited one.
  A text template saved in the admin (an explicit override) is kept, and so is a file text part next to a
  file HTML part (developers keep both in step). Without any ``body.txt`` the engine derives it already.
"""

from __future__ import annotations

import functools
import logging
import re

import css_inline
from django.template import TemplateDoesNotExist

from ace.channel import ChannelType
from ace.channel.mixins import EmailChannelMixin
from ace.renderers import html_to_text
from ace_admin.content.loader import Loader
from ace_admin.content.safety import project_engine
from ace_admin.settings import admin_settings

LOG = logging.getLogger(__name__)

_STYLE = re.compile(r"(?is)<style\b[^>]*>(.*?)</style\s*>")
_STYLE_OR_LINK = re.compile(r"(?i)<(style|link)\b")

#: One inliner for the process: it holds no per-message state.
_INLINER = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False, keep_link_tags=False)


def is_document(html: str) -> bool:
    """Whether ``html`` is a whole document (``<html>`` near its start) rather than a body fragment."""
    return "<html" in (html or "")[:1000].lower()


@functools.lru_cache(maxsize=256)
def inline_document(html: str) -> str:
    """``html`` (a whole document) with its ``<style>`` rules inlined; unchanged when the CSS cannot be read."""
    try:
        return _INLINER.inline(html)
    except (css_inline.InlineError, ValueError) as error:
        LOG.warning("CSS not inlined: %s", error)
        return html


@functools.lru_cache(maxsize=256)
def inline_fragment(html: str, css: str) -> str:
    """A body fragment with ``css`` (and its own ``<style>`` blocks) inlined."""
    css = "\n".join([css, *_STYLE.findall(html)]).strip()
    if not css:
        return html
    try:
        return _INLINER.inline_fragment(html, css)
    except (css_inline.InlineError, ValueError) as error:
        LOG.warning("CSS not inlined: %s", error)
        return html


def inline_email(rendered) -> None:
    """Inline the CSS of a rendered email in place (see the module docstring)."""
    body = rendered.body_html or ""
    head = rendered.head_html if isinstance(rendered.head_html, str) else ""
    if not _STYLE_OR_LINK.search(body) and not _STYLE_OR_LINK.search(head):
        return  # no CSS to inline: the HTML stays byte for byte as rendered
    if is_document(body):
        rendered.body_html = inline_document(EmailChannelMixin.html_document(rendered))
        rendered.head_html = ""  # now inside the document
    elif body:
        rendered.body_html = inline_fragment(body, "\n".join(_STYLE.findall(head)))


def _served_by_admin(name: str) -> bool | None:
    """True: the admin's loader serves ``name`` for the message being rendered (a saved or unsaved DB template);
    False: a file does; None: nothing does."""
    try:
        template = project_engine().get_template(name)
    except TemplateDoesNotExist:
        return None
    return isinstance(getattr(template.origin, "loader", None), Loader)


def text_follows_html(channel, message) -> bool:
    """Whether the text part of ``message`` should be derived from its HTML rather than taken from ``body.txt``.

    Call it while the message renders (``ace.presentation.current_message()`` set), as ``finish_email`` does.
    """
    base = f"{message.app_label}/edx_ace/{message.name}/{channel.channel_type.value}/"
    # No body.txt at all (None): the engine's renderer derived the text already.
    return _served_by_admin(base + "body.txt") is False and bool(_served_by_admin(base + "body.html"))


def finish_email(channel, message, rendered):
    """The ``ACE_RENDERED_MESSAGE_PROCESSORS`` entry: derive the text part when it should follow the HTML, then
    inline the CSS. Email only; other channel types pass through."""
    if channel.channel_type is not ChannelType.EMAIL:
        return None
    if rendered.body_html and text_follows_html(channel, message):
        rendered.body = html_to_text(rendered.body_html)
    if admin_settings.ACE_ADMIN_INLINE_CSS:
        inline_email(rendered)
    return rendered
