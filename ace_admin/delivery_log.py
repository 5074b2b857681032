"""Writes the delivery log: one ``DeliveryLog`` row per outcome of every ``ace.send``, in one insert.

The insert runs in a savepoint after every value was fitted to its column (:func:`fit_row`): whatever a
caller sends (a 300-character user id...), ACE never breaks the caller's ``transaction.atomic()`` and the
email that went out is still logged.
"""

from __future__ import annotations

import contextlib
import logging

from django.db import transaction

from ace.outcome import DeliveryStatus
from ace_admin.content import message_types
from ace_admin.models import DeliveryLog
from ace_admin.models.log import fit_recipient_id
from ace_admin.rules.policy import reasons_by_channel

LOG = logging.getLogger(__name__)


def policy_text(message, outcome) -> str:
    if outcome.status is not DeliveryStatus.DENIED:
        return ""
    mine = reasons_by_channel.get(message, {}).get(outcome.channel_type)
    policy_reason = (outcome.details or {}).get("policy_reason")
    if mine and outcome.reason and mine in (policy_reason or ""):
        return mine  # our own policy: the rule's name says it all
    return ": ".join(filter(None, [outcome.reason, policy_reason]))


def error_text(outcome) -> str:
    if outcome.status in (DeliveryStatus.SENT, DeliveryStatus.DENIED):
        return ""
    if outcome.status is DeliveryStatus.RETRY_SCHEDULED:
        return outcome.reason or "retry scheduled"  # "retry scheduled for <time>: <error>"
    if outcome.error is not None:
        return f"{type(outcome.error).__name__}: {outcome.error}"
    return outcome.reason or ""


def fit_row(row) -> None:
    """Cut every text value of ``row`` to its column's size (the database would refuse the whole insert)."""
    for field in type(row)._meta.concrete_fields:
        limit = getattr(field, "max_length", None)
        value = getattr(row, field.attname)
        if limit and isinstance(value, str) and len(value) > limit:
            setattr(row, field.attname, value[:limit - 1] + "…")


def record_outcomes(sender, message, outcomes, **kwargs) -> None:
    """Receiver of ``ACE_MESSAGE_OUTCOMES``: one row per outcome, one bulk insert."""
    if not outcomes or "ace_campaign_run" in (message.options or {}):
        return  # campaign messages: the campaign batch keeps their rows itself (ace_admin.campaigns.tasks)
    info = message_types.message_type_for(message)
    recipient = message.recipient
    transactional = message_types.is_transactional(message, info)
    rows = [
        DeliveryLog(
            message_uuid=message.uuid, send_uuid=message.send_uuid, app_label=message.app_label,
            message_name=message.name, message_type_id=info.pk if info is not None else None,
            recipient_id="" if recipient is None else fit_recipient_id(recipient.lms_user_id),
            recipient_address=((recipient.email_address or "") if recipient is not None else "").strip().lower(),
            channel_type=getattr(outcome.channel_type, "value", str(outcome.channel_type)),
            channel_name=outcome.channel_name or "", status=outcome.status.value,
            policy=policy_text(message, outcome)[:500], error=error_text(outcome),
            attempts=outcome.attempts, transactional=transactional,
            is_test=bool((message.options or {}).get("is_test")), finished_at=outcome.finished_at,
        )
        for outcome in outcomes
    ]
    for row in rows:
        fit_row(row)
    try:
        # Inside the caller's transaction, a savepoint: a failed insert rolls back to here and the caller's
        # transaction stays usable. In autocommit the insert is its own transaction already (no extra round trip).
        with transaction.atomic() if transaction.get_connection().in_atomic_block else contextlib.nullcontext():
            DeliveryLog.objects.bulk_create(rows)
    except Exception:  # the message went out already; a log that cannot be written must not undo that
        LOG.exception("Could not write the delivery log for %s.", message.log_id)
