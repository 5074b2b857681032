"""Campaign deliveries against the loopback SMTP server: retries without sleeping, expiry, fatal errors, rate limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ace.message import Message
from ace.recipient import Recipient
from ace_admin.campaigns import tasks
from ace_admin.models import CampaignBatch, CampaignRun, DeliveryLog
from tests.campaigns.conftest import make_audience, make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_retries(settings):
    settings.ACE_CAMPAIGN_RETRY_BACKOFF_SECONDS = 0.01
    settings.ACE_CAMPAIGN_RETRY_BACKOFF_MAX_SECONDS = 0.05


def _addresses(server):
    return sorted(rcpt for item in server.messages for rcpt in item.rcpt_tos)


def test_4xx_answers_go_back_to_the_queue_and_are_delivered_later(greeting, smtp_settings, run_on_commit,
                                                                  fast_retries, monkeypatch):
    smtp_settings.refuse_next_data("451 4.3.0 Try again later", count=3)
    queued = []
    real = tasks.send_batch.apply_async

    def record(args=None, kwargs=None, eta=None, **options):
        queued.append(eta)
        return real(args=args, kwargs=kwargs, **options)  # eager: at once instead of at the ETA

    monkeypatch.setattr(tasks.send_batch, "apply_async", record)
    run = run_on_commit(tasks.start_run, make_campaign(greeting, make_audience(5)))

    assert _addresses(smtp_settings) == [f"p{n}@example.org" for n in range(1, 6)]
    retries = [eta for eta in queued if eta is not None]  # the first batch is queued without an ETA
    assert retries and all(eta > timezone.now() - timedelta(seconds=5) for eta in retries)
    run.refresh_from_db()
    assert (run.status, run.sent, run.failed) == (CampaignRun.DONE, 5, 0)
    assert DeliveryLog.objects.filter(campaign_run=run, attempts=2).count() == 3


def test_retries_past_the_expiration_are_logged_expired(greeting, smtp_settings, run_on_commit, settings):
    # The next try would come after the 1-hour expiration.
    settings.ACE_CAMPAIGN_RETRY_BACKOFF_SECONDS = settings.ACE_CAMPAIGN_RETRY_BACKOFF_MAX_SECONDS = 7200 * 2
    smtp_settings.refuse_rcpt("p2@example.org", "450 4.2.1 Mailbox busy")
    run = run_on_commit(tasks.start_run, make_campaign(greeting, make_audience(3), expiration_hours=1))
    run.refresh_from_db()
    assert (run.sent, run.expired, run.status) == (2, 1, CampaignRun.DONE)
    row = DeliveryLog.objects.get(campaign_run=run, recipient_address="p2@example.org")
    assert row.status == "expired" and row.attempts == 1


def test_a_5xx_recipient_fails_and_the_batch_goes_on(greeting, smtp_settings, run_on_commit):
    smtp_settings.refuse_rcpt("p2@example.org", "550 5.1.1 No such user")
    run = run_on_commit(tasks.start_run, make_campaign(greeting, make_audience(4)))
    run.refresh_from_db()
    assert (run.sent, run.failed) == (3, 1)
    assert _addresses(smtp_settings) == ["p1@example.org", "p3@example.org", "p4@example.org"]
    row = DeliveryLog.objects.get(campaign_run=run, recipient_address="p2@example.org")
    assert row.status == "failed" and "550" in row.error


def test_one_smtp_connection_per_batch(greeting, smtp_settings, run_on_commit, settings):
    settings.ACE_CAMPAIGN_BATCH_SIZE = 5
    run_on_commit(tasks.start_run, make_campaign(greeting, make_audience(10)))
    peers = {item.peer for item in smtp_settings.messages}
    assert len(smtp_settings.messages) == 10 and len(peers) == 2


def test_a_rate_limit_hands_the_rest_back_to_the_queue(greeting, smtp_settings, run_on_commit, settings, monkeypatch):
    settings.ACE_CAMPAIGN_RATE_LIMITS = {"django_email": 0.001}  # one message, then a slot every 1,000 s
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "memory://"
    later, real = [], tasks.send_batch.apply_async

    def hold_back(args=None, kwargs=None, eta=None, **options):
        if eta is None:
            return real(args=args, kwargs=kwargs, **options)
        later.append((args, eta))  # a follow-up for later: kept, not run

    monkeypatch.setattr(tasks.send_batch, "apply_async", hold_back)
    run = run_on_commit(tasks.start_run, make_campaign(greeting, make_audience(4)))
    assert len(smtp_settings.messages) == 1
    (args, eta), = later
    follow = CampaignBatch.objects.get(pk=args[0])
    assert [row["email"] for row in follow.recipients] == ["p2@example.org", "p3@example.org", "p4@example.org"]
    assert eta > timezone.now() + timedelta(seconds=900)
    assert set(DeliveryLog.objects.filter(campaign_run=run).values_list("status", flat=True)) == {"sent", "sending"}
    run.refresh_from_db()
    assert run.status == CampaignRun.RUNNING


def test_send_message_sends_one_serialised_message_in_the_background(greeting, smtp_settings):
    message = Message(app_label="tests", name="greeting", recipient=Recipient(5, "solo@example.org"),
                      context={"first_name": "Solo", "code": "X", "site": "s"})
    result = tasks.send_message.delay(str(message)).get()
    assert result == {"email": "sent", "push": "sent"}
    assert _addresses(smtp_settings) == ["solo@example.org"]
    assert DeliveryLog.objects.get(channel_type="email").message_uuid == message.uuid


def test_send_message_drops_what_it_cannot_read(db):
    assert tasks.send_message.delay("{not json").get() is None
