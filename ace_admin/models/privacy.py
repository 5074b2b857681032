"""Privacy: opt-outs (a person's choices) and suppressions (addresses that must receive no more marketing)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from ace_admin.models.content import MessageType


class OptOut(models.Model):
    """A person who asked not to receive some messages (a category, one message type, or all marketing)."""

    SOURCE_CHOICES = [("admin", "Entered in the admin"), ("import", "Imported"), ("unsubscribe", "Unsubscribe link"),
                      ("provider", "Unsubscribed at the email service")]

    lms_user_id = models.CharField(
        "user id", max_length=64, blank=True, db_index=True,
        help_text="The person's user id on the platform. Give this or the email address (or both).")
    email = models.EmailField(
        "email address", blank=True, db_index=True, help_text="The person's email address (stored in lower case).")
    category = models.SlugField(
        "category", max_length=100, blank=True,
        help_text="Stop all messages of this category. Leave both this and message type blank to stop all "
                  "non-transactional messages.")
    # The message type's natural key, not a foreign key: deleting or re-creating a message type (import,
    # ace_sync) never drops a person's consent, and a message type that is not in the admin can be opted out of.
    app_label = models.CharField(
        "message type: application", max_length=100, blank=True,
        help_text="With 'message name': stop only this message type (e.g. 'demo' and 'newsletter').")
    message_name = models.CharField(
        "message type: name", max_length=150, blank=True,
        help_text="With 'application': stop only this message type. Leave both blank for a category or for all.")
    source = models.CharField(
        "source", max_length=20, choices=SOURCE_CHOICES, default="admin", help_text="How this opt-out was recorded.")
    created_at = models.DateTimeField("recorded", auto_now_add=True, help_text="When the person opted out.")
    event = models.ForeignKey(
        "DeliveryEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="evidence", help_text="The provider's unsubscribe event that recorded this opt-out, if any.")

    class Meta:
        verbose_name = "opt-out"
        verbose_name_plural = "opt-outs"
        permissions = [("export_optout", "Can export opt-outs")]
        ordering = ["-created_at"]

    def __str__(self):
        who = self.email or f"user {self.lms_user_id}"
        what = self.message_type_key or self.category or "all non-transactional messages"
        return f"{who}: {what}"

    def save(self, *args, **kwargs):
        self._normalise()
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        self._normalise()

    def _normalise(self):
        self.email = (self.email or "").strip().lower()
        self.lms_user_id = (self.lms_user_id or "").strip()
        self.app_label, self.message_name = (self.app_label or "").strip(), (self.message_name or "").strip()
        if not self.email and not self.lms_user_id:
            raise ValidationError("Give the person's user id or email address.")
        if bool(self.app_label) != bool(self.message_name):
            raise ValidationError("Give both the application and the name of the message type (or neither).")
        if self.message_name and self.category:
            raise ValidationError("An opt-out stops a category or one message type, not both.")

    @property
    def message_type_key(self) -> str:
        """``app_label.name`` of the message type this opt-out stops, or '' for a category or everything."""
        return f"{self.app_label}.{self.message_name}" if self.message_name else ""

    @message_type_key.setter
    def message_type_key(self, value) -> None:
        app_label, _, name = str(value or "").strip().partition(".")
        self.app_label, self.message_name = (app_label, name) if name else ("", "")

    @property
    def message_type(self):
        """The admin's ``MessageType`` of this opt-out, if it has one (assignable: a ``MessageType`` or None)."""
        if not self.message_name:
            return None
        return MessageType.objects.filter(app_label=self.app_label, name=self.message_name).first()

    @message_type.setter
    def message_type(self, value) -> None:
        self.app_label, self.message_name = (value.app_label, value.name) if value is not None else ("", "")


def identity_hash(value) -> str:
    """The SHA-256 (hex) of an email address or user id, normalised (trimmed, lower case): what a
    suppression keeps once the person's data is erased, enough to recognise them and nothing more."""
    return hashlib.sha256(str(value).strip().lower().encode("utf-8")).hexdigest()


class SuppressionQuerySet(models.QuerySet):
    def in_force(self):
        """Suppressions neither lifted by staff nor ended by themselves (temporary ones)."""
        return self.filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now()),
                           lifted_at__isnull=True)


class Suppression(models.Model):
    """An address that receives no more non-transactional messages: it bounced for good, or the person was erased."""

    REASON_BOUNCE = "bounce"
    REASON_COMPLAINT = "complaint"
    REASON_SOFT_BOUNCE = "soft_bounce"
    REASON_ERASED = "erased"
    REASON_MANUAL = "manual"
    REASON_CHOICES = [
        (REASON_BOUNCE, "Delivery failed for good (address does not exist or refuses mail)"),
        (REASON_SOFT_BOUNCE, "Delivery failed again and again for now (full mailbox...): suppressed for a while"),
        (REASON_COMPLAINT, "The person reported a message as spam"),
        (REASON_ERASED, "Personal data erased on request (only a fingerprint is kept)"),
        (REASON_MANUAL, "Added by staff"),
    ]

    email = models.EmailField(
        "email address", blank=True,
        help_text="The suppressed address (lower case). Empty once the person's data was erased: then only the "
                  "fingerprint below is kept.")
    address_hash = models.CharField(
        "address fingerprint", max_length=64, blank=True, db_index=True,
        help_text="A one-way fingerprint (SHA-256) of the address, filled in automatically. It recognises the "
                  "address again without storing it.")
    user_id_hash = models.CharField(
        "user id fingerprint", max_length=64, blank=True, db_index=True,
        help_text="A one-way fingerprint (SHA-256) of the person's user id, kept when their data was erased.")
    reason = models.CharField(
        "reason", max_length=20, choices=REASON_CHOICES, default=REASON_MANUAL,
        help_text="Why this address receives no more marketing messages.")
    details = models.TextField(
        "details", blank=True, help_text="What happened, e.g. the mail server's answer '550 5.1.1 No such user'.")
    source = models.CharField(
        "source", max_length=100, blank=True,
        help_text="Where this came from: the delivery service that reported the failure, 'admin' or 'erasure'.")
    created_at = models.DateTimeField("suppressed since", auto_now_add=True, db_index=True,
                                      help_text="When the address was suppressed.")
    event = models.ForeignKey(
        "DeliveryEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="evidence", help_text="The bounce or complaint that caused this suppression, with its raw report.")
    expires_at = models.DateTimeField(
        "ends", null=True, blank=True,
        help_text="When a temporary suppression (repeated soft bounces) ends by itself. Empty: until lifted.")
    lifted_at = models.DateTimeField(
        "lifted", null=True, blank=True,
        help_text="When staff lifted the suppression. Empty while it is in force.")
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="lifted by", help_text="Who lifted the suppression.")

    objects = SuppressionQuerySet.as_manager()

    class Meta:
        verbose_name = "suppressed address"
        verbose_name_plural = "suppressed addresses"
        permissions = [("erase_recipient", "Can erase a person's personal data")]
        ordering = ["-created_at", "-id"]

    def __str__(self):
        who = self.email or f"erased ({self.address_hash[:12] or self.user_id_hash[:12]}…)"
        return f"{who}: {self.get_reason_display()}"

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        if self.email:
            self.address_hash = identity_hash(self.email)
        if not self.address_hash and not self.user_id_hash:
            raise ValidationError("Give the address to suppress.")
        super().save(*args, **kwargs)

    @property
    def in_force(self) -> bool:
        return self.lifted_at is None and (self.expires_at is None or self.expires_at > timezone.now())
