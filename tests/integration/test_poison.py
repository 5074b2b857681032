"""The poison-message cap with real worker processes that really die: the test-only ``{% kill_worker_for %}``
tag (tests/templatetags/worker_killer.py) makes the worker process rendering a message for p3@example.org send
itself SIGKILL, as the kernel's OOM killer would. Tasks are acknowledged late and requeued when their worker
is lost; after ``ACE_ADMIN_MAX_TASK_DELIVERIES`` deaths the message is logged failed and the rest goes out."""

from __future__ import annotations

from collections import Counter

from ace.message import Message
from ace.recipient import Recipient
from ace_admin.models import (
    Audience,
    AudienceMember,
    Campaign,
    CampaignBatch,
    CampaignRun,
    DeliveryLog,
    MessageType,
    TaskDelivery,
)
from tests.integration.conftest import wait_for


def _poison_campaign(size: int) -> Campaign:
    message_type = MessageType.objects.create(app_label="tests", name="poison")
    audience = Audience.objects.create(name=f"{size} people")
    AudienceMember.objects.bulk_create(
        AudienceMember(audience=audience, email=f"p{number}@example.org", lms_user_id=str(number),
                       context={"first_name": f"P{number}"}) for number in range(1, size + 1))
    return Campaign.objects.create(message_type=message_type, audience=audience, name="Poisoned",
                                   context={"code": "C0DE"}, schedule=Campaign.SCHEDULE_NONE)


def _finished_run(campaign):
    return CampaignRun.objects.filter(campaign=campaign, status=CampaignRun.DONE).first()


def test_a_campaign_message_that_kills_its_worker_is_logged_failed_after_three_deaths(workers):
    workers.extra_env.update(ACE_TEST_KILL_WORKERS="1", ACE_ADMIN_MAX_TASK_DELIVERIES="3")
    campaign = _poison_campaign(6)
    worker = workers.start()
    workers.send("ace_admin.tasks.fire_campaign", campaign.pk)

    run = wait_for(lambda: _finished_run(campaign), 120, "the run to finish despite the poison message", workers)

    received = Counter(workers.mailbox.recipients())
    assert received == Counter(f"p{n}@example.org" for n in (1, 2, 4, 5, 6)), "the others exactly once"
    assert (run.sent, run.failed) == (5, 1)
    poisoned = DeliveryLog.objects.get(campaign_run=run, recipient_address="p3@example.org")
    assert poisoned.status == "failed" and "worker died 3 times processing this message" in poisoned.error
    assert list(CampaignBatch.objects.filter(run=run).values_list("status", "deliveries", "suspect")) == [
        (CampaignBatch.DONE, 0, None)]
    assert worker.poll() is None, "the worker (its main process) is still there"


def test_a_background_message_that_kills_its_worker_is_logged_failed_after_three_deliveries(workers):
    workers.extra_env.update(ACE_TEST_KILL_WORKERS="1", ACE_ADMIN_MAX_TASK_DELIVERIES="3")
    MessageType.objects.create(app_label="tests", name="poison")
    poison = Message(app_label="tests", name="poison", recipient=Recipient(lms_user_id=3,
                     email_address="p3@example.org"), context={"first_name": "P3", "code": "C0DE"})
    healthy = Message(app_label="tests", name="poison", recipient=Recipient(lms_user_id=1,
                      email_address="p1@example.org"), context={"first_name": "P1", "code": "C0DE"})
    worker = workers.start()
    workers.send("ace_admin.tasks.send_message", str(poison))

    row = wait_for(lambda: DeliveryLog.objects.filter(message_uuid=poison.uuid).first(), 120,
                   "the poison message to be logged", workers)

    assert row.status == "failed" and "worker died 3 times processing this message" in row.error
    assert not TaskDelivery.objects.exists(), "the counter is cleared"
    # The worker is alive and works: the next message goes out.
    workers.send("ace_admin.tasks.send_message", str(healthy))
    wait_for(lambda: DeliveryLog.objects.filter(message_uuid=healthy.uuid, status="sent").exists(), 60,
             "the next message to be sent", workers)
    assert workers.mailbox.recipients() == ["p1@example.org"]
    assert worker.poll() is None
