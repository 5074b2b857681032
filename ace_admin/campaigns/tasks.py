"""The Celery tasks of ace_admin: thin wrappers around the campaign service, and ``ace.send`` in a worker.

Their names (``ace_admin.tasks.*``) are what queued messages and django-celery-beat rows refer to: they
do not follow the module path and must not change.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from celery import shared_task
from celery.signals import worker_ready
from django.utils import timezone

from ace import delivery
from ace.message import Message
from ace.settings import ace_settings
from ace_admin.campaigns import service

# The service API, reachable from here too for callers of the old ``ace_admin.tasks`` module.
from ace_admin.campaigns.service import cancel, counts, pause, resume, start_run  # noqa: F401
from ace_admin.models import CampaignRun
from ace_admin.settings import admin_settings

LOG = logging.getLogger(__name__)


@shared_task(bind=True, name="ace_admin.tasks.fire_campaign")
def fire_campaign(self, campaign_id: int):
    """Called by the scheduler: one run per firing (a redelivered firing finds its run by task id)."""
    return service.fire(campaign_id, task_id=self.request.id)


@shared_task(name="ace_admin.tasks.run_campaign")
def run_campaign(run_id: int):
    """Read the run's audience in chunks, store each as a batch, and queue the batches."""
    return service.read_audience(run_id)


@shared_task(name="ace_admin.tasks.send_batch")
def send_batch(batch_id: int):
    """Send one batch of a campaign run (safe to run twice, or on two workers at once)."""
    return service.send_batch(batch_id)


@shared_task(name="ace_admin.tasks.watch_run")
def watch_run(run_id: int, last_cursor: int | None = None):
    """Re-queue the silent batches of a running run; repeats until the run ends."""
    return service.watch_run(run_id, last_cursor)


@shared_task(name="ace_admin.tasks.decide_winner")
def decide_winner(run_id: int):
    """At the end of an A/B test's wait: pick the winner and send it to the rest (``watch_run`` retries while the
    test messages are still going out)."""
    return service.decide_winner(run_id)


@worker_ready.connect(dispatch_uid="ace_admin.watch_runs_on_start")
def _watch_running_runs(sender=None, **kwargs):
    """A worker starting (perhaps replacing one that was killed) watches every running run."""
    try:
        for run_id in CampaignRun.objects.filter(status=CampaignRun.RUNNING).values_list("pk", flat=True):
            watch_run.delay(run_id)
        service.purge_task_deliveries()
    except Exception:  # a worker must start even when the database is not migrated yet
        LOG.exception("Could not look for running campaign runs.")


# --- One message in the background -------------------------------------------------------------------------------


@shared_task(bind=True, name="ace_admin.tasks.send_message")
def send_message(self, serialized: str, channel_type: str | None = None):
    """``ace.send`` in a worker: ``send_message.delay(str(msg))`` from platform code. ``channel_type`` limits
    it to one channel type (a retry that :func:`schedule_send_retry` queued). A message whose processing killed
    ``ACE_ADMIN_MAX_TASK_DELIVERIES`` workers is logged failed instead of processed again."""
    return service.send_in_background(self.request.id, self.name, serialized, channel_type)


#: The message option counting the delivery attempts made before this retry (by earlier sends).
RETRY_ATTEMPTS_OPTION = "ace_retry_attempts"


def schedule_send_retry(*, channel, message, next_attempt_time, outcome) -> bool:
    """``ACE_RETRY_HANDLER`` of the ACE project: a recoverable failure during ``ace.send`` goes back to the
    queue as a :func:`send_message` task for that channel type, instead of the caller sleeping.

    It runs at ``next_attempt_time`` at the earliest, with exponential backoff and jitter
    (``ACE_CAMPAIGN_RETRY_BACKOFF_SECONDS`` doubling per attempt up to ``..._MAX_SECONDS``, times 0.5–1),
    until the message expires (its ``expiration_time``, else when this first send would have stopped
    retrying) or ``ACE_DELIVERY_MAX_ATTEMPTS`` attempts were made in all. The delivery log shows each
    postponed attempt as "retrying" (retry scheduled). Returns False when it does not schedule one.
    """
    attempts = int(message.options.get(RETRY_ATTEMPTS_OPTION, 0)) + outcome.attempts
    if attempts >= ace_settings.ACE_DELIVERY_MAX_ATTEMPTS:
        outcome.reason = f"still failing after {attempts} attempts"
        return False
    base = float(admin_settings.ACE_CAMPAIGN_RETRY_BACKOFF_SECONDS)
    cap = float(admin_settings.ACE_CAMPAIGN_RETRY_BACKOFF_MAX_SECONDS)
    backoff = min(cap, base * 2 ** max(attempts - 1, 0)) * random.uniform(0.5, 1.0)
    when = max(delivery.attempt_time(next_attempt_time), timezone.now() + timedelta(seconds=backoff))
    expires = message.expiration_time or datetime.fromisoformat(outcome.details["expires_at"])
    if when >= delivery.attempt_time(expires):
        outcome.reason = f"next attempt ({when.isoformat()}) after expiration ({expires.isoformat()})"
        return False
    retry = Message.from_string(str(message))  # the queued copy: the caller's message is left as it was
    retry.expiration_time = expires
    retry.options[RETRY_ATTEMPTS_OPTION] = attempts
    send_message.apply_async(args=[str(retry)], kwargs={"channel_type": channel.channel_type.value}, eta=when)
    outcome.details["next_attempt_time"] = when.isoformat()
    message.get_message_specific_logger(LOG).info(
        "Retry scheduled for %s over %s (attempt %d failed: %s).", when.isoformat(), channel.name, attempts,
        outcome.error)
    return True
