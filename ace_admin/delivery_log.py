"""Writes the delivery log: one ``DeliveryLog`` row per outcome of every ``ace.send``, in one insert."""

from __future__ import annotations

import logging

from ace.outcome import DeliveryStatus
from ace_admin import cache as stamp

LOG = logging.getLogger(__name__)


def _policy_text(message, outcome) -> str:
    if outcome.status is not DeliveryStatus.DENIED:
        return ""
    from ace_admin.policy import reasons_by_channel

    mine = reasons_by_channel.get(message, {}).get(outcome.channel_type)
    policy_reason = (outcome.details or {}).get("policy_reason")
    if mine and outcome.reason and mine in (policy_reason or ""):
        return mine  # our own policy: the rule's name says it all
    return ": ".join(filter(None, [outcome.reason, policy_reason]))


def _error_text(outcome) -> str:
    if outcome.status in (DeliveryStatus.SENT, DeliveryStatus.DENIED):
        return ""
    if outcome.status is DeliveryStatus.RETRY_SCHEDULED:
        return outcome.reason or "retry scheduled"  # "retry scheduled for <time>: <error>"
    if outcome.error is not None:
        return f"{type(outcome.error).__name__}: {outcome.error}"
    return outcome.reason or ""


def record_outcomes(sender, message, outcomes, **kwargs) -> None:
    """Receiver of ``ACE_MESSAGE_OUTCOMES``: one row per outcome, one bulk insert."""
    from ace_admin.models import DeliveryLog

    if not outcomes or "ace_campaign_run" in (message.options or {}):
        return  # campaign messages: the campaign batch keeps their rows itself (ace_admin.tasks)
    info = stamp.message_type_for(message)
    recipient = message.recipient
    transactional = stamp.is_transactional(message, info)
    rows = [
        DeliveryLog(
            message_uuid=message.uuid, send_uuid=message.send_uuid, app_label=message.app_label,
            message_name=message.name, message_type_id=info.pk if info is not None else None,
            recipient_id="" if recipient is None or recipient.lms_user_id is None else str(recipient.lms_user_id),
            recipient_address=((recipient.email_address or "") if recipient is not None else "").strip().lower(),
            channel_type=getattr(outcome.channel_type, "value", str(outcome.channel_type)),
            channel_name=outcome.channel_name or "", status=outcome.status.value,
            policy=_policy_text(message, outcome)[:500], error=_error_text(outcome),
            attempts=outcome.attempts, transactional=transactional,
            is_test=bool((message.options or {}).get("is_test")), finished_at=outcome.finished_at,
        )
        for outcome in outcomes
    ]
    try:
        DeliveryLog.objects.bulk_create(rows)
    except Exception:  # the message went out already; a log that cannot be written must not undo that
        LOG.exception("Could not write the delivery log for %s.", message.log_id)
