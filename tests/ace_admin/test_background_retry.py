"""No caller waits on a failing provider: in the project's configuration (ACE_RETRY_HANDLER =
ace_admin.campaigns.tasks.schedule_send_retry), a recoverable failure during ``ace.send`` is queued as a
``send_message`` task for later, and ``ace.send`` returns without sleeping. Under the engine's defaults it
retries in place."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core import mail

import ace.delivery
from ace import ace as ace_api
from ace.channel import ChannelType
from ace.message import Message
from ace.outcome import DeliveryStatus
from ace_admin.campaigns.tasks import RETRY_ATTEMPTS_OPTION
from ace_admin.models import DeliveryLog
from config.celery import app as celery_app
from tests.ace_admin.conftest import make_message
from tests.smtp import _free_port

pytestmark = pytest.mark.django_db


class _Clock:
    """Stands in for ``time`` in ace.delivery: records every sleep instead of sleeping."""

    def __init__(self):
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)


@pytest.fixture
def no_sleep(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(ace.delivery, "time", clock)
    return clock


@pytest.fixture
def refusing_smtp(settings):
    """Django's SMTP backend pointed at a loopback port where no server listens (the server is down)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _free_port(), 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False


@pytest.fixture
def queued(monkeypatch, settings):
    """Celery publishes to its in-memory broker instead of running tasks eagerly; returns a reader of what was
    queued: ``[(task name, args, kwargs, eta)]``."""
    settings.ACE_CAMPAIGN_RETRY_BACKOFF_SECONDS = 5
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    queue = celery_app.conf.task_default_queue

    def read():
        found = []
        with celery_app.connection_for_read() as connection:
            simple = connection.SimpleQueue(queue)
            try:
                while True:
                    try:
                        item = simple.get(timeout=0.5)
                    except simple.Empty:
                        break
                    args, kwargs, _embed = item.decode()
                    found.append((item.headers["task"], args, kwargs, item.headers["eta"]))
                    item.ack()
            finally:
                simple.close()
        return found

    read()  # start from an empty queue
    return read


def test_refused_smtp_connection_is_handed_to_the_background(settings, refusing_smtp, no_sleep, queued):
    assert settings.ACE_RETRY_HANDLER == "ace_admin.campaigns.tasks.schedule_send_retry"  # the project's configuration
    message = make_message()

    [outcome] = ace_api.send(message, limit_to_channels=[ChannelType.EMAIL])

    assert no_sleep.sleeps == []  # the caller never waited
    assert (outcome.status, outcome.attempts) == (DeliveryStatus.RETRY_SCHEDULED, 1)
    assert outcome.reason.startswith("retry scheduled for ")
    [(task, args, kwargs, eta)] = queued()
    assert (task, kwargs) == ("ace_admin.tasks.send_message", {"channel_type": "email"})
    retry = Message.from_string(args[0])
    assert (retry.uuid, retry.recipient, retry.options[RETRY_ATTEMPTS_OPTION]) == (message.uuid, message.recipient, 1)
    assert retry.expiration_time == datetime.fromisoformat(outcome.details["expires_at"])
    assert datetime.fromisoformat(eta) == datetime.fromisoformat(outcome.details["next_attempt_time"])
    [row] = DeliveryLog.objects.filter(message_uuid=message.uuid)
    assert row.status == "retrying" and row.error.startswith("retry scheduled for ")
    assert mail.outbox == []


def test_the_queued_retry_delivers_once_the_server_is_back(settings, smtp_settings, refusing_smtp, no_sleep, queued):
    message = make_message()
    ace_api.send(message, limit_to_channels=[ChannelType.EMAIL])
    [(task, args, kwargs, _eta)] = queued()

    settings.EMAIL_PORT = smtp_settings.port  # the server is back
    from ace_admin.campaigns.tasks import send_message

    assert send_message.run(*args, **kwargs) == {"email": "sent"}
    assert [item.rcpt_tos for item in smtp_settings.messages] == [["ann@example.com"]]
    assert list(DeliveryLog.objects.filter(message_uuid=message.uuid).order_by("pk").values_list("status", flat=True)
                ) == ["retrying", "sent"]
    assert no_sleep.sleeps == [] and queued() == []


def test_no_retry_past_the_attempt_limit(settings, refusing_smtp, no_sleep, queued):
    settings.ACE_DELIVERY_MAX_ATTEMPTS = 3
    message = make_message(options={RETRY_ATTEMPTS_OPTION: 2})  # the third attempt, queued by earlier sends

    [outcome] = ace_api.send(message, limit_to_channels=[ChannelType.EMAIL])

    assert (outcome.status, outcome.reason) == (DeliveryStatus.FAILED, "still failing after 3 attempts")
    assert queued() == [] and no_sleep.sleeps == []


def test_engine_default_retries_in_place_as_edx_ace(settings, refusing_smtp, no_sleep, queued):
    settings.ACE_RETRY_HANDLER = None
    settings.ACE_DELIVERY_MAX_ATTEMPTS = 2
    settings.ACE_CHANNEL_DJANGO_EMAIL_RETRY_DELAY = 3

    [outcome] = ace_api.send(make_message(), limit_to_channels=[ChannelType.EMAIL])

    assert (outcome.status, outcome.attempts) == (DeliveryStatus.FAILED, 2)
    assert len(no_sleep.sleeps) == 1 and 2 < no_sleep.sleeps[0] <= 3  # it waited for the next attempt itself
    assert queued() == []
