"""``ace.send`` in the project's configuration with a real worker: a send that meets a failing SMTP server is
retried by the worker (``send_message`` with backoff) and delivered once the server answers again."""

from __future__ import annotations

import threading

from ace.message import Message
from ace.recipient import Recipient
from ace_admin.models import DeliveryLog
from tests.integration.conftest import wait_for


def test_a_send_retried_in_the_background_is_delivered_once_the_server_is_back(workers):
    refusals = []
    lock = threading.Lock()

    def down_for_two_attempts(envelope):
        with lock:
            if len(refusals) < 2:
                refusals.append(envelope.rcpt_tos)
                return "451 4.3.0 Temporary failure, try later"
        return None

    workers.mailbox.before_data = down_for_two_attempts
    message = Message(app_label="tests", name="greeting", recipient=Recipient(7, "ann@example.com"),
                      context={"first_name": "Ann", "site": "Example", "code": "R3TRY"})
    workers.start()
    workers.send("ace_admin.tasks.send_message", str(message))

    def statuses():
        return list(DeliveryLog.objects.filter(message_uuid=message.uuid).order_by("pk")
                    .values_list("status", flat=True))

    wait_for(lambda: "sent" in statuses(), 60, "the retried message to be delivered", workers)

    assert statuses() == ["retrying", "retrying", "sent"]
    assert len(refusals) == 2
    assert workers.mailbox.recipients() == ["ann@example.com"]  # delivered exactly once
    [delivered] = workers.mailbox.received_by("ann@example.com")
    assert "your code is R3TRY" in delivered.text
    retrying = DeliveryLog.objects.filter(message_uuid=message.uuid, status="retrying").first()
    assert retrying.error.startswith("retry scheduled for ")
