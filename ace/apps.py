"""The Django app of the ACE engine (no models): registers its system checks."""

from django.apps import AppConfig


class AceConfig(AppConfig):
    name = "ace"
    label = "ace"
    verbose_name = "ACE engine"

    def ready(self):
        from ace import checks  # noqa: F401  (registers the checks)


class EdxAceConfig(AceConfig):
    """edx-ace's name for the app config (``INSTALLED_APPS = ["edx_ace.apps.EdxAceConfig"]`` works).

    Not the default: listing ``edx_ace`` or ``ace`` picks ``AceConfig``; both are the same app, label ``ace``.
    """

    default = False
