"""ace_admin's data: message types, templates and their history, routes, policy rules, opt-outs, delivery log."""

from __future__ import annotations

import hashlib
import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models import Max, Q
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from ace_admin import cache as stamp
from ace_admin.validators import validate_json_object, validate_sender_address

CHANNEL_TYPE_CHOICES = [("email", "Email"), ("push", "Push notification")]

#: The documented template scheme: {app_label}/edx_ace/{name}/{channel}/{part}
TEMPLATE_NAME_SCHEME = re.compile(
    r"^(?P<app_label>[\w.-]+)/edx_ace/(?P<name>[\w.-]+)/(?P<channel_type>email|push)/(?P<part>[\w.-]+)$"
)


def normalize_language(value: str) -> str:
    """'pt_BR' / 'PT-br' -> 'pt-br': the form Django's translation.get_language() returns."""
    return (value or "").strip().replace("_", "-").lower()


# ---------------------------------------------------------------------------------------------------------------
# Managers whose bulk writes (admin actions, imports) bump the shared stamp, so every process reloads.


class StampingQuerySet(models.QuerySet):
    """A queryset whose bulk writes tell every process that the configuration changed."""

    def update(self, **kwargs):
        count = super().update(**kwargs)
        stamp.bump_after_write()
        return count

    def delete(self):
        result = super().delete()
        stamp.bump_after_write()
        return result

    def bulk_create(self, *args, **kwargs):
        objs = super().bulk_create(*args, **kwargs)
        stamp.bump_after_write()
        return objs

    def bulk_update(self, *args, **kwargs):
        count = super().bulk_update(*args, **kwargs)
        stamp.bump_after_write()
        return count


