"""Delivery: recoverable errors retried at next_attempt_time until success, expiry or the attempt limit."""

from datetime import timedelta

import pytest
from django.core import mail

from ace import delivery, send
from ace.channel import ChannelType
from ace.errors import FatalChannelDeliveryError, RecoverableChannelDeliveryError
from ace.outcome import DeliveryOutcome, DeliveryStatus
from ace.presentation import render
from ace.signals import ACE_MESSAGE_OUTCOMES, ACE_MESSAGE_SENT
from ace.utils.date import get_current_time
from tests.ace.channels import FlakyEmailChannel, enabled_channels
from tests.ace.helpers import make_message

pytestmark = pytest.mark.django_db  # the project's DB router and template loader take part in send()


@pytest.fixture
def outcomes():
    seen = []

    def receiver(sender, message, outcomes, **kwargs):
        seen.extend(outcomes)

    ACE_MESSAGE_OUTCOMES.connect(receiver)
    yield seen
    ACE_MESSAGE_OUTCOMES.disconnect(receiver)


def test_recoverable_error_retried_at_next_attempt_time_until_success():
    channel = FlakyEmailChannel(failures=2)
    with enabled_channels(flaky=channel):
        result = send(make_message())
    [outcome] = result
    assert (outcome.status, outcome.attempts) == (DeliveryStatus.SENT, 3)
    assert len(channel.delivered) == 1
    # every retry happened no earlier than the time the channel asked for
    assert all(later >= asked for later, asked in zip(channel.attempt_times[1:], channel.next_times, strict=True))


def test_retry_stops_at_expiration_and_nothing_is_sent():
    channel = FlakyEmailChannel(failures=100, delay=timedelta(hours=1))
    message = make_message(expiration_time=get_current_time() + timedelta(minutes=5))
    with enabled_channels(flaky=channel):
        result = send(message)
    [outcome] = result
    assert outcome.status is DeliveryStatus.EXPIRED
    assert outcome.attempts == 1
    assert channel.delivered == []
    assert not result.sent


def test_expired_message_is_never_attempted(outcomes):
    message = make_message(expiration_time=get_current_time() - timedelta(seconds=1))
    result = send(message, limit_to_channels=[ChannelType.EMAIL])
    assert [(o.status, o.attempts) for o in result] == [(DeliveryStatus.EXPIRED, 0)]
    assert mail.outbox == []
    assert [o.status for o in outcomes] == [DeliveryStatus.EXPIRED]


def test_retry_gives_up_after_max_attempts(settings, outcomes):
    settings.ACE_DELIVERY_MAX_ATTEMPTS = 3
    channel = FlakyEmailChannel(failures=100)
    with enabled_channels(flaky=channel):
        send(make_message())  # as edx-ace: a channel error is reported, not raised
    assert len(channel.attempt_times) == 3
    assert channel.delivered == []
    [outcome] = outcomes
    assert (outcome.status, outcome.attempts) == (DeliveryStatus.FAILED, 3)
    assert "3 attempts" in outcome.reason


def test_default_expiration_delay_bounds_retries_without_expiration_time(settings):
    settings.ACE_DEFAULT_EXPIRATION_DELAY = 60
    channel = FlakyEmailChannel(failures=100, delay=timedelta(minutes=5))
    with enabled_channels(flaky=channel):
        [outcome] = send(make_message())
    assert (outcome.status, outcome.attempts, channel.delivered) == (DeliveryStatus.EXPIRED, 1, [])


def test_attempt_makes_one_try_and_never_sleeps():
    channel = FlakyEmailChannel(failures=1, delay=timedelta(hours=1))
    message = make_message()
    with enabled_channels(flaky=channel):
        rendered = render(channel, message)
        outcome = DeliveryOutcome(message, ChannelType.EMAIL, DeliveryStatus.FAILED)
        assert delivery.attempt(channel, rendered, message, outcome) is False
        assert isinstance(outcome.error, RecoverableChannelDeliveryError)
        assert delivery.attempt(channel, rendered, message, outcome) is True
    assert (outcome.status, outcome.attempts, len(channel.delivered)) == (DeliveryStatus.SENT, 2, 1)


