"""The one writer of the delivery log: one ``DeliveryLog`` row per message and channel type.

Two ways in, one set of columns (:func:`_identity` from the message, :func:`_outcome_columns` from the outcome):

- ``ace.send``: :func:`record_outcomes` (the ``ACE_MESSAGE_OUTCOMES`` receiver) inserts one row per outcome, in
  one insert. It runs in a savepoint after every value was fitted to its column (:func:`fit_row`): whatever a
  caller sends (a 300-character user id...), ACE never breaks the caller's ``transaction.atomic()`` and the
  email that went out is still logged.
- campaign batches (exactly once): :func:`claim` inserts a "sending" row per message and channel type before
  anything is sent, and :func:`record_claimed` writes each outcome into its row as soon as the channel
  answered; they send ``ACE_MESSAGE_OUTCOMES`` with ``logged=True``, which the receiver leaves alone.
"""

from __future__ import annotations

import contextlib
import logging

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ace.outcome import DeliveryStatus
from ace_admin.content import message_types
from ace_admin.models import DeliveryLog
from ace_admin.models.log import fit_recipient_id

LOG = logging.getLogger(__name__)


def _policy_text(outcome) -> str:
    if outcome.status is not DeliveryStatus.DENIED:
        return ""
    details = outcome.details or {}
    if details.get("channel_reason"):
        return details["channel_reason"]  # the exact rule (our own policy names it per channel type)
    return ": ".join(filter(None, [outcome.reason, details.get("policy_reason")]))


def _error_text(outcome) -> str:
    if outcome.status in (DeliveryStatus.SENT, DeliveryStatus.DENIED):
        return ""
    if outcome.status is DeliveryStatus.RETRY_SCHEDULED:
        return outcome.reason or "retry scheduled"  # "retry scheduled for <time>: <error>"
    if outcome.error is not None:
        text = f"{type(outcome.error).__name__}: {outcome.error}"
        # A recoverable error given up on ("still failing after 10 attempts", "next attempt ... after expiration"):
        # why it was given up comes first, so the run page can tell it from a refusal and offer a retry.
        if outcome.reason and str(outcome.error) not in outcome.reason:
            return f"{outcome.reason}: {text}"
        return text
    return outcome.reason or ""


def _fitted(field, value):
    limit = getattr(field, "max_length", None)
    if limit and isinstance(value, str) and len(value) > limit:
        return value[:limit - 1] + "…"
    return value


def fit_row(row) -> None:
    """Cut every text value of ``row`` to its column's size (the database would refuse the whole insert)."""
    for field in type(row)._meta.concrete_fields:
        setattr(row, field.attname, _fitted(field, getattr(row, field.attname)))


def _fit_values(model, values: dict) -> None:
    for name, value in values.items():
        values[name] = _fitted(model._meta.get_field(name), value)


def _identity(message) -> dict:
    """The columns that come from the message (the same for each of its channel types)."""
    info = message_types.message_type_for(message)
    recipient = message.recipient
    return {
        "message_uuid": message.uuid, "send_uuid": message.send_uuid, "app_label": message.app_label,
        "message_name": message.name, "message_type_id": info.pk if info is not None else None,
        "recipient_id": "" if recipient is None else fit_recipient_id(recipient.lms_user_id),
        "recipient_address": ((recipient.email_address or "") if recipient is not None else "").strip().lower(),
        "transactional": message_types.is_transactional(message, info),
        "is_test": bool((message.options or {}).get("is_test")),
        "language": message.language or "",
    }


def _outcome_columns(outcome) -> dict:
    """The columns that come from one outcome."""
    return {
        "channel_name": outcome.channel_name or "", "status": outcome.status.value,
        "policy": _policy_text(outcome)[:500], "error": _error_text(outcome), "attempts": outcome.attempts,
        "finished_at": outcome.finished_at,
        "provider_message_id": str((outcome.details or {}).get("provider_message_id") or ""),
    }


def _channel_value(channel_type) -> str:
    return getattr(channel_type, "value", str(channel_type))


