"""Renderers: turn a message and its templates into the content one channel type delivers.

Each ``ChannelType`` has one ``AbstractRenderer`` subclass. A renderer's ``rendered_message_cls``
is an attrs class; each of its fields is rendered from the template named
``{app_label}/edx_ace/{message name}/{channel type}/{file}`` where ``file`` comes from
``template_files``. Email needs::

    {app_label}/edx_ace/{name}/email/from_name.txt   optional
    {app_label}/edx_ace/{name}/email/subject.txt     required
    {app_label}/edx_ace/{name}/email/head.html       optional
    {app_label}/edx_ace/{name}/email/body.html       required
    {app_label}/edx_ace/{name}/email/body.txt        optional (else derived from body.html)

and push needs ``push/title.txt`` and ``push/body.txt``.
"""

from __future__ import annotations

import html
import re

import attr
from django.template import Context, TemplateDoesNotExist, loader
from django.template import Template as DjangoTemplate

_WHITESPACE = re.compile(r"\s+")
_BLOCK_END = re.compile(r"(?i)<\s*(br\s*/?|/p|/div|/h[1-6]|/li|/tr|/table)\s*>")
_DROP = re.compile(r"(?is)<(style|script|head)\b.*?</\1\s*>")
_BLANK_LINES = re.compile(r"\n\s*\n\s*(\n\s*)+")
# Markup that is not text: comments (Outlook's conditional ones included), declarations, processing
# instructions and tags, whose quoted attribute values may hold ">".
_MARKUP = re.compile(r"""(?s)<!--.*?(?:-->|$)|<![^>]*>|<\?[^>]*>|</?[a-zA-Z](?:[^>"']|"[^"]*"|'[^']*')*>""")
_LINK = re.compile(
    r"""(?is)<a\b[^>]*?\bhref\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s>]+))[^>]*>(?P<label>.*?)</a\s*>""")


def strip_markup(value: str) -> str:
    """``value`` without its tags and comments, entities left as they are. One regular-expression pass: the
    text part of every email is derived with it, so it must cost little next to the render."""
    return _MARKUP.sub("", value)


def one_line(value: str) -> str:
    """``value`` with all whitespace runs (newlines included) collapsed to single spaces: safe in a
    mail header."""
    return _WHITESPACE.sub(" ", value).strip()


def _link_text(match: re.Match) -> str:
    # Still HTML here: the caller unescapes the whole text once, the address included.
    raw = (match.group("dq") or match.group("sq") or match.group("bare") or "").strip()
    label = match.group("label")
    shown = " ".join(html.unescape(strip_markup(label)).split())
    if not raw or raw.startswith("#") or html.unescape(raw) == shown:
        return label
    return f"{label} ({raw})" if shown else raw


def html_to_text(value: str) -> str:
    """A readable plain-text version of an HTML body, for mail clients that show no HTML. Links keep their
    address after their text, since a plain-text reader has no other way to follow them."""
    text = _DROP.sub("", value)
    text = _LINK.sub(_link_text, text)
    text = _BLOCK_END.sub("\n", text)
    text = html.unescape(strip_markup(text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"


@attr.s(slots=True)
class RenderedEmail:
    """Everything needed to send a ``Message`` over ``ChannelType.EMAIL``."""

    from_name = attr.ib()
    subject = attr.ib()
    body_html = attr.ib()
    head_html = attr.ib()
    body = attr.ib()


@attr.s(slots=True)
class RenderedPushNotification:
    """Everything needed to send a ``Message`` over ``ChannelType.PUSH``."""

    title = attr.ib()
    body = attr.ib()


class AbstractRenderer:
    """Base class for message renderers.

    A subclass sets ``rendered_message_cls`` (an attrs class), ``template_files`` (field name ->
    template file name) and ``required_fields``; it may override :meth:`finish` to post-process the
    rendered fields (fill optional ones, clean header values).
    """

    rendered_message_cls = None
    template_files: dict[str, str] = {}
    required_fields: frozenset[str] = frozenset()

    def get_template_for_message(self, channel, message, filename: str) -> str:
        """The full template path of ``filename`` for ``message`` on ``channel``."""
        return f"{message.app_label}/edx_ace/{message.name}/{channel.channel_type.value}/{filename}"

    def template_context(self, channel, message) -> dict:
        context = dict(message.context)
        context["channel"] = channel
        context["message"] = message
        return context

    def render(self, channel, message):
        """Render every field of ``rendered_message_cls`` for ``message`` on ``channel``.

        A required template that does not exist raises ``TemplateDoesNotExist``; an optional one
        renders as ``None`` until :meth:`finish` fills it.
        """
        context = self.template_context(channel, message)
        rendered = {}
        for field, filename in self.template_files.items():
            name = self.get_template_for_message(channel, message, filename)
            try:
                template = loader.get_template(name)
            except TemplateDoesNotExist:
                if field in self.required_fields:
                    raise
                rendered[field] = None
                continue
            rendered[field] = self.render_template(template, context, filename)
        return self.rendered_message_cls(**self.finish(rendered))

    def render_template(self, template, context: dict, filename: str) -> str:
        """Render one template. Text parts (``.txt``: subject, from name, plain body, push) are not HTML, so
        Django templates render them without autoescaping: "Tom & Jerry" must not become "Tom &amp; Jerry"
        in a subject line."""
        if filename.endswith(".txt") and isinstance(getattr(template, "template", None), DjangoTemplate):
            return template.template.render(Context(context, autoescape=False))
        return template.render(context)

    def finish(self, rendered: dict) -> dict:
        return rendered


class EmailRenderer(AbstractRenderer):
    """A renderer for ``ChannelType.EMAIL`` channels."""

    rendered_message_cls = RenderedEmail
    template_files = {
        "from_name": "from_name.txt",
        "subject": "subject.txt",
        "head_html": "head.html",
        "body_html": "body.html",
        "body": "body.txt",
    }
    required_fields = frozenset({"subject", "body_html"})

    def finish(self, rendered):
        rendered["subject"] = one_line(rendered["subject"])
        rendered["from_name"] = one_line(rendered["from_name"] or "")
        rendered["head_html"] = rendered["head_html"] or ""
        if rendered["body"] is None:
            rendered["body"] = html_to_text(rendered["body_html"])
        return rendered


class PushRenderer(AbstractRenderer):
    """A renderer for ``ChannelType.PUSH`` channels."""

    rendered_message_cls = RenderedPushNotification
    template_files = {"title": "title.txt", "body": "body.txt"}
    required_fields = frozenset({"title", "body"})

    def finish(self, rendered):
        rendered["title"] = one_line(rendered["title"])
        rendered["body"] = rendered["body"].strip()
        return rendered


#: edx-ace 1.15's name for the push renderer.
PushNotificationRenderer = PushRenderer
