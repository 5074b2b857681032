"""Small builders shared by the engine tests."""

from ace.message import Message
from ace.recipient import Recipient


def make_message(name="greeting", email="ann@example.com", context=None, **kwargs) -> Message:
    """A message of the ``tests`` app (templates under tests/templates/tests/edx_ace/<name>/)."""
    context = {"first_name": "Ann", "site": "Example", "code": "X1", **(context or {})}
    return Message(app_label="tests", name=name, recipient=Recipient(7, email), context=context, **kwargs)
