"""ace_admin models: validation on save, name scheme, revisions, uniqueness, natural keys, stamp on writes."""

from __future__ import annotations

import pytest
from django.core import serializers
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ace_admin import stamp
from ace_admin.models import ChannelRoute, MessageType, OptOut, PolicyRule, Template, TemplateRevision
from tests.factories import MessageTypeFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

BODY = "student/edx_ace/password_reset/email/body.html"


def test_name_of_the_scheme_fills_type_channel_and_part():
    reset = MessageTypeFactory(app_label="student", name="password_reset", transactional=True)
    template = Template.objects.create(name=BODY, content="<p>Reset</p>", language="PT_br")
    assert (template.message_type, template.channel_type, template.part, template.language) == (
        reset, "email", "body.html", "pt-br")
    layout = Template.objects.create(name="ace/email/base.html", content="{% block content %}{% endblock %}")
    assert (layout.message_type, layout.channel_type, layout.part) == (None, "", "")


def test_invalid_content_is_refused_with_the_engine_message_and_line_and_nothing_is_stored():
    with pytest.raises(ValidationError) as caught:
        Template.objects.create(name=BODY, content="<p>Hi {{ name }}</p>\n<p>{% if %}</p>")
    assert caught.value.message_dict["content"] == ["Line 2: Unexpected end of expression in if tag."]
    assert not Template.objects.exists() and not TemplateRevision.objects.exists()
    good = Template.objects.create(name=BODY, content="ok")
    good.content = "{% endif %}"
    with pytest.raises(ValidationError, match="Line 1: Invalid block tag"):
        good.save()
    good.refresh_from_db()
    assert good.content == "ok" and good.revisions.count() == 1


def test_every_saved_version_is_kept(django_user_model):
    author = UserFactory(username="editor")
    template = Template.objects.create(name=BODY, content="v1")
    template.content = "v2"
    template.save(author=author, comment="typo")
    template.save()  # unchanged content: no new version
    assert [(r.number, r.content, r.author, r.comment) for r in template.revisions.order_by("number")] == [
        (1, "v1", None, ""), (2, "v2", author, "typo")]
    assert template.updated_by == author


def test_one_template_per_name_language_and_site_also_for_all_sites():
    site = SiteFactory(domain="a.example.org", name="A")
    Template.objects.create(name=BODY, content="x")
    Template.objects.create(name=BODY, content="x", language="fr")
    Template.objects.create(name=BODY, content="x", site=site)
    with pytest.raises(ValidationError, match="already exists"):
        Template(name=BODY, content="y").full_clean()
    for duplicate in ({}, {"site": site}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Template.objects.create(name=BODY, content="y", **duplicate)


def test_natural_keys_round_trip_through_serialization():
    site = SiteFactory(domain="a.example.org", name="A")
    reset = MessageTypeFactory(app_label="student", name="password_reset", category="account")
    Template.objects.create(name=BODY, content="all sites")
    Template.objects.create(name=BODY, content="site a", language="fr", site=site)
    data = serializers.serialize("json", [reset, *Template.objects.all(), *TemplateRevision.objects.all()],
                                 use_natural_foreign_keys=True, use_natural_primary_keys=True)
    assert '"pk"' not in data
    TemplateRevision.objects.all().delete()
    Template.objects.all().delete()
    MessageType.objects.all().delete()
    for obj in serializers.deserialize("json", data):
        obj.save()
    restored = Template.objects.get_by_natural_key(BODY, "fr", "a.example.org")
    assert restored.content == "site a" and restored.message_type.natural_key() == ("student", "password_reset")
    assert Template.objects.get_by_natural_key(BODY, "", "").content == "all sites"
    assert TemplateRevision.objects.get_by_natural_key(BODY, "fr", "a.example.org", 1).content == "site a"


def test_every_write_path_bumps_the_shared_stamp():
    reset = MessageTypeFactory(app_label="student", name="password_reset")
    seen = [stamp.current_stamp()]

    def changed():
        seen.append(stamp.current_stamp())
        return seen[-1] != seen[-2]

    template = Template.objects.create(name=BODY, content="a")
    assert changed()
    Template.objects.filter(pk=template.pk).update(content="b")
    assert changed()
    Template.objects.bulk_create([Template(name=BODY, language="fr", content="c")])
    assert changed()
    MessageType.objects.filter(pk=reset.pk).update(enabled=False)
    assert changed()
    PolicyRule.objects.create(kind="deny")
    assert changed()
    ChannelRoute.objects.create(order=1, channel_name="django_email")
    assert changed()
    TemplateRevision.objects.all().delete()
    Template.objects.all().delete()
    assert changed()
    stamp.bump_templates()  # the public hook for any other write path
    assert changed()


def test_opt_out_needs_a_person_and_stores_email_in_lower_case():
    with pytest.raises(ValidationError, match="user id or email"):
        OptOut.objects.create(category="marketing")
    assert OptOut.objects.create(email=" Ann@Example.COM ").email == "ann@example.com"


def test_frequency_cap_needs_count_and_period():
    with pytest.raises(ValidationError, match="needs both"):
        PolicyRule(kind="frequency_cap", max_messages=3).full_clean()
    PolicyRule(kind="frequency_cap", max_messages=3, period_seconds=3600).full_clean()


def test_every_field_explains_itself():
    from django.apps import apps

    for model in apps.get_app_config("ace_admin").get_models():
        for field in model._meta.get_fields():
            if field.auto_created or not field.concrete:
                continue
            assert field.help_text, f"{model.__name__}.{field.name} has no help text"
