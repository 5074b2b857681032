"""The exceptions specific to ACE: one hierarchy for every channel and every step of the pipeline."""


class ChannelError(Exception):
    """Indicates something went wrong in a delivery channel."""


class RecoverableChannelDeliveryError(ChannelError):
    """A non-fatal delivery error: the caller should try again at ``next_attempt_time``."""

    def __init__(self, message, next_attempt_time):
        super().__init__(message)
        self.message = message
        self.next_attempt_time = next_attempt_time

    def __str__(self):
        if self.next_attempt_time is None:
            return str(self.message)
        return f"{self.message} (next attempt at {self.next_attempt_time:%Y-%m-%dT%H:%M:%S%z})"


class FatalChannelDeliveryError(ChannelError):
    """A fatal error occurred during channel delivery. Do not retry."""


class UnsupportedChannelError(ChannelError):
    """Raised when an attempt is made to process a message for an unsupported channel."""


class InvalidMessageError(Exception):
    """Encountered a message that cannot be sent due to missing or inconsistent information."""