def test_deliver_returns_outcome_and_raises_fatal():
    channel = FlakyEmailChannel(failures=0)
    message = make_message()
    rendered = render(channel, message)
    assert delivery.deliver(channel, rendered, message).status is DeliveryStatus.SENT
    with pytest.raises(Exception, match="email address"):
        delivery.deliver(channel, rendered, make_message(email=None))
    assert len(channel.delivered) == 1


# Against the real SMTP server ----------------------------------------------------------------------


def test_smtp_451_twice_then_accepted_is_delivered_once(smtp_settings):
    smtp_settings.refuse_next_data("451 4.3.0 Mailbox busy, try later", count=2)
    sent = []
    ACE_MESSAGE_SENT.connect(receiver := lambda sender, message, **kw: sent.append(message))
    try:
        result = send(make_message(), limit_to_channels=[ChannelType.EMAIL])
    finally:
        ACE_MESSAGE_SENT.disconnect(receiver)
    assert [(o.status, o.attempts) for o in result] == [(DeliveryStatus.SENT, 3)]
    assert [kind for kind, _ in smtp_settings.attempts].count("DATA") == 3
    [received] = smtp_settings.messages
    assert received.rcpt_tos == ["ann@example.com"]
    assert received.message["Subject"] == "Hello Ann, welcome to Example"
    assert len(sent) == 1


def test_smtp_550_is_fatal_and_nothing_is_in_the_mailbox(smtp_settings, outcomes):
    smtp_settings.refuse_rcpt("ann@example.com", "550 5.1.1 No such user")
    [result] = send(make_message(), limit_to_channels=[ChannelType.EMAIL])  # reported, not raised (edx-ace)
    assert isinstance(result.error, FatalChannelDeliveryError) and "550" in str(result.error)
    assert smtp_settings.messages == []
    assert [(o.status, o.attempts) for o in outcomes] == [(DeliveryStatus.FAILED, 1)]


def test_smtp_554_at_data_is_fatal(smtp_settings, outcomes):
    smtp_settings.refuse_data_for("ann@example.com", "554 5.7.1 Spam")
    [result] = send(make_message(), limit_to_channels=[ChannelType.EMAIL])
    assert isinstance(result.error, FatalChannelDeliveryError) and "554" in str(result.error)
    assert smtp_settings.messages == []
    assert [o.status for o in outcomes] == [DeliveryStatus.FAILED]


def test_smtp_temporary_rcpt_refusal_retried(smtp_settings):
    smtp_settings.refuse_rcpt("ann@example.com", "450 4.2.1 Try again", times=1)
    [outcome] = send(make_message(), limit_to_channels=[ChannelType.EMAIL])
    assert (outcome.status, outcome.attempts) == (DeliveryStatus.SENT, 2)
    assert [m.rcpt_tos for m in smtp_settings.messages] == [["ann@example.com"]]


def test_smtp_server_down_is_recoverable_then_gives_up(settings, outcomes):
    from tests.smtp import _free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _free_port(), 2
    settings.ACE_DELIVERY_MAX_ATTEMPTS = 2
    [result] = send(make_message(), limit_to_channels=[ChannelType.EMAIL])
    assert isinstance(result.error, RecoverableChannelDeliveryError)
    assert [(o.status, o.attempts) for o in outcomes] == [(DeliveryStatus.FAILED, 2)]


def test_recoverable_error_without_a_time_is_retried_at_once():
    class NoTime(FlakyEmailChannel):
        def deliver(self, message, rendered_message):
            self.attempt_times.append(get_current_time())
            if len(self.attempt_times) == 1:
                error = RecoverableChannelDeliveryError("busy", None)
                assert str(error) == "busy"
                raise error
            self.delivered.append(message)

    channel = NoTime(failures=0)
    with enabled_channels(flaky=channel):
        [outcome] = send(make_message())
    assert (outcome.status, outcome.attempts, len(channel.delivered)) == (DeliveryStatus.SENT, 2, 1)


def test_recoverable_error_str_names_the_next_attempt():
    from datetime import UTC, datetime

    error = RecoverableChannelDeliveryError("rate limited", datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert str(error) == "rate limited (next attempt at 2030-01-02T03:04:05+0000)"
    assert (error.message, error.next_attempt_time.year) == ("rate limited", 2030)
