"""The fixed vocabulary of delivery outcomes every channel maps onto (used by logs, admin and metrics)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import attr


class DeliveryStatus(Enum):
    """What became of one message on one channel type."""

    SENT = "sent"                          # the channel accepted the message
    DENIED = "denied"                      # a policy denied the channel type
    FAILED = "failed"                      # a fatal error, or an invalid message for this channel
    EXPIRED = "expired"                    # still failing when the message expired
    TEMPLATE_MISSING = "template_missing"  # a required template does not exist
    TEMPLATE_ERROR = "template_error"      # a template failed to render
    UNSUPPORTED = "unsupported"            # no enabled channel could take it
    RETRY_SCHEDULED = "retrying"           # a recoverable failure handed to the background (ACE_RETRY_HANDLER)

    def __str__(self):
        return self.value


@attr.s(slots=True, eq=False)
class DeliveryOutcome:
    """The outcome of one message on one channel type."""

    message = attr.ib()
    channel_type = attr.ib()
    status: DeliveryStatus = attr.ib()
    channel_name: str | None = attr.ib(default=None)
    #: For DENIED: the name of the policy that denied it; else a short human reason.
    reason: str | None = attr.ib(default=None)
    error: BaseException | None = attr.ib(default=None)
    attempts: int = attr.ib(default=0)
    started_at: datetime | None = attr.ib(default=None)
    finished_at: datetime | None = attr.ib(default=None)
    #: Any facts a channel wants kept (a provider's message id, say).
    details: dict = attr.ib(factory=dict)
    #: For a recoverable failure left to the caller (``ace.send_once``): when the channel asks to be tried again.
    retry_at: datetime | None = attr.ib(default=None)

    @property
    def sent(self) -> bool:
        return self.status is DeliveryStatus.SENT


class SendResult(list):
    """What ``ace.send`` returns: the ``DeliveryOutcome`` of each channel type it considered."""

    @property
    def sent(self) -> bool:
        """True when at least one channel delivered the message."""
        return any(outcome.sent for outcome in self)

    def for_channel(self, channel_type) -> DeliveryOutcome | None:
        return next((outcome for outcome in self if outcome.channel_type == channel_type), None)