class StampingModel(models.Model):
    """A model whose saves and deletes bump the shared stamp (after the transaction commits)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        stamp.bump_after_write()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        stamp.bump_after_write()
        return result


class MessageTypeManager(models.Manager.from_queryset(StampingQuerySet)):
    def get_by_natural_key(self, app_label, name):
        return self.get(app_label=app_label, name=name)


class MessageType(StampingModel):
    """One kind of message ACE sends (a password reset, a course reminder, a newsletter...)."""

    SOURCE_DATABASE = "database"
    SOURCE_CODE = "code"

    app_label = models.SlugField(
        "application", max_length=100,
        help_text="The part of the platform that sends this message (first part of its template names), "
                  "e.g. 'student'.")
    name = models.SlugField(
        "message name", max_length=150,
        help_text="Short name of this message, as used in its template names, e.g. 'password_reset'.")
    description = models.TextField(
        "description", blank=True, help_text="What this message is for and when people receive it.")
    category = models.SlugField(
        "category", max_length=100, blank=True,
        help_text="A group of messages people can opt out of together, e.g. 'account', 'course-updates', 'marketing'.")
    transactional = models.BooleanField(
        "transactional", default=False,
        help_text="A message people must receive because of something they did (password reset, receipt). "
                  "Transactional messages ignore opt-outs and frequency caps.")
    enabled = models.BooleanField(
        "enabled", default=True,
        help_text="Untick to stop sending this message entirely; the delivery log records each message not sent.")
    archived = models.BooleanField(
        "archived", default=False,
        help_text="Archived message types are kept with their history but never sent (the delivery log records "
                  "each message not sent) and hidden from the list by default. A message type that has history "
                  "is archived instead of deleted.")
    from_address = models.CharField(
        "from address", max_length=255, blank=True, validators=[validate_sender_address],
        help_text="Sender shown to recipients, e.g. 'Example Courses <news@example.org>'. Blank: the site default.")
    reply_to = models.CharField(
        "reply-to address", max_length=255, blank=True, validators=[validate_sender_address],
        help_text="Where replies go. Blank: back to the sender.")
    sample_context = models.JSONField(
        "sample data for preview", default=dict, blank=True, validators=[validate_json_object],
        help_text="Example values (JSON) used to preview the templates, e.g. {\"user_name\": \"Ada\"}.")
    seed_addresses = models.TextField(
        "seed addresses", blank=True,
        help_text="Extra addresses (one per line) that receive a copy for quality checks.")
    source = models.CharField(
        "defined in", max_length=20, default=SOURCE_DATABASE,
        choices=[(SOURCE_DATABASE, "the admin"), (SOURCE_CODE, "the platform's code")],
        help_text="Whether this message type was created here or found in the platform's code.")
    created_at = models.DateTimeField("created", auto_now_add=True, help_text="When this message type was added.")
    updated_at = models.DateTimeField("last changed", auto_now=True, help_text="When it was last changed.")

    objects = MessageTypeManager()

    class Meta:
        verbose_name = "message type"
        verbose_name_plural = "message types"
        # Roles (ace_admin.groups): who may change what a message claims to be and where tests go.
        permissions = [("change_sending", "Can change the sender, reply-to, transactional flag and seed addresses")]
        ordering = ["app_label", "name"]
        constraints = [models.UniqueConstraint(fields=["app_label", "name"], name="ace_admin_messagetype_unique")]

    def __str__(self):
        return f"{self.app_label}.{self.name}"

    def natural_key(self):
        return (self.app_label, self.name)


# ---------------------------------------------------------------------------------------------------------------


class TemplateManager(models.Manager.from_queryset(StampingQuerySet)):
    def get_by_natural_key(self, name, language, site_domain):
        if site_domain:
            return self.get(name=name, language=language, site__domain=site_domain)
        return self.get(name=name, language=language, site__isnull=True)


class Template(StampingModel):
    """The content of one template (one part of one message, or a shared layout), per language and site."""

    name = models.CharField(
        "template name", max_length=255, db_index=True,
        help_text="Which template this replaces, e.g. 'student/edx_ace/password_reset/email/body.html', "
                  "or a shared layout such as 'ace/email/base.html'.")
    message_type = models.ForeignKey(
        MessageType, null=True, blank=True, on_delete=models.PROTECT, related_name="templates",
        verbose_name="message type",
        help_text="The message this template belongs to (filled in from the template name). Empty for layouts.")
    channel_type = models.CharField(
        "channel", max_length=10, blank=True, choices=CHANNEL_TYPE_CHOICES,
        help_text="Email or push notification (filled in from the template name). Empty for layouts.")
    part = models.CharField(
        "part", max_length=100, blank=True,
        help_text="Which part of the message: subject.txt, body.html, body.txt, from_name.txt, head.html... "
                  "(filled in from the template name).")
    language = models.CharField(
        "language", max_length=20, blank=True,
        help_text="Language code such as 'fr' or 'pt-br'. Leave blank for the version used when no language matches.")
    site = models.ForeignKey(
        "sites.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name="site",
        help_text="Only for messages sent for this site. Leave blank for all sites.")
    content = models.TextField(
        "content", blank=True,
        help_text="The template text. Use {{ variable }} for personal details and {% tags %} for logic.")
    published = models.BooleanField(
        "published", default=True, help_text="Untick to keep a draft: unpublished templates are never sent.")
    archived = models.BooleanField(
        "archived", default=False,
        help_text="Archived templates keep their history, are never sent (they are unpublished) and are hidden "
                  "from the list by default. A template with saved versions is archived instead of deleted.")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="last changed by", help_text="Who saved this template last.")
    created_at = models.DateTimeField("created", auto_now_add=True, help_text="When this template was added.")
    updated_at = models.DateTimeField("last changed", auto_now=True, help_text="When it was last saved.")

    objects = TemplateManager()

    class Meta:
        verbose_name = "template"
        verbose_name_plural = "templates"
        permissions = [("publish_template", "Can publish and unpublish templates")]
        ordering = ["name", "language", "site_id"]
        # NULL never equals NULL in SQL, so "all sites" rows need their own constraint.
        constraints = [
            models.UniqueConstraint(fields=["name", "language", "site"], condition=Q(site__isnull=False),
                                    name="ace_admin_template_unique_per_site"),
            models.UniqueConstraint(fields=["name", "language"], condition=Q(site__isnull=True),
                                    name="ace_admin_template_unique_all_sites"),
        ]

    def __str__(self):
        extra = ", ".join(filter(None, [self.language, self.site.domain if self.site_id else ""]))
        return f"{self.name} ({extra})" if extra else self.name

    def save(self, *args, author=None, comment="", **kwargs):
        """Validate (nothing invalid is ever stored), save, and record a revision when the content changed."""
        from ace_admin.safety import check_template_source

        self.fill_from_name()
        check_template_source(self.content, self.name)
        if author is not None:
            self.updated_by = author
        with transaction.atomic():
            super().save(*args, **kwargs)
            last = self.revisions.order_by("-number").first()
            if last is None or last.content != self.content:
                TemplateRevision.objects.create(
                    template=self, number=(last.number + 1) if last else 1, content=self.content,
                    author=author or self.updated_by, comment=comment)

    def clean(self):
        super().clean()
        self.fill_from_name()
        if not self.name:
            raise ValidationError({"name": "Give the template name this content replaces."})
        from ace_admin.safety import check_template_source  # safety imports the template engine

        check_template_source(self.content, self.name)
        dupes = Template.objects.filter(name=self.name, language=self.language, site=self.site).exclude(pk=self.pk)
        if dupes.exists():
            raise ValidationError("A template with this name, language and site already exists.")

    def natural_key(self):
        return (self.name, self.language, self.site.domain if self.site_id else "")

    natural_key.dependencies = ["sites.site", "ace_admin.messagetype"]

    def fill_from_name(self) -> None:
        """Set message type, channel and part from a name of the documented scheme."""
        self.name = (self.name or "").strip()
        self.language = normalize_language(self.language)
        match = TEMPLATE_NAME_SCHEME.match(self.name)
        if not match:
            return
        self.channel_type = match["channel_type"]
        self.part = match["part"]
        if self.message_type_id is None:
            self.message_type = MessageType.objects.filter(
                app_label=match["app_label"], name=match["name"]).first()


class TemplateRevisionManager(models.Manager):
    def get_by_natural_key(self, name, language, site_domain, number):
        return self.get(template=Template.objects.get_by_natural_key(name, language, site_domain), number=number)


class TemplateRevision(models.Model):
    """One saved version of a template, kept to compare and restore."""

    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="revisions",
                                 verbose_name="template", help_text="The template this is a version of.")
    number = models.PositiveIntegerField("version", help_text="1 for the first version, then 2, 3...")
    content = models.TextField("content", help_text="The template text as saved in this version.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", verbose_name="saved by", help_text="Who saved this version.")
    created_at = models.DateTimeField("saved", auto_now_add=True, help_text="When this version was saved.")
    comment = models.CharField("note", max_length=255, blank=True, help_text="Optional note about the change.")

    objects = TemplateRevisionManager()

    class Meta:
        verbose_name = "template version"
        verbose_name_plural = "template versions"
        ordering = ["template", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="ace_admin_revision_unique")]

    def __str__(self):
        return f"{self.template.name} v{self.number}"

    def natural_key(self):
        return (*self.template.natural_key(), self.number)

    natural_key.dependencies = ["ace_admin.template"]

    @classmethod
    def next_number(cls, template) -> int:
        return (cls.objects.filter(template=template).aggregate(n=Max("number"))["n"] or 0) + 1


# ---------------------------------------------------------------------------------------------------------------


class ChannelRouteManager(models.Manager.from_queryset(StampingQuerySet)):
    def get_by_natural_key(self, order, channel_type):
        return self.get(order=order, channel_type=channel_type)


class ChannelRoute(StampingModel):
    """A rule choosing which delivery service (channel) carries matching messages; the first match wins."""

    order = models.IntegerField(
        "order", default=100, help_text="Rules are tried from the lowest number up; the first that matches is used.")
    message_type = models.ForeignKey(
        MessageType, null=True, blank=True, on_delete=models.PROTECT, related_name="routes",
        verbose_name="message type", help_text="Only this message type. Leave blank for any.")
    category = models.SlugField(
        "category", max_length=100, blank=True, help_text="Only messages of this category. Leave blank for any.")
    transactional = models.BooleanField(
        "transactional", null=True, blank=True,
        help_text="Only transactional messages (Yes), only other messages (No), or either (Unknown).")
    channel_type = models.CharField(
        "channel", max_length=10, choices=CHANNEL_TYPE_CHOICES, default="email",
        help_text="Which kind of channel this rule chooses for.")
    channel_name = models.CharField(
        "delivery service", max_length=100,
        help_text="The enabled channel that carries matching messages, e.g. 'django_email' or 'braze_email'.")
    enabled = models.BooleanField("enabled", default=True, help_text="Untick to ignore this rule.")
    description = models.TextField("description", blank=True, help_text="Why this rule exists.")

    objects = ChannelRouteManager()

    class Meta:
        verbose_name = "channel route"
        verbose_name_plural = "channel routes"
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["order", "channel_type"], name="ace_admin_route_unique_order")]

    def __str__(self):
        return f"#{self.order} {self.channel_type} -> {self.channel_name}"

    def natural_key(self):
        return (self.order, self.channel_type)

    def clean(self):
        super().clean()
        from ace.channel import ChannelType, channels

        try:
            available = channels().names()
        except Exception as error:  # a misconfigured channel: say so instead of a server error
            raise ValidationError(f"The enabled channels could not be loaded: {error}")
        channel_map = channels()
        wanted = ChannelType(self.channel_type)
        if self.channel_name not in available:
            enabled = ", ".join(sorted(available)) or "none"
            raise ValidationError(
                {"channel_name": f"'{self.channel_name}' is not an enabled channel. Enabled: {enabled}."})
        if self.channel_name not in channel_map.channels.get(wanted, {}):
            raise ValidationError({"channel_name": f"'{self.channel_name}' does not deliver {self.channel_type}."})


# ---------------------------------------------------------------------------------------------------------------


class PolicyRuleManager(models.Manager.from_queryset(StampingQuerySet)):
    pass


class PolicyRule(StampingModel):
    """A rule that stops messages: block a channel for some messages, or cap how many a person receives."""

    KIND_DENY = "deny"
    KIND_FREQUENCY_CAP = "frequency_cap"

    kind = models.CharField(
        "rule", max_length=20, choices=[(KIND_DENY, "Do not send"), (KIND_FREQUENCY_CAP, "Frequency cap")],
        default=KIND_DENY,
        help_text="'Do not send' blocks matching messages; 'Frequency cap' limits how many each person receives.")
    channel_type = models.CharField(
        "channel", max_length=10, blank=True, choices=CHANNEL_TYPE_CHOICES,
        help_text="Which channel this applies to. Leave blank for all channels.")
    message_type = models.ForeignKey(
        MessageType, null=True, blank=True, on_delete=models.PROTECT, related_name="policy_rules",
        verbose_name="message type", help_text="Only this message type. Leave blank for any.")
    category = models.SlugField(
        "category", max_length=100, blank=True, help_text="Only messages of this category. Leave blank for any.")
    max_messages = models.PositiveIntegerField(
        "at most", null=True, blank=True,
        help_text="Frequency cap: the most non-transactional messages one person may receive in the period.")
    period_seconds = models.PositiveIntegerField(
        "period (seconds)", null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Frequency cap: the length of the period, in seconds (86400 = one day, 604800 = one week).")
    enabled = models.BooleanField("enabled", default=True, help_text="Untick to ignore this rule.")
    description = models.TextField("description", blank=True, help_text="Why this rule exists.")

    objects = PolicyRuleManager()

    class Meta:
        verbose_name = "policy rule"
        verbose_name_plural = "policy rules"
        ordering = ["id"]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """How the delivery log names this rule."""
        scope = [self.channel_type or "all channels"]
        if self.message_type_id:
            scope.append(f"type {self.message_type}")
        if self.category:
            scope.append(f"category {self.category}")
        if self.kind == self.KIND_FREQUENCY_CAP:
            what = f"frequency cap {self.max_messages} per {self.period_seconds}s"
        else:
            what = "deny"
        text = f"rule #{self.pk} {what} ({', '.join(scope)})"
        return f"{text}: {self.description}" if self.description else text

    def clean(self):
        super().clean()
        if self.kind == self.KIND_FREQUENCY_CAP and (not self.max_messages or not self.period_seconds):
            raise ValidationError("A frequency cap needs both 'at most' and 'period'.")


# ---------------------------------------------------------------------------------------------------------------


class OptOut(models.Model):
    """A person who asked not to receive some messages (a category, one message type, or all marketing)."""

    SOURCE_CHOICES = [("admin", "Entered in the admin"), ("import", "Imported"), ("unsubscribe", "Unsubscribe link")]

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


# ---------------------------------------------------------------------------------------------------------------


def _status_choices():
    from ace.outcome import DeliveryStatus

    labels = {
        "sent": "Sent", "denied": "Not sent: denied by a policy", "failed": "Failed",
        "expired": "Expired before delivery", "template_missing": "Not sent: template missing",
        "template_error": "Not sent: template error", "unsupported": "Not sent: no channel available",
    }
    # RETRY_SCHEDULED ("retrying") shares the campaign rows' retry status listed below.
    choices = [(status.value, labels.get(status.value, status.value)) for status in DeliveryStatus
               if status is not DeliveryStatus.RETRY_SCHEDULED]
    return [*choices, ("disabled", "Not sent: message type disabled"),
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


# ---------------------------------------------------------------------------------------------------------------
# Suppressions (issue 6): addresses that must not receive non-transactional messages any more.


def identity_hash(value) -> str:
    """The SHA-256 (hex) of an email address or user id, normalised (trimmed, lower case): what a
    suppression keeps once the person's data is erased, enough to recognise them and nothing more."""
    return hashlib.sha256(str(value).strip().lower().encode("utf-8")).hexdigest()


