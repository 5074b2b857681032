"""Moved to ``ace_admin.campaigns.tasks`` and ``ace_admin.content.tasks``. This path keeps
``from ace_admin.tasks import send_message`` in platform code working, and lets Celery's ``autodiscover_tasks()``
find the tasks in any project. The tasks' names stay ``ace_admin.tasks.*`` whatever module defines them."""

from ace_admin.campaigns.tasks import (
    fire_campaign,
    run_campaign,
    schedule_send_retry,
    send_batch,
    send_message,
    watch_run,
)
from ace_admin.content.tasks import publish_due_templates

__all__ = ["fire_campaign", "publish_due_templates", "run_campaign", "schedule_send_retry", "send_batch",
           "send_message", "watch_run"]
