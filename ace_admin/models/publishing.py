"""The publishing audit trail: who published, scheduled, rolled back, unpublished or archived which version, when."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PublishingEvent(models.Model):
    """One step of publishing a template (or archiving a message type). Written once, never changed."""

    PUBLISH = "publish"
    SCHEDULE = "schedule"
    UNSCHEDULE = "unschedule"
    SCHEDULED_PUBLISH = "scheduled_publish"
    ROLLBACK = "rollback"
    UNPUBLISH = "unpublish"
    ARCHIVE = "archive"
    UNARCHIVE = "unarchive"
    REFUSED = "refused"
    ACTIONS = [
        (PUBLISH, "published"), (SCHEDULE, "publish scheduled"), (UNSCHEDULE, "schedule cancelled"),
        (SCHEDULED_PUBLISH, "published as scheduled"), (ROLLBACK, "rolled back"), (UNPUBLISH, "unpublished"),
        (ARCHIVE, "archived"), (UNARCHIVE, "restored from the archive"), (REFUSED, "publish refused"),
    ]

    action = models.CharField("what", max_length=20, choices=ACTIONS, db_index=True,
                              help_text="What happened.")
    template = models.ForeignKey(
        "ace_admin.Template", null=True, blank=True, on_delete=models.SET_NULL, related_name="publishing_events",
        verbose_name="template", help_text="The template it happened to (empty for a message type).")
    message_type = models.ForeignKey(
        "ace_admin.MessageType", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="message type", help_text="The message type of the template, or the one archived.")
    subject = models.CharField("item", max_length=400,
                               help_text="The template (name, language, site) or message type, as it was then.")
    revision = models.PositiveIntegerField("version", null=True, blank=True,
                                           help_text="The version made live (or scheduled, or refused).")
    previous_revision = models.PositiveIntegerField("version before", null=True, blank=True,
                                                    help_text="The version that was live before.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name="who", help_text="Who did it (or scheduled it).")
    username = models.CharField("who (name)", max_length=150, blank=True,
                                help_text="The user name, kept if the account is deleted.")
    at = models.DateTimeField("when", auto_now_add=True, db_index=True, help_text="When it happened.")
    note = models.TextField("note", blank=True, help_text="Details: the scheduled time, why it was refused...")

    class Meta:
        verbose_name = "publishing audit entry"
        verbose_name_plural = "publishing audit trail"
        ordering = ["-at", "-id"]

    def __str__(self):
        version = f" v{self.revision}" if self.revision else ""
        return f"{self.get_action_display()}: {self.subject}{version}"
