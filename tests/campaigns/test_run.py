"""Campaign runs with eager Celery: every recipient exactly once, in batches, logged, personalised."""

from __future__ import annotations

import pytest
from django.core import mail

from ace_admin.campaigns import tasks
from ace_admin.models import CampaignBatch, CampaignRun, DeliveryLog
from tests.campaigns.conftest import make_audience, make_campaign
from tests.factories import (
    AudienceFactory,
    CampaignBatchFactory,
    CampaignRunFactory,
    MessageTypeFactory,
    OptOutFactory,
    SuppressionFactory,
)

pytestmark = pytest.mark.django_db


def test_run_sends_every_recipient_once_in_batches_with_personal_and_shared_context(
        greeting, run_on_commit, settings):
    settings.ACE_CAMPAIGN_BATCH_SIZE = 4
    campaign = make_campaign(greeting, make_audience(10))
    run = run_on_commit(tasks.start_run, campaign)

    run.refresh_from_db()
    assert run.status == CampaignRun.DONE
    assert (run.recipients, run.sent, run.denied, run.failed, run.expired) == (10, 10, 0, 0, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"p{n}@example.org" for n in range(1, 11))
    first = next(m for m in mail.outbox if m.to == ["p3@example.org"])
    assert "Dear P3, your code is C0DE" in first.body
    assert CampaignBatch.objects.filter(run=run).count() == 3
    rows = DeliveryLog.objects.filter(campaign_run=run)
    assert rows.count() == 10 and set(rows.values_list("status", flat=True)) == {"sent"}
    assert set(rows.values_list("send_uuid", flat=True)) == {run.send_uuid}
    assert first.extra_headers["X-ACE-Message-ID"] == str(rows.get(recipient_address="p3@example.org").message_uuid)
    row = rows.get(recipient_address="p3@example.org")
    assert row.attempts == 1 and row.channel_name == "django_email" and row.error == ""
    assert run.started_at <= row.finished_at <= run.finished_at


def test_a_redelivered_batch_sends_nobody_twice(greeting, run_on_commit):
    campaign = make_campaign(greeting, make_audience(5))
    run = run_on_commit(tasks.start_run, campaign)
    assert len(mail.outbox) == 5
    batch = CampaignBatch.objects.get(run=run)
    # The broker hands the same batch over again (worker lost before its ack), lease long expired.
    CampaignBatch.objects.filter(pk=batch.pk).update(status=CampaignBatch.RUNNING, heartbeat_at=None)
    CampaignRun.objects.filter(pk=run.pk).update(status=CampaignRun.RUNNING)
    tasks.send_batch(batch.pk)
    assert len(mail.outbox) == 5
    assert DeliveryLog.objects.filter(campaign_run=run).count() == 5


def test_a_batch_left_half_sent_by_a_dead_worker_sends_only_the_rest(greeting, run_on_commit, settings):
    settings.ACE_CAMPAIGN_LEASE_SECONDS = 0
    campaign = make_campaign(greeting, make_audience(6))
    run = run_on_commit(tasks.start_run, campaign)
    batch = CampaignBatch.objects.get(run=run)
    # As if the worker had died after three messages: the other three rows still say "sending".
    later = DeliveryLog.objects.filter(campaign_run=run).order_by("recipient_address")[3:]
    unsent = sorted(later.values_list("recipient_address", flat=True))
    DeliveryLog.objects.filter(pk__in=[row.pk for row in later]).update(status="sending", finished_at=None)
    CampaignBatch.objects.filter(pk=batch.pk).update(status=CampaignBatch.RUNNING)
    CampaignRun.objects.filter(pk=run.pk).update(status=CampaignRun.RUNNING)
    mail.outbox.clear()

    tasks.send_batch(batch.pk)

    assert sorted(m.to[0] for m in mail.outbox) == unsent
    assert set(DeliveryLog.objects.filter(campaign_run=run).values_list("status", flat=True)) == {"sent"}


def test_a_batch_held_by_a_live_worker_is_not_taken(greeting, run_on_commit):
    campaign = make_campaign(greeting, make_audience(3))
    run = run_on_commit(tasks.start_run, campaign)
    batch = CampaignBatch.objects.get(run=run)
    from django.utils import timezone

    CampaignBatch.objects.filter(pk=batch.pk).update(status=CampaignBatch.RUNNING, heartbeat_at=timezone.now())
    assert tasks.send_batch(batch.pk) == "not taken"


def test_same_person_twice_in_a_code_audience_gets_one_message(greeting, run_on_commit, settings):
    from ace_admin.campaigns import audiences
    from ace_admin.models import Audience

    @audiences.register("tests.twice", label="twice")
    def twice(params):
        for _ in range(2):
            for number in range(3):
                yield audiences.Row(email=f"t{number}@example.org", lms_user_id=number, context={"first_name": "T"})

    settings.ACE_CAMPAIGN_BATCH_SIZE = 2
    audience = AudienceFactory(name="Twice", kind=Audience.KIND_CODE, code_name="tests.twice")
    run = run_on_commit(tasks.start_run, make_campaign(greeting, audience))
    assert sorted(m.to[0] for m in mail.outbox) == ["t0@example.org", "t1@example.org", "t2@example.org"]
    run.refresh_from_db()
    assert (run.status, run.sent) == (CampaignRun.DONE, 3)


