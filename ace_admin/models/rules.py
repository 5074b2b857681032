"""Rules: channel routes (which delivery service carries a message) and policy rules (who may receive what)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from ace.channel import ChannelType, channels
from ace_admin.models.base import StampingModel, StampingQuerySet
from ace_admin.models.content import CHANNEL_TYPE_CHOICES, MessageType


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
