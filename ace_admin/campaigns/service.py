"""The campaign service: schedules, runs fanned out in batches and sent exactly once per recipient, pause/cancel.

The Celery tasks in ``ace_admin.campaigns.tasks`` are thin wrappers around the functions here; the admin and
the management commands call this module.

How a run goes (see README "Campaigns"):

- ``fire_campaign`` (from django-celery-beat) or "Run now" creates a ``CampaignRun``;
- ``run_campaign`` reads the audience in chunks (keyset pagination, never the whole list) and stores
  each chunk as a ``CampaignBatch`` (in the same transaction as its reading position, so a redelivered
  task resumes where it stopped), then enqueues ``send_batch`` for it;
- ``send_batch`` takes the batch's lease, claims its recipients through the delivery log's unique
  (run, recipient, channel) key, runs the engine's send pipeline for each message (``ace.send_once``: policies,
  channels, checks, preparers, rendering, one attempt) over one connection per channel, and records each
  outcome (``delivery_log.record_claimed``) as soon as the channel answered. A batch redelivered after its worker died
  skips every recipient already recorded; at most the one message in flight when a worker is killed is
  in doubt (it is sent again: the channel's answer never reached the database).
- ``watch_run`` re-enqueues batches whose worker stopped renewing its lease, whatever the broker.
- Poison messages: tasks are acknowledged late and requeued when their worker dies, so a message whose
  processing kills the worker (a crash, an abort, the kernel's OOM killer) would come back forever. A batch
  taken over from a worker that stopped remembers the message that worker was on (the first one not yet
  recorded: messages go in order and each is recorded as soon as its channel answered); once
  ``ACE_ADMIN_MAX_TASK_DELIVERIES`` workers stopped on the same message, it is logged failed with the reason and
  the batch goes on with the others. ``send_message`` counts its deliveries by task id the same way. Both counts
  are committed before the work starts and cleared when it finishes.

- ``retry_failures`` (the run page's "Retry these N") puts a retryable failure group back into the same run:
  the same delivery-log rows, the same message ids, a done run reopened.

No task sleeps: recoverable failures and rate limits go back to the queue with an ETA (after quiet hours, when
the recipient's time falls in them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import random
import time
import uuid
from datetime import datetime, timedelta

from celery import current_app
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.models import Count, F, Max, Q
from django.db.models.signals import post_save, pre_delete
from django.utils import timezone

from ace import ace
from ace.channel import ChannelType, channels
from ace.errors import ChannelError, InvalidMessageError
from ace.message import Message
from ace.outcome import DeliveryOutcome, DeliveryStatus
from ace.signals import ACE_MESSAGE_OUTCOMES
from ace_admin import delivery_log, stamp
from ace_admin.campaigns import abtest, audiences, failures, localtime, preflight, ratelimit
from ace_admin.campaigns import schedule as campaign_schedule
from ace_admin.campaigns.messages import campaign_message
from ace_admin.models import (
    Campaign,
    CampaignBatch,
    CampaignRun,
    DeliveryLog,
    MessageType,
    PreflightOverride,
    QuietHours,
    TaskDelivery,
)
from ace_admin.reports.queries import variant_funnels
from ace_admin.rules.policy import prefetch as policy_prefetch
from ace_admin.settings import admin_settings

LOG = logging.getLogger(__name__)


def batch_size() -> int:
    return int(admin_settings.ACE_CAMPAIGN_BATCH_SIZE)


def lease_seconds() -> float:
    """How long a batch's worker may stay silent before another worker takes the batch over."""
    return float(admin_settings.ACE_CAMPAIGN_LEASE_SECONDS)


def max_deliveries() -> int:
    """How many workers may stop (die) processing one message before it is logged failed instead; 0: no cap."""
    return max(int(admin_settings.ACE_ADMIN_MAX_TASK_DELIVERIES), 0)


def poison_reason(deaths: int) -> str:
    return (f"the worker died {deaths} time{'s' if deaths != 1 else ''} processing this message "
            f"(crash, abort or out of memory); not tried again")


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


def duplicate_campaign(campaign):
    """A copy of ``campaign`` named "... (copy)", not scheduled (its runs, schedule entry and archive flag are not
    copied): edit it, then tick "scheduled" or use "Run now"."""
    copy = Campaign.objects.get(pk=campaign.pk)
    copy.pk = copy.id = None
    copy.periodic_task = None
    copy.archived, copy.enabled = False, False
    base, number = f"{campaign.name} (copy)", 1
    copy.name = base
    while Campaign.objects.filter(name=copy.name).exists():
        number += 1
        copy.name = f"{base} {number}"
    with transaction.atomic():
        save_campaign(copy)
        for variant in campaign.variants.all():
            variant.pk = variant.id = None
            variant.campaign = copy
            variant.save()
    return copy


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


def _expiry(campaign, now):
    return now + timedelta(hours=campaign.expiration_hours or admin_settings.ACE_CAMPAIGN_DEFAULT_EXPIRATION_HOURS)


