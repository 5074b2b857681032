"""The campaign service: schedules, runs fanned out in batches and sent exactly once per recipient, pause/cancel.

The Celery tasks in ``ace_admin.campaigns.tasks`` are thin wrappers around the functions here; the admin and
the management commands call this module.

How a run goes (see README "Campaigns"):

- ``fire_campaign`` (from django-celery-beat) or "Run now" creates a ``CampaignRun``;
- ``run_campaign`` reads the audience in chunks (keyset pagination, never the whole list) and stores
  each chunk as a ``CampaignBatch`` (in the same transaction as its reading position, so a redelivered
  task resumes where it stopped), then enqueues ``send_batch`` for it;
- ``send_batch`` takes the batch's lease, claims its recipients through the delivery log's unique
  (run, recipient, channel) key, checks policies, renders, delivers over one connection per channel,
  and records each outcome as soon as the channel answered. A batch redelivered after its worker died
  skips every recipient already recorded; at most the one message in flight when a worker is killed is
  in doubt (it is sent again: the channel's answer never reached the database).
- ``watch_run`` re-enqueues batches whose worker stopped renewing its lease, whatever the broker.

No task sleeps: recoverable failures and rate limits go back to the queue with an ETA.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
import uuid
from datetime import timedelta

from celery import current_app
from django.db import connection, transaction
from django.db.models import Count, F, Max, Q
from django.db.models.signals import post_save, pre_delete
from django.template import TemplateDoesNotExist
from django.utils import timezone

from ace import delivery, policy, presentation
from ace.ace import prepare
from ace.channel import ChannelType, channels, get_channel_for_message
from ace.errors import UnsupportedChannelError
from ace.message import Message
from ace.outcome import DeliveryOutcome, DeliveryStatus
from ace.recipient import Recipient
from ace.signals import ACE_MESSAGE_OUTCOMES
from ace_admin import stamp
from ace_admin.campaigns import audiences, ratelimit
from ace_admin.campaigns import schedule as campaign_schedule
from ace_admin.delivery_log import error_text, policy_text
from ace_admin.models import Campaign, CampaignBatch, CampaignRun, DeliveryLog
from ace_admin.rules.policy import prefetch as policy_prefetch
from ace_admin.settings import admin_settings

LOG = logging.getLogger(__name__)

#: The option that marks a message as sent by a campaign (the delivery-log receiver leaves it alone).
CAMPAIGN_OPTION = "ace_campaign_run"


def batch_size() -> int:
    return int(admin_settings.ACE_CAMPAIGN_BATCH_SIZE)


def lease_seconds() -> float:
    """How long a batch's worker may stay silent before another worker takes the batch over."""
    return float(admin_settings.ACE_CAMPAIGN_LEASE_SECONDS)


def _eager() -> bool:
    return bool(current_app.conf.task_always_eager)


def _task(name: str):
    """The Celery task ``ace_admin.tasks.<name>`` (defined in campaigns/tasks.py, which calls this module: found by
    its registered name rather than imported back)."""
    return current_app.tasks[f"ace_admin.tasks.{name}"]


# --- Schedules (django-celery-beat) ------------------------------------------------------------------------------
# A campaign's schedule follows its row: this service keeps the PeriodicTask in step through the receivers
# below (connected by the app's ready()), so a save from anywhere (admin, shell, import) reschedules.


def save_campaign(campaign) -> None:
    """Save ``campaign`` and its schedule in one transaction (what the admin calls)."""
    with transaction.atomic():
        campaign.save()


def archive_campaign(campaign) -> None:
    """Archive ``campaign``: it is unscheduled and cannot be run."""
    campaign.archived = True
    save_campaign(campaign)


def _sync_schedule(sender, instance, raw=False, **kwargs):
    if not raw:  # fixtures (loaddata) restore rows as they were, schedules included
        campaign_schedule.sync(instance)


def _remove_schedule(sender, instance, **kwargs):
    """Deleting a campaign (one, or many from the admin list) removes its schedule."""
    campaign_schedule.remove(instance)


