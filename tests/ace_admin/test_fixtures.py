"""Every fixture loads on a fresh database, and every demo message renders and is delivered in both languages."""

from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command

from ace import ace
from ace.channel import ChannelType
from ace.message import Message
from ace.outcome import DeliveryStatus
from ace.recipient import Recipient
from ace_admin.models import ChannelRoute, MessageType, PolicyRule, Template, TemplateRevision

FIXTURES = sorted((Path(settings.BASE_DIR) / "fixtures").glob("*.json"))
DEMO = Path(settings.BASE_DIR) / "fixtures" / "demo.json"

#: A phrase of each demo type's body in each language: English from the files, French from the fixture.
EXPECTED = {
    ("password_reset", "en"): ("Reset your Open Learning password", "Choose a new password"),
    ("password_reset", "fr"): ("Réinitialisez votre mot de passe Open Learning", "Choisir un nouveau mot de passe"),
    ("course_start_reminder", "en"): ("Introduction to Astronomy starts on 7 December 2026", "Go to the course"),
    ("course_start_reminder", "fr"): ("Introduction to Astronomy commence le 7 December 2026", "Accéder au cours"),
    ("newsletter", "en"): ("Open Learning news for December", "Browse all courses"),
    ("newsletter", "fr"): ("Open Learning : les nouvelles de December", "Voir tous les cours"),
}


@pytest.fixture
def demo_channels(settings, file_channel_dir):
    """The demo routes marketing email to file_email: enable it, writing into a fresh directory."""
    settings.ACE_ENABLED_CHANNELS = ["django_email", "file_email"]  # the demo content is email only
    return file_channel_dir


def test_fixture_files_exist():
    assert DEMO in FIXTURES


@pytest.mark.django_db
@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name)
def test_every_fixture_loads_twice(fixture):
    if fixture != DEMO:
        call_command("loaddata", str(DEMO), verbosity=0)  # the others refer to its message types (make demo: sorted)
    call_command("loaddata", str(fixture), verbosity=0)
    counts = [Model.objects.count() for Model in (MessageType, Template, TemplateRevision, ChannelRoute)]
    call_command("loaddata", str(fixture), verbosity=0)  # natural keys: loading again updates, never duplicates
    assert [Model.objects.count() for Model in (MessageType, Template, TemplateRevision, ChannelRoute)] == counts


@pytest.mark.django_db
def test_demo_content_is_complete():
    call_command("loaddata", str(DEMO), verbosity=0)
    types = {mt.name: mt for mt in MessageType.objects.filter(app_label="demo")}
    assert set(types) == {"password_reset", "course_start_reminder", "newsletter"}
    assert types["password_reset"].transactional and not types["newsletter"].transactional
    assert all(mt.sample_context for mt in types.values())
    french = Template.objects.filter(language="fr")
    assert {t.message_type.name for t in french} == set(types)
    assert all(t.revisions.count() == 1 for t in french)  # the history starts with the fixture's version
    assert ChannelRoute.objects.filter(enabled=True).count() == 2
    cap = PolicyRule.objects.get(kind=PolicyRule.KIND_FREQUENCY_CAP)
    assert (cap.max_messages, cap.period_seconds) == (3, 7 * 24 * 3600)


def _delivered(outcome, folder):
    """(subject, text body, html body) of what a channel delivered for ``outcome``."""
    if outcome.channel_name == "django_email":
        [email] = [m for m in mail.outbox if m.extra_headers.get("X-ACE-Message-ID") == str(outcome.message.uuid)]
        return email.subject, email.body, email.alternatives[0][0]
    assert outcome.channel_name == "file_email"
    [path] = folder.glob(f"*{outcome.message.uuid}.eml")
    parsed = message_from_bytes(path.read_bytes(), policy=email_policy.default)
    return (str(parsed["Subject"]), parsed.get_body(("plain",)).get_content(),
            parsed.get_body(("html",)).get_content())


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("name", ["password_reset", "course_start_reminder", "newsletter"])
def test_every_demo_template_renders_through_send(demo_channels, name, language):
    call_command("loaddata", str(DEMO), verbosity=0)
    message_type = MessageType.objects.get(app_label="demo", name=name)
    msg = Message(app_label="demo", name=name, language=language, context=message_type.sample_context,
                  recipient=Recipient(lms_user_id=7, email_address=f"ada-{name}-{language}@example.org"),
                  options={"transactional": message_type.transactional})
    [outcome] = ace.send(msg)
    assert outcome.status == DeliveryStatus.SENT, outcome
    # The demo routes: transactional mail over SMTP (django_email), marketing to files (file_email).
    expected_channel = "file_email" if message_type.category == "marketing" else "django_email"
    assert outcome.channel_name == expected_channel
    subject, text, html = _delivered(outcome, demo_channels)
    expected_subject, expected_button = EXPECTED[(name, language)]
    assert subject == expected_subject
    assert "Ada" in text and "<" not in text  # the text part comes from body.txt: no markup
    assert expected_button in html
    assert 'class="ace-container"' in html  # rendered inside the shared responsive layout
    assert f'lang="{language}"' in html
    assert "{{" not in html and "{%" not in html and "{{" not in text


@pytest.mark.django_db
def test_demo_opt_out_stops_the_newsletter_but_not_the_password_reset(demo_channels):
    call_command("loaddata", str(DEMO), verbosity=0)
    recipient = Recipient(lms_user_id=8, email_address="no-news@example.org")
    newsletter = MessageType.objects.get(name="newsletter")
    [outcome] = ace.send(Message(app_label="demo", name="newsletter", recipient=recipient,
                                 context=newsletter.sample_context), limit_to_channels=[ChannelType.EMAIL])
    assert outcome.status == DeliveryStatus.DENIED
    reset = MessageType.objects.get(name="password_reset")
    [outcome] = ace.send(Message(app_label="demo", name="password_reset", recipient=recipient,
                                 context=reset.sample_context, options={"transactional": True}),
                         limit_to_channels=[ChannelType.EMAIL])
    assert outcome.status == DeliveryStatus.SENT
    assert [m.to for m in mail.outbox] == [["no-news@example.org"]]
    assert not list(demo_channels.glob("*.eml"))


@pytest.mark.django_db
def test_migrations_are_in_sync():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
