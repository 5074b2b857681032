"""The poison-message cap, driven in process: a message whose processing kills the worker (here the test-only
``{% kill_worker_for %}`` tag raising ``WorkerDied``, which nothing catches, as a dead process would leave
things) is tried ``ACE_ADMIN_MAX_TASK_DELIVERIES`` times, then logged failed; the others are sent once each.
tests/integration/test_poison.py does the same with real worker processes that really die."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from ace.message import Message
from ace.recipient import Recipient
from ace_admin.campaigns import service, tasks
from ace_admin.models import CampaignBatch, CampaignRun, DeliveryLog, MessageType, TaskDelivery
from tests.campaigns.conftest import make_audience, make_campaign
from tests.templatetags import worker_killer
from tests.templatetags.worker_killer import WorkerDied

pytestmark = pytest.mark.django_db


@pytest.fixture
def poison(db):
    """A message type whose subject kills the worker rendering it for p3@example.org."""
    return MessageType.objects.create(app_label="tests", name="poison", category="marketing")


@pytest.fixture(autouse=True)
def _every_render_dies(settings):
    # The preflight check would render for p3 too (it is the audience's last member) and be killed first: these
    # tests are about workers, so runs start unchecked.
    settings.ACE_CAMPAIGN_PREFLIGHT = False
    worker_killer.deaths_left = None
    yield
    worker_killer.deaths_left = None


def _queued_batch(campaign, django_capture_on_commit_callbacks):
    """Start a run and read its audience without running the queued tasks (the test delivers the batch)."""
    with django_capture_on_commit_callbacks(execute=False):
        run = tasks.start_run(campaign)
        tasks.run_campaign(run.pk)
    return run, CampaignBatch.objects.get(run=run)


def _redeliver_after_lease(batch):
    # What watch_run does once the dead worker's lease ran out: the batch is taken over.
    CampaignBatch.objects.filter(pk=batch.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))


def test_a_batch_message_that_kills_every_worker_is_logged_failed_after_n_deliveries(
        poison, settings, django_capture_on_commit_callbacks):
    settings.ACE_ADMIN_MAX_TASK_DELIVERIES = 3
    run, batch = _queued_batch(make_campaign(poison, make_audience(5)), django_capture_on_commit_callbacks)
    suspect = service._message_uuid(batch.lineage, {"id": "3", "email": "p3@example.org"})

    for deaths in range(3):
        with pytest.raises(WorkerDied):
            tasks.send_batch(batch.pk)
        batch.refresh_from_db()
        # Written before the message was tried again: which message the dead workers were on, how often.
        assert (batch.deliveries, batch.suspect, batch.suspect_deaths) == (
            (1, None, 0) if deaths == 0 else (deaths + 1, suspect, deaths))
        assert sorted(m.to[0] for m in mail.outbox) == ["p1@example.org", "p2@example.org"]
        _redeliver_after_lease(batch)

    assert tasks.send_batch(batch.pk) == "done"

    assert sorted(m.to[0] for m in mail.outbox) == [f"p{n}@example.org" for n in (1, 2, 4, 5)]
    failed = DeliveryLog.objects.get(campaign_run=run, recipient_address="p3@example.org")
    assert failed.status == "failed"
    assert "worker died 3 times processing this message" in failed.error
    assert failed.message_uuid == suspect and failed.finished_at is not None
    run.refresh_from_db()
    assert run.status == CampaignRun.DONE and (run.sent, run.failed) == (4, 1)
    batch.refresh_from_db()
    assert (batch.status, batch.deliveries, batch.suspect, batch.suspect_deaths) == (CampaignBatch.DONE, 0, None, 0)


def test_a_worker_dying_fewer_than_n_times_on_a_message_still_sends_it_once(
        poison, settings, django_capture_on_commit_callbacks):
    settings.ACE_ADMIN_MAX_TASK_DELIVERIES = 3
    worker_killer.deaths_left = 2  # say, the OOM killer twice, then a calmer machine
    run, batch = _queued_batch(make_campaign(poison, make_audience(5)), django_capture_on_commit_callbacks)
    for _ in range(2):
        with pytest.raises(WorkerDied):
            tasks.send_batch(batch.pk)
        _redeliver_after_lease(batch)

    assert tasks.send_batch(batch.pk) == "done"

    assert sorted(m.to[0] for m in mail.outbox) == [f"p{n}@example.org" for n in range(1, 6)]
    assert set(DeliveryLog.objects.filter(campaign_run=run).values_list("status", flat=True)) == {"sent"}
    batch.refresh_from_db()
    assert (batch.deliveries, batch.suspect, batch.suspect_deaths) == (0, None, 0)


def test_deaths_on_different_messages_are_counted_per_message(poison, settings, django_capture_on_commit_callbacks):
    settings.ACE_ADMIN_MAX_TASK_DELIVERIES = 2
    run, batch = _queued_batch(make_campaign(poison, make_audience(5)), django_capture_on_commit_callbacks)
    with pytest.raises(WorkerDied):
        tasks.send_batch(batch.pk)  # dies on p3 (1)
    _redeliver_after_lease(batch)
    # Another cause stops the next worker on p3 again... then p3 is given up; p4, p5 go out.
    with pytest.raises(WorkerDied):
        tasks.send_batch(batch.pk)  # dies on p3 (2)
    _redeliver_after_lease(batch)
    assert tasks.send_batch(batch.pk) == "done"
    statuses = dict(DeliveryLog.objects.filter(campaign_run=run).values_list("recipient_address", "status"))
    assert statuses == {"p1@example.org": "sent", "p2@example.org": "sent", "p3@example.org": "failed",
                        "p4@example.org": "sent", "p5@example.org": "sent"}


def test_without_a_cap_the_message_is_tried_again(poison, settings, django_capture_on_commit_callbacks):
    settings.ACE_ADMIN_MAX_TASK_DELIVERIES = 0
    _run, batch = _queued_batch(make_campaign(poison, make_audience(3)), django_capture_on_commit_callbacks)
    for _ in range(5):
        with pytest.raises(WorkerDied):
            tasks.send_batch(batch.pk)
        _redeliver_after_lease(batch)
    assert sorted(m.to[0] for m in mail.outbox) == ["p1@example.org", "p2@example.org"]


def _message(address: str) -> Message:
    return Message(app_label="tests", name="poison", recipient=Recipient(lms_user_id=7, email_address=address),
                   context={"first_name": "Ada", "code": "C0DE"})


def test_send_message_counts_deliveries_by_task_id_and_logs_the_poison_failed(poison, settings):
    settings.ACE_ADMIN_MAX_TASK_DELIVERIES = 3
    message = _message("p3@example.org")
    for count in (1, 2, 3):
        with pytest.raises(WorkerDied):
            tasks.send_message.apply(args=(str(message),), task_id="task-poison")
        assert TaskDelivery.objects.get(task_id="task-poison").deliveries == count
        assert not DeliveryLog.objects.filter(message_uuid=message.uuid).exists()

    result = tasks.send_message.apply(args=(str(message),), task_id="task-poison").get()

    assert "died 3 times" in result["error"] and mail.outbox == []
    # One row per channel type ace.send would have considered (the test settings enable email and push).
    rows = DeliveryLog.objects.filter(message_uuid=message.uuid)
    assert sorted(rows.values_list("channel_type", "status", "recipient_address")) == [
        ("email", "failed", "p3@example.org"), ("push", "failed", "p3@example.org")]
    assert all("worker died 3 times processing this message" in row.error for row in rows)
    assert not TaskDelivery.objects.exists()


def test_send_message_that_finishes_leaves_no_counter(poison, settings):
    settings.ACE_ADMIN_MAX_TASK_DELIVERIES = 3
    worker_killer.deaths_left = 1
    message = _message("p3@example.org")
    with pytest.raises(WorkerDied):
        tasks.send_message.apply(args=(str(message),), task_id="task-once")
    result = tasks.send_message.apply(args=(str(message),), task_id="task-once").get()
    assert result["email"] == "sent" and [m.to for m in mail.outbox] == [["p3@example.org"]]
    assert not TaskDelivery.objects.exists()