def connect_signals() -> None:
    post_save.connect(_sync_schedule, sender=Campaign, dispatch_uid="ace_admin.campaign_schedule")
    pre_delete.connect(_remove_schedule, sender=Campaign, dispatch_uid="ace_admin.campaign_unschedule")


# --- Starting runs --------------------------------------------------------------------------------------------


def start_run(campaign, trigger: str = "hand", task_id: str | None = None):
    """Create a run of ``campaign`` and queue it (after the transaction commits). Returns the run."""
    now = timezone.now()
    defaults = {"campaign": campaign, "trigger": trigger}
    if trigger == "schedule" and campaign_schedule.too_late(campaign, now):
        defaults.update(status=CampaignRun.MISSED, finished_at=now, error=(
            f"The scheduler woke up at {now:%Y-%m-%d %H:%M:%S %Z}, more than {campaign.grace_minutes} minute(s) "
            f"after the planned time {campaign.run_at:%Y-%m-%d %H:%M:%S %Z}; nothing was sent."))
    else:
        hours = campaign.expiration_hours
        defaults["expires_at"] = now + timedelta(hours=hours or admin_settings.ACE_CAMPAIGN_DEFAULT_EXPIRATION_HOURS)
    with transaction.atomic():
        if task_id:
            run, created = CampaignRun.objects.get_or_create(task_id=task_id, defaults=defaults)
        else:
            run, created = CampaignRun.objects.create(**defaults), True
        if created and run.status == CampaignRun.RUNNING:
            transaction.on_commit(lambda: _task("run_campaign").delay(run.pk))
            transaction.on_commit(lambda: _task("watch_run").apply_async((run.pk,), countdown=lease_seconds()))
    if run.status == CampaignRun.MISSED:
        LOG.warning("Campaign %s: run %s missed. %s", campaign, run.pk, run.error)
    return run


def fire(campaign_id: int, task_id: str | None = None):
    """Called by the scheduler: one run per firing (a redelivered firing finds its run by task id)."""
    campaign = Campaign.objects.filter(pk=campaign_id).select_related("audience", "message_type").first()
    if campaign is None:
        LOG.warning("The scheduler fired campaign #%s, which no longer exists.", campaign_id)
        return None
    if campaign.archived:
        LOG.warning("The scheduler fired campaign %s, which is archived: not run.", campaign)
        return None
    return start_run(campaign, trigger="schedule", task_id=task_id).pk


def read_audience(run_id: int):
    """Read the run's audience in chunks, store each as a batch, and queue the batches."""
    run = CampaignRun.objects.select_related("campaign__audience").filter(pk=run_id).first()
    if run is None or run.status != CampaignRun.RUNNING or run.audience_done:
        return
    cursor = run.cursor
    try:
        for chunk, next_cursor in audiences.stream(run.campaign.audience, cursor, batch_size()):
            with transaction.atomic():
                locked = CampaignRun.objects.select_for_update().get(pk=run_id)
                if locked.status != CampaignRun.RUNNING or locked.cursor != cursor:
                    return  # paused or cancelled, or another copy of this task moved on
                batch = CampaignBatch.objects.create(run=locked, recipients=chunk)
                CampaignRun.objects.filter(pk=run_id).update(cursor=next_cursor,
                                                             recipients=F("recipients") + len(chunk))
                transaction.on_commit(lambda pk=batch.pk: _task("send_batch").delay(pk))
            cursor = next_cursor
    except Exception as error:
        LOG.exception("Campaign run %s: reading the audience failed.", run_id)
        CampaignRun.objects.filter(pk=run_id, status=CampaignRun.RUNNING).update(
            status=CampaignRun.FAILED, finished_at=timezone.now(),
            error=f"Reading the audience failed: {type(error).__name__}: {error}")
        return
    CampaignRun.objects.filter(pk=run_id, cursor=cursor).update(audience_done=True)
    maybe_finish(run_id)


# --- Sending a batch ------------------------------------------------------------------------------------------


