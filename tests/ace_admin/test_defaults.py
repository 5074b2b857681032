"""What the admin sets on a message type (sender, reply-to, transactional) reaches the delivered email."""

from __future__ import annotations

import pytest

from ace.settings import reload_all
from tests.ace_admin.conftest import make_message, send_email
from tests.factories import MessageTypeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def welcome():
    return MessageTypeFactory(app_label="ace_admin_tests", name="welcome", category="marketing",
                              from_address="Example Courses <news@example.org>",
                              reply_to="help@example.org")


def test_sender_and_reply_to_from_the_admin(welcome):
    _, email = send_email(make_message())
    assert email.from_email == "Example Courses <news@example.org>"
    assert email.reply_to == ["help@example.org"]


def test_the_platform_code_options_win(welcome):
    shared_options = {"from_address": "code@example.org"}
    first = make_message(options=shared_options)
    _, email = send_email(first)
    assert email.from_email == "code@example.org"
    assert email.reply_to == ["help@example.org"]
    assert shared_options == {"from_address": "code@example.org"}  # the caller's dict is left alone


def test_an_edit_in_the_admin_applies_to_the_next_send(welcome):
    send_email(make_message())
    welcome.from_address = "Renamed <renamed@example.org>"
    welcome.save()
    _, email = send_email(make_message())
    assert email.from_email == "Renamed <renamed@example.org>"


def test_transactional_in_the_admin_routes_to_the_transactional_channel(settings, file_channel_dir):
    MessageTypeFactory(app_label="ace_admin_tests", name="welcome", transactional=True)
    settings.ACE_ENABLED_CHANNELS = ["django_email", "file_email"]
    settings.ACE_CHANNEL_DEFAULT_EMAIL = "django_email"
    settings.ACE_CHANNEL_TRANSACTIONAL_EMAIL = "file_email"
    reload_all()
    result, email = send_email(make_message())
    assert email is None
    assert result[0].channel_name == "file_email"
    assert len(list(file_channel_dir.glob("*.eml"))) == 1
