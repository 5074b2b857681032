"""The ACE admin app: where marketing staff steer what ACE sends."""

from django.apps import AppConfig


class AceAdminConfig(AppConfig):
    name = "ace_admin"
    label = "ace_admin"
    verbose_name = "ACE — messages"
    default_auto_field = "django.db.models.BigAutoField"
