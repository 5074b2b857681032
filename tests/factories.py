"""factory-boy factories for every model of ace_admin, and for the staff users and groups of its roles.

Defaults are minimal and valid: a factory call without arguments saves a row that passes the model's own checks
(``Template.save`` validates the template source, ``OptOut.save`` wants a person, ...). Tests name every field
they assert on; states are traits (``TemplateFactory(draft=True)``, ``SuppressionFactory(lifted=True)``).

Models are imported as ``from ace_admin.models import X`` only: that path stays whatever modules it re-exports.
"""

from __future__ import annotations

import datetime
import uuid

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.sites.models import Site
from django.db.models import Max
from django.utils import timezone

from ace_admin.groups import EDITORS, MANAGERS, PRIVACY_OFFICERS, apply_groups
from ace_admin.models import (
    Audience,
    AudienceMember,
    Campaign,
    CampaignBatch,
    CampaignRun,
    ChannelRoute,
    DeliveryLog,
    ImageAsset,
    MessageType,
    OptOut,
    PolicyRule,
    RateLimitSlot,
    Snippet,
    Suppression,
    Template,
    TemplateRevision,
    identity_hash,
)

# --- Django's own models ------------------------------------------------------------------------------------------


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("domain",)

    domain = factory.Sequence(lambda n: f"site{n}.example.org")
    name = factory.LazyAttribute(lambda site: site.domain.split(".")[0].capitalize())


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"group {n}")


def role_group(name: str) -> Group:
    """The role group ``name`` as ``ace_admin.groups`` defines it (created when a transactional test flushed
    what the migration made)."""
    group = Group.objects.filter(name=name).first()
    if group is None:
        apply_groups(Group, Permission)
        group = Group.objects.get(name=name)
    return group


#: The password of the users the factories create (tests/settings.py hashes it with the fast MD5 hasher).
PASSWORD = "pw"


