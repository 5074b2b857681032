"""The content wing's Celery task: scheduled publishes (beat runs it every minute; see ``CELERY_BEAT_SCHEDULE``).

Its name (``ace_admin.tasks.publish_due_templates``) is what beat's entry refers to and must not change.
"""

from __future__ import annotations

from celery import shared_task

from ace_admin.content import publishing


@shared_task(name="ace_admin.tasks.publish_due_templates")
def publish_due_templates() -> list:
    """Publish every template version whose scheduled time has come (each exactly once, however many workers)."""
    return publishing.publish_due()
