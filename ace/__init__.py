"""ACE, the Automated Communication Engine: send personalised messages to a platform's learners.

``ace`` exports the typical set of functions and classes needed to use it; ``edx_ace`` gives the
same modules under the names edx-ace used.
"""

from ace.ace import send, send_once
from ace.channel import Channel, ChannelType
from ace.message import Message, MessageType
from ace.policy import Policy, PolicyResult
from ace.recipient import Recipient
from ace.recipient_resolver import RecipientResolver

__version__ = "0.1.0"

__all__ = [
    "Channel",
    "ChannelType",
    "Message",
    "MessageType",
    "Policy",
    "PolicyResult",
    "Recipient",
    "RecipientResolver",
    "send",
    "send_once",
]