def start_run(campaign, trigger: str = "hand", task_id: str | None = None):
    """Create a run of ``campaign`` and queue it (after the transaction commits), unless the preflight check
    finds a template error or a variable that renders empty: the run is then stored **blocked**, with the
    findings, and nothing is sent until a manager overrides it (:func:`override_preflight`). Returns the run."""
    if task_id:
        existing = CampaignRun.objects.filter(task_id=task_id).first()
        if existing is not None:  # a redelivered firing: its run exists (and was checked)
            return existing
    now = timezone.now()
    defaults = {"campaign": campaign, "trigger": trigger}
    if trigger == "schedule" and campaign_schedule.too_late(campaign, now):
        defaults.update(status=CampaignRun.MISSED, finished_at=now, error=(
            f"The scheduler woke up at {now:%Y-%m-%d %H:%M:%S %Z}, more than {campaign.grace_minutes} minute(s) "
            f"after the planned time {campaign.run_at:%Y-%m-%d %H:%M:%S %Z}; nothing was sent."))
    else:
        report = preflight.check(campaign) if admin_settings.ACE_CAMPAIGN_PREFLIGHT else preflight.Report()
        defaults["findings"] = report.as_json()
        if report.blocking:
            defaults.update(status=CampaignRun.BLOCKED, finished_at=now, error=report.summary())
        else:
            defaults["expires_at"] = _expiry(campaign, now)
        defaults["ab_plan"] = abtest.plan_for(campaign, now)
    with transaction.atomic():
        if task_id:
            run, created = CampaignRun.objects.get_or_create(task_id=task_id, defaults=defaults)
        else:
            run, created = CampaignRun.objects.create(**defaults), True
        if created and run.status == CampaignRun.RUNNING:
            _queue_start(run)
    if run.status in (CampaignRun.MISSED, CampaignRun.BLOCKED):
        LOG.warning("Campaign %s: run %s %s. %s", campaign, run.pk, run.status, run.error)
    return run


def override_preflight(run, user, reason: str):
    """A manager launches a run the preflight check blocked: the override (who, when, why, the findings) is
    logged as a ``PreflightOverride`` row and the run starts. Returns the override, or None when the run is
    not blocked (any more)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("Give the reason for launching despite the findings.")
    now = timezone.now()
    with transaction.atomic():
        locked = CampaignRun.objects.select_for_update().select_related("campaign").filter(
            pk=run.pk, status=CampaignRun.BLOCKED).first()
        if locked is None:
            return None
        override = PreflightOverride.objects.create(
            campaign=locked.campaign, run=locked, user=user if getattr(user, "pk", None) else None,
            username=_username(user), reason=reason, findings=locked.findings)
        CampaignRun.objects.filter(pk=locked.pk).update(
            status=CampaignRun.RUNNING, finished_at=None, expires_at=_expiry(locked.campaign, now),
            error=f"Launched despite the preflight findings by {override.username or 'a manager'}: {reason}")
        locked.ab_plan = abtest.plan_for(locked.campaign, now)  # the test's wait starts at the launch
        CampaignRun.objects.filter(pk=locked.pk).update(ab_plan=locked.ab_plan)
        _queue_start(locked)
    LOG.warning("Campaign run %s: preflight overridden by %s: %s", run.pk, override.username, reason)
    return override


def _queue_start(run) -> None:
    """After the transaction commits: read the audience, watch the run, and pick the A/B winner when it is due."""
    transaction.on_commit(lambda: _task("run_campaign").delay(run.pk))
    transaction.on_commit(lambda: _task("watch_run").apply_async((run.pk,), countdown=lease_seconds()))
    if abtest.has_winner_rule(run.ab_plan):
        due = datetime.fromisoformat(run.ab_plan["decide_at"])
        transaction.on_commit(lambda: _task("decide_winner").apply_async((run.pk,), eta=due))


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


def read_audience(run_id: int, now=None):
    """Read the run's audience in chunks, store each as a batch, and queue the batches. With a local send time
    or quiet hours, a chunk becomes one batch per due time (``not_before``, with the reason it waits), queued
    for that time; the run's expiration moves so that the last of them still has its full time to deliver."""
    run = CampaignRun.objects.select_related("campaign__audience", "campaign__message_type").filter(
        pk=run_id).first()
    if run is None or run.status != CampaignRun.RUNNING or run.audience_done:
        return
    cursor = run.cursor
    # The plan is made from the run's start, so a task that resumes (a worker died) plans the same times.
    plan = localtime.plan_for(run.campaign, QuietHours.objects.all())
    start = now or (run.started_at if plan.local_time is not None else timezone.now())
    try:
        for chunk, next_cursor in audiences.stream(run.campaign.audience, cursor, batch_size()):
            with transaction.atomic():
                locked = CampaignRun.objects.select_for_update().get(pk=run_id)
                if locked.status != CampaignRun.RUNNING or locked.cursor != cursor:
                    return  # paused or cancelled, or another copy of this task moved on
                held_out = 0
                for variant, rows in _shares(locked, chunk):
                    if variant == abtest.HOLDOUT:
                        held_out += len(rows)
                        CampaignBatch.objects.create(run=locked, recipients=rows, size=len(rows), variant=variant,
                                                     status=CampaignBatch.DONE)
                    elif variant == "" and locked.ab_plan:
                        CampaignBatch.objects.create(run=locked, recipients=rows, size=len(rows),
                                                     status=CampaignBatch.WAITING, wait_reason=_winner_wait(locked))
                    else:
                        for when, reason, group in localtime.group(rows, plan, start):
                            _queue_planned(locked, group, when, reason, variant)
                CampaignRun.objects.filter(pk=run_id).update(
                    cursor=next_cursor, recipients=F("recipients") + len(chunk) - held_out,
                    held_out=F("held_out") + held_out)
            cursor = next_cursor
    except Exception as error:
        LOG.exception("Campaign run %s: reading the audience failed.", run_id)
        CampaignRun.objects.filter(pk=run_id, status=CampaignRun.RUNNING).update(
            status=CampaignRun.FAILED, finished_at=timezone.now(),
            error=f"Reading the audience failed: {type(error).__name__}: {error}")
        return
    CampaignRun.objects.filter(pk=run_id, cursor=cursor).update(audience_done=True)
    maybe_finish(run_id)