def record_outcomes(sender, message, outcomes, logged=False, **kwargs) -> None:
    """Receiver of ``ACE_MESSAGE_OUTCOMES``: one row per outcome, one bulk insert (``logged``: written already)."""
    if not outcomes or logged:
        return
    identity = _identity(message)
    rows = [DeliveryLog(**identity, channel_type=_channel_value(outcome.channel_type), **_outcome_columns(outcome))
            for outcome in outcomes]
    for row in rows:
        fit_row(row)
    try:
        # Inside the caller's transaction, a savepoint: a failed insert rolls back to here and the caller's
        # transaction stays usable. In autocommit the insert is its own transaction already (no extra round trip).
        with transaction.atomic() if transaction.get_connection().in_atomic_block else contextlib.nullcontext():
            DeliveryLog.objects.bulk_create(rows)
    except Exception:  # the message went out already; a log that cannot be written must not undo that
        LOG.exception("Could not write the delivery log for %s.", message.log_id)


# --- Campaign runs: claim first, then one update per outcome ---------------------------------------------------

#: The statuses of a claimed row that is still to be settled.
PENDING = ("sending", "retrying")


def claim(run, messages, channel_types, untouched: set | None = None) -> dict:
    """Claim ``messages`` of campaign ``run`` over ``channel_types``: insert a "sending" row per message and
    channel type unless the run has a row for that recipient and channel type already (the unique key makes
    two workers agree). Returns ``{message uuid: {channel type: (row pk, attempts)}}`` for the rows each
    message still has to settle: its own, still sending or retrying; a recipient listed twice in an audience
    (another message id) or already settled gets none. ``untouched``, when given, receives the uuids of the
    messages with a row no worker has got to yet (still "sending")."""
    identities = [(message, _identity(message)) for message in messages]

    def existing():
        emails = {identity["recipient_address"] for _, identity in identities if identity["recipient_address"]}
        ids = {identity["recipient_id"] for _, identity in identities if identity["recipient_id"]}
        found = DeliveryLog.objects.filter(Q(recipient_address__in=emails) | Q(recipient_id__in=ids),
                                           campaign_run=run).values_list(
            "pk", "recipient_id", "recipient_address", "channel_type", "status", "message_uuid", "attempts")
        return {(row[1], row[2], row[3]): row for row in found}

    rows = existing()
    new_rows = [
        DeliveryLog(**identity, campaign_run=run, channel_type=channel_type.value, status="sending")
        for _, identity in identities for channel_type in channel_types
        if (identity["recipient_id"], identity["recipient_address"], channel_type.value) not in rows]
    if new_rows:
        for row in new_rows:
            fit_row(row)
        DeliveryLog.objects.bulk_create(new_rows, ignore_conflicts=True)
        rows = existing()
    claimed = {}
    for message, identity in identities:
        mine = {}
        for channel_type in channel_types:
            found = rows.get((identity["recipient_id"], identity["recipient_address"], channel_type.value))
            if found is not None and found[5] == message.uuid and found[4] in PENDING:
                mine[channel_type] = (found[0], found[6])
                if untouched is not None and found[4] == "sending":
                    untouched.add(message.uuid)
        if mine:
            claimed[message.uuid] = mine
    return claimed


def record_claimed(pk, outcome) -> None:
    """Write one outcome into its claimed row at once (the shorter the gap after the channel answered, the
    less is in doubt); a RETRY_SCHEDULED outcome leaves the row "retrying"."""
    values = _outcome_columns(outcome)
    values["finished_at"] = values["finished_at"] or timezone.now()
    _fit_values(DeliveryLog, values)
    columns = list(values)
    with connection.cursor() as cursor:  # plain SQL: this runs once per message
        cursor.execute(f"UPDATE {DeliveryLog._meta.db_table} SET {', '.join(f'{c} = %s' for c in columns)} "
                       f"WHERE id = %s", [values[c] for c in columns] + [pk])


def discard_claims(run, message_uuids) -> None:
    """Give back what a stopped batch claimed but did not send (paused: claimed again on resume)."""
    DeliveryLog.objects.filter(campaign_run=run, status="sending", message_uuid__in=message_uuids).delete()


def discard_retries(run_id) -> None:
    """A cancelled run: the retries that were waiting will not happen (they were never delivered)."""
    DeliveryLog.objects.filter(campaign_run_id=run_id, status="retrying").delete()
