"""Bounce and complaint mail over plain SMTP: RFC 3464 delivery status notifications and RFC 5965 ARF feedback
reports, turned into events.

The message a report is about is found, in order, by the VERP envelope sender it was sent back to (the
report's To / Delivered-To / X-Original-To headers), then by the headers of the returned message (ACE's
``X-ACE-Message-ID``, its ``Message-ID``, its Return-Path), then by those anywhere in the report's text
(bouncers that quote the original only as text). Reports about no message of ACE's are still recorded
(a complaint still suppresses the address it names).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
import uuid
from email.utils import parsedate_to_datetime

from ace_admin.events import verp
from ace_admin.events.ingest import Incoming
from ace_admin.models import EventType

_ACE_HEADER = re.compile(r"X-ACE-Message-ID:\s*([0-9a-f-]{36})", re.I)
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
#: 5.x.x statuses that say nothing bad about the address: mailbox full, message too big, policy (spam) blocks.
_SOFT_PERMANENT = re.compile(r"^5\.(2\.2|2\.3|3\.4|7\.\d+)$")
VERP_HEADERS = ("To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "X-Failed-Recipients")


def parse_message(raw: bytes | str) -> email.message.Message:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def _fields(part) -> list:
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload
    text = payload if isinstance(payload, str) else ""
    return [email.message_from_string(block.strip() + "\n") for block in re.split(r"\r?\n\r?\n", text)
            if block.strip()]


def _returned_headers(message) -> list:
    """The headers of the message a report returns (message/rfc822 or text/rfc822-headers parts)."""
    found = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            found.extend(inner if isinstance(inner, list) else [])
        elif kind == "text/rfc822-headers":
            found.append(email.message_from_string(part.get_payload(decode=True).decode("utf-8", "replace")))
    return found


def _text(message) -> str:
    chunks = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            data = part.get_payload(decode=True)
            if data:
                chunks.append(data.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(chunks)


def _ace_uuid(text: str) -> uuid.UUID | None:
    for pattern in (_ACE_HEADER, verp.MESSAGE_ID):
        match = pattern.search(text or "")
        if match:
            try:
                return uuid.UUID(match.group(1))
            except ValueError:
                continue
    return verp.find_in(text)


def find_message(message) -> uuid.UUID | None:
    """The id of ACE's message that ``message`` (a report) is about, or None."""
    found = verp.find_in(" ".join(str(value) for name in VERP_HEADERS for value in message.get_all(name) or []))
    if found:
        return found
    for headers in _returned_headers(message):
        text = "\n".join(f"{name}: {value}" for name, value in headers.items())
        found = _ace_uuid(text)
        if found:
            return found
    return _ace_uuid(_text(message))


def _address(value: str | None) -> str:
    value = (value or "").strip()
    if ";" in value:  # "rfc822; ada@example.org"
        value = value.split(";", 1)[1]
    return value.strip().strip("<>").lower()


def _when(*values):
    for value in values:
        if value:
            try:
                return parsedate_to_datetime(str(value).strip())
            except (TypeError, ValueError, IndexError):
                continue
    return None


def classify(action: str, status: str) -> str | None:
    action, status = (action or "").strip().lower(), (status or "").strip()
    if action == "delayed" or status.startswith("4.") and action != "failed":
        return EventType.DEFERRED
    if action in ("delivered", "relayed", "expanded"):
        return EventType.DELIVERED
    if action == "failed" or status.startswith("5."):
        if status.startswith("4.") or _SOFT_PERMANENT.match(status):
            return EventType.BOUNCED_SOFT
        return EventType.BOUNCED_HARD
    return None


def _event_id(message, raw: bytes, *parts) -> str:
    base = (message.get("Message-ID") or "").strip() or "sha256:" + hashlib.sha256(raw).hexdigest()
    return ":".join([base, *[str(part) for part in parts]])


def _dsn_events(message, raw, message_uuid) -> list[Incoming]:
    events = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = _fields(part)
        per_message = blocks[0] if blocks else {}
        for block in blocks[1:]:
            event_type = classify(block.get("Action"), block.get("Status"))
            if event_type is None:
                continue
            recipient = _address(block.get("Final-Recipient") or block.get("Original-Recipient"))
            events.append(Incoming(
                event_type=event_type, provider="dsn", message_uuid=message_uuid, recipient=recipient,
                occurred_at=_when(block.get("Last-Attempt-Date"), per_message.get("Arrival-Date"),
                                  message.get("Date")),
                provider_event_id=_event_id(message, raw, recipient, block.get("Status", "")),
                description=" ".join(filter(None, [block.get("Status"), block.get("Diagnostic-Code")])),
                raw={"mime": raw.decode("utf-8", "replace")}))
    return events


def _arf_events(message, raw, message_uuid) -> list[Incoming]:
    for part in message.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        fields = (_fields(part) or [{}])[0]
        kind = (fields.get("Feedback-Type") or "abuse").strip().lower()
        if kind == "not-spam":
            return []
        recipient = _address(fields.get("Original-Rcpt-To"))
        if not recipient:
            returned = _returned_headers(message)
            recipient = _address(email.utils.parseaddr(returned[0].get("To", ""))[1]) if returned else ""
        return [Incoming(
            event_type=EventType.COMPLAINED, provider="arf", message_uuid=message_uuid, recipient=recipient,
            occurred_at=_when(fields.get("Arrival-Date"), fields.get("Received-Date"), message.get("Date")),
            provider_event_id=_event_id(message, raw, "complaint"),
            description=f"Feedback-Type: {kind}; reported by "
                        f"{fields.get('User-Agent') or fields.get('Reporting-MTA') or 'unknown'}",
            user_agent=str(fields.get("User-Agent") or "")[:500], raw={"mime": raw.decode("utf-8", "replace")})]
    return []


def _plain_bounce(message, raw, message_uuid) -> list[Incoming]:
    """A bounce without a delivery-status part (old or odd bouncers): only when ACE's message is known."""
    match = _STATUS.search(_text(message))
    if message_uuid is None or match is None or match.group(1) == "2":
        return []
    status = match.group(0)
    return [Incoming(
        event_type=classify("failed" if status.startswith("5") else "delayed", status), provider="dsn",
        message_uuid=message_uuid, occurred_at=_when(message.get("Date")),
        provider_event_id=_event_id(message, raw, status), description=f"{status} (from the bounce's text)",
        raw={"mime": raw.decode("utf-8", "replace")})]


def parse(raw: bytes | str) -> list[Incoming]:
    """The events in one bounce or complaint message (raw MIME); [] when it is neither."""
    raw_bytes = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogateescape")
    message = parse_message(raw_bytes)
    message_uuid = find_message(message)
    report_type = (message.get_param("report-type") or "").lower() if message.is_multipart() else ""
    if report_type == "feedback-report":
        return _arf_events(message, raw_bytes, message_uuid)
    return _dsn_events(message, raw_bytes, message_uuid) or _plain_bounce(message, raw_bytes, message_uuid)