def test_opt_outs_deny_and_are_counted(greeting, run_on_commit):
    OptOutFactory(email="p2@example.org", category="marketing")
    run = run_on_commit(tasks.start_run, make_campaign(greeting, make_audience(3)))
    run.refresh_from_db()
    assert (run.sent, run.denied) == (2, 1)
    row = DeliveryLog.objects.get(campaign_run=run, recipient_address="p2@example.org")
    assert row.status == "denied" and "opt-out" in row.policy
    assert "p2@example.org" not in [m.to[0] for m in mail.outbox]


def test_campaign_messages_are_logged_once(greeting, run_on_commit):
    run = run_on_commit(tasks.start_run, make_campaign(greeting, make_audience(2)))
    assert DeliveryLog.objects.count() == 2
    assert DeliveryLog.objects.filter(campaign_run=run).count() == 2


def test_demo_code_audience(greeting, run_on_commit):
    from ace_admin.models import Audience

    audience = AudienceFactory(name="Demo", kind=Audience.KIND_CODE, code_name="demo.sample_learners",
                               params={"count": 7, "domain": "demo.example"})
    audience.full_clean()
    run = run_on_commit(tasks.start_run, make_campaign(greeting, audience))
    run.refresh_from_db()
    assert run.sent == 7
    assert sorted(m.to[0] for m in mail.outbox)[0] == "learner1@demo.example"


def _policy_queries(greeting, run_on_commit, size, name):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    campaign = make_campaign(greeting, make_audience(size, name=name, domain=f"{name}.example"), name=name)
    with CaptureQueriesContext(connection) as queries:
        run_on_commit(tasks.start_run, campaign)
    return [q["sql"] for q in queries if "ace_admin_optout" in q["sql"] or "ace_admin_suppression" in q["sql"]]


def test_policies_for_a_whole_batch_take_the_same_few_queries_whatever_its_size(greeting, run_on_commit):
    small = _policy_queries(greeting, run_on_commit, 5, "small")
    large = _policy_queries(greeting, run_on_commit, 60, "large")
    assert len(small) == len(large) == 2  # one for opt-outs, one for suppressions, per batch


def test_batch_policy_checks_deny_what_single_checks_deny(greeting, run_on_commit):
    from ace_admin.models import Suppression

    other = MessageTypeFactory(app_label="tests", name="other")
    OptOutFactory(lms_user_id="1", message_type=greeting)  # this message type, by user id
    OptOutFactory(email="p2@example.org")  # everything non-transactional
    OptOutFactory(email="p3@example.org", message_type=other)  # another type: not denied
    OptOutFactory(email="p4@example.org", category="other-category")  # another category: not denied
    SuppressionFactory(email="p5@example.org", reason=Suppression.REASON_BOUNCE)
    run = run_on_commit(tasks.start_run, make_campaign(greeting, make_audience(6)))
    statuses = dict(DeliveryLog.objects.filter(campaign_run=run).values_list("recipient_address", "status"))
    assert statuses == {"p1@example.org": "denied", "p2@example.org": "denied", "p3@example.org": "sent",
                        "p4@example.org": "sent", "p5@example.org": "denied", "p6@example.org": "sent"}
    policies = dict(DeliveryLog.objects.filter(campaign_run=run, status="denied")
                    .values_list("recipient_address", "policy"))
    assert "message type tests.greeting" in policies["p1@example.org"]
    assert "all non-transactional messages" in policies["p2@example.org"]
    assert "suppressed address" in policies["p5@example.org"]


def test_the_watch_requeues_silent_batches_and_lost_ones_only_when_the_run_stalls(greeting, monkeypatch, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.ACE_CAMPAIGN_LEASE_SECONDS = 60
    run = CampaignRunFactory(campaign=make_campaign(greeting, make_audience(1)), audience_done=True)
    old = timezone.now() - timedelta(minutes=5)
    silent = CampaignBatchFactory(run=run, recipients=[], status=CampaignBatch.RUNNING, heartbeat_at=old)
    waiting = CampaignBatchFactory(run=run, recipients=[])
    CampaignBatch.objects.filter(pk=waiting.pk).update(enqueued_at=old)
    busy = CampaignBatchFactory(run=run, recipients=[], status=CampaignBatch.RUNNING,
                                heartbeat_at=timezone.now())
    queued = []
    monkeypatch.setattr(tasks.send_batch, "delay", queued.append)

    tasks.watch_run(run.pk)
    assert queued == [silent.pk]  # the waiting batch waits: the run is making progress

    CampaignBatch.objects.filter(pk=busy.pk).update(heartbeat_at=old)
    queued.clear()
    tasks.watch_run(run.pk)
    assert sorted(queued) == sorted([silent.pk, waiting.pk, busy.pk])  # nothing moved for a lease: all again