def _shares(run, chunk) -> list[tuple[str, list[dict]]]:
    """``chunk`` by A/B share (variant label, holdout, or "" for the rest), or all of it as "" without a test."""
    if not run.ab_plan:
        return [("", chunk)]
    return sorted(abtest.split(run.ab_plan, str(run.send_uuid), chunk).items())


def _winner_wait(run) -> str:
    due = timezone.localtime(datetime.fromisoformat(run.ab_plan["decide_at"]))
    return f"waiting for the A/B test's winner (picked from {due:%Y-%m-%d %H:%M %Z})"


def _queue_planned(run, rows, when, reason, variant="") -> None:
    """One batch of ``rows`` due at ``when`` (None: now), queued after the transaction commits."""
    batch = CampaignBatch.objects.create(run=run, recipients=rows, size=len(rows), not_before=when, variant=variant,
                                         wait_reason=reason if when is not None else "")
    if when is None:
        transaction.on_commit(lambda pk=batch.pk: _task("send_batch").delay(pk))
        return
    _expire_after(run, when)
    transaction.on_commit(lambda pk=batch.pk: _task("send_batch").apply_async((pk,), eta=when))


def waiting(run_id: int, now=None) -> list[tuple[str, int, object]]:
    """Recipients of the run whose batch waits for a later time, by reason: ``[(reason, count, next time)]``
    ("waiting for their local 09:00", "quiet hours (...)", or "retry or rate limit")."""
    now = now or timezone.now()
    rows = (CampaignBatch.objects.filter(run_id=run_id, status=CampaignBatch.QUEUED, not_before__gt=now)
            .values("wait_reason").annotate(n=models.Sum("size"), first=models.Min("not_before"))
            .order_by("first"))
    found = [(row["wait_reason"] or "retry or rate limit", row["n"] or 0, row["first"]) for row in rows]
    for row in (CampaignBatch.objects.filter(run_id=run_id, status=CampaignBatch.WAITING)
                .values("wait_reason").annotate(n=models.Sum("size")).order_by()):
        found.append((row["wait_reason"] or "waiting for the A/B test's winner", row["n"] or 0, None))
    return found


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


class _Deferred(Exception):
    """A rate limit has no slot now: this message and the rest of the batch go back to the queue."""


def _variant_message_type(run, variant):
    """The message type of A/B ``variant`` in ``run``'s plan (None: the campaign's own)."""
    pk = (run.ab_plan or {}).get("variants", {}).get(variant) if variant else None
    if pk is None or pk == run.campaign.message_type_id:
        return None
    return MessageType.objects.get(pk=pk)


