"""The delivery step: hand a rendered message to a channel, retrying recoverable failures in time.

Internal interface used by ``ace.send``. A ``RecoverableChannelDeliveryError`` is retried at its
``next_attempt_time`` (this call sleeps until then: ``ace.send`` is synchronous) until the message
expires — at ``expiration_time``, or ``ACE_DEFAULT_EXPIRATION_DELAY`` seconds after the first
attempt when it has none — or ``ACE_DELIVERY_MAX_ATTEMPTS`` attempts were made. Background senders
that must not sleep use :func:`attempt` and re-enqueue instead.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, timedelta

from ace.errors import ChannelError, InvalidMessageError, RecoverableChannelDeliveryError
from ace.outcome import DeliveryOutcome, DeliveryStatus
from ace.settings import ace_settings
from ace.signals import ACE_MESSAGE_SENT
from ace.utils.date import get_current_time

LOG = logging.getLogger(__name__)


def _aware(moment):
    if moment is None:  # a channel that gave no time: try again as soon as allowed
        return get_current_time()
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _logger(message):
    # Built only when there is something to log: a send that succeeds first time logs nothing.
    return message.get_message_specific_logger(LOG)


def expiration_for(message, start):
    """When ``message`` stops being worth delivering."""
    if message.expiration_time is not None:
        return message.expiration_time
    return start + timedelta(seconds=ace_settings.ACE_DEFAULT_EXPIRATION_DELAY)


def attempt(channel, rendered_message, message, outcome: DeliveryOutcome) -> bool:
    """Make one delivery attempt and record it on ``outcome``.

    Returns True when the attempt settled the outcome (sent or failed for good), False when it hit a
    ``RecoverableChannelDeliveryError`` (kept in ``outcome.error``) and may be tried again at
    ``outcome.error.next_attempt_time``.
    """
    outcome.attempts += 1
    try:
        result = channel.deliver(message, rendered_message)
    except RecoverableChannelDeliveryError as error:
        outcome.error = error
        return False
    except (ChannelError, InvalidMessageError) as error:
        outcome.status, outcome.error = DeliveryStatus.FAILED, error
    except Exception as error:  # a channel bug: record it, and let ace.send re-raise it
        outcome.status, outcome.error = DeliveryStatus.FAILED, error
    else:
        outcome.status, outcome.error = DeliveryStatus.SENT, None
        if isinstance(result, dict):
            outcome.details.update(result)
        # The message is out: a failing receiver must not turn that into an error (the caller would
        # send it again), so receivers' errors are logged, not raised.
        for receiver, error in ACE_MESSAGE_SENT.send_robust(sender=channel, message=message):
            if isinstance(error, Exception):
                _logger(message).error("ACE_MESSAGE_SENT receiver %r failed: %r", receiver, error, exc_info=error)
    outcome.finished_at = get_current_time()
    return True


def deliver_with_outcome(channel, rendered_message, message) -> DeliveryOutcome:
    """Deliver ``message`` over ``channel`` with retries; return what happened. Never raises for a
    delivery failure: the outcome says FAILED and holds the error."""
    start = get_current_time()
    outcome = DeliveryOutcome(message=message, channel_type=channel.channel_type,
                              status=DeliveryStatus.FAILED, channel_name=channel.name, started_at=start)
    expiration = expiration_for(message, start)
    max_attempts = ace_settings.ACE_DELIVERY_MAX_ATTEMPTS
    while True:
        if get_current_time() >= expiration:
            outcome.status, outcome.finished_at = DeliveryStatus.EXPIRED, get_current_time()
            outcome.reason = f"expired at {expiration.isoformat()}"
            _logger(message).info("Not delivered over %s: the message expired at %s.", channel.name, expiration)
            break
        if attempt(channel, rendered_message, message, outcome):
            break
        next_time = _aware(outcome.error.next_attempt_time)
        if next_time >= expiration:
            outcome.status, outcome.finished_at = DeliveryStatus.EXPIRED, get_current_time()
            outcome.reason = f"next attempt ({next_time.isoformat()}) after expiration ({expiration.isoformat()})"
            _logger(message).info("Giving up on %s: %s", channel.name, outcome.reason)
            break
        if outcome.attempts >= max_attempts:
            outcome.status, outcome.finished_at = DeliveryStatus.FAILED, get_current_time()
            outcome.reason = f"still failing after {outcome.attempts} attempts"
            _logger(message).warning("Giving up on %s after %d attempts: %s",
                                     channel.name, outcome.attempts, outcome.error)
            break
        delay = (next_time - get_current_time()).total_seconds()
        _logger(message).info("Recoverable error on %s (%s); retrying in %.1fs.", channel.name, outcome.error, delay)
        if delay > 0:
            time.sleep(delay)
    message.report(f"{channel.channel_type.value}.{outcome.status.value}", True)
    return outcome


def deliver(channel, rendered_message, message) -> DeliveryOutcome:
    """Deliver a message via a particular channel.

    :param channel: the channel to deliver the message over.
    :param rendered_message: the rendered content (each attribute holds one rendered part).
    :param message: the message being sent.

    Raises the channel's error when delivery failed for good (``FatalChannelDeliveryError``,
    ``InvalidMessageError``), as edx-ace does; returns the ``DeliveryOutcome`` otherwise (sent, or
    expired).
    """
    outcome = deliver_with_outcome(channel, rendered_message, message)
    if outcome.status is DeliveryStatus.FAILED and outcome.error is not None:
        outcome.error.ace_outcome = outcome  # ace.send records what happened, then re-raises
        raise outcome.error
    return outcome