def _message_uuid(lineage, row) -> uuid.UUID:
    # The same for every attempt of a batch (and its retries), different for every other batch.
    return uuid.uuid5(lineage, f"{row['id']}|{row['email']}")


@contextlib.contextmanager
def _fast_commits():
    """On PostgreSQL, this batch's one-row writes do not wait for the WAL to reach the disk: each is visible at
    once and survives a worker being killed; only a crash of the database server itself could lose the last
    fraction of a second of them (the messages would then be sent again)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


class _LeaseLost(Exception):
    """Another worker took this batch over (this one was silent too long): stop without writing."""


class _Stop(Exception):
    """The run was paused or cancelled."""


class BatchSender:
    """Sends one leased batch; see the module docstring."""

    HEARTBEAT_SECONDS = 2.0

    def __init__(self, batch, token):
        self.batch, self.token = batch, token
        self.run = batch.run
        self.campaign = self.run.campaign
        self.message_type = self.campaign.message_type
        self.next_heartbeat = time.monotonic() + min(self.HEARTBEAT_SECONDS, lease_seconds() / 3)
        self.retry: list[dict] = []
        self.retry_at = None
        self.deferred: list[dict] = []
        self.defer_until = None

    # Claims -------------------------------------------------------------------------------------------------

    def _rows_for(self, recipients):
        emails = {row["email"] for row in recipients if row["email"]}
        ids = {row["id"] for row in recipients if row["id"]}
        return DeliveryLog.objects.filter(Q(recipient_address__in=emails) | Q(recipient_id__in=ids),
                                          campaign_run=self.run).values_list(
            "pk", "recipient_id", "recipient_address", "channel_type", "status", "message_uuid", "attempts")

    def claim(self, channel_types) -> list[tuple[dict, uuid.UUID, dict]]:
        """Insert a 'sending' row per recipient and channel type unless one exists; return the recipients this
        batch still has to send, with their message id and {channel type: (row pk, attempts)}."""
        recipients = self.batch.recipients
        existing = {(r[1], r[2], r[3]): r for r in self._rows_for(recipients)}
        new_rows = []
        for row in recipients:
            message_uuid = _message_uuid(self.batch.lineage, row)
            for channel_type in channel_types:
                if (row["id"], row["email"], channel_type.value) not in existing:
                    new_rows.append(DeliveryLog(
                        message_uuid=message_uuid, send_uuid=self.run.send_uuid, campaign_run=self.run,
                        app_label=self.message_type.app_label, message_name=self.message_type.name,
                        message_type=self.message_type, recipient_id=row["id"], recipient_address=row["email"],
                        channel_type=channel_type.value, status="sending",
                        transactional=self.message_type.transactional))
        if new_rows:
            DeliveryLog.objects.bulk_create(new_rows, ignore_conflicts=True)
            existing = {(r[1], r[2], r[3]): r for r in self._rows_for(recipients)}
        work = []
        self.rows_by_uuid = {}
        for row in recipients:
            message_uuid = _message_uuid(self.batch.lineage, row)
            mine = {}
            for channel_type in channel_types:
                found = existing.get((row["id"], row["email"], channel_type.value))
                # Rows of another batch (the same person twice in an audience) or already settled: skip.
                if found is not None and found[5] == message_uuid and found[4] in ("sending", "retrying"):
                    mine[channel_type] = (found[0], found[6])
            if mine:
                work.append((row, message_uuid, mine))
                self.rows_by_uuid[message_uuid] = row
        return work

    # Lease and run state ------------------------------------------------------------------------------------

    def heartbeat(self, force=False) -> bool:
        """Renew the lease every few seconds (True when it did); stop when the run was paused or cancelled."""
        if not force and time.monotonic() < self.next_heartbeat:
            return False
        self.next_heartbeat = time.monotonic() + min(self.HEARTBEAT_SECONDS, lease_seconds() / 3)
        if not CampaignBatch.objects.filter(pk=self.batch.pk, token=self.token).update(heartbeat_at=timezone.now()):
            raise _LeaseLost()
        status = CampaignRun.objects.filter(pk=self.run.pk).values_list("status", flat=True).first()
        if status != CampaignRun.RUNNING:
            raise _Stop(status)
        return True

    # Sending ------------------------------------------------------------------------------------------------

    def build_message(self, row, message_uuid) -> Message:
        campaign = self.campaign
        context = dict(campaign.context or {})
        context.update(row.get("ctx") or {})
        options = dict(campaign.options or {})
        options[CAMPAIGN_OPTION] = self.run.pk
        message = Message(
            app_label=self.message_type.app_label, name=self.message_type.name,
            recipient=Recipient(lms_user_id=row["id"] or None, email_address=row["email"] or None),
            language=row.get("lang") or campaign.language or None, context=context, options=options,
            send_uuid=self.run.send_uuid, expiration_time=self.run.expires_at)
        message.uuid = message_uuid
        return message

    def send(self) -> None:
        channel_map = channels()
        wanted = self.campaign.channels
        channel_types = [channel_type for channel_type in ChannelType if channel_type in channel_map
                         and wanted in ("all", channel_type.value)]
        work = self.claim(channel_types)
        self.heartbeat(force=True)
        messages = [self.build_message(row, message_uuid) for row, message_uuid, _ in work]
        opened = {}
        with contextlib.ExitStack() as stack:
            stack.enter_context(policy_prefetch(messages))
            stack.enter_context(_fast_commits())
            for index, ((_row, _, rows), message) in enumerate(zip(work, messages, strict=True)):
                if self.heartbeat() or index == 0:
                    # Admin edits (templates, rules) reach a running batch within a heartbeat, for one
                    # cache read instead of one per message.
                    stamp.share_stamp(messages[index:])
                if self.defer_until is not None:
                    self.deferred.extend(item[0] for item in work[index:])
                    break
                outcomes = self.send_one(message, rows, opened, stack, prepare)
                if outcomes:
                    ACE_MESSAGE_OUTCOMES.send(sender=None, message=message, outcomes=outcomes)

    def send_one(self, message, rows, opened, stack, prepare) -> list[DeliveryOutcome]:
        allowed, denied = policy.evaluate(message)
        outcomes = []
        prepared = False
        for channel_type, (pk, attempts) in rows.items():
            if channel_type not in allowed:
                policy_name, reason = denied[channel_type]
                outcome = DeliveryOutcome(message, channel_type, DeliveryStatus.DENIED, reason=policy_name,
                                          details={"policy_reason": reason} if reason else {},
                                          finished_at=timezone.now())
                self.record(pk, outcome, attempts, message)
                outcomes.append(outcome)
                continue
            if self.run.expires_at is not None and timezone.now() >= self.run.expires_at:
                outcome = DeliveryOutcome(message, channel_type, DeliveryStatus.EXPIRED, attempts=attempts,
                                          reason=f"expired at {self.run.expires_at.isoformat()}",
                                          finished_at=timezone.now())
                self.record(pk, outcome, attempts, message)
                outcomes.append(outcome)
                continue
            try:
                channel = get_channel_for_message(channel_type, message)
            except UnsupportedChannelError as error:
                outcome = DeliveryOutcome(message, channel_type, DeliveryStatus.UNSUPPORTED, error=error,
                                          reason=str(error), finished_at=timezone.now())
                self.record(pk, outcome, attempts, message)
                outcomes.append(outcome)
                continue
            rate = ratelimit.rate_for(channel.name)
            if rate is not None:
                wait = ratelimit.reserve(channel.name, rate)
                if wait > 0:
                    # Not sleeping: this message and the rest go back to the queue for when a slot is free.
                    self.defer_until = timezone.now() + timedelta(seconds=max(wait, 0.2))
                    self.deferred.append(self._row_of(message))
                    return outcomes
            if not prepared:
                prepare(message)
                prepared = True
            outcome = self.deliver(channel, message, attempts, opened, stack)
            if outcome is None:
                continue  # waiting for a retry
            self.record(pk, outcome, attempts, message)
            outcomes.append(outcome)
        return outcomes

    def _row_of(self, message) -> dict:
        return self.rows_by_uuid[message.uuid]

    def deliver(self, channel, message, attempts, opened, stack) -> DeliveryOutcome | None:
        try:
            rendered = presentation.render(channel, message)
        except TemplateDoesNotExist as error:
            return DeliveryOutcome(message, channel.channel_type, DeliveryStatus.TEMPLATE_MISSING,
                                   channel_name=channel.name, error=error, reason=f"template {error} does not exist",
                                   finished_at=timezone.now())
        except Exception as error:
            message.get_message_specific_logger(LOG).exception("Not sent over %s: rendering failed.", channel.name)
            return DeliveryOutcome(message, channel.channel_type, DeliveryStatus.TEMPLATE_ERROR,
                                   channel_name=channel.name, error=error, reason=f"{type(error).__name__}: {error}",
                                   finished_at=timezone.now())
        if channel.name not in opened:
            # One connection per channel for the whole batch (channels that offer batch()).
            batch = getattr(channel, "batch", None)
            opened[channel.name] = stack.enter_context(batch()) if callable(batch) else None
        outcome = DeliveryOutcome(message, channel.channel_type, DeliveryStatus.FAILED, channel_name=channel.name,
                                  started_at=timezone.now(), attempts=attempts)
        if delivery.attempt(channel, rendered, message, outcome):
            return outcome
        return self.schedule_retry(channel, message, outcome)

    def schedule_retry(self, channel, message, outcome) -> DeliveryOutcome | None:
        """Back to the queue at the channel's next attempt time, at the earliest, with capped exponential
        backoff and jitter; expired when that is past the run's expiration."""
        error = outcome.error
        base = float(admin_settings.ACE_CAMPAIGN_RETRY_BACKOFF_SECONDS)
        cap = float(admin_settings.ACE_CAMPAIGN_RETRY_BACKOFF_MAX_SECONDS)
        backoff = min(cap, base * 2 ** max(outcome.attempts - 1, 0)) * random.uniform(0.5, 1.0)
        when = max(delivery._aware(error.next_attempt_time), timezone.now() + timedelta(seconds=backoff))
        max_attempts = int(admin_settings.ACE_CAMPAIGN_MAX_ATTEMPTS)
        if self.run.expires_at is not None and when >= self.run.expires_at:
            outcome.status, outcome.finished_at = DeliveryStatus.EXPIRED, timezone.now()
            outcome.reason = f"next attempt ({when.isoformat()}) after expiration ({self.run.expires_at.isoformat()})"
            return outcome
        if max_attempts and outcome.attempts >= max_attempts:
            outcome.status, outcome.finished_at = DeliveryStatus.FAILED, timezone.now()
            outcome.reason = f"still failing after {outcome.attempts} attempts"
            return outcome
        DeliveryLog.objects.filter(campaign_run=self.run, message_uuid=message.uuid,
                                   channel_type=channel.channel_type.value).update(
            status="retrying", attempts=outcome.attempts, channel_name=channel.name, error=error_text(outcome))
        self.retry.append(self._row_of(message))
        self.retry_at = when if self.retry_at is None else max(self.retry_at, when)
        return None

    def record(self, pk, outcome, attempts, message) -> None:
        """Write one outcome at once: the shorter the gap after the channel answered, the less is in doubt."""
        table = DeliveryLog._meta.db_table
        with connection.cursor() as cursor:  # plain SQL: this runs once per message
            cursor.execute(
                f"UPDATE {table} SET status = %s, channel_name = %s, policy = %s, error = %s, attempts = %s, "
                f"finished_at = %s WHERE id = %s",
                [outcome.status.value, outcome.channel_name or "", policy_text(message, outcome)[:500],
                 error_text(outcome), max(outcome.attempts, attempts), outcome.finished_at or timezone.now(), pk])

    # Follow-ups --------------------------------------------------------------------------------------------

    def follow_up(self) -> None:
        """Queue a new batch (same message ids) for retries and for messages deferred by a rate limit."""
        for rows, when in ((self.retry, self.retry_at), (self.deferred, self.defer_until)):
            if rows:
                _queue_follow_up(self.batch, _unique(rows), when)