class Suppression(models.Model):
    """An address that receives no more non-transactional messages: it bounced for good, or the person was erased."""

    REASON_BOUNCE = "bounce"
    REASON_COMPLAINT = "complaint"
    REASON_ERASED = "erased"
    REASON_MANUAL = "manual"
    REASON_CHOICES = [
        (REASON_BOUNCE, "Delivery failed for good (address does not exist or refuses mail)"),
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
    lifted_at = models.DateTimeField(
        "lifted", null=True, blank=True,
        help_text="When staff lifted the suppression. Empty while it is in force.")
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="lifted by", help_text="Who lifted the suppression.")

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
        return self.lifted_at is None


# ---------------------------------------------------------------------------------------------------------------
# Campaigns: a message type sent to an audience on a schedule by Celery workers (ace_admin.tasks).


class Audience(models.Model):
    """Who a campaign goes to: a list of people imported from a file, or a group defined in the platform's code."""

    KIND_STATIC = "static"
    KIND_CODE = "code"

    name = models.CharField("name", max_length=200, unique=True,
                            help_text="A name marketing staff recognise, e.g. 'Newsletter subscribers 2026'.")
    description = models.TextField("description", blank=True, help_text="Who is in this audience and why.")
    kind = models.CharField(
        "kind", max_length=10, default=KIND_STATIC,
        choices=[(KIND_STATIC, "A list of people (imported from a file)"),
                 (KIND_CODE, "A group defined in the platform's code")],
        help_text="A list you import (CSV or Excel), or a group the platform computes when the campaign runs.")
    code_name = models.CharField(
        "group", max_length=150, blank=True,
        help_text="For a group defined in code: its registered name (see 'Campaigns' in the README).")
    params = models.JSONField(
        "group settings", default=dict, blank=True,
        help_text="For a group defined in code: its settings in JSON, e.g. {\"count\": 50}.")
    created_at = models.DateTimeField("created", auto_now_add=True, help_text="When this audience was added.")

    class Meta:
        verbose_name = "audience"
        verbose_name_plural = "audiences"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        from ace_admin import audiences

        if self.kind == self.KIND_CODE:
            audiences.check_params(self.code_name, self.params)
        elif self.code_name:
            raise ValidationError({"code_name": "Only a group defined in code has a registered name."})


