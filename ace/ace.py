"""The main entry point for sending messages with ACE: ``send``.

Usage::

    from edx_ace import ace
    from edx_ace.message import Message
    from edx_ace.recipient import Recipient

    msg = Message(name="test_message", app_label="my_app",
                  recipient=Recipient(lms_user_id=123456, email_address="a_user@example.com"),
                  language="en", context={"stuff": "to personalize the message"})
    ace.send(msg)
"""

from __future__ import annotations

import functools
import logging

from django.template import TemplateDoesNotExist

from ace import channel as channel_registry
from ace import delivery, policy, presentation
from ace.channel import ChannelType, get_channel_for_message
from ace.errors import ChannelError, InvalidMessageError, UnsupportedChannelError
from ace.message import MessageType
from ace.outcome import DeliveryOutcome, DeliveryStatus, SendResult
from ace.settings import ace_settings, callables, on_reload
from ace.signals import ACE_MESSAGE_OUTCOMES
from ace.utils.date import get_current_time

log = logging.getLogger(__name__)
LOG = log  # edx-ace calls it ``log``; tests patch ``edx_ace.ace.log``

#: Errors re-raised out of send() after every channel was tried, as edx-ace lets them out; a ChannelError
#: (fatal, unsupported) is reported to monitoring as ``{channel type}_error`` and send() returns.
_RAISED = (InvalidMessageError,)


def _checked_limit(limit_to_channels):
    if limit_to_channels is None:
        return None
    if isinstance(limit_to_channels, ChannelType | str):  # one channel type given on its own
        limit_to_channels = [limit_to_channels]
    wanted = set()
    for value in limit_to_channels:
        try:
            wanted.add(ChannelType(value))
        except ValueError:
            raise ValueError(f"limit_to_channels: {value!r} is not a ChannelType "
                             f"(use {', '.join(f'ChannelType.{c.name}' for c in ChannelType)}).")
    return wanted


def send(msg, limit_to_channels=None) -> SendResult:
    """Send a message to its recipient over every channel type the policies allow.

    :param msg: the ``Message`` to send; it needs what its channels need (an email address for email).
    :param limit_to_channels: an optional list of ``ChannelType`` to restrict delivery to; other
        channel types are not used at all.

    This is :func:`send_once` with its retry loop: each channel's delivery (``delivery.deliver``) retries a
    recoverable failure until the message expires, sleeping in between, or hands it to ``ACE_RETRY_HANDLER``
    (RETRY_SCHEDULED). Channel types go in a fixed order (email, then push). Every chosen channel first checks
    the message (``Channel.check_message``): if one finds it invalid, it goes over no channel at all. As in
    edx-ace, a missing template is reported (``template_error``) and that channel skipped, a channel error is
    reported (``{channel type}_error``) and send() goes on; an ``InvalidMessageError`` or a template that fails
    to render (unless ``ACE_RAISE_TEMPLATE_ERRORS`` is False) is raised, after every channel was tried and
    ``ACE_MESSAGE_OUTCOMES`` was sent. Returns a ``SendResult``: one ``DeliveryOutcome`` per channel type
    considered.
    """
    outcomes = _run(msg, limit_to_channels, _deliver_with_retries)
    ACE_MESSAGE_OUTCOMES.send(sender=None, message=msg, outcomes=outcomes)
    raised = [DeliveryStatus.FAILED]
    if ace_settings.ACE_RAISE_TEMPLATE_ERRORS:
        raised.append(DeliveryStatus.TEMPLATE_ERROR)
    for outcome in outcomes:
        if outcome.error is None or outcome.status not in raised or isinstance(outcome.error, ChannelError):
            continue  # channel errors were reported to monitoring already
        raise outcome.error
    return outcomes


