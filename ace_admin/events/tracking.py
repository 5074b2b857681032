"""ACE's own open and click tracking, for channels whose provider reports no opens or clicks.

:func:`process_email` is an ``ACE_OUTGOING_PROCESSORS`` callable (it runs for real sends only,
after rendering and CSS inlining, before delivery): for a tracked message type it
points every http(s) link of the HTML part at ``/ace/t/c/<token>`` and adds a 1x1 image ``/ace/t/o/<token>``.

A click token is the message id, the link's id (``TrackedLink``: one row per distinct URL) and an HMAC of the
two, so the redirect only ever leads to a URL that was in that very message: no open redirect, no guessing.
Unsubscribe and preference links (and ``mailto:``, anchors, links marked ``data-ace-notrack``) are left as they
are, so RFC 8058 one-click unsubscribe keeps working. Tracking is opt-in: per message type (on/off), else by
category (``ACE_TRACKING_CATEGORIES``) or ``ACE_TRACKING_DEFAULT``; never for transactional messages unless
their message type says "on".
"""

from __future__ import annotations

import html
import re
import struct
import uuid

from ace_admin.content import message_types
from ace_admin.events import signing
from ace_admin.events.ingest import links_for
from ace_admin.models import MessageType
from ace_admin.privacy.links import public_base_url
from ace_admin.settings import admin_settings

OPEN, CLICK = "open", "click"
_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.I | re.S)
_BODY_END = re.compile(r"</body\s*>", re.I)
_LINK_ID = struct.Struct(">I")


def is_tracked(message) -> bool:
    info = message_types.message_type_for(message)
    setting = getattr(info, "engagement_tracking", "") if info is not None else ""
    if setting == MessageType.TRACKING_ON:
        return True
    if setting == MessageType.TRACKING_OFF or message_types.is_transactional(message, info):
        return False
    category = message_types.category_of(message, info)
    return bool(category and category in admin_settings.ACE_TRACKING_CATEGORIES) or bool(
        admin_settings.ACE_TRACKING_DEFAULT)


def click_token(message_uuid: uuid.UUID, link_id: int) -> str:
    data = message_uuid.bytes + _LINK_ID.pack(link_id)
    return signing.b64(data + signing.sign(CLICK, data))


def open_token(message_uuid: uuid.UUID) -> str:
    return signing.b64(message_uuid.bytes + signing.sign(OPEN, message_uuid.bytes))


def _signed(token: str, purpose: str, size: int) -> bytes | None:
    """The data of a token of ``size`` data bytes plus 10 signature bytes, if the signature holds."""
    try:
        data = signing.unb64(token)
    except (ValueError, TypeError):
        return None
    if len(data) != size + 10 or not signing.verify(purpose, data[:size], data[size:]):
        return None
    return data[:size]


def read_click(token: str) -> tuple[uuid.UUID, int] | None:
    data = _signed(token, CLICK, 20)
    return None if data is None else (uuid.UUID(bytes=data[:16]), _LINK_ID.unpack(data[16:])[0])


def read_open(token: str) -> uuid.UUID | None:
    data = _signed(token, OPEN, 16)
    return None if data is None else uuid.UUID(bytes=data)


def _untouched_prefixes() -> tuple[str, ...]:
    base = public_base_url()
    return (f"{base}/ace/unsubscribe/", f"{base}/ace/preferences/", f"{base}/ace/t/")


def _trackable(tag_start: str, url: str, keep: tuple[str, ...]) -> bool:
    if "data-ace-notrack" in tag_start.lower() or "unsubscribe" in tag_start.lower():
        return False
    lower = url.lower()
    return lower.startswith(("http://", "https://")) and not url.startswith(keep)


def rewrite_html(body: str, message_uuid: uuid.UUID) -> str:
    """``body`` with its trackable links pointed at ACE's redirect and the open image added."""
    base, keep = public_base_url(), _untouched_prefixes()
    found = [html.unescape(match.group(3)) for match in _HREF.finditer(body)
             if _trackable(match.group(1), html.unescape(match.group(3)), keep)]
    ids = links_for(found)

    def replace(match):
        url = html.unescape(match.group(3))
        if url not in ids or not _trackable(match.group(1), url, keep):
            return match.group(0)
        target = f"{base}/ace/t/c/{click_token(message_uuid, ids[url])}"
        return f"{match.group(1)}{match.group(2)}{html.escape(target)}{match.group(2)}"

    body = _HREF.sub(replace, body)
    pixel = (f'<img src="{base}/ace/t/o/{open_token(message_uuid)}.gif" width="1" height="1" alt="" '
             f'style="display:block;border:0;width:1px;height:1px">')
    ends = list(_BODY_END.finditer(body))
    if ends:
        return f"{body[:ends[-1].start()]}{pixel}{body[ends[-1].start():]}"
    return body + pixel


def process_email(channel, message, rendered) -> None:
    """``ACE_OUTGOING_PROCESSORS`` callable: rewrite the email's HTML when its message type is tracked."""
    if str(getattr(channel.channel_type, "value", channel.channel_type)) != "email":
        return
    body = getattr(rendered, "body_html", None)
    if not isinstance(body, str) or not body or (message.options or {}).get("is_test") or not is_tracked(message):
        return
    rendered.body_html = rewrite_html(body, message.uuid)
