"""The preview's "draft / published" choice (issue 12): drafts are previewed and test-sent, never sent for real."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from ace import ace
from ace.message import Message
from ace.recipient import Recipient
from ace_admin.content import publishing
from ace_admin.models import Template
from tests.factories import EditorFactory, SuperuserFactory

SUBJECT = "demo/edx_ace/password_reset/email/subject.txt"


@pytest.fixture
def staff(client, db):
    user = SuperuserFactory(username="staff", email="staff@example.org")
    client.force_login(user)
    return user


@pytest.fixture
def drafted(demo):
    template = Template.objects.get(name=SUBJECT, language="fr")
    publishing.save_draft(template, "Brouillon pour {{ first_name }}", EditorFactory())
    return template


def post(client, message_type, **extra):
    data = {"language": "fr", "channel_type": "email", "context": json.dumps(message_type.sample_context),
            "overlay": "", "recipients": "me", **extra}
    return client.post(reverse("admin:ace_admin_messagetype_preview", args=[message_type.pk]), data)


def test_preview_shows_the_draft_or_the_published_version(client, staff, demo, drafted):
    reset = demo["password_reset"]
    assert "Brouillon pour Ada" in post(client, reset, version="draft").content.decode()
    published = post(client, reset, version="published").content.decode()
    assert "Brouillon" not in published and "Réinitialisez votre mot de passe" in published


def test_test_send_uses_the_chosen_version_and_real_sends_the_published(client, staff, demo, drafted, smtp_settings):
    reset = demo["password_reset"]
    assert "sent over" in post(client, reset, version="draft", send_test="1").content.decode()
    [test] = smtp_settings.received_by("staff@example.org")
    assert test.message["Subject"] == "Brouillon pour Ada"
    ace.send(Message(app_label="demo", name="password_reset", language="fr", context=reset.sample_context,
                     recipient=Recipient(lms_user_id=3, email_address="learner@example.org")))
    [real] = smtp_settings.received_by("learner@example.org")
    assert "Brouillon" not in real.message["Subject"]
