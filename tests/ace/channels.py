"""Channel classes defined by the tests, and a helper that enables them through a ChannelMap."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

from ace.channel import Channel, ChannelMap, ChannelType
from ace.channel.mixins import EmailChannelMixin
from ace.errors import RecoverableChannelDeliveryError
from ace.utils.date import get_current_time


class RecordingEmailChannel(EmailChannelMixin, Channel):
    """Keeps every (message, rendered) it is asked to deliver."""

    def __init__(self, claims=()):
        self.delivered = []
        self.claims = set(claims)

    def overrides_delivery_for_message(self, message):
        return message.name in self.claims

    def deliver(self, message, rendered_message):
        self.recipient_address(message)
        self.delivered.append((message, rendered_message))


class FlakyEmailChannel(RecordingEmailChannel):
    """Raises RecoverableChannelDeliveryError ``failures`` times, asking to be retried ``delay`` later."""

    def __init__(self, failures: int, delay: timedelta = timedelta(milliseconds=10)):
        super().__init__()
        self.failures = failures
        self.delay = delay
        self.attempt_times = []
        self.next_times = []

    def deliver(self, message, rendered_message):
        now = get_current_time()
        self.attempt_times.append(now)
        if len(self.attempt_times) <= self.failures:
            next_time = now + self.delay
            self.next_times.append(next_time)
            raise RecoverableChannelDeliveryError("try later", next_time)
        super().deliver(message, rendered_message)


class RecordingPushChannel(Channel):
    channel_type = ChannelType.PUSH

    def __init__(self):
        self.delivered = []

    def deliver(self, message, rendered_message):
        self.delivered.append((message, rendered_message))


@contextmanager
def enabled_channels(**named: Channel):
    """Make ``named`` (entry-point name -> channel object) the enabled channels, in that order."""
    channel_map = ChannelMap(list(named.items()))
    with mock.patch("ace.channel.channels", return_value=channel_map):
        yield channel_map