class BatchSender:
    """Sends one leased batch; see the module docstring."""

    HEARTBEAT_SECONDS = 2.0

    def __init__(self, batch, token):
        self.batch, self.token = batch, token
        self.run = batch.run
        self.campaign = self.run.campaign
        self.message_type = _variant_message_type(self.run, batch.variant) or self.campaign.message_type
        self.next_heartbeat = time.monotonic() + min(self.HEARTBEAT_SECONDS, lease_seconds() / 3)
        self.retry: list[dict] = []
        self.retry_at = None
        self.deferred: list[dict] = []
        self.defer_until = None

    # Claims -------------------------------------------------------------------------------------------------

    def claim(self, channel_types) -> list[tuple[dict, Message, dict]]:
        """Claim this batch's messages in the delivery log; return the recipients this batch still has to send,
        with their message and {channel type: (row pk, attempts)}."""
        messages = [(row, self.build_message(row, _message_uuid(self.batch.lineage, row)))
                    for row in self.batch.recipients]
        stamp.share_stamp(message for _, message in messages)  # the log's columns read the message types
        self.untouched = set()  # messages no worker got to yet ('sending' rows: not recorded, not retrying)
        claimed = delivery_log.claim(self.run, [message for _, message in messages], channel_types,
                                     untouched=self.untouched)
        work = [(row, message, claimed[message.uuid]) for row, message in messages if message.uuid in claimed]
        self.rows_by_uuid = {message.uuid: row for row, message, _ in work}
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

    # Poison messages ----------------------------------------------------------------------------------------

    def skip_poison(self, work):
        """When this batch was taken over from a worker that stopped, note (committed before anything is sent)
        the message that worker was on; once ``max_deliveries()`` workers stopped on the same message, log it
        failed instead of trying it again. Returns the work left to do."""
        limit = max_deliveries()
        if self.batch.deliveries < 2 or not limit:
            return work  # first delivery (or no cap): nothing to write, nothing in doubt
        # Messages go in order and each is recorded when its channel answered: the worker that stopped was on
        # the first message still untouched (or before it, which counts it too: rare and on the safe side).
        index = next((i for i, item in enumerate(work) if item[1].uuid in self.untouched), None)
        if index is None:
            return work
        _row, message, rows = work[index]
        suspect = message.uuid
        deaths = self.batch.suspect_deaths + 1 if self.batch.suspect == suspect else 1
        if deaths < limit:
            CampaignBatch.objects.filter(pk=self.batch.pk, token=self.token).update(
                suspect=suspect, suspect_deaths=deaths)
            return work
        reason = poison_reason(deaths)
        message.get_message_specific_logger(LOG).error("Campaign batch %s: %s.", self.batch.pk, reason)
        outcomes = []
        for channel_type, (pk, attempts) in rows.items():
            outcome = DeliveryOutcome(message, channel_type, DeliveryStatus.FAILED, reason=reason,
                                      attempts=attempts, finished_at=timezone.now())
            delivery_log.record_claimed(pk, outcome)
            outcomes.append(outcome)
        CampaignBatch.objects.filter(pk=self.batch.pk, token=self.token).update(suspect=None, suspect_deaths=0)
        ACE_MESSAGE_OUTCOMES.send(sender=None, message=message, outcomes=outcomes, logged=True)
        # The rest may hold another poison message: it is counted from the next worker that stops on it.
        return work[:index] + work[index + 1:]

    # Sending ------------------------------------------------------------------------------------------------

    def build_message(self, row, message_uuid) -> Message:
        message = campaign_message(self.campaign, row, send_uuid=self.run.send_uuid,
                                   expiration_time=self.run.expires_at, message_type=self.message_type)
        message.uuid = message_uuid
        return message

    def send(self) -> None:
        channel_map = channels()
        wanted = self.campaign.channels
        channel_types = [channel_type for channel_type in ChannelType if channel_type in channel_map
                         and wanted in ("all", channel_type.value)]
        work = self.skip_poison(self.claim(channel_types))
        self.heartbeat(force=True)
        messages = [message for _, message, _ in work]
        self.opened = {}
        with contextlib.ExitStack() as stack:
            self.stack = stack
            stack.enter_context(policy_prefetch(messages))
            stack.enter_context(_fast_commits())
            for index, (_row, message, rows) in enumerate(work):
                if self.heartbeat() or index == 0:
                    # Admin edits (templates, rules) reach a running batch within a heartbeat, for one
                    # cache read instead of one per message.
                    stamp.share_stamp(messages[index:])
                if self.defer_until is not None:
                    self.deferred.extend(item[0] for item in work[index:])
                    break
                outcomes = self.send_one(message, rows)
                if outcomes:
                    ACE_MESSAGE_OUTCOMES.send(sender=None, message=message, outcomes=outcomes, logged=True)

    def send_one(self, message, rows) -> list[DeliveryOutcome]:
        """The engine's send pipeline, one pass (``ace.send_once``), over the channel types claimed for
        ``message``; each outcome is recorded as its channel answers. Returns the settled outcomes."""
        settled = []

        def record(outcome):
            pk, attempts = rows[outcome.channel_type]
            outcome.attempts += attempts  # the attempts of earlier batches of this message
            if outcome.status is DeliveryStatus.RETRY_SCHEDULED:
                self.schedule_retry(message, outcome)
            delivery_log.record_claimed(pk, outcome)
            if outcome.status is not DeliveryStatus.RETRY_SCHEDULED:
                settled.append(outcome)

        def before_delivery(channel):
            rate = ratelimit.rate_for(channel.name)
            if rate is not None:
                wait = ratelimit.reserve(channel.name, rate)
                if wait > 0:
                    # Not sleeping: this message and the rest go back to the queue for when a slot is free.
                    self.defer_until = timezone.now() + timedelta(seconds=max(wait, 0.2))
                    self.deferred.append(self._row_of(message))
                    raise _Deferred()
            if channel.name not in self.opened:
                # One connection per channel for the whole batch (channels that offer batch()).
                batch = getattr(channel, "batch", None)
                self.opened[channel.name] = self.stack.enter_context(batch()) if callable(batch) else None

        try:
            ace.send_once(message, limit_to_channels=list(rows), before_delivery=before_delivery, on_outcome=record)
        except _Deferred:
            pass
        return settled

    def _row_of(self, message) -> dict:
        return self.rows_by_uuid[message.uuid]

    def schedule_retry(self, message, outcome) -> None:
        """Back to the queue at the channel's next attempt time, at the earliest, with capped exponential
        backoff and jitter; expired when that is past the run's expiration, failed after too many attempts."""
        base = float(admin_settings.ACE_CAMPAIGN_RETRY_BACKOFF_SECONDS)
        cap = float(admin_settings.ACE_CAMPAIGN_RETRY_BACKOFF_MAX_SECONDS)
        backoff = min(cap, base * 2 ** max(outcome.attempts - 1, 0)) * random.uniform(0.5, 1.0)
        when = max(outcome.retry_at, timezone.now() + timedelta(seconds=backoff))
        max_attempts = int(admin_settings.ACE_CAMPAIGN_MAX_ATTEMPTS)
        if self.run.expires_at is not None and when >= self.run.expires_at:
            outcome.status, outcome.finished_at = DeliveryStatus.EXPIRED, timezone.now()
            outcome.reason = f"next attempt ({when.isoformat()}) after expiration ({self.run.expires_at.isoformat()})"
            return
        if max_attempts and outcome.attempts >= max_attempts:
            outcome.status, outcome.finished_at = DeliveryStatus.FAILED, timezone.now()
            outcome.reason = f"still failing after {outcome.attempts} attempts"
            return
        outcome.retry_at = when
        outcome.reason = f"retry scheduled for {when.isoformat()}: {outcome.error}"
        self.retry.append(self._row_of(message))
        self.retry_at = when if self.retry_at is None else max(self.retry_at, when)

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


