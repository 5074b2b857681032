"""Campaigns through real Celery worker processes and beat, a real broker, the database and an SMTP server."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from django.utils import timezone

from ace_admin.models import Campaign, CampaignRun, DeliveryLog
from tests.campaigns.conftest import make_audience, make_campaign
from tests.factories import MessageTypeFactory
from tests.integration.conftest import wait_for


def _campaign(size: int, **fields) -> Campaign:
    """The campaign tests' "Greetings" campaign (tests/campaigns/conftest.py) to ``size`` people p1@example.org..."""
    return make_campaign(MessageTypeFactory(app_label="tests", name="greeting"),
                         make_audience(size, name=f"{size} people"), **fields)


def _finished_run(campaign):
    return CampaignRun.objects.filter(campaign=campaign, status=CampaignRun.DONE).first()


def test_a_scheduled_campaign_fires_from_beat(workers):
    campaign = _campaign(5, schedule=Campaign.SCHEDULE_ONCE, run_at=timezone.now() + timedelta(seconds=3))
    assert campaign.periodic_task is not None and campaign.periodic_task.one_off
    workers.start(beat=True)

    run = wait_for(lambda: _finished_run(campaign), 60, "the scheduled run to finish", workers)

    assert run.trigger == "schedule" and run.sent == 5
    assert sorted(workers.mailbox.recipients()) == sorted(f"p{n}@example.org" for n in range(1, 6))
    assert "Dear P2, your code is C0DE" in workers.mailbox.received_by("p2@example.org")[0].text


def test_a_worker_killed_mid_run_loses_nothing_and_duplicates_nothing(workers):
    workers.extra_env["ACE_CAMPAIGN_BATCH_SIZE"] = "100"
    campaign = _campaign(2000)
    first = workers.start(name="first")
    triggered, killed = threading.Event(), threading.Event()

    def kill_in_the_middle(envelope):
        # The 700th message: the worker dies during the SMTP transaction, before the server accepted it.
        if not triggered.is_set() and workers.mailbox.count() >= 700:
            triggered.set()
            workers.kill(first)  # returns once the process is reaped
            killed.set()
            return "421 4.3.0 connection lost"
        return None

    workers.mailbox.before_data = kill_in_the_middle
    workers.send("ace_admin.tasks.fire_campaign", campaign.pk)
    # What the rest needs is a dead, reaped first worker, not merely a started kill: wait for exactly that
    # (poll() may also answer None while the SMTP thread is still inside wait()).
    wait_for(killed.is_set, 60, "the first worker to be killed in the middle of the run", workers)
    wait_for(lambda: first.poll() is not None, 30, "the first worker's exit status", workers)
    assert 700 <= workers.mailbox.count() < 2000
    workers.start(name="second")

    run = wait_for(lambda: _finished_run(campaign), 90, "the second worker to finish the run", workers)

    received = Counter(workers.mailbox.recipients())
    assert len(received) == 2000 and set(received.values()) == {1}, "every recipient exactly once"
    assert run.sent == 2000 and run.failed == 0
    assert DeliveryLog.objects.filter(campaign_run=run, status="sent").count() == 2000


def test_a_server_answering_4xx_for_a_while_gets_everything_after_retries(workers):
    campaign = _campaign(40)
    workers.mailbox.refuse_next_data("451 4.3.0 Greylisted, try again later", count=25)
    workers.start()
    workers.send("ace_admin.tasks.fire_campaign", campaign.pk)

    run = wait_for(lambda: _finished_run(campaign), 60, "the run to finish after retries", workers)

    received = Counter(workers.mailbox.recipients())
    assert len(received) == 40 and set(received.values()) == {1}
    assert run.sent == 40
    retried = DeliveryLog.objects.filter(campaign_run=run, attempts__gte=2)
    assert retried.count() == 25 and set(retried.values_list("status", flat=True)) == {"sent"}


def test_a_5xx_recipient_is_logged_failed_and_the_rest_delivered(workers):
    campaign = _campaign(30)
    workers.mailbox.refuse_rcpt("p7@example.org", "550 5.1.1 No such user")
    workers.start()
    workers.send("ace_admin.tasks.fire_campaign", campaign.pk)

    run = wait_for(lambda: _finished_run(campaign), 60, "the run to finish", workers)

    assert sorted(workers.mailbox.recipients()) == sorted(f"p{n}@example.org" for n in range(1, 31) if n != 7)
    assert (run.sent, run.failed) == (29, 1)
    failed = DeliveryLog.objects.get(campaign_run=run, recipient_address="p7@example.org")
    assert failed.status == "failed" and "550" in failed.error