class AudienceMember(models.Model):
    """One person on an imported audience list."""

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="members",
                                 verbose_name="audience", help_text="The list this person is on.")
    lms_user_id = models.CharField("user id", max_length=64, blank=True,
                                   help_text="The person's user id on the platform, if known.")
    email = models.EmailField("email address", help_text="Where the message goes (stored in lower case).")
    language = models.CharField("language", max_length=20, blank=True,
                                help_text="Language code such as 'fr'. Blank: the campaign's language.")
    context = models.JSONField("personal details", default=dict, blank=True,
                               help_text="Extra values for the templates, e.g. {\"first_name\": \"Ada\"}.")

    class Meta:
        verbose_name = "audience member"
        verbose_name_plural = "audience members"
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["audience", "email"], name="ace_admin_member_unique_email")]

    def __str__(self):
        return self.email


class Campaign(models.Model):
    """A message type sent to an audience once, or repeatedly on a schedule."""

    SCHEDULE_NONE = "none"
    SCHEDULE_ONCE = "once"
    SCHEDULE_INTERVAL = "interval"
    SCHEDULE_CRONTAB = "crontab"
    PERIODS = [("minutes", "minutes"), ("hours", "hours"), ("days", "days")]

    name = models.CharField("name", max_length=200, unique=True, help_text="e.g. 'Monday newsletter'.")
    message_type = models.ForeignKey(MessageType, on_delete=models.PROTECT, related_name="campaigns",
                                     verbose_name="message type", help_text="The message every recipient receives.")
    audience = models.ForeignKey(Audience, on_delete=models.PROTECT, related_name="campaigns",
                                 verbose_name="audience", help_text="Who receives it.")
    context = models.JSONField(
        "shared details", default=dict, blank=True,
        help_text="Values (JSON) the templates use for everyone, e.g. {\"issue\": \"November\"}. A person's own "
                  "details win over these.")
    language = models.CharField("language", max_length=20, blank=True,
                                help_text="Language for people whose own language is not known. Blank: site default.")
    channels = models.CharField(
        "channels", max_length=10, default="email",
        choices=[("email", "Email"), ("push", "Push notification"), ("all", "Email and push notification")],
        help_text="Which kinds of message to send (each needs its templates).")
    options = models.JSONField("sending options", default=dict, blank=True,
                               help_text="Advanced: ACE message options in JSON, e.g. {\"from_address\": \"...\"}.")
    expiration_hours = models.PositiveIntegerField(
        "give up after (hours)", null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Messages still not delivered this many hours after a run starts are dropped and logged as "
                  "expired. Blank: the ACE default.")
    enabled = models.BooleanField("scheduled", default=True,
                                  help_text="Untick to remove the schedule; 'Run now' still works.")
    archived = models.BooleanField(
        "archived", default=False,
        help_text="Archived campaigns keep their runs and delivery log, are unscheduled, cannot be run and are "
                  "hidden from the list by default. A campaign that has run is archived instead of deleted.")
    schedule = models.CharField(
        "when", max_length=10, default=SCHEDULE_ONCE,
        choices=[(SCHEDULE_NONE, "Only when started by hand ('Run now')"), (SCHEDULE_ONCE, "Once, at a given time"),
                 (SCHEDULE_INTERVAL, "Every N minutes, hours or days"),
                 (SCHEDULE_CRONTAB, "On a calendar (e.g. every Monday at 09:00)")],
        help_text="When the campaign runs.")
    run_at = models.DateTimeField("send at", null=True, blank=True,
                                  help_text="For 'Once': the date and time to send (in the site's time zone).")
    grace_minutes = models.PositiveIntegerField(
        "allowed delay (minutes)", default=15,
        help_text="For 'Once': if the scheduler was down and wakes up later than this after 'send at', the run "
                  "is marked missed instead of going out late.")
    every = models.PositiveIntegerField("every", null=True, blank=True, validators=[MinValueValidator(1)],
                                        help_text="For 'Every N...': how many minutes, hours or days.")
    period = models.CharField("unit", max_length=10, choices=PERIODS, blank=True,
                              help_text="For 'Every N...': minutes, hours or days.")
    cron_minute = models.CharField("minute", max_length=60, default="0",
                                   help_text="Calendar: minute(s), e.g. '0' or '0,30'.")
    cron_hour = models.CharField("hour", max_length=60, default="9", help_text="Calendar: hour(s), e.g. '9'.")
    cron_day_of_week = models.CharField("day of week", max_length=60, default="*",
                                        help_text="Calendar: '*' for every day, '1' for Monday, 'mon-fri'...")
    cron_day_of_month = models.CharField("day of month", max_length=60, default="*",
                                         help_text="Calendar: '*' or e.g. '1' for the first of the month.")
    cron_month_of_year = models.CharField("month", max_length=60, default="*", help_text="Calendar: '*' or 1-12.")
    timezone = models.CharField("time zone", max_length=63, default="UTC",
                                help_text="Time zone of the calendar, e.g. 'Europe/Paris' (09:00 is 09:00 there).")
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False, verbose_name="scheduler entry", help_text="The scheduler's record of this campaign.")
    created_at = models.DateTimeField("created", auto_now_add=True, help_text="When this campaign was created.")

    class Meta:
        verbose_name = "campaign"
        verbose_name_plural = "campaigns"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        from ace_admin import campaign_schedule

        with transaction.atomic():
            super().save(*args, **kwargs)
            campaign_schedule.sync(self)

    def clean(self):
        super().clean()
        from ace_admin import campaign_schedule

        campaign_schedule.validate(self)