def _unique(rows):
    seen, result = set(), []
    for row in rows:
        key = (row["id"], row["email"])
        if key not in seen:
            seen.add(key)
            result.append(row)
    return result


def _queue_follow_up(batch, rows, when) -> None:
    follow = CampaignBatch.objects.create(run_id=batch.run_id, lineage=batch.lineage, recipients=rows,
                                          not_before=when)
    transaction.on_commit(lambda: _task("send_batch").apply_async((follow.pk,), eta=when))


def send_batch(batch_id: int):
    """Send one batch of a campaign run (safe to run twice, or on two workers at once)."""
    now = timezone.now()
    stale = now - timedelta(seconds=lease_seconds())
    token = uuid.uuid4()
    taken = CampaignBatch.objects.filter(pk=batch_id).filter(
        Q(status=CampaignBatch.QUEUED) | Q(status=CampaignBatch.RUNNING, heartbeat_at__lt=stale)).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now + timedelta(seconds=1))).update(
        status=CampaignBatch.RUNNING, token=token, heartbeat_at=now)
    if not taken:
        return "not taken"  # done, held by a live worker, or not due yet (its own ETA message will come)
    batch = CampaignBatch.objects.select_related("run__campaign__message_type").get(pk=batch_id)
    run = batch.run
    if run.status != CampaignRun.RUNNING:
        _release(batch, token, run.status)
        return run.status
    sender = BatchSender(batch, token)
    try:
        sender.send()
    except _LeaseLost:
        LOG.warning("Campaign batch %s: another worker took it over; stopping.", batch_id)
        return "lease lost"
    except _Stop as stop:
        # Paused or cancelled: what this batch claimed but did not send goes back (or away).
        DeliveryLog.objects.filter(campaign_run=run, status="sending", message_uuid__in=[
            _message_uuid(batch.lineage, row) for row in batch.recipients]).delete()
        _release(batch, token, stop.args[0])
        store_counts(run.pk)  # the run page shows what this batch sent before it stopped
        return stop.args[0]
    with transaction.atomic():
        sender.follow_up()
        CampaignBatch.objects.filter(pk=batch_id, token=token).update(status=CampaignBatch.DONE, token=None)
    maybe_finish(run.pk)
    return "done"


