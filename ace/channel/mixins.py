"""Helpers shared by email channels: addresses, the HTML document, and action links."""

from __future__ import annotations

import functools
import re
import warnings
from email.headerregistry import Address
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email

from ace.channel import ChannelType
from ace.errors import FatalChannelDeliveryError, InvalidMessageError


def _from_header(configured, from_name) -> str | None:
    """The From header for a configured address and a rendered from name; None when the address is not valid.

    The rendered from name is the display name only when the configured address has none: a display name
    written in ``from_address`` / ``DEFAULT_FROM_EMAIL`` (Open edX puts its platform alias there) wins.
    """
    if not isinstance(configured, str):
        return None
    default_name, address = parseaddr(configured)
    if not address or "@" not in address:
        return None
    name = default_name or (from_name.strip() if isinstance(from_name, str) else "")
    try:
        return str(Address(display_name=name, addr_spec=address))
    except (ValueError, IndexError):
        return None


#: Parsing and building the header costs more than every other step of a send but rendering, and a
#: batch repeats the same few (address, from name) pairs for every recipient.
_cached_from_header = functools.lru_cache(maxsize=256)(_from_header)

_HEAD_END = re.compile(r"(?i)</head\s*>")
_HTML_START = re.compile(r"(?i)<html\b[^>]*>")


class EmailChannelMixin:
    """What every email channel shares. Mix in before ``Channel``."""

    channel_type = ChannelType.EMAIL

    def get_action_links(self, **kwargs) -> list[tuple[str, str]]:
        """``(url, label)`` links the channel adds to an email (unsubscribe, ...). None by default.

        Called as in edx-ace: ``get_action_links(omit_unsubscribe_link=...)``."""
        return []

    @property
    def action_links(self):
        """Deprecated (as in edx-ace): use ``get_action_links``."""
        warnings.warn("action_links is deprecated in favor of get_action_links", DeprecationWarning, stacklevel=2)
        return self.get_action_links()

    @staticmethod
    def get_from_address(message) -> str:
        """``options['from_address']``, else ``DEFAULT_FROM_EMAIL``, as given (edx-ace's helper);
        ``FatalChannelDeliveryError`` when there is neither."""
        from_address = message.options.get("from_address") or getattr(settings, "DEFAULT_FROM_EMAIL", None)
        if not from_address:
            raise FatalChannelDeliveryError(
                "from_address must be included in message delivery options or as the DEFAULT_FROM_EMAIL setting")
        return from_address

    @staticmethod
    def get_subject(rendered_message) -> str:
        """The rendered subject on one line (whitespace runs, newlines included, become one space)."""
        return re.sub(r"\s+", " ", rendered_message.subject or "").strip()

    @staticmethod
    def make_simple_html_template(head_html, body_html) -> str:
        """edx-ace's HTML document around a rendered head and body."""
        return html_document(head_html, body_html)

    @property
    def tracker_image_sources(self) -> list[str]:
        """Image URLs the channel's provider uses to track opens. None by default."""
        return []

    def check_recipient_and_sender(self, message) -> None:
        """``InvalidMessageError`` unless ``message`` has a valid recipient address and from address (a
        ready-made ``check_message`` for channels that send to the address themselves)."""
        self.recipient_address(message)
        try:
            self.from_address(message, None)
        except FatalChannelDeliveryError:
            pass  # no from address at all: deliver() fails with it and send() reports it, as in edx-ace

    @staticmethod
    def recipient_address(message) -> str:
        """The recipient's email address; ``InvalidMessageError`` when there is no valid one."""
        recipient = message.recipient
        address = getattr(recipient, "email_address", None)
        if not address:
            raise InvalidMessageError(
                f"Message {message.log_id} cannot go over email: its recipient "
                f"{getattr(recipient, 'lms_user_id', None)!r} has no email address."
            )
        try:
            validate_email(address)
        except ValidationError:
            raise InvalidMessageError(f"Message {message.log_id}: {address!r} is not a valid email address.")
        return address

    @staticmethod
    def from_address(message, rendered_message) -> str:
        """The From header: ``options['from_address']`` (else ``DEFAULT_FROM_EMAIL``), with the rendered
        from name as display name when the address has none. Built with ``email.headerregistry`` so
        nothing a template renders can inject a header."""
        configured = EmailChannelMixin.get_from_address(message)
        from_name = getattr(rendered_message, "from_name", "") or ""
        if isinstance(configured, str) and isinstance(from_name, str):
            header = _cached_from_header(configured, from_name)
        else:
            header = _from_header(configured, from_name)
        if header is None:
            raise InvalidMessageError(f"Message {message.log_id}: {configured!r} is not a valid from address.")
        return header

    @staticmethod
    def reply_to(message) -> list[str]:
        value = message.options.get("reply_to")
        if not value:
            return []
        return [value] if isinstance(value, str) else list(value)

    def build_email(self, message, rendered_message, connection=None) -> EmailMultiAlternatives:
        """The Django email for ``message``: text and HTML parts, From, To, Reply-To and headers."""
        email = EmailMultiAlternatives(
            subject=self.get_subject(rendered_message),
            body=rendered_message.body,
            from_email=self.from_address(message, rendered_message),
            to=[self.recipient_address(message)],
            reply_to=self.reply_to(message),
            headers=self.headers(message),
            connection=connection,
        )
        email.attach_alternative(self.html_document(rendered_message), "text/html")
        return email

    @staticmethod
    def headers(message) -> dict[str, str]:
        """ACE's message id header plus ``options['email_headers']`` (added by preparers: List-Unsubscribe...)."""
        headers = {"X-ACE-Message-ID": str(message.uuid)}
        headers.update(getattr(message, "headers", None) or {})  # Message(headers=...), as in edx-ace
        headers.update(message.options.get("email_headers") or {})
        return headers

    @staticmethod
    def html_document(rendered_message) -> str:
        """``body_html`` as a whole HTML document, with ``head_html`` in its head."""
        body = rendered_message.body_html or ""
        head = rendered_message.head_html if isinstance(rendered_message.head_html, str) else ""
        if "<html" not in body[:500].lower():
            return f"<!DOCTYPE html>\n<html>\n<head>\n{head}\n</head>\n<body>\n{body}\n</body>\n</html>\n"
        if not head.strip():
            return body
        # body.html is a whole document (it extends a layout): head.html still belongs in its head.
        closing = _HEAD_END.search(body)
        if closing:
            return f"{body[:closing.start()]}{head}\n{body[closing.start():]}"
        opening = _HTML_START.search(body)
        return f"{body[:opening.end()]}\n<head>\n{head}\n</head>{body[opening.end():]}"


def html_document(head_html, body_html, *, indent: str = "  ", after_body: tuple[str, ...] = ()) -> str:
    """An HTML page in edx-ace's layout: ``head_html`` and ``body_html`` one level deeper than their
    elements, ``after_body`` lines (comments) after ``</body>``. Channels that write edx-ace's formats byte
    for byte choose the indent."""
    lines = ["<!DOCTYPE html>", "<html>", f"{indent}<head>", f"{indent * 2}{head_html}", f"{indent}</head>",
             f"{indent}<body>", f"{indent * 2}{body_html}", f"{indent}</body>",
             *(f"{indent}{line}" for line in after_body), "</html>"]
    return "\n".join(lines)
