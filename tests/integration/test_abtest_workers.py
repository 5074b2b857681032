"""An A/B test through real worker processes, with workers killed in the test phase and in the winner's phase:
every recipient outside the holdout gets exactly one message, the test group its variant, the rest the winner."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from ace_admin.campaigns import abtest
from ace_admin.content.copying import copy_message_type
from ace_admin.events.ingest import Incoming, ingest
from ace_admin.models import Campaign, CampaignBatch, CampaignRun, CampaignVariant, DeliveryLog, EventType, Template
from tests.campaigns.conftest import make_audience, make_campaign
from tests.factories import MessageTypeFactory, UserFactory
from tests.integration.conftest import wait_for


def _kill_at(workers, process, count):
    """Kill ``process`` when the server has accepted ``count`` messages (during the next SMTP transaction)."""
    killed = threading.Event()

    def hook(envelope):
        if not killed.is_set() and workers.mailbox.count() >= count:
            workers.kill(process)
            killed.set()
            return "421 4.3.0 connection lost"
        return None

    workers.mailbox.before_data = hook
    return killed


def test_an_ab_test_with_workers_killed_mails_everyone_once(workers):
    workers.extra_env["ACE_CAMPAIGN_BATCH_SIZE"] = "100"
    greeting = MessageTypeFactory(app_label="tests", name="greeting", category="marketing")
    variant = copy_message_type(greeting, UserFactory(is_superuser=True, is_staff=True))
    subject = Template.objects.get(message_type=variant, part="subject.txt")
    subject.content = "Last chance, {{ first_name }}"
    subject.save()
    campaign = make_campaign(greeting, make_audience(1200, name="1200 people"), ab_test_percent=30,
                             ab_holdout_percent=10, ab_winner_rule=Campaign.AB_RULE_CLICK, ab_wait_hours=1)
    CampaignVariant.objects.create(campaign=campaign, label="B", message_type=variant)

    first = workers.start(name="first")
    killed = _kill_at(workers, first, 150)
    workers.send("ace_admin.tasks.fire_campaign", campaign.pk)
    wait_for(killed.is_set, 60, "the first worker to be killed in the test phase", workers)
    wait_for(lambda: first.poll() is not None, 30, "the first worker's exit status", workers)
    workers.mailbox.before_data = None
    second = workers.start(name="second")

    run = wait_for(lambda: CampaignRun.objects.filter(campaign=campaign).first(), 30, "the run", workers)
    wait_for(lambda: CampaignRun.objects.get(pk=run.pk).audience_done and not CampaignBatch.objects.filter(
        run=run).exclude(variant="").exclude(status=CampaignBatch.DONE).exists(), 90, "the test group to be sent",
        workers)
    tested = workers.mailbox.count()
    run.refresh_from_db()
    assert run.status == CampaignRun.RUNNING and not run.winner and 270 <= tested <= 450

    # B's readers click; then the wait is over (moved into the past) and the run's watcher, on the worker, picks B.
    rows = DeliveryLog.objects.filter(campaign_run=run, message_type=variant, status="sent").order_by("pk")[:40]
    ingest([Incoming(EventType.CLICKED, "ace", delivery_id=row.pk, provider_event_id=f"c-{row.pk}",
                     occurred_at=row.finished_at + timedelta(minutes=30), url="https://example.org/x",
                     user_agent="Mozilla/5.0 Firefox/133.0") for row in rows])
    killed = _kill_at(workers, second, tested + 200)
    plan = dict(run.ab_plan, decide_at=(run.started_at - timedelta(minutes=1)).isoformat())
    CampaignRun.objects.filter(pk=run.pk).update(ab_plan=plan)
    wait_for(killed.is_set, 60, "the second worker to be killed while sending the winner", workers)
    wait_for(lambda: second.poll() is not None, 30, "the second worker's exit status", workers)
    workers.mailbox.before_data = None
    workers.start(name="third")

    run = wait_for(lambda: CampaignRun.objects.filter(pk=run.pk, status=CampaignRun.DONE).first(), 120,
                   "the third worker to finish the run", workers)
    assert run.winner == "B" and run.winner_figures["confidence"]["A"] > 0.9
    received = Counter(workers.mailbox.recipients())
    held = {row["email"] for batch in CampaignBatch.objects.filter(run=run, variant=abtest.HOLDOUT)
            for row in batch.recipients}
    assert len(held) == run.held_out and 60 <= run.held_out <= 180
    assert set(received.values()) == {1}, "every recipient exactly once"
    assert len(received) == 1200 - run.held_out and not held & set(received)
    subjects = Counter("B" if m.message["Subject"].startswith("Last chance") else "A"
                       for m in list(workers.mailbox.messages))
    a_sent = DeliveryLog.objects.filter(campaign_run=run, message_type=greeting, status="sent").count()
    assert subjects["A"] == a_sent and subjects["B"] == 1200 - run.held_out - a_sent
    assert run.sent == 1200 - run.held_out and run.failed == 0