@receiver(pre_delete, sender=Campaign, dispatch_uid="ace_admin.campaign_unschedule")
def _unschedule_campaign(sender, instance, **kwargs):
    """Deleting a campaign (one, or many from the admin list) removes its schedule."""
    from ace_admin import campaign_schedule

    campaign_schedule.remove(instance)


class CampaignRun(models.Model):
    """One firing of a campaign: who it went to and how it went."""

    RUNNING, PAUSED, CANCELLED, DONE, FAILED, MISSED = "running", "paused", "cancelled", "done", "failed", "missed"
    STATUSES = [(RUNNING, "Running"), (PAUSED, "Paused"), (CANCELLED, "Cancelled"), (DONE, "Done"),
                (FAILED, "Failed"), (MISSED, "Missed (scheduler was down)")]

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="runs", verbose_name="campaign",
                                 help_text="The campaign this run belongs to.")
    send_uuid = models.UUIDField("bulk send id", default=uuid.uuid4, unique=True, editable=False,
                                 help_text="Shared by every message of this run (see the delivery log).")
    status = models.CharField("status", max_length=10, choices=STATUSES, default=RUNNING, db_index=True,
                              help_text="Where the run is.")
    trigger = models.CharField("started by", max_length=10, default="schedule",
                               choices=[("schedule", "the schedule"), ("hand", "someone ('Run now')")],
                               help_text="What started this run.")
    task_id = models.CharField("scheduler task id", max_length=255, null=True, blank=True, unique=True,
                               editable=False, help_text="The scheduler's id for this firing (one run per firing).")
    recipients = models.PositiveIntegerField("recipients", default=0, help_text="Messages this run has to send.")
    sent = models.PositiveIntegerField("sent", default=0, help_text="Messages delivered.")
    denied = models.PositiveIntegerField("denied", default=0,
                                         help_text="Messages a policy stopped (opt-out, frequency cap, rule).")
    failed = models.PositiveIntegerField("failed", default=0, help_text="Messages that could not be delivered.")
    expired = models.PositiveIntegerField("expired", default=0,
                                          help_text="Messages dropped because delivery took too long.")
    cursor = models.BigIntegerField("audience read up to", default=0, editable=False,
                                    help_text="Internal: where reading the audience resumes.")
    audience_done = models.BooleanField("audience read", default=False,
                                        help_text="Whether every recipient has been queued.")
    expires_at = models.DateTimeField("give up at", null=True, blank=True,
                                      help_text="Messages not delivered by then are logged as expired.")
    error = models.TextField("problem", blank=True, help_text="Why the run failed or was missed.")
    started_at = models.DateTimeField("started", auto_now_add=True, help_text="When the run started.")
    finished_at = models.DateTimeField("finished", null=True, blank=True, help_text="When the run ended.")

    class Meta:
        verbose_name = "campaign run"
        verbose_name_plural = "campaign runs"
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.campaign} — {self.started_at:%Y-%m-%d %H:%M}"