def _release(batch, token, run_status) -> None:
    status = CampaignBatch.QUEUED if run_status == CampaignRun.PAUSED else CampaignBatch.DONE
    CampaignBatch.objects.filter(pk=batch.pk, token=token).update(status=status, token=None)


# --- Finishing, watching, pausing -------------------------------------------------------------------------------


def counts(run_id: int) -> dict:
    """The run's messages by outcome, from the delivery log (one query)."""
    by_status = dict(DeliveryLog.objects.filter(campaign_run_id=run_id).values_list("status")
                     .annotate(n=Count("id")).values_list("status", "n"))
    total = sum(by_status.values())
    failed = sum(by_status.get(key, 0) for key in ("failed", "template_missing", "template_error", "unsupported"))
    return {"messages": total, "sent": by_status.get("sent", 0),
            "denied": by_status.get("denied", 0) + by_status.get("disabled", 0), "failed": failed,
            "expired": by_status.get("expired", 0),
            "pending": by_status.get("sending", 0) + by_status.get("retrying", 0)}


def maybe_finish(run_id: int) -> bool:
    """Mark the run done once its audience was read and every batch is done; store its final counts."""
    run = CampaignRun.objects.filter(pk=run_id).first()
    if run is None or run.status != CampaignRun.RUNNING or not run.audience_done:
        return False
    if CampaignBatch.objects.filter(run_id=run_id).exclude(status=CampaignBatch.DONE).exists():
        return False
    store_counts(run_id, status=CampaignRun.DONE, only_if=CampaignRun.RUNNING)
    return True


