"""App config of the demo app (label ``demo``, the app_label of its message types' templates)."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    label = "demo"
    verbose_name = "ACE demo"