class CampaignBatch(models.Model):
    """Internal: a slice of a run's recipients handed to one worker; its lease lets another worker take over."""

    QUEUED, RUNNING, DONE = "queued", "running", "done"

    run = models.ForeignKey(CampaignRun, on_delete=models.CASCADE, related_name="batches", verbose_name="run",
                            help_text="The run this batch belongs to.")
    lineage = models.UUIDField("message id seed", default=uuid.uuid4,
                               help_text="Seeds the message ids of this slice (shared by its retries).")
    recipients = models.JSONField("recipients", help_text="The recipients of this slice.")
    status = models.CharField("status", max_length=10, default=QUEUED, db_index=True,
                              choices=[(QUEUED, "Queued"), (RUNNING, "Sending"), (DONE, "Done")],
                              help_text="Where the batch is.")
    not_before = models.DateTimeField("not before", null=True, blank=True,
                                      help_text="For retries and rate limits: not sent before this time.")
    token = models.UUIDField("held by", null=True, blank=True, help_text="Internal: the worker attempt holding it.")
    heartbeat_at = models.DateTimeField("last sign of life", null=True, blank=True,
                                        help_text="When the worker holding it last reported progress.")
    enqueued_at = models.DateTimeField("queued", auto_now_add=True, help_text="When it was last handed to workers.")
    # The poison-message cap (ace_admin.tasks): a message whose processing kills the worker is not sent forever.
    deliveries = models.PositiveIntegerField(
        "deliveries", default=0, help_text="Internal: how many workers took it since it last finished or paused.")
    suspect = models.UUIDField("message in doubt", null=True, blank=True,
                               help_text="Internal: the message being sent when a worker holding it stopped.")
    suspect_deaths = models.PositiveIntegerField(
        "stops on that message", default=0, help_text="Internal: how many workers stopped on that message.")

    class Meta:
        verbose_name = "campaign batch"
        verbose_name_plural = "campaign batches"
        ordering = ["id"]

    def __str__(self):
        return f"batch {self.pk} of run {self.run_id}"