def _queue_follow_up(batch, rows, when) -> list[int]:
    """Queue ``rows`` of ``batch`` again for ``when`` (retries, messages a rate limit deferred, failures a manager
    retries), in new batches of the same lineage, so with the same message ids. A recipient whose ``when`` falls
    in their quiet hours waits for the window's end in their own zone (one batch per due time, with the reason
    it waits; the run's expiration moves so that it still has its full time to deliver), as when the audience
    was read. Returns the new batches' ids."""
    run = batch.run
    plan = dataclasses.replace(localtime.plan_for(run.campaign, QuietHours.objects.all()), local_time=None)
    queued = []
    for due, reason, members in localtime.group(rows, plan, when or timezone.now()):
        follow = CampaignBatch.objects.create(run_id=batch.run_id, lineage=batch.lineage, recipients=members,
                                              size=len(members), not_before=due or when, wait_reason=reason,
                                              variant=batch.variant)
        if due is not None:
            _expire_after(run, due)
        transaction.on_commit(lambda pk=follow.pk, eta=due or when: _task("send_batch").apply_async((pk,), eta=eta))
        queued.append(follow.pk)
    return queued


def _expire_after(run, when) -> None:
    """Move the run's expiration so that messages due at ``when`` still have the campaign's full time to deliver."""
    expires = _expiry(run.campaign, when)
    CampaignRun.objects.filter(pk=run.pk).filter(Q(expires_at__lt=expires) | Q(expires_at__isnull=True)).update(
        expires_at=expires)


def send_batch(batch_id: int, now=None):
    """Send one batch of a campaign run (safe to run twice, or on two workers at once). ``now``: the clock
    (tests pass an instant; a batch is not taken before its ``not_before``)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=lease_seconds())
    token = uuid.uuid4()
    taken = CampaignBatch.objects.filter(pk=batch_id).filter(
        Q(status=CampaignBatch.QUEUED) | Q(status=CampaignBatch.RUNNING, heartbeat_at__lt=stale)).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now + timedelta(seconds=1))).update(
        status=CampaignBatch.RUNNING, token=token, heartbeat_at=now, deliveries=F("deliveries") + 1)
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
        delivery_log.discard_claims(run, [_message_uuid(batch.lineage, row) for row in batch.recipients])
        _release(batch, token, stop.args[0])
        store_counts(run.pk)  # the run page shows what this batch sent before it stopped
        return stop.args[0]
    with transaction.atomic():
        sender.follow_up()
        CampaignBatch.objects.filter(pk=batch_id, token=token).update(status=CampaignBatch.DONE, token=None,
                                                                       **_NO_DOUBT)
    maybe_finish(run.pk)
    return "done"


#: A batch that finished or was released normally: nothing in doubt any more (the poison counters start over).
_NO_DOUBT = {"deliveries": 0, "suspect": None, "suspect_deaths": 0}


def _release(batch, token, run_status) -> None:
    status = CampaignBatch.QUEUED if run_status == CampaignRun.PAUSED else CampaignBatch.DONE
    CampaignBatch.objects.filter(pk=batch.pk, token=token).update(status=status, token=None, **_NO_DOUBT)


# --- Finishing, watching, pausing -------------------------------------------------------------------------------


def counts(run_id: int) -> dict:
    """The run's messages by outcome, from the delivery log (one query)."""
    by_status = dict(DeliveryLog.objects.filter(campaign_run_id=run_id).values_list("status")
                     .annotate(n=Count("id")).values_list("status", "n"))
    total = sum(by_status.values())
    failed = sum(by_status.get(key, 0) for key in ("failed", "template_missing", "template_error", "unsupported"))
    return {"messages": total, "sent": by_status.get("sent", 0),
            "denied": by_status.get("denied", 0), "failed": failed,
            "expired": by_status.get("expired", 0),
            "pending": by_status.get("sending", 0) + by_status.get("retrying", 0)}