def store_counts(run_id: int, status=None, only_if=None) -> None:
    found = counts(run_id)
    values = {key: found[key] for key in ("sent", "denied", "failed", "expired")}
    if status is not None:
        values.update(status=status, finished_at=timezone.now())
        values["recipients"] = found["messages"]
    query = CampaignRun.objects.filter(pk=run_id)
    if only_if is not None:
        query = query.filter(status=only_if)
    query.update(**values)


def watch_run(run_id: int, last_cursor: int | None = None):
    """Re-queue the batches of a running run whose worker went silent, or that no worker ever picked up (a
    broker that lost the message), and restart the audience reading if it stalled. Repeats until the run ends."""
    run = CampaignRun.objects.filter(pk=run_id).first()
    if run is None or run.status != CampaignRun.RUNNING:
        return
    if maybe_finish(run_id):
        return
    now = timezone.now()
    stale = now - timedelta(seconds=lease_seconds())
    batches = CampaignBatch.objects.filter(run_id=run_id)
    # A held batch whose worker went silent is re-queued. Queued batches wait their turn while the run
    # makes progress; only when no batch showed a sign of life for a whole lease may their messages have
    # been lost (a broker that drops what a killed worker had fetched), and they are queued again.
    lost = Q(status=CampaignBatch.RUNNING, heartbeat_at__lt=stale)
    latest = batches.aggregate(latest=Max("heartbeat_at"))["latest"]
    if latest is None or latest < stale:
        lost |= Q(status=CampaignBatch.QUEUED, enqueued_at__lt=stale) & (
            Q(not_before__isnull=True) | Q(not_before__lt=stale))
    lost = batches.filter(lost)
    for pk in lost.values_list("pk", flat=True):
        LOG.warning("Campaign run %s: batch %s went silent; queueing it again.", run_id, pk)
        CampaignBatch.objects.filter(pk=pk, status=CampaignBatch.QUEUED).update(enqueued_at=now)
        _task("send_batch").delay(pk)
    if not run.audience_done and last_cursor == run.cursor:
        _task("run_campaign").delay(run_id)  # the reading task stalled (safe if it is in fact still going)
    store_counts(run_id)
    if not _eager():
        _task("watch_run").apply_async((run_id, run.cursor), countdown=max(lease_seconds() / 2, 1))


