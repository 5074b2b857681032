"""The ACE admin app: where marketing staff steer what ACE sends."""

from django.apps import AppConfig


class AceAdminConfig(AppConfig):
    name = "ace_admin"
    label = "ace_admin"
    verbose_name = "ACE — messages"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here, not at the top: this module is loaded before the app registry is ready (models).
        from ace.signals import ACE_MESSAGE_OUTCOMES
        from ace_admin import checks  # noqa: F401 (registers the system checks)
        from ace_admin.campaigns import service, tasks  # noqa: F401 (tasks: registers the Celery tasks)
        from ace_admin.delivery_log import record_outcomes
        from ace_admin.events import tasks as event_tasks  # noqa: F401

        # The delivery log: one row per outcome of every ace.send.
        ACE_MESSAGE_OUTCOMES.connect(record_outcomes, dispatch_uid="ace_admin.delivery_log")
        # Suppressions: an address whose delivery failed for good gets no more marketing mail.
        from ace_admin.privacy.suppression import record_permanent_failures

        ACE_MESSAGE_OUTCOMES.connect(record_permanent_failures, dispatch_uid="ace_admin.suppression")
        # Events from email services: anymail's normalised tracking signal, recorded against the delivery log.
        from anymail.signals import tracking

        from ace_admin.events.providers import on_tracking

        tracking.connect(on_tracking, dispatch_uid="ace_admin.events.providers")
        # Campaign schedules (django-celery-beat) follow the campaigns' rows.
        service.connect_signals()