def maybe_finish(run_id: int) -> bool:
    """Mark the run done once its audience was read and every batch is done; store its final counts."""
    with transaction.atomic():
        # Writing the run's row first (a no-op) waits for a retry queueing batches in this run (which holds the
        # same row: retry_failures) and makes the check below see them: a run is never marked done under them.
        if not CampaignRun.objects.filter(pk=run_id, status=CampaignRun.RUNNING, audience_done=True).update(
                status=F("status")):
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
    if winner_due(run, now):
        decide_winner(run_id, now=now)  # the task queued for that time was lost, or the test sends just ended
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


# --- A/B tests (see ace_admin.campaigns.abtest) -------------------------------------------------------------------


def winner_due(run, now=None) -> bool:
    """Whether ``run`` has an A/B winner to pick now: its wait is over and it has not been picked."""
    if run.status != CampaignRun.RUNNING or run.winner or not abtest.has_winner_rule(run.ab_plan):
        return False
    return (now or timezone.now()) >= datetime.fromisoformat(run.ab_plan["decide_at"])


def decide_winner(run_id: int, now=None, choose: str | None = None, user=None) -> str:
    """Pick the A/B winner of a run and send it to the rest of the audience. Called by the task queued for the
    end of the wait (and by ``watch_run`` if that task was lost); a manager may ``choose`` a variant instead, at
    any time before the winner is picked. Waits (returns "test still sending") while test messages are still
    going out: a rate read before they are all out would favour the variant that went first. Returns what
    happened."""
    now = now or timezone.now()
    with transaction.atomic():
        run = CampaignRun.objects.select_for_update().select_related("campaign").filter(pk=run_id).first()
        if run is None or not run.ab_plan or run.winner:
            return "nothing to decide"
        if run.status != CampaignRun.RUNNING:
            return f"run {run.status}"
        if choose is None:
            if not winner_due(run, now):
                return "not yet"
            if CampaignBatch.objects.filter(run_id=run_id).exclude(variant="").exclude(
                    status=CampaignBatch.DONE).exists() or not run.audience_done:
                return "test still sending"
        elif choose not in abtest.labels(run.ab_plan):
            raise ValueError(f"There is no variant {choose!r} in this run's test.")
        figures = {row["variant"]: row for row in variant_funnels(run)}  # each variant's funnel so far
        winner, summary = abtest.decide(run.ab_plan.get("rule", Campaign.AB_RULE_CLICK), figures, chosen=choose)
        if choose is not None:
            summary["chosen_by"] = _username(user) or "a manager"
        summary.update(winner=winner, figures={label: {key: row.get(key) for key in (
            "sent", "delivered", "opened", "clicked", "bounced")} for label, row in figures.items()})
        CampaignRun.objects.filter(pk=run_id).update(winner=winner, winner_decided_at=now, winner_figures=summary)
        run.winner = winner
        released = _release_rest(run, winner, now)
    LOG.info("Campaign run %s: A/B winner %s (%s); %s recipients get it.", run_id, winner, abtest.describe(summary),
             released)
    maybe_finish(run_id)
    return f"winner {winner}"


def _release_rest(run, winner: str, now) -> int:
    """The batches waiting for the winner get it: queued now, or at the end of the recipients' quiet hours
    (and their local send time, when the campaign has one). Returns how many recipients were released."""
    plan = localtime.plan_for(run.campaign, QuietHours.objects.all())
    released = 0
    for batch in CampaignBatch.objects.filter(run_id=run.pk, status=CampaignBatch.WAITING):
        released += batch.size
        groups = localtime.group(batch.recipients, plan, now)
        batch.delete()
        for when, reason, rows in groups:
            _queue_planned(run, rows, when, reason, winner)
    return released


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
            CampaignBatch.objects.filter(run_id=run.pk, status__in=[CampaignBatch.QUEUED, CampaignBatch.WAITING]
                                         ).update(status=CampaignBatch.DONE)
            # Retries that were waiting will not happen: they were never delivered. Those a manager asked for
            # had failed before: they stay in the log, failed.
            retries = DeliveryLog.objects.filter(campaign_run_id=run.pk, status="retrying")
            retries.filter(error__startswith=RETRY_NOTE).update(
                status="failed", finished_at=timezone.now(), error="not sent: the run was cancelled before this "
                                                                   "retry went out")
            retries.delete()
    if changed:
        store_counts(run.pk)
    return bool(changed)


