"""A per-message envelope sender (VERP) for plain SMTP, so a bounce names the message it is about.

With ``ACE_BOUNCE_DOMAIN`` set, :func:`prepare_message` (an ``ACE_MESSAGE_PREPARERS`` callable) gives each email
the envelope sender ``{ACE_BOUNCE_LOCAL_PART}+{token}@{ACE_BOUNCE_DOMAIN}``: the token is the message's id and an
HMAC of it (lower-case base32, so mail systems that change case cannot break it; nobody can forge one for
another message). The From header does not change. The email also gets a ``Message-ID`` that contains its
id (as every email has ACE's ``X-ACE-Message-ID``), so a bounce that lost the envelope address is still matched
by the returned headers.

Use it with Django's SMTP backend: email services (django-anymail) use their own return paths and report
bounces through their webhooks instead.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

from ace_admin.events.signing import b32, sign, unb32, verify
from ace_admin.settings import admin_settings

PURPOSE = "verp"
#: A VERP address: the local part's token after '+'.
_TOKEN = re.compile(r"\+([a-z2-7]{39})@", re.I)
#: ACE's Message-ID: ``<{uuid}.ace@domain>``.
MESSAGE_ID = re.compile(r"<([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.ace@", re.I)


def token_for(message_uuid: uuid.UUID) -> str:
    return b32(message_uuid.bytes + sign(PURPOSE, message_uuid.bytes, 8))


def envelope_sender(message_uuid: uuid.UUID, domain: str | None = None) -> str:
    domain = domain or admin_settings.ACE_BOUNCE_DOMAIN
    return f"{admin_settings.ACE_BOUNCE_LOCAL_PART}+{token_for(message_uuid)}@{domain}"


def read_token(token: str) -> uuid.UUID | None:
    """The message id in a VERP token, or None when it is not one ACE signed."""
    try:
        data = unb32(token)
    except ValueError:
        return None
    if len(data) != 24 or not verify(PURPOSE, data[:16], data[16:]):
        return None
    return uuid.UUID(bytes=data[:16])


def find_in(text: str) -> uuid.UUID | None:
    """The first message id of a valid VERP address in ``text``."""
    for match in _TOKEN.finditer(text or ""):
        found = read_token(match.group(1))
        if found is not None:
            return found
    return None


def message_id_header(message_uuid: uuid.UUID) -> str:
    domain = admin_settings.ACE_BOUNCE_DOMAIN or urlsplit(admin_settings.ACE_PUBLIC_BASE_URL or "").hostname
    return f"<{message_uuid}.ace@{domain or 'ace.invalid'}>"


def prepare_message(message) -> None:
    """``ACE_MESSAGE_PREPARERS`` callable: with ``ACE_BOUNCE_DOMAIN`` set, the VERP envelope sender and ACE's
    Message-ID."""
    if not admin_settings.ACE_BOUNCE_DOMAIN:
        return
    headers = {**(message.options.get("email_headers") or {}), "Message-ID": message_id_header(message.uuid)}
    message.options = {**message.options, "email_headers": headers, "envelope_sender": envelope_sender(message.uuid)}