class RateLimitSlot(models.Model):
    """Internal: the shared per-channel rate limit when there is no Redis (the next free sending time)."""

    channel_name = models.CharField("delivery service", max_length=100, unique=True,
                                    help_text="The channel this limit applies to.")
    next_free = models.FloatField("next free time", default=0.0, help_text="Internal: a Unix time.")

    class Meta:
        verbose_name = "rate limit slot"
        verbose_name_plural = "rate limit slots"

    def __str__(self):
        return self.channel_name


class TaskDelivery(models.Model):
    """Internal: a background task a worker started and has not finished. Written (and committed) before the
    work starts, so a worker killed while processing it leaves its count behind; deleted when it finishes."""

    task_id = models.CharField("task id", max_length=255, unique=True, help_text="The Celery task id.")
    task_name = models.CharField("task", max_length=200, help_text="The task's name.")
    deliveries = models.PositiveIntegerField("deliveries", default=0,
                                             help_text="How many times a worker started it.")
    first_at = models.DateTimeField("first started", auto_now_add=True, help_text="When a worker first started it.")
    last_at = models.DateTimeField("last started", null=True, blank=True,
                                   help_text="When a worker last started it.")

    class Meta:
        verbose_name = "task delivery"
        verbose_name_plural = "task deliveries"

    def __str__(self):
        return f"{self.task_name} {self.task_id} ({self.deliveries})"
