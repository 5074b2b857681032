"""The delivery step: hand a rendered message to a channel, retrying recoverable failures in time.

Internal interface used by ``ace.send``. As in edx-ace, a ``RecoverableChannelDeliveryError`` is retried at
its ``next_attempt_time`` (the call sleeps until then) until the message expires — at ``expiration_time``,
or ``ACE_DEFAULT_EXPIRATION_DELAY`` seconds after the first attempt, and never later than
``MAX_EXPIRATION_DELAY`` after it — or ``ACE_DELIVERY_MAX_ATTEMPTS`` attempts were made. With
``ACE_RETRY_HANDLER`` set, the retry is handed to that callable (a background queue) instead of sleeping.
Background senders that must not sleep use :func:`attempt_once` (through ``ace.send_once``) and re-enqueue
themselves.
"""

from __future__ import annotations

import functools
import logging
import time
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ace.errors import ChannelError, InvalidMessageError, RecoverableChannelDeliveryError
from ace.outcome import DeliveryOutcome, DeliveryStatus
from ace.settings import ace_settings, on_reload
from ace.utils import date as _clock
from ace.utils.date import as_utc, get_current_time
from ace.utils.signals import send_ace_message_sent_signal

LOG = logging.getLogger(__name__)

#: However long a message may live, one delivery never retries for longer than this (seconds), as in edx-ace.
MAX_EXPIRATION_DELAY = 5 * 60


def _now():
    # Bookkeeping times (outcome.finished_at): not the module's get_current_time, which decides retries and
    # which edx-ace's tests replace with a scripted clock.
    return _clock.get_current_time()


def attempt_time(moment):
    """A channel's ``next_attempt_time`` as an aware UTC time (now when the channel gave none)."""
    if moment is None:  # a channel that gave no time: try again as soon as allowed
        return get_current_time()
    return as_utc(moment)


def _logger(message):
    # Built only when there is something to log: a send that succeeds first time logs nothing.
    return message.get_message_specific_logger(LOG)


def expiration_for(message, start):
    """When ``message`` stops being worth delivering (retries of one delivery stop then)."""
    default = start + timedelta(seconds=ace_settings.ACE_DEFAULT_EXPIRATION_DELAY)
    return min(start + timedelta(seconds=MAX_EXPIRATION_DELAY), as_utc(message.expiration_time) or default)


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
        message.report(f"{channel.channel_type}_delivery_succeeded", True)
        send_ace_message_sent_signal(channel, message)
    outcome.finished_at = _now()
    return True


def attempt_once(channel, rendered_message, message, start=None) -> DeliveryOutcome:
    """One delivery attempt, never sleeping: the outcome is settled (sent, failed, expired) or, after a
    ``RecoverableChannelDeliveryError``, RETRY_SCHEDULED with ``retry_at`` the channel's next attempt time
    (the caller decides whether and when to try again). A message already expired is not attempted."""
    start = start or get_current_time()
    outcome = DeliveryOutcome(message=message, channel_type=channel.channel_type,
                              status=DeliveryStatus.FAILED, channel_name=getattr(channel, "name", None),
                              started_at=start)
    expiration = expiration_for(message, start)
    if start >= expiration:
        outcome.status, outcome.finished_at = DeliveryStatus.EXPIRED, _now()
        outcome.reason = f"expired at {expiration.isoformat()}"
        return outcome
    if not attempt(channel, rendered_message, message, outcome):
        outcome.retry_at = attempt_time(outcome.error.next_attempt_time)
        outcome.status, outcome.finished_at = DeliveryStatus.RETRY_SCHEDULED, _now()
        outcome.reason = f"recoverable failure, next attempt at {outcome.retry_at.isoformat()}: {outcome.error}"
    return outcome


@functools.cache
def _retry_handler():
    path = ace_settings.ACE_RETRY_HANDLER
    if not path:
        return None
    if callable(path):
        return path
    try:
        return import_string(path)
    except ImportError as error:
        raise ImproperlyConfigured(f"ACE_RETRY_HANDLER: cannot import {path!r}: {error}")


on_reload(_retry_handler.cache_clear)


def deliver_with_outcome(channel, rendered_message, message) -> DeliveryOutcome:
    """Deliver ``message`` over ``channel`` with retries; return what happened. Never raises for a
    delivery failure: the outcome says FAILED and holds the error."""
    start = get_current_time()
    outcome = DeliveryOutcome(message=message, channel_type=channel.channel_type,
                              status=DeliveryStatus.FAILED, channel_name=getattr(channel, "name", None),
                              started_at=start)
    expiration = expiration_for(message, start)
    max_attempts = ace_settings.ACE_DELIVERY_MAX_ATTEMPTS
    while get_current_time() < expiration:
        if attempt(channel, rendered_message, message, outcome):
            return outcome
        next_time = attempt_time(outcome.error.next_attempt_time)
        delay = (next_time - get_current_time()).total_seconds()
        if next_time > expiration:
            outcome.reason = f"next attempt ({next_time.isoformat()}) after expiration ({expiration.isoformat()})"
            _logger(message).debug("Message will expire before delivery can be reattempted, aborting.")
            break
        if outcome.attempts >= max_attempts:
            outcome.status, outcome.finished_at = DeliveryStatus.FAILED, _now()
            outcome.reason = f"still failing after {outcome.attempts} attempts"
            _logger(message).warning("Giving up on %s after %d attempts: %s",
                                     outcome.channel_name, outcome.attempts, outcome.error)
            return outcome
        handler = _retry_handler()
        if handler is not None:
            # The background takes the retry over: this caller returns now instead of sleeping. A handler
            # that declines (too many attempts, too late) ends the delivery as failed; it never sleeps here.
            outcome.details["expires_at"] = expiration.isoformat()
            if not handler(channel=channel, message=message, next_attempt_time=next_time, outcome=outcome):
                outcome.status, outcome.finished_at = DeliveryStatus.FAILED, _now()
                outcome.reason = outcome.reason or "no retry scheduled"
                return outcome
            outcome.status, outcome.finished_at = DeliveryStatus.RETRY_SCHEDULED, _now()
            when = outcome.details.setdefault("next_attempt_time", next_time.isoformat())
            outcome.reason = f"retry scheduled for {when}: {outcome.error}"
            message.report(f"{channel.channel_type}_delivery_retry_scheduled", delay)
            return outcome
        _logger(message).debug("Sleeping for %d seconds before reattempting delivery of message.", delay)
        if delay > 0:
            time.sleep(delay)
        message.report(f"{channel.channel_type}_delivery_retried", delay)
    outcome.status, outcome.finished_at = DeliveryStatus.EXPIRED, _now()
    outcome.reason = outcome.reason or f"expired at {expiration.isoformat()}"
    message.report(f"{channel.channel_type}_delivery_expired", get_current_time() - start)
    return outcome


def deliver(channel, rendered_message, message) -> DeliveryOutcome:
    """Deliver a message via a particular channel.

    :param channel: the channel to deliver the message over.
    :param rendered_message: the rendered content (each attribute holds one rendered part).
    :param message: the message being sent.

    Raises the channel's error when delivery failed for good (``FatalChannelDeliveryError``,
    ``InvalidMessageError``), as edx-ace does; returns the ``DeliveryOutcome`` otherwise (sent, expired,
    or retry scheduled).
    """
    outcome = deliver_with_outcome(channel, rendered_message, message)
    if outcome.status is DeliveryStatus.FAILED and outcome.error is not None:
        outcome.error.ace_outcome = outcome  # ace.send records what happened, then reports or re-raises
        raise outcome.error
    return outcome
