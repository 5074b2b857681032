"""The Django app of the ACE engine (no models): registers its system checks."""

from django.apps import AppConfig


class AceConfig(AppConfig):
    name = "ace"
    label = "ace"
    verbose_name = "ACE engine"

    def ready(self):
        from ace import checks  # noqa: F401  (registers the checks)