class UserFactory(factory.django.DjangoModelFactory):
    """A person with an account (not staff). Password: ``PASSWORD`` unless given."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def permissions(self, create, codenames, **kwargs):
        """``permissions=["view_template", ...]``: ace_admin permissions given to the user directly."""
        if create and codenames:
            self.user_permissions.add(*Permission.objects.filter(content_type__app_label="ace_admin",
                                                                 codename__in=codenames))


def _joins(default_role):
    """A post-generation hook: ``role=...`` (or the factory's own role) puts the user in that role's group."""

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        name = extracted or default_role
        if create and name:
            user.groups.add(role_group(name))

    return role


class StaffFactory(UserFactory):
    """A staff account in one of ACE's roles (``role=EDITORS``...) or none (then only what ``permissions`` gives)."""

    is_staff = True
    role = _joins(None)


class EditorFactory(StaffFactory):
    username = factory.Sequence(lambda n: f"editor{n}")
    role = _joins(EDITORS)


class ManagerFactory(StaffFactory):
    username = factory.Sequence(lambda n: f"manager{n}")
    role = _joins(MANAGERS)


class PrivacyOfficerFactory(StaffFactory):
    username = factory.Sequence(lambda n: f"officer{n}")
    role = _joins(PRIVACY_OFFICERS)


class SuperuserFactory(StaffFactory):
    username = factory.Sequence(lambda n: f"boss{n}")
    is_superuser = True


# --- content ------------------------------------------------------------------------------------------------------


class MessageTypeFactory(factory.django.DjangoModelFactory):
    """A message type; ``(app_label, name)`` is its natural key, so asking twice returns the same row."""

    class Meta:
        model = MessageType
        django_get_or_create = ("app_label", "name")

    app_label = "tests"
    name = factory.Sequence(lambda n: f"message_{n}")

    class Params:
        #: A message people must receive (a receipt, a password reset): transactional, category "account".
        receipt = factory.Trait(transactional=True, category="account")
        from_code = factory.Trait(source=MessageType.SOURCE_CODE)


class TemplateFactory(factory.django.DjangoModelFactory):
    """One template; its message type, channel and part come from its name (``Template.fill_from_name``).
    Saving it records version 1 (``TemplateRevision``)."""

    class Meta:
        model = Template

    name = factory.Sequence(lambda n: f"tests/edx_ace/message_{n}/email/body.html")
    content = "<p>Hello {{ first_name }}</p>"

    class Params:
        draft = factory.Trait(published=False)
        in_archive = factory.Trait(archived=True, published=False)
        layout = factory.Trait(name=factory.Sequence(lambda n: f"ace/email/layout_{n}.html"),
                               content="<html><body>{% block content %}{% endblock %}</body></html>")


class SnippetFactory(TemplateFactory):
    """A snippet: a template named ``snippets/<name>.html``, included with ``{% include "snippets/<name>.html" %}``."""

    class Meta:
        model = Snippet

    name = factory.Sequence(lambda n: f"snippets/block_{n}.html")
    content = "<p>A block for {{ first_name }}</p>"


def image_bytes(image_format: str = "PNG", size: tuple[int, int] = (4, 3), color=(200, 30, 30)) -> bytes:
    """A small real image in ``image_format`` (PNG, JPEG, GIF, WEBP...), made with Pillow."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=image_format)
    return buffer.getvalue()


class ImageAssetFactory(factory.django.DjangoModelFactory):
    """An uploaded image, stored through ``ace_admin.content.assets.store_image`` (so its file exists in the
    default storage: point ``MEDIA_ROOT`` at a temporary folder, e.g. with the ``media_root`` fixture)."""

    class Meta:
        model = ImageAsset

    original_name = factory.Sequence(lambda n: f"picture-{n}.png")
    alt_text = "A red square"
    data = factory.Sequence(lambda n: image_bytes(color=(n % 256, 30, 30)))

    @classmethod
    def _create(cls, model_class, data, original_name="", alt_text="", uploaded_by=None, **kwargs):
        from ace_admin.content.assets import store_image

        return store_image(data, original_name, user=uploaded_by, alt_text=alt_text)


def _next_revision_number(revision) -> int:
    return (revision.template.revisions.aggregate(n=Max("number"))["n"] or 0) + 1


class TemplateRevisionFactory(factory.django.DjangoModelFactory):
    """A further saved version of a template (saving a template already records version 1)."""

    class Meta:
        model = TemplateRevision

    template = factory.SubFactory(TemplateFactory)
    number = factory.LazyAttribute(_next_revision_number)
    content = factory.LazyAttribute(lambda revision: revision.template.content)


# --- rules ---------------------------------------------------------------------------------------------------------


class ChannelRouteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelRoute

    order = factory.Sequence(lambda n: 1000 + n)
    channel_type = "email"
    channel_name = "django_email"


class PolicyRuleFactory(factory.django.DjangoModelFactory):
    """A 'do not send' rule for everything unless scoped; ``frequency_cap=True`` for one message a day."""

    class Meta:
        model = PolicyRule

    kind = PolicyRule.KIND_DENY

    class Params:
        frequency_cap = factory.Trait(kind=PolicyRule.KIND_FREQUENCY_CAP, max_messages=1, period_seconds=86400)
        disabled = factory.Trait(enabled=False)


# --- privacy -------------------------------------------------------------------------------------------------------


class OptOutFactory(factory.django.DjangoModelFactory):
    """A person's opt-out of all non-transactional messages unless ``category`` or ``message_type`` is given."""

    class Meta:
        model = OptOut

    lms_user_id = ""
    # A person by email address, unless the opt-out names them by user id only.
    email = factory.Maybe("lms_user_id", yes_declaration="",
                          no_declaration=factory.Sequence(lambda n: f"person{n}@example.org"))


class SuppressionFactory(factory.django.DjangoModelFactory):
    """A suppression in force (added by staff) unless a trait says otherwise."""

    class Meta:
        model = Suppression

    address_hash = ""
    # An address, unless only its fingerprint is given (an erased person).
    email = factory.Maybe("address_hash", yes_declaration="",
                          no_declaration=factory.Sequence(lambda n: f"suppressed{n}@example.org"))

    class Params:
        bounce = factory.Trait(reason=Suppression.REASON_BOUNCE, source="django_email",
                               details="550 5.1.1 No such user")
        complaint = factory.Trait(reason=Suppression.REASON_COMPLAINT)
        erased = factory.Trait(reason=Suppression.REASON_ERASED, source="erasure",
                               address_hash=factory.Sequence(lambda n: identity_hash(f"erased{n}@example.org")))
        lifted = factory.Trait(lifted_at=factory.LazyFunction(timezone.now),
                               lifted_by=factory.SubFactory(ManagerFactory))


# --- the delivery log ----------------------------------------------------------------------------------------------


class DeliveryLogFactory(factory.django.DjangoModelFactory):
    """One message sent by email; the message type's natural key is copied from ``message_type`` when given."""

    class Meta:
        model = DeliveryLog

    message_uuid = factory.LazyFunction(uuid.uuid4)
    message_type = None
    app_label = factory.LazyAttribute(lambda row: row.message_type.app_label if row.message_type else "tests")
    message_name = factory.LazyAttribute(lambda row: row.message_type.name if row.message_type else "greeting")
    recipient_id = factory.Sequence(str)
    recipient_address = factory.Sequence(lambda n: f"recipient{n}@example.org")
    channel_type = "email"
    channel_name = "django_email"
    status = "sent"
    attempts = 1

    class Params:
        denied = factory.Trait(status="denied", attempts=0, policy="rule #1 deny (all channels)")
        failed = factory.Trait(status="failed", error="SMTP error: 550 5.1.1 No such user")


# --- campaigns -----------------------------------------------------------------------------------------------------


class AudienceFactory(factory.django.DjangoModelFactory):
    """An imported list (empty: add ``AudienceMemberFactory`` rows, or pass ``members=N``)."""

    class Meta:
        model = Audience
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Audience {n}")

    class Params:
        code = factory.Trait(kind=Audience.KIND_CODE, code_name="demo.sample_learners", params={"count": 3})

    @factory.post_generation
    def members(self, create, count, **kwargs):
        """``members=N``: N people p1@example.org... with user ids "1"... and a first name."""
        if create and count:
            AudienceMemberFactory.create_batch(count, audience=self, **kwargs)


class AudienceMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AudienceMember

    audience = factory.SubFactory(AudienceFactory)
    email = factory.Sequence(lambda n: f"member{n}@example.org")


class CampaignFactory(factory.django.DjangoModelFactory):
    """A campaign only started by hand ('Run now') unless a schedule trait is given."""

    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    message_type = factory.SubFactory(MessageTypeFactory)
    audience = factory.SubFactory(AudienceFactory)
    schedule = Campaign.SCHEDULE_NONE

    class Params:
        once = factory.Trait(schedule=Campaign.SCHEDULE_ONCE,
                             run_at=factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=1)))
        daily = factory.Trait(schedule=Campaign.SCHEDULE_INTERVAL, every=1, period="days")
        in_archive = factory.Trait(archived=True, enabled=False)


class CampaignRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignRun

    campaign = factory.SubFactory(CampaignFactory)

    class Params:
        done = factory.Trait(status=CampaignRun.DONE, audience_done=True,
                             finished_at=factory.LazyFunction(timezone.now))
        paused = factory.Trait(status=CampaignRun.PAUSED)
        cancelled = factory.Trait(status=CampaignRun.CANCELLED, finished_at=factory.LazyFunction(timezone.now))


class CampaignBatchFactory(factory.django.DjangoModelFactory):
    """A queued slice of a run (no recipients unless given); ``running=True`` for one a worker holds."""

    class Meta:
        model = CampaignBatch

    run = factory.SubFactory(CampaignRunFactory)
    recipients = factory.LazyFunction(list)

    class Params:
        running = factory.Trait(status=CampaignBatch.RUNNING, token=factory.LazyFunction(uuid.uuid4),
                                heartbeat_at=factory.LazyFunction(timezone.now))


class RateLimitSlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RateLimitSlot
        django_get_or_create = ("channel_name",)

    channel_name = factory.Sequence(lambda n: f"channel_{n}")
