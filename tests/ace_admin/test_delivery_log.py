"""The delivery log: one row per outcome of every ace.send, written in one insert."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ace import ace
from ace.channel import ChannelType
from ace.errors import InvalidMessageError
from ace_admin.models import DeliveryLog
from tests.ace_admin.conftest import make_message
from tests.factories import MessageTypeFactory

pytestmark = pytest.mark.django_db


def test_one_row_per_channel_type_in_one_insert(file_channel_dir):
    welcome = MessageTypeFactory(app_label="ace_admin_tests", name="welcome")
    send_uuid = uuid.uuid4()
    message = make_message(user_id=42, email="Ann@Example.com")
    message.send_uuid = send_uuid
    with CaptureQueriesContext(connection) as queries:
        result = ace.send(message)
    inserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT") and "ace_admin_deliverylog" in q["sql"]]
    assert len(inserts) == 1
    rows = {row.channel_type: row for row in DeliveryLog.objects.filter(message_uuid=message.uuid)}
    assert set(rows) == {"email", "push"}
    assert len(result) == 2
    email = rows["email"]
    assert (email.status, email.channel_name, email.attempts) == ("sent", "django_email", 1)
    assert (email.app_label, email.message_name, email.message_type) == ("ace_admin_tests", "welcome", welcome)
    assert (email.recipient_id, email.recipient_address, email.send_uuid) == ("42", "ann@example.com", send_uuid)
    assert email.finished_at is not None and email.error == "" and email.policy == ""
    push = rows["push"]
    assert (push.status, push.channel_name) == ("sent", "file_push")
    assert len(list(file_channel_dir.glob("*.json"))) == 1


def test_template_missing_and_failure_are_logged_with_the_reason():
    missing = make_message(name="nothing_here")
    ace.send(missing)
    rows = {row.channel_type: row for row in DeliveryLog.objects.filter(message_uuid=missing.uuid)}
    assert rows["email"].status == "template_missing"
    assert "nothing_here/email/subject.txt" in rows["email"].error
    assert rows["push"].status == "template_missing"

    no_address = make_message(email=None)
    with pytest.raises(InvalidMessageError):  # ace.send re-raises it after logging
        ace.send(no_address, limit_to_channels=[ChannelType.EMAIL])
    row = DeliveryLog.objects.get(message_uuid=no_address.uuid)
    assert row.status == "failed" and row.error and row.recipient_id == "7"


def test_unknown_message_types_are_logged_without_a_type():
    message = make_message(app_label="tests", name="greeting")
    ace.send(message, limit_to_channels=[ChannelType.EMAIL])
    row = DeliveryLog.objects.get(message_uuid=message.uuid)
    assert (row.message_type, row.app_label, row.message_name, row.status) == (None, "tests", "greeting", "sent")