# --- Retrying failures -------------------------------------------------------------------------------------------

#: Runs whose failures may be retried: a running or paused run takes them in place (a paused one sends them when
#: resumed), a done run is reopened. Not a cancelled run (someone stopped it), nor one that failed reading its
#: audience (reopening it would read the rest of the audience), missed or blocked (nothing was sent).
RETRY_STATUSES = (CampaignRun.RUNNING, CampaignRun.PAUSED, CampaignRun.DONE)


#: How a row retried by hand starts its error while it waits (``cancel`` tells it from an automatic retry).
RETRY_NOTE = "retry requested by "


class RetryRefused(ValueError):
    """A retry that is not allowed: a failure not worth retrying, or a run that takes no more messages."""


def retry_failures(run, status: str, reason: str, user=None, now=None) -> int:
    """Send again, in the same run, the messages of one retryable failure group of the run's page (delivery-log
    ``status`` and the group's ``reason``, as ``story.failure_groups`` shows them). Returns how many messages
    were queued: 0 when none is left in that state (someone retried them already).

    The rows go back to "retrying" and their recipients are queued again from the batch that first held them,
    so each message keeps its id and the log's unique (run, recipient, channel) key keeps exactly-once. The
    follow-ups respect quiet hours (``_queue_follow_up``). A done run is reopened (running, a new expiration,
    watched again) and ends again when they are settled; its counts follow. Who retried what is written to the
    admin history of the run (shown on its page). Raises :class:`RetryRefused` for a group not worth retrying
    (refused addresses, poison messages) or a run in a state that takes no more messages. ``now``: the clock."""
    if not failures.retryable(status, reason):
        raise RetryRefused(f"“{reason}” ({status}) is not worth retrying: these messages would fail the same way.")
    now = now or timezone.now()
    who = _username(user) or "someone"
    with transaction.atomic():
        # Writing the run's row first (a no-op) makes two managers' clicks, and a worker finishing the run
        # (maybe_finish), wait for each other: the second click finds the rows retrying and queues nothing.
        CampaignRun.objects.filter(pk=run.pk).update(status=F("status"))
        locked = CampaignRun.objects.select_related("campaign__message_type").filter(pk=run.pk).first()
        if locked is None or locked.status not in RETRY_STATUSES:
            label = locked.get_status_display().lower() if locked is not None else "deleted"
            raise RetryRefused(f"This run is {label}: its failures cannot be retried in it.")
        candidates = [(pk, message_uuid) for pk, error, message_uuid in DeliveryLog.objects.filter(
            campaign_run_id=run.pk, status=status).values_list("pk", "error", "message_uuid")
            if failures.reason(status, error) == reason]
        origins = _origins(run.pk, {message_uuid for _, message_uuid in candidates})
        pks = [pk for pk, message_uuid in candidates if message_uuid in origins]
        if not pks:
            return 0
        note = f"{RETRY_NOTE}{who} at {now:%Y-%m-%d %H:%M:%S %Z}"
        for start in range(0, len(pks), 500):  # the database's limit on query parameters
            DeliveryLog.objects.filter(pk__in=pks[start:start + 500], status=status).update(
                status="retrying", error=note, finished_at=None)
        expires = max(filter(None, [locked.expires_at, _expiry(locked.campaign, now)]))
        if locked.status == CampaignRun.DONE:
            CampaignRun.objects.filter(pk=run.pk).update(status=CampaignRun.RUNNING, finished_at=None,
                                                         expires_at=expires)
            transaction.on_commit(lambda: _task("watch_run").apply_async((run.pk,), countdown=lease_seconds()))
        else:
            CampaignRun.objects.filter(pk=run.pk).update(expires_at=expires)
        by_batch: dict[int, dict] = {}
        for batch_pk, message_uuid, row in origins.values():
            by_batch.setdefault(batch_pk, {})[message_uuid] = row
        batches = CampaignBatch.objects.select_related("run__campaign__message_type").in_bulk(list(by_batch))
        for batch_pk, rows in by_batch.items():
            _queue_follow_up(batches[batch_pk], list(rows.values()), now)
        count = len(origins)
        text = (f"Retried {count} message{'s' if count != 1 else ''} ({status}: {reason})"
                + (" and reopened the run" if locked.status == CampaignRun.DONE else "") + ".")
        _note_on_run(locked, user, text)
    LOG.warning("Campaign run %s: %s retried %s message(s) (%s: %s).", run.pk, who, count, status, reason)
    store_counts(run.pk)
    return count


def _username(user) -> str:
    return getattr(user, "get_username", lambda: "")() or ""


