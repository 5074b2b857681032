"""ace_admin's data, one module per wing, all under the one app label ``ace_admin``.

- ``content``: message types, templates and their saved versions
- ``rules``: channel routes and policy rules
- ``privacy``: opt-outs and suppressions
- ``log``: the delivery log
- ``assets``: snippets (reusable template blocks) and uploaded images
- ``publishing``: the publishing audit trail
- ``events``: what happened after sending (delivered, bounced, opened...) and the daily counters reports read
- ``campaigns``: audiences, campaigns, their runs and batches, the shared rate-limit slots

Import models from here (``from ace_admin.models import Template``); the modules are an implementation detail.
"""

from ace_admin.models.assets import ImageAsset, Snippet
from ace_admin.models.base import StampingModel, StampingQuerySet
from ace_admin.models.campaigns import (
    Audience,
    AudienceMember,
    Campaign,
    CampaignBatch,
    CampaignRun,
    CampaignVariant,
    PreflightOverride,
    QuietHours,
    RateLimitSlot,
    TaskDelivery,
)
from ace_admin.models.content import (
    CHANNEL_TYPE_CHOICES,
    TEMPLATE_NAME_SCHEME,
    MessageType,
    Template,
    TemplateRevision,
    normalize_language,
)
from ace_admin.models.events import DeliveryEvent, EventDailyCount, EventType, LinkDailyCount, TrackedLink
from ace_admin.models.log import DeliveryLog
from ace_admin.models.privacy import OptOut, Suppression, identity_hash
from ace_admin.models.publishing import PublishingEvent
from ace_admin.models.rules import ChannelRoute, PolicyRule

__all__ = [
    "CHANNEL_TYPE_CHOICES", "TEMPLATE_NAME_SCHEME", "Audience", "AudienceMember", "Campaign", "CampaignBatch",
    "CampaignRun", "CampaignVariant", "ChannelRoute", "DeliveryEvent", "DeliveryLog", "EventDailyCount", "EventType",
    "ImageAsset",
    "LinkDailyCount", "MessageType", "OptOut", "PolicyRule", "PreflightOverride", "PublishingEvent", "QuietHours",
    "RateLimitSlot", "Snippet", "StampingModel", "StampingQuerySet", "Suppression", "TaskDelivery", "Template",
    "TemplateRevision", "TrackedLink", "identity_hash", "normalize_language"
]
