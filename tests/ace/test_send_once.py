"""ace.send_once: the send pipeline in one pass that never sleeps (what campaign batches call)."""

from datetime import timedelta

import pytest

from ace import send_once
from ace.channel import ChannelType
from ace.outcome import DeliveryStatus
from ace.policy import Policy, PolicyResult
from ace.signals import ACE_MESSAGE_OUTCOMES
from ace.utils.date import get_current_time
from tests.ace.channels import FlakyEmailChannel, RecordingEmailChannel, RecordingPushChannel, enabled_channels
from tests.ace.helpers import make_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def signals():
    seen = []

    def receiver(sender, message, outcomes, **kwargs):
        seen.append(outcomes)

    ACE_MESSAGE_OUTCOMES.connect(receiver)
    yield seen
    ACE_MESSAGE_OUTCOMES.disconnect(receiver)


def test_one_attempt_and_the_retry_time_for_a_recoverable_failure(signals):
    channel = FlakyEmailChannel(failures=1, delay=timedelta(hours=1))
    with enabled_channels(flaky=channel):
        [outcome] = send_once(make_message())
    assert (outcome.status, outcome.attempts) == (DeliveryStatus.RETRY_SCHEDULED, 1)
    assert outcome.retry_at == channel.next_times[0]  # nobody slept an hour: the caller retries
    assert channel.delivered == [] and len(channel.attempt_times) == 1
    assert signals == []  # recording is the caller's


def test_outcomes_are_handed_over_as_each_channel_answers():
    email, push = RecordingEmailChannel(), RecordingPushChannel()
    seen = []

    def on_outcome(outcome):
        # The push channel has not been asked yet when the email outcome arrives.
        seen.append((outcome.channel_type, outcome.status, len(push.delivered)))

    with enabled_channels(email=email, push=push):
        result = send_once(make_message(), on_outcome=on_outcome)
    assert seen == [(ChannelType.EMAIL, DeliveryStatus.SENT, 0), (ChannelType.PUSH, DeliveryStatus.SENT, 1)]
    assert [o.status for o in result] == [DeliveryStatus.SENT, DeliveryStatus.SENT]


def test_before_delivery_can_stop_the_message():
    email, push = RecordingEmailChannel(), RecordingPushChannel()

    class NoSlot(Exception):
        pass

    def before_delivery(channel):
        if channel.channel_type is ChannelType.PUSH:
            raise NoSlot()

    with enabled_channels(email=email, push=push), pytest.raises(NoSlot):
        send_once(make_message(), before_delivery=before_delivery)
    assert len(email.delivered) == 1 and push.delivered == []


def test_an_expired_message_is_not_attempted():
    channel = FlakyEmailChannel(failures=0)
    with enabled_channels(flaky=channel):
        [outcome] = send_once(make_message(expiration_time=get_current_time() - timedelta(seconds=1)))
    assert (outcome.status, outcome.attempts, channel.attempt_times) == (DeliveryStatus.EXPIRED, 0, [])


class _PerChannelReasons(Policy):
    name = "per_channel"

    def check(self, message):
        return PolicyResult(deny={ChannelType.PUSH}, reason="push off; quiet hours",
                            reasons={ChannelType.PUSH: "push off"})


def test_a_deny_reason_per_channel_travels_on_the_outcome(monkeypatch):
    monkeypatch.setattr("ace.policy.policies", lambda: [_PerChannelReasons()])
    with enabled_channels(email=RecordingEmailChannel(), push=RecordingPushChannel()):
        result = send_once(make_message())
    push = result.for_channel(ChannelType.PUSH)
    assert (push.status, push.reason) == (DeliveryStatus.DENIED, "per_channel")
    assert push.details == {"policy_reason": "push off; quiet hours", "channel_reason": "push off"}
    assert result.for_channel(ChannelType.EMAIL).status is DeliveryStatus.SENT