def send_once(msg, limit_to_channels=None, *, before_delivery=None, on_outcome=None) -> SendResult:
    """The send pipeline for one message, in one pass that never sleeps.

    Evaluates the policies, chooses the channels, has each check the message, prepares it, renders it and
    makes one delivery attempt per channel (``delivery.attempt_once``). Returns a ``SendResult``, one
    ``DeliveryOutcome`` per channel type considered; a recoverable failure comes back RETRY_SCHEDULED with
    ``retry_at`` (when the channel asks to be tried again), and nothing is scheduled: retrying is the
    caller's (``ace.send`` loops; campaign batches re-queue). Unlike :func:`send` it sends no signal and raises
    nothing for a failed delivery or template: the outcomes hold the errors.

    :param limit_to_channels: as for :func:`send`.
    :param before_delivery: an optional ``callable(channel)`` called before a channel renders and delivers
        the message; an exception it raises stops this message there and propagates (a rate limit).
    :param on_outcome: an optional ``callable(outcome)`` called as each outcome is settled, in order (a
        campaign records each one as soon as its channel answered).
    """
    return _run(msg, limit_to_channels, _deliver_once, before_delivery, on_outcome)


def _run(msg, limit_to_channels, deliver_step, before_delivery=None, on_outcome=None) -> SendResult:
    """The pipeline shared by :func:`send` and :func:`send_once`; ``deliver_step(channel, rendered, msg)``
    returns the channel's ``DeliveryOutcome`` (one attempt, or attempts with retries)."""
    if isinstance(msg, MessageType):
        raise InvalidMessageError(f"ace.send() takes a Message, not {type(msg).__name__} "
                                  "(call its personalize() to get a Message).")
    msg.report_basics()
    wanted = _checked_limit(limit_to_channels)
    # channels_for, get_channel_for_message, presentation.render and delivery.deliver are the documented
    # steps, called through their modules so that code patching edx_ace.<module>.<name> is honoured.
    allowed = policy.channels_for(msg)
    denied = policy.denials_for(msg)
    if allowed:
        prepare(msg)
    plan = []  # per channel type: a settled DeliveryOutcome, or the Channel to deliver over
    for channel_type in ChannelType:
        if channel_type not in allowed:
            if wanted is None or channel_type in wanted:
                denial = denied.get(channel_type) or policy.Denial("policy")
                plan.append(DeliveryOutcome(msg, channel_type, DeliveryStatus.DENIED, reason=denial.policy,
                                            details=denial.details(), finished_at=get_current_time()))
            continue
        if wanted is not None and channel_type not in wanted:
            log.debug("Skipping channel %s", channel_type)
            continue
        # Looked up on the module so that patching ace.channel.channels (a plug-in registry) is seen here.
        if channel_type not in channel_registry.channels():
            continue  # no channel of this type is enabled here: nothing to do, nothing to report
        try:
            channel = get_channel_for_message(channel_type, msg)
        except UnsupportedChannelError as error:
            plan.append(DeliveryOutcome(msg, channel_type, DeliveryStatus.UNSUPPORTED, error=error,
                                        reason=str(error), finished_at=get_current_time()))
            continue
        plan.append(channel)
    # Every chosen channel vets the message before any of them delivers: an invalid message goes nowhere.
    invalid = _invalid_for(plan, msg)
    outcomes = SendResult()
    for item in plan:
        if isinstance(item, DeliveryOutcome):
            outcome = item
        elif invalid is not None:
            outcome = DeliveryOutcome(msg, item.channel_type, DeliveryStatus.FAILED, channel_name=item.name,
                                      error=invalid, reason=str(invalid), finished_at=get_current_time())
        else:
            if before_delivery is not None:
                before_delivery(item)
            outcome = _render_and_deliver(item, msg, deliver_step)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes


def _invalid_for(plan, msg) -> InvalidMessageError | None:
    """The first ``InvalidMessageError`` a chosen channel's ``check_message`` raises, else None."""
    for item in plan:
        if isinstance(item, DeliveryOutcome):
            continue
        try:
            item.check_message(msg)
        except InvalidMessageError as error:
            msg.get_message_specific_logger(log).error("Not sent anywhere: %s", error)
            return error
    return None


