"""``RecipientResolver``: keeps who receives a message apart from what the message says."""

from __future__ import annotations

import abc


class RecipientResolver(metaclass=abc.ABCMeta):
    """Selects the recipients of a batch; ``send`` personalises a ``MessageType`` for each of them."""

    @abc.abstractmethod
    def send(self, msg_type, *args, **kwargs):
        """Send a ``Message`` personalised from ``msg_type`` to every recipient this resolver selects."""
