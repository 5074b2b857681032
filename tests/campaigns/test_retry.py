"""Retrying a run's failures from its page, in the same run and exactly once; quiet hours for follow-up batches
(retries, rate-limit deferrals, the retry action), with the clock passed explicitly."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.urls import reverse

from ace_admin.campaigns import service, tasks
from ace_admin.campaigns.story import failure_groups, retry_history
from ace_admin.models import AudienceMember, CampaignBatch, CampaignRun, DeliveryLog, QuietHours
from tests.campaigns.conftest import make_audience, make_campaign
from tests.factories import EditorFactory, ManagerFactory

pytestmark = pytest.mark.django_db

BUSY = "451 4.3.0 Try again later"
STILL = "still failing after 2 attempts"
QUIET = "quiet hours (marketing 21:00–08:00 local)"


@pytest.fixture
def failed_run(greeting, smtp_settings, run_on_commit, settings):
    """A done run of 5: p2 and p3 "still failing after 2 attempts" (the server says 451 twice, then accepts),
    p4 refused for good (550)."""
    settings.ACE_CAMPAIGN_MAX_ATTEMPTS = 2
    settings.ACE_CAMPAIGN_RETRY_BACKOFF_SECONDS = 0.01
    settings.ACE_CAMPAIGN_RETRY_BACKOFF_MAX_SECONDS = 0.05
    for address in ("p2@example.org", "p3@example.org"):
        smtp_settings.refuse_rcpt(address, BUSY, times=2)
    smtp_settings.refuse_rcpt("p4@example.org", "550 5.1.1 No such user")
    run = run_on_commit(tasks.start_run, make_campaign(greeting, make_audience(5)))
    run.refresh_from_db()
    assert (run.status, run.sent, run.failed) == (CampaignRun.DONE, 2, 3)
    return run


def _retryable(run):
    (group,) = [group for group in failure_groups(run.pk) if group["retryable"]]
    return group


def _received(server):
    return sorted(rcpt for item in server.messages for rcpt in item.rcpt_tos)


def test_retrying_a_group_sends_each_message_once_and_the_run_finishes_again(failed_run, smtp_settings,
                                                                             run_on_commit):
    group = _retryable(failed_run)
    assert (group["status"], group["count"]) == ("failed", 2)
    assert group["reason"].startswith(STILL + ": RecoverableChannelDeliveryError: SMTP temporary failure")
    uuids = dict(DeliveryLog.objects.filter(campaign_run=failed_run).values_list("recipient_address", "message_uuid"))
    manager = ManagerFactory()

    assert run_on_commit(service.retry_failures, failed_run, "failed", group["reason"],
                         manager) == 2
    assert _received(smtp_settings) == ["p1@example.org", "p2@example.org", "p3@example.org", "p5@example.org"]
    failed_run.refresh_from_db()
    assert (failed_run.status, failed_run.sent, failed_run.failed, failed_run.recipients) == (
        CampaignRun.DONE, 4, 1, 5)
    assert failed_run.finished_at is not None
    rows = {row.recipient_address: row for row in DeliveryLog.objects.filter(campaign_run=failed_run)}
    assert len(rows) == 5  # the same rows: one per recipient in this run
    assert rows["p2@example.org"].status == "sent" and rows["p2@example.org"].attempts == 3
    assert {address: row.message_uuid for address, row in rows.items()} == uuids  # the same message ids
    (entry,) = retry_history(failed_run.pk)
    assert entry["who"] == manager.username
    assert entry["text"] == f"Retried 2 messages (failed: {group['reason']}) and reopened the run."

    # A second click finds nothing left in that state; batches delivered again by the broker send nothing.
    assert run_on_commit(service.retry_failures, failed_run, "failed", group["reason"],
                         manager) == 0
    for batch in CampaignBatch.objects.filter(run=failed_run):
        CampaignBatch.objects.filter(pk=batch.pk).update(status=CampaignBatch.QUEUED)
        service.send_batch(batch.pk)
    assert len(smtp_settings.messages) == 4


def test_two_clicks_at_once_queue_the_messages_once(failed_run, smtp_settings, run_on_commit, monkeypatch):
    held = []
    monkeypatch.setattr(tasks.send_batch, "apply_async", lambda args=None, **options: held.append(args[0]))
    group = _retryable(failed_run)
    first = run_on_commit(service.retry_failures, failed_run, "failed", group["reason"])
    second = run_on_commit(service.retry_failures, failed_run, "failed", group["reason"])
    assert (first, second) == (2, 0)
    assert sum(CampaignBatch.objects.filter(pk__in=held).values_list("size", flat=True)) == 2
    failed_run.refresh_from_db()
    assert failed_run.status == CampaignRun.RUNNING and failed_run.failed == 1  # two pending again
    monkeypatch.undo()
    for pk in held + held:  # each batch twice: a redelivery
        run_on_commit(service.send_batch, pk)
    assert _received(smtp_settings).count("p2@example.org") == 1
    assert _received(smtp_settings).count("p3@example.org") == 1
    failed_run.refresh_from_db()
    assert (failed_run.status, failed_run.sent, failed_run.failed) == (CampaignRun.DONE, 4, 1)


def test_hard_refusals_and_cancelled_runs_are_not_retried(failed_run, smtp_settings, run_on_commit):
    group = _retryable(failed_run)
    (refused,) = [item for item in failure_groups(failed_run.pk) if not item["retryable"]]
    assert "550" in refused["reason"] and "<address>" in refused["reason"]
    with pytest.raises(service.RetryRefused, match="not worth retrying"):
        service.retry_failures(failed_run, refused["status"], refused["reason"])
    poison = service.poison_reason(3)
    with pytest.raises(service.RetryRefused, match="not worth retrying"):
        service.retry_failures(failed_run, "failed", poison)
    assert DeliveryLog.objects.filter(campaign_run=failed_run, status="failed").count() == 3
    CampaignRun.objects.filter(pk=failed_run.pk).update(status=CampaignRun.CANCELLED)
    with pytest.raises(service.RetryRefused, match="cancelled"):
        service.retry_failures(failed_run, "failed", group["reason"])
    assert DeliveryLog.objects.filter(campaign_run=failed_run, status="failed").count() == 3
    assert len(smtp_settings.messages) == 2


def test_a_paused_run_takes_the_retry_and_sends_it_when_resumed(failed_run, smtp_settings, run_on_commit):
    group = _retryable(failed_run)
    CampaignRun.objects.filter(pk=failed_run.pk).update(status=CampaignRun.PAUSED)
    assert run_on_commit(service.retry_failures, failed_run, "failed", group["reason"]) == 2
    assert len(smtp_settings.messages) == 2  # paused: nothing goes out
    assert run_on_commit(service.resume, failed_run)
    failed_run.refresh_from_db()
    assert (failed_run.status, failed_run.sent, len(smtp_settings.messages)) == (CampaignRun.DONE, 4, 4)


def test_cancelling_keeps_the_retried_rows_as_failures(failed_run, smtp_settings, run_on_commit, monkeypatch):
    monkeypatch.setattr(tasks.send_batch, "apply_async", lambda *args, **options: None)  # a busy queue
    assert run_on_commit(service.retry_failures, failed_run, "failed", _retryable(failed_run)["reason"]) == 2
    assert service.cancel(failed_run)
    failed_run.refresh_from_db()
    assert (failed_run.status, failed_run.sent, failed_run.failed) == (CampaignRun.CANCELLED, 2, 3)
    assert DeliveryLog.objects.filter(campaign_run=failed_run, status="failed",
                                      error__contains="the run was cancelled before this retry").count() == 2
    assert len(smtp_settings.messages) == 2


# --- Quiet hours for follow-ups ------------------------------------------------------------------------------------

LATE = datetime(2027, 10, 30, 22, 30, tzinfo=UTC)  # 07:30 in Tokyo, 19:30 in São Paulo, 22:30 UTC
TOKYO_END = datetime(2027, 10, 30, 23, 0, tzinfo=UTC)  # 08:00 in Tokyo
UTC_END = datetime(2027, 10, 31, 8, 0, tzinfo=UTC)


def _quiet_hours():
    QuietHours.objects.create(category="marketing", start=time(21, 0), end=time(8, 0))


def _zoned(greeting, **fields):
    audience = make_audience(3)
    for address, zone in (("p1@example.org", "Asia/Tokyo"), ("p3@example.org", "America/Sao_Paulo")):
        member = AudienceMember.objects.get(email=address)
        member.context = {**member.context, "time_zone": zone}
        member.save()
    return make_campaign(greeting, audience, **fields)  # the campaign's zone (p2's): UTC


def test_a_follow_up_inside_quiet_hours_waits_for_their_end(greeting, smtp_settings, run_on_commit):
    _quiet_hours()
    campaign = _zoned(greeting, expiration_hours=1)
    run = CampaignRun.objects.create(campaign=campaign, status=CampaignRun.RUNNING,
                                     expires_at=LATE + timedelta(hours=1))
    rows = [{"id": str(n), "email": f"p{n}@example.org", "lang": "",
             "ctx": AudienceMember.objects.get(email=f"p{n}@example.org").context} for n in (1, 2, 3)]
    batch = CampaignBatch.objects.create(run=run, recipients=rows, size=3, status=CampaignBatch.DONE)
    # A retry (or a rate-limit deferral) due at 22:30 UTC: eager Celery tries each new batch at once, too early.
    queued = run_on_commit(service._queue_follow_up, batch, rows, LATE)
    follow = {item.not_before: item for item in CampaignBatch.objects.filter(pk__in=queued)}
    assert {when: ([row["email"] for row in item.recipients], item.wait_reason) for when, item in follow.items()} == {
        LATE: (["p3@example.org"], ""),  # São Paulo, 19:30: not quiet
        TOKYO_END: (["p1@example.org"], QUIET),
        UTC_END: (["p2@example.org"], QUIET)}
    assert all(item.lineage == batch.lineage for item in follow.values())  # same message ids as the original
    assert service.waiting(run.pk, now=LATE) == [(QUIET, 2, TOKYO_END)]
    run.refresh_from_db()
    assert run.expires_at >= UTC_END + timedelta(hours=1)  # the deferred ones still have their full time
    assert service.send_batch(follow[TOKYO_END].pk, now=LATE) == "not taken"
    assert service.send_batch(follow[TOKYO_END].pk, now=TOKYO_END) == "done"
    assert _received(smtp_settings) == ["p1@example.org"]


def test_the_retry_action_respects_quiet_hours(greeting, smtp_settings, run_on_commit, settings, monkeypatch):
    # p2 (UTC) expires: its retry would come after the 1-hour expiration.
    settings.ACE_CAMPAIGN_RETRY_BACKOFF_SECONDS = settings.ACE_CAMPAIGN_RETRY_BACKOFF_MAX_SECONDS = 7200 * 2
    smtp_settings.refuse_rcpt("p2@example.org", "450 4.2.1 Mailbox busy", times=1)
    run = run_on_commit(tasks.start_run, _zoned(greeting, expiration_hours=1))
    group = _retryable(run)
    assert (group["status"], group["count"]) == ("expired", 1)

    # Retried at 22:30 UTC, inside the quiet hours: p2 waits for 08:00 its time.
    _quiet_hours()
    queued = []
    monkeypatch.setattr(tasks.send_batch, "apply_async",
                        lambda args=None, eta=None, **options: queued.append((args[0], eta)))
    assert run_on_commit(service.retry_failures, run, "expired", group["reason"], now=LATE) == 1
    monkeypatch.undo()
    ((pk, eta),) = queued
    batch = CampaignBatch.objects.get(pk=pk)
    assert (batch.not_before, eta, batch.wait_reason) == (UTC_END, UTC_END, QUIET)
    assert service.waiting(run.pk, now=LATE) == [(QUIET, 1, UTC_END)]
    assert service.send_batch(pk, now=LATE) == "not taken"
    assert service.send_batch(pk, now=UTC_END) == "done"
    run.refresh_from_db()
    assert (run.status, run.sent, run.expired) == (CampaignRun.DONE, 3, 0)
    assert _received(smtp_settings) == ["p1@example.org", "p2@example.org", "p3@example.org"]


# --- The run page ----------------------------------------------------------------------------------------------------


def test_the_retry_button_shows_for_retryable_groups_to_those_who_may_control_runs(failed_run, client, smtp_settings,
                                                                                 django_capture_on_commit_callbacks):
    url = reverse("admin:ace_admin_campaignrun_change", args=[failed_run.pk])
    retry = reverse("admin:ace_admin_campaignrun_control", args=[failed_run.pk, "retry"])
    group = {"status": "failed", "reason": _retryable(failed_run)["reason"]}

    client.force_login(EditorFactory())
    page = client.get(url).content.decode()
    assert STILL in page and "Retry these" not in page
    assert client.post(retry, group).status_code == 403
    assert DeliveryLog.objects.filter(campaign_run=failed_run, status="failed").count() == 3

    manager = ManagerFactory()
    client.force_login(manager)
    page = client.get(url).content.decode()
    assert page.count("Retry these") == 1 and "Retry these 2" in page  # not for the 550 group
    assert f'name="reason" value="{STILL}: RecoverableChannelDeliveryError' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(retry, group, follow=True)
    page = response.content.decode()
    assert "2 messages queued again in this run" in page
    assert f"{manager.username}: Retried 2 messages (failed: {STILL}: RecoverableChannelDeliveryError" in page
    assert "Retry these" not in page  # the group is gone: its messages were sent
    progress = client.get(reverse("admin:ace_admin_campaignrun_progress", args=[failed_run.pk])).json()
    assert (progress["status"], progress["sent"], progress["failed"], progress["can_retry"]) == ("done", 4, 1, True)

    (refused,) = failure_groups(failed_run.pk)
    response = client.post(retry, {"status": refused["status"], "reason": refused["reason"]}, follow=True)
    assert "not worth retrying" in response.content.decode()
    assert len(smtp_settings.messages) == 4