def pause(run) -> bool:
    return bool(CampaignRun.objects.filter(pk=run.pk, status=CampaignRun.RUNNING).update(status=CampaignRun.PAUSED))


def resume(run) -> bool:
    """Running again: queue the batches the pause sent back, and the audience reading if it was not done."""
    with transaction.atomic():
        if not CampaignRun.objects.filter(pk=run.pk, status=CampaignRun.PAUSED).update(status=CampaignRun.RUNNING):
            return False
        queued = list(CampaignBatch.objects.filter(run_id=run.pk, status=CampaignBatch.QUEUED)
                      .values_list("pk", "not_before"))
        now = timezone.now()
        for pk, not_before in queued:
            transaction.on_commit(lambda pk=pk, eta=not_before: _task("send_batch").apply_async(
                (pk,), eta=eta if eta and eta > now else None))
        transaction.on_commit(lambda: _task("run_campaign").delay(run.pk))
        transaction.on_commit(lambda: _task("watch_run").apply_async((run.pk,), countdown=lease_seconds()))
    return True


def cancel(run) -> bool:
    with transaction.atomic():
        changed = CampaignRun.objects.filter(pk=run.pk, status__in=[CampaignRun.RUNNING, CampaignRun.PAUSED]).update(
            status=CampaignRun.CANCELLED, finished_at=timezone.now())
        if changed:
            CampaignBatch.objects.filter(run_id=run.pk, status=CampaignBatch.QUEUED).update(status=CampaignBatch.DONE)
            # Retries that were waiting will not happen: they were never delivered.
            DeliveryLog.objects.filter(campaign_run_id=run.pk, status="retrying").delete()
    if changed:
        store_counts(run.pk)
    return bool(changed)
