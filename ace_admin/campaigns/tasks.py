"""The Celery tasks of ace_admin: thin wrappers around the campaign service, and ``ace.send`` in a worker.

Their names (``ace_admin.tasks.*``) are what queued messages and django-celery-beat rows refer to: they
do not follow the module path and must not change.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

from ace import ace
from ace.errors import ChannelError, InvalidMessageError
from ace.message import Message
from ace_admin.campaigns import service

# The service API, reachable from here too for callers of the old ``ace_admin.tasks`` module.
from ace_admin.campaigns.service import cancel, counts, pause, resume, start_run  # noqa: F401
from ace_admin.models import CampaignRun

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


@worker_ready.connect(dispatch_uid="ace_admin.watch_runs_on_start")
def _watch_running_runs(sender=None, **kwargs):
    """A worker starting (perhaps replacing one that was killed) watches every running run."""
    try:
        for run_id in CampaignRun.objects.filter(status=CampaignRun.RUNNING).values_list("pk", flat=True):
            watch_run.delay(run_id)
    except Exception:  # a worker must start even when the database is not migrated yet
        LOG.exception("Could not look for running campaign runs.")


# --- One message in the background -------------------------------------------------------------------------------


@shared_task(name="ace_admin.tasks.send_message")
def send_message(serialized: str):
    """``ace.send`` in a worker: ``send_message.delay(str(msg))`` from platform code."""
    try:
        message = Message.from_string(serialized)
    except InvalidMessageError:
        LOG.exception("send_message got a message it cannot read; dropped.")
        return None
    try:
        result = ace.send(message)
    except (ChannelError, InvalidMessageError) as error:  # already in the delivery log; retrying would not help
        message.get_message_specific_logger(LOG).warning("Not delivered: %s", error)
        return {"error": f"{type(error).__name__}: {error}"}
    return {str(outcome.channel_type): outcome.status.value for outcome in result}
