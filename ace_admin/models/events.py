"""Events: what happened to a message after it was sent (delivered, bounced, opened, clicked...), and the daily
counters reports read instead of the events themselves.

One ``DeliveryEvent`` per thing a provider (or ACE's own tracking) reported, attached to its delivery-log row.
The counters are written in the same transaction as the events (``ace_admin.events.ingest``), by
``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``; a report reads a few hundred counter rows, never the
events. Keys that may be absent are stored as 0 / '' (not NULL) so the unique keys hold on every database.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from ace_admin.models.log import DeliveryLog


class EventType(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    DEFERRED = "deferred", "Deferred (the receiving server asked to try later)"
    BOUNCED_HARD = "bounced_hard", "Bounced for good (hard bounce)"
    BOUNCED_SOFT = "bounced_soft", "Bounced for now (soft bounce)"
    COMPLAINED = "complained", "Reported as spam"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked a link"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed at the provider"
    FAILED = "failed", "Failed at the provider"
    REJECTED = "rejected", "Rejected by the provider before sending"


class TrackedLink(models.Model):
    """A URL that appeared in a tracked message; click links carry its id (one row per distinct URL)."""

    url = models.TextField("address", help_text="Where the link leads.")
    url_hash = models.CharField("address fingerprint", max_length=64, unique=True,
                                help_text="SHA-256 of the address, to find it again quickly.")
    created_at = models.DateTimeField("first seen", auto_now_add=True, help_text="When ACE first saw this link.")

    class Meta:
        verbose_name = "tracked link"
        verbose_name_plural = "tracked links"

    def __str__(self):
        return self.url[:120]


class DeliveryEvent(models.Model):
    """One thing that happened to one message on one channel after it was sent."""

    delivery = models.ForeignKey(
        DeliveryLog, null=True, blank=True, on_delete=models.CASCADE, related_name="events",
        verbose_name="delivery log entry",
        help_text="The message this event is about. Empty when no sent message could be found for it.")
    event_type = models.CharField("event", max_length=20, choices=EventType.choices, db_index=True,
                                  help_text="What happened.")
    occurred_at = models.DateTimeField("time", db_index=True, help_text="When it happened, as the provider says.")
    received_at = models.DateTimeField("received", auto_now_add=True, help_text="When ACE recorded it.")
    provider = models.CharField("source", max_length=40,
                                help_text="Who reported it: the email service (e.g. 'mailgun'), 'dsn' or 'arf' "
                                          "(bounce and complaint mail), or 'ace' (ACE's own open/click tracking).")
    provider_event_id = models.CharField(
        "source's event id", max_length=255, blank=True,
        help_text="The provider's id of this event: the same event reported twice is recorded once.")
    recipient = models.CharField("recipient address", max_length=254, blank=True,
                                 help_text="The address the event is about, as the provider gave it.")
    link = models.ForeignKey(TrackedLink, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name="link",
                             help_text="For clicks: the link (from ACE's tracking or the provider's report).")
    description = models.TextField("details", blank=True,
                                   help_text="The receiving server's answer or the provider's explanation.")
    user_agent = models.CharField("user agent", max_length=500, blank=True,
                                  help_text="The program that opened or clicked, as it named itself.")
    machine = models.BooleanField(
        "machine", default=False,
        help_text="An open or click made by software (Apple Mail Privacy Protection, a security scanner), not by "
                  "the person. Counted apart from people.")
    machine_reason = models.CharField("why machine", max_length=100, blank=True,
                                      help_text="Why ACE took this open or click for a machine's.")
    raw = models.JSONField("raw payload", null=True, blank=True,
                           help_text="What the provider sent, kept for ACE_EVENTS_RAW_PAYLOAD_DAYS days.")

    class Meta:
        verbose_name = "delivery event"
        verbose_name_plural = "delivery events"
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["delivery", "event_type"], name="ace_admin_ev_delivery_type"),
                   models.Index(fields=["recipient", "event_type", "occurred_at"], name="ace_admin_ev_recipient")]
        constraints = [models.UniqueConstraint(
            fields=["provider", "provider_event_id"], condition=~Q(provider_event_id=""),
            name="ace_admin_ev_once")]

    def __str__(self):
        return f"{self.get_event_type_display()} ({self.provider}) at {self.occurred_at:%Y-%m-%d %H:%M}"


class EventDailyCount(models.Model):
    """Events per day x campaign run x message type x language x event type (what reports read)."""

    day = models.DateField("day (UTC)", help_text="The day the events happened (UTC).")
    campaign_run_id = models.BigIntegerField("campaign run id", default=0, help_text="0: not from a campaign run.")
    message_type_id = models.BigIntegerField("message type id", default=0, help_text="0: not in the admin.")
    language = models.CharField("language", max_length=20, blank=True,
                                help_text="The messages' language ('': unknown).")
    event_type = models.CharField("event", max_length=20, choices=EventType.choices, help_text="What happened.")
    events = models.PositiveBigIntegerField("events by people", default=0,
                                            help_text="Events not flagged as a machine's.")
    unique_messages = models.PositiveBigIntegerField(
        "messages", default=0, help_text="Messages with at least one such event by a person (first one counted).")
    machine_events = models.PositiveBigIntegerField("events by machines", default=0,
                                                    help_text="Opens and clicks by privacy proxies and link scanners.")

    class Meta:
        verbose_name = "daily event count"
        verbose_name_plural = "daily event counts"
        constraints = [models.UniqueConstraint(
            fields=["day", "campaign_run_id", "message_type_id", "language", "event_type"],
            name="ace_admin_evday_key")]
        indexes = [models.Index(fields=["campaign_run_id", "day"], name="ace_admin_evday_run"),
                   models.Index(fields=["message_type_id", "day"], name="ace_admin_evday_type")]

    def __str__(self):
        return f"{self.day} run {self.campaign_run_id} type {self.message_type_id} {self.event_type}: {self.events}"


class LinkDailyCount(models.Model):
    """Clicks per day x campaign run x message type x link."""

    day = models.DateField("day (UTC)", help_text="The day the events happened (UTC).")
    campaign_run_id = models.BigIntegerField("campaign run id", default=0, help_text="0: not from a campaign run.")
    message_type_id = models.BigIntegerField("message type id", default=0, help_text="0: not in the admin.")
    link = models.ForeignKey(TrackedLink, on_delete=models.CASCADE, related_name="+", db_constraint=False,
                             help_text="The link clicked.")
    clicks = models.PositiveBigIntegerField("clicks by people", default=0,
                                            help_text="Clicks not flagged as a machine's.")
    unique_clicks = models.PositiveBigIntegerField("messages clicked", default=0,
                                                   help_text="Messages whose reader clicked this link (first click "
                                                             "counted).")
    machine_clicks = models.PositiveBigIntegerField("clicks by machines", default=0,
                                                    help_text="Clicks by link scanners.")

    class Meta:
        verbose_name = "daily link count"
        verbose_name_plural = "daily link counts"
        constraints = [models.UniqueConstraint(
            fields=["day", "campaign_run_id", "message_type_id", "link"], name="ace_admin_linkday_key")]
        indexes = [models.Index(fields=["campaign_run_id", "day"], name="ace_admin_linkday_run")]

    def __str__(self):
        return f"{self.day} run {self.campaign_run_id} link {self.link_id}: {self.clicks}"
