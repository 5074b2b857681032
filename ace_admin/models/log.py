"""The delivery log: what became of each message on each channel."""

from __future__ import annotations

import hashlib

from django.db import models
from django.db.models import Q

from ace.outcome import DeliveryStatus
from ace_admin.models.content import MessageType


def fit_recipient_id(value) -> str:
    """A user id as the log stores it: as is when it fits the column (64), else a recognisable fingerprint
    (its start and a hash of the whole), so that frequency caps still count the same person together."""
    text = "" if value is None else str(value)
    if len(text) <= 64:
        return text
    return f"{text[:30]}…sha256:{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:25]}"


def _status_choices():
    labels = {
        "sent": "Sent", "denied": "Not sent: denied by a policy", "failed": "Failed",
        "expired": "Expired before delivery", "template_missing": "Not sent: template missing",
        "template_error": "Not sent: template error", "unsupported": "Not sent: no channel available",
    }
    # RETRY_SCHEDULED ("retrying") shares the campaign rows' retry status listed below.
    choices = [(status.value, labels.get(status.value, status.value)) for status in DeliveryStatus
               if status is not DeliveryStatus.RETRY_SCHEDULED]
    return [*choices,
            # Campaign rows: claimed by a worker and being sent, or waiting for a retry.
            ("sending", "Campaign: being sent"), ("retrying", "Campaign: waiting to retry")]


class DeliveryLog(models.Model):
    """What became of one message on one channel: sent, denied (by which rule), failed (why)..."""

    message_uuid = models.UUIDField("message id", db_index=True, help_text="The unique id of the message.")
    send_uuid = models.UUIDField("bulk send id", null=True, blank=True, db_index=True,
                                 help_text="Shared by every message of one bulk send.")
    app_label = models.CharField("application", max_length=100, help_text="The part of the platform that sent it.")
    message_name = models.CharField("message name", max_length=150, help_text="Which message it was.")
    message_type = models.ForeignKey(
        MessageType, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries",
        verbose_name="message type", help_text="The message type, when it is known in the admin.")
    recipient_id = models.CharField("recipient user id", max_length=64, blank=True, db_index=True,
                                    help_text="The recipient's user id on the platform.")
    recipient_address = models.CharField("recipient address", max_length=254, blank=True, db_index=True,
                                         help_text="The recipient's email address.")
    channel_type = models.CharField("channel", max_length=10, help_text="Email or push notification.")
    channel_name = models.CharField("delivery service", max_length=100, blank=True,
                                    help_text="The channel that carried (or would have carried) it.")
    status = models.CharField("status", max_length=20, choices=_status_choices(), db_index=True,
                              help_text="What became of the message.")
    policy = models.CharField("stopped by", max_length=500, blank=True,
                              help_text="The policy or rule that stopped this message, if any.")
    error = models.TextField("error", blank=True, help_text="Why it failed, when it did.")
    attempts = models.PositiveIntegerField("attempts", default=0, help_text="How many times delivery was tried.")
    transactional = models.BooleanField("transactional", default=False,
                                        help_text="Whether it was a transactional message.")
    is_test = models.BooleanField("test send", default=False, help_text="Sent as a test from the admin.")
    created_at = models.DateTimeField("time", auto_now_add=True, db_index=True, help_text="When it was sent.")
    finished_at = models.DateTimeField("finished", null=True, blank=True,
                                       help_text="When delivery finished (succeeded or gave up).")
    language = models.CharField("language", max_length=20, blank=True, help_text="The message's language.")
    provider_message_id = models.CharField(
        "provider's message id", max_length=255, blank=True, db_index=True,
        help_text="The id the email service gave the message when it accepted it; its events carry it.")
    campaign_run = models.ForeignKey(
        "CampaignRun", null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries",
        verbose_name="campaign run", help_text="The campaign run that sent it, if any.")

    class Meta:
        verbose_name = "delivery log entry"
        verbose_name_plural = "delivery log"
        permissions = [("view_recipient_address", "Can see recipients' addresses unmasked")]
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient_id", "status", "transactional", "created_at"],
                                name="ace_admin_dl_cap")]
        # A campaign run claims each recipient and channel once: a redelivered batch cannot send twice.
        constraints = [models.UniqueConstraint(
            fields=["campaign_run", "recipient_id", "recipient_address", "channel_type"],
            condition=Q(campaign_run__isnull=False), name="ace_admin_dl_campaign_once")]

    def __str__(self):
        return f"{self.app_label}.{self.message_name} to {self.recipient_address or self.recipient_id}: {self.status}"
