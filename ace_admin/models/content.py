"""Content: message types, their templates (per language and site) and the templates' saved versions."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q

from ace_admin.content.safety import check_template_source
from ace_admin.models.base import StampingModel, StampingQuerySet
from ace_admin.validators import normalize_language, validate_json_object, validate_sender_address

CHANNEL_TYPE_CHOICES = [("email", "Email"), ("push", "Push notification")]

#: The documented template scheme: {app_label}/edx_ace/{name}/{channel}/{part}
TEMPLATE_NAME_SCHEME = re.compile(
    r"^(?P<app_label>[\w.-]+)/edx_ace/(?P<name>[\w.-]+)/(?P<channel_type>email|push)/(?P<part>[\w.-]+)$"
)


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
    TRACKING_DEFAULT, TRACKING_ON, TRACKING_OFF = "", "on", "off"
    engagement_tracking = models.CharField(
        "open and click tracking", max_length=3, blank=True,
        choices=[(TRACKING_DEFAULT, "As its category (off for transactional messages)"),
                 (TRACKING_ON, "On: ACE counts opens and clicks"), (TRACKING_OFF, "Off")],
        help_text="Whether ACE adds an invisible image and rewrites links to count opens and clicks of this "
                  "message (for delivery services that report none themselves). Unsubscribe links are never "
                  "rewritten.")
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
        help_text="The template text that is sent (the published version). Edits in the admin are saved as a "
                  "draft until a manager publishes them.")
    published = models.BooleanField(
        "published", default=True, help_text="Unpublished templates are never sent (the file on disk, or another "
                                             "language or site, is used). Managers publish with the Publish button.")
    content_revision = models.PositiveIntegerField(
        "published version", null=True, blank=True, editable=False,
        help_text="The saved version whose text is the content above (the one sent, when published).")
    draft_content = models.TextField(  # noqa: DJ001 — None: no draft; "" is an empty draft
        "draft", null=True, blank=True, editable=False,
        help_text="Changes saved but not published yet: never sent; preview and test sends can use them.")
    draft_author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False, verbose_name="draft by", help_text="Who saved the draft last.")
    draft_updated_at = models.DateTimeField(
        "draft saved", null=True, blank=True, editable=False, help_text="When the draft was saved last.")
    publish_at = models.DateTimeField(
        "publish at", null=True, blank=True, editable=False, db_index=True,
        help_text="When a scheduled publish happens (within a minute after this time).")
    publish_revision = models.PositiveIntegerField(
        "version to publish", null=True, blank=True, editable=False,
        help_text="The version the scheduled publish makes live (the one reviewed when it was scheduled).")
    publish_scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False, verbose_name="scheduled by", help_text="The manager who scheduled the publish.")
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
        """Validate (nothing invalid is ever stored), save, and record a revision when the content changed.

        ``content`` is what is sent: the admin saves edits as a draft (``ace_admin.content.publishing``) and
        publishing copies a version here. A content equal to the newest version (a draft being published) reuses
        that version's number instead of recording it twice.
        """
        self.fill_from_name()
        check_template_source(self.content, self.name)
        if author is not None:
            self.updated_by = author
        with transaction.atomic():
            record = self._version_to_record()
            super().save(*args, **kwargs)
            if record is not None:
                TemplateRevision.objects.create(
                    template=self, number=record, content=self.content, author=author or self.updated_by,
                    comment=comment)

    def _version_to_record(self) -> int | None:
        """Set ``content_revision`` for the content being saved; the number of a version to record, if a new one."""
        if self.pk is None:
            self.content_revision = 1
            return 1
        last = self.revisions.order_by("-number").first()
        stored = Template.objects.filter(pk=self.pk).values_list("content", flat=True).first()
        if last is not None and stored == self.content:
            if self.content_revision is None:  # rows loaded from fixtures: the newest version with this text
                self.content_revision = self.revisions.filter(content=self.content).order_by(
                    "-number").values_list("number", flat=True).first()
            return None
        chosen = self.revisions.filter(number=self.content_revision).first() if self.content_revision else None
        if chosen is not None and chosen.content == self.content:
            return None  # publishing a version that is already recorded (a reviewed draft)
        if last is not None and last.content == self.content:
            self.content_revision = last.number
            return None
        self.content_revision = (last.number + 1) if last else 1
        return self.content_revision

    @property
    def working_content(self) -> str:
        """The text an editor works on: the draft when there is one, else the content."""
        return self.content if self.draft_content is None else self.draft_content

    @property
    def has_draft(self) -> bool:
        return self.draft_content is not None

    def clean(self):
        super().clean()
        self.fill_from_name()
        if not self.name:
            raise ValidationError({"name": "Give the template name this content replaces."})
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