def _origins(run_id: int, wanted: set) -> dict:
    """``{message uuid: (batch id, message uuid, audience row)}`` for the messages in ``wanted``: the batch that
    first held each (its follow-ups share its lineage and hold a part of its rows, so they are skipped)."""
    found: dict = {}
    seen_lineages = set()
    batches = CampaignBatch.objects.filter(run_id=run_id).order_by("pk").values_list("pk", "lineage", "recipients")
    for pk, lineage, rows in batches.iterator(chunk_size=100):
        if len(found) == len(wanted):
            break
        if lineage in seen_lineages:
            continue
        seen_lineages.add(lineage)
        for row in rows or []:
            message_uuid = _message_uuid(lineage, row)
            if message_uuid in wanted and message_uuid not in found:
                found[message_uuid] = (pk, message_uuid, row)
    return found


def _note_on_run(run, user, text: str) -> None:
    """Write ``text`` to the run's admin history (its page lists the retries; "History" shows them too)."""
    if getattr(user, "pk", None) is None:
        return  # a shell or a task: the log line is the record
    from django.apps import apps

    if not apps.is_installed("django.contrib.admin"):
        return  # the service runs without the admin too (workers, benchmarks): no history to write to
    from django.contrib.admin.models import CHANGE, LogEntry

    LogEntry.objects.log_actions(user.pk, CampaignRun.objects.filter(pk=run.pk), CHANGE, change_message=text,
                                 single_object=True)


# --- One message in the background -------------------------------------------------------------------------------


def count_delivery(task_id: str, task_name: str) -> int:
    """Count one more delivery of task ``task_id`` (committed at once when not in a transaction); return the
    count, this one included."""
    now = timezone.now()
    for _ in range(2):
        if TaskDelivery.objects.filter(task_id=task_id).update(deliveries=F("deliveries") + 1, last_at=now):
            break
        try:
            with transaction.atomic():
                TaskDelivery.objects.create(task_id=task_id, task_name=task_name[:200], deliveries=1, last_at=now)
            return 1
        except IntegrityError:  # another worker got the same message at the same moment
            continue
    return TaskDelivery.objects.filter(task_id=task_id).values_list("deliveries", flat=True).first() or 1


def forget_delivery(task_id: str | None) -> None:
    """The task finished (well or with an error, but its worker lived): its count is not needed any more."""
    if task_id:
        TaskDelivery.objects.filter(task_id=task_id).delete()


def send_in_background(task_id: str | None, task_name: str, serialized: str, channel_type: str | None = None):
    """What the ``send_message`` task does: ``ace.send`` of a serialised message (limited to ``channel_type``,
    for a retry that ``schedule_send_retry`` queued). A message whose processing killed
    ``ACE_ADMIN_MAX_TASK_DELIVERIES`` workers is logged failed instead of processed again."""
    limit = max_deliveries()
    try:
        deliveries = count_delivery(task_id, task_name) if task_id and limit else 0
    except DatabaseError:  # the cap must not stop mail: ace.send logs what it can on its own
        LOG.exception("send_message: could not count this delivery; sending without the poison-message cap.")
        deliveries = 0
    if limit and deliveries > limit:
        result = _give_up_message(serialized, deliveries - 1)
        forget_delivery(task_id)
        return result
    try:
        result = _send_serialized(serialized, channel_type)
    except Exception:
        forget_delivery(task_id)
        raise
    forget_delivery(task_id)
    return result


def _give_up_message(serialized: str, deaths: int):
    reason = poison_reason(deaths)
    try:
        message = Message.from_string(serialized)
    except InvalidMessageError:
        LOG.error("send_message: %s; the message cannot be read either, dropped.", reason)
        return {"error": reason}
    message.get_message_specific_logger(LOG).error("send_message: %s.", reason)
    now = timezone.now()
    outcomes = [DeliveryOutcome(message, channel_type, DeliveryStatus.FAILED, reason=reason, finished_at=now)
                for channel_type in ChannelType if channel_type in channels()]
    if outcomes:
        ACE_MESSAGE_OUTCOMES.send(sender=None, message=message, outcomes=outcomes)
    return {"error": reason}


def _send_serialized(serialized: str, channel_type: str | None = None):
    try:
        message = Message.from_string(serialized)
    except InvalidMessageError:
        LOG.exception("send_message got a message it cannot read; dropped.")
        return None
    limit = [ChannelType(channel_type)] if channel_type else None
    try:
        result = ace.send(message, limit_to_channels=limit)
    except (ChannelError, InvalidMessageError) as error:  # already in the delivery log; retrying would not help
        message.get_message_specific_logger(LOG).warning("Not delivered: %s", error)
        return {"error": f"{type(error).__name__}: {error}"}
    return {str(outcome.channel_type): outcome.status.value for outcome in result}


def purge_task_deliveries() -> None:
    """Counters of tasks that died and were never delivered again (a purged queue): not needed any more."""
    TaskDelivery.objects.filter(last_at__lt=timezone.now() - timedelta(days=7)).delete()
