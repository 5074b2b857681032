"""Suppressed addresses: recorded when a delivery fails for good (SMTP 5xx for the recipient, a provider's
"invalid address"), consulted by the policy plug-in, lifted by staff.

Only failures that say something about the *address* suppress it: a refused sender, a failed login or
a provider's "bad API key" are configuration problems and would otherwise suppress everybody.
"""

from __future__ import annotations

import logging
import smtplib

from django.db import transaction
from django.utils import timezone

from ace.errors import FatalChannelDeliveryError
from ace.outcome import DeliveryStatus
from ace_admin.models import Suppression, identity_hash

LOG = logging.getLogger(__name__)

#: SMTP replies to DATA that name the mailbox (550 unavailable, 551 not local, 553 name not allowed);
#: 552 and 554 are about the message or the sender, not the address.
ADDRESS_DATA_CODES = frozenset({550, 551, 553})
#: Sailthru error codes that mean the address cannot receive mail (PROVIDERS.md: 11 invalid email).
SAILTHRU_ADDRESS_CODES = frozenset({11})


def _chain(error: BaseException):
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def permanent_address_failure(error: BaseException | None, channel_name: str = "") -> str | None:
    """Why ``error`` means the address can never receive mail, or None when it does not say so.

    A channel plug-in can mark its own errors with ``error.permanent_for_recipient = True``.
    """
    if not isinstance(error, FatalChannelDeliveryError):
        return None
    if getattr(error, "permanent_for_recipient", False):
        return str(error)
    for cause in _chain(error):
        if isinstance(cause, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _text in cause.recipients.values()]
            if codes and all(500 <= code < 600 for code in codes):
                return "; ".join(f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
                                 for code, text in cause.recipients.values())
        elif isinstance(cause, smtplib.SMTPDataError) and cause.smtp_code in ADDRESS_DATA_CODES:
            text = cause.smtp_error
            return f"{cause.smtp_code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
    if channel_name.startswith("sailthru") and getattr(error, "code", None) in SAILTHRU_ADDRESS_CODES:
        return str(error)
    return None


def suppress(email: str, *, reason: str, details: str = "", source: str = "", event=None, expires_at=None):
    """Suppress ``email`` (idempotent: an address suppressed already keeps its first entry, except that a
    permanent suppression replaces a temporary one). ``event``: the bounce or complaint it rests on;
    ``expires_at``: when a temporary suppression ends by itself."""
    email = (email or "").strip().lower()
    if not email:
        return None
    address_hash = identity_hash(email)
    # An address longer than the column is kept as its fingerprint only (it still matches by hash).
    stored = email if len(email) <= Suppression._meta.get_field("email").max_length else ""
    with transaction.atomic():  # a savepoint: never breaks the transaction of the code that sent
        existing = Suppression.objects.in_force().filter(address_hash=address_hash).first()
        if existing is not None:
            if existing.expires_at is not None and expires_at is None:
                existing.expires_at, existing.reason, existing.event = None, reason, event
                existing.details, existing.source = details[:2000], source[:100]
                existing.save(update_fields=["expires_at", "reason", "event", "details", "source"])
            return existing
        return Suppression.objects.create(email=stored, address_hash=address_hash, reason=reason,
                                          details=details[:2000], source=source[:100], event=event,
                                          expires_at=expires_at)


def lift(queryset, user=None) -> int:
    """Lift the suppressions in ``queryset`` that are in force; returns how many were lifted."""
    return queryset.filter(lifted_at__isnull=True).update(lifted_at=timezone.now(), lifted_by=user)


def record_permanent_failures(sender, message, outcomes, **kwargs) -> None:
    """Receiver of ``ACE_MESSAGE_OUTCOMES``: suppress the address of an email that failed for good."""
    for outcome in outcomes:
        if outcome.status is not DeliveryStatus.FAILED or getattr(outcome.channel_type, "value", None) != "email":
            continue
        why = permanent_address_failure(outcome.error, outcome.channel_name or "")
        address = getattr(message.recipient, "email_address", None)
        if why is None or not address:
            continue
        try:
            suppress(address, reason=Suppression.REASON_BOUNCE, details=why, source=outcome.channel_name or "")
        except Exception:  # the send is over; failing to record must not turn its outcome into a crash
            LOG.exception("Could not suppress the address of %s.", message.log_id)