@functools.cache
def _callables(setting: str) -> tuple:
    """The callables a setting names by dotted path (cached until a setting changes)."""
    return callables(setting)


on_reload(_callables.cache_clear)


def _preparers() -> tuple:
    return _callables("ACE_MESSAGE_PREPARERS")


def prepare(msg) -> None:
    """Run every ``ACE_MESSAGE_PREPARERS`` callable on ``msg`` (an extension point for plug-ins).

    ``send()`` calls this once per message, after the policies allowed at least one channel type and
    before any rendering. A preparer is ``preparer(message) -> None``; it may add entries to
    ``message.context`` (seen by every template) and to ``message.options["email_headers"]`` (a dict
    of header name -> value that the email channels put on the email). Preparers must be idempotent:
    a message retried later is prepared again. Code that renders or delivers messages without
    ``send()`` calls this itself.
    """
    for preparer in _preparers():
        preparer(msg)


def process_outgoing(channel, msg, rendered) -> None:
    """Run every ``ACE_OUTGOING_PROCESSORS`` callable, in order, on a message rendered for sending.

    A processor is ``processor(channel, message, rendered_message) -> None``; it may change the rendered
    parts in place (rewrite links for click tracking, add an open pixel...). It runs for real sends only (not
    for previews), after rendering and ``ACE_RENDERED_MESSAGE_PROCESSORS`` (which finish the content wherever
    it is rendered) and before delivery; an exception is that message's rendering error.
    """
    for processor in _callables("ACE_OUTGOING_PROCESSORS"):
        processor(channel, msg, rendered)


def _render_and_deliver(channel, msg, deliver_step) -> DeliveryOutcome:
    # The logging adapters below are built only on failure: a send that works logs nothing.
    try:
        rendered = presentation.render(channel, msg)
        process_outgoing(channel, msg, rendered)
    except TemplateDoesNotExist as error:
        msg.report("template_error", "Unable to send message because template not found\n" + str(error))
        return DeliveryOutcome(msg, channel.channel_type, DeliveryStatus.TEMPLATE_MISSING, channel_name=channel.name,
                               error=error, reason=f"template {error} does not exist",
                               finished_at=get_current_time())
    except Exception as error:  # recorded for every channel, then raised by send() as edx-ace does
        msg.get_message_specific_logger(log).exception("Not sent over %s: rendering failed.", channel.name)
        return DeliveryOutcome(msg, channel.channel_type, DeliveryStatus.TEMPLATE_ERROR, channel_name=channel.name,
                               error=error, reason=f"{type(error).__name__}: {error}",
                               finished_at=get_current_time())
    return deliver_step(channel, rendered, msg)


def _deliver_once(channel, rendered, msg) -> DeliveryOutcome:
    outcome = delivery.attempt_once(channel, rendered, msg)
    if outcome.status is DeliveryStatus.FAILED and isinstance(outcome.error, ChannelError):
        msg.report(f"{channel.channel_type}_error", str(outcome.error))
    return outcome


def _deliver_with_retries(channel, rendered, msg) -> DeliveryOutcome:
    try:
        result = delivery.deliver(channel, rendered, msg)
    except Exception as error:  # failed for good: deliver() hands its outcome along with the error
        if isinstance(error, ChannelError):
            msg.report(f"{channel.channel_type}_error", str(error))
        outcome = getattr(error, "ace_outcome", None)
        if outcome is None:  # raised by something standing in for deliver(): record it as it is
            outcome = DeliveryOutcome(msg, channel.channel_type, DeliveryStatus.FAILED, channel_name=channel.name,
                                      error=error, reason=f"{type(error).__name__}: {error}",
                                      finished_at=get_current_time())
        return outcome
    if isinstance(result, DeliveryOutcome):
        return result
    # A stand-in for deliver() that returned (edx-ace's returns None) delivered the message.
    return DeliveryOutcome(msg, channel.channel_type, DeliveryStatus.SENT, channel_name=channel.name, attempts=1,
                           finished_at=get_current_time())
