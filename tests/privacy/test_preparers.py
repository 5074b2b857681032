"""The engine's ACE_MESSAGE_PREPARERS extension point, and ace_admin's preparer configuration errors."""

from __future__ import annotations

import email
import email.policy

import pytest
from django.core.exceptions import ImproperlyConfigured

from ace import ace
from ace.channel import ChannelType
from tests.factories import PolicyRuleFactory
from tests.privacy.conftest import html_of, make_message, send_email

pytestmark = pytest.mark.django_db

CALLS = []


def tagging_preparer(message):
    """A third-party preparer: a context value for the templates and a header for email channels."""
    CALLS.append(message.name)
    message.context = {**message.context, "first_name": "Prepared"}
    message.options = {**message.options, "email_headers": {**(message.options.get("email_headers") or {}),
                                                            "X-Campaign": "spring"}}


@pytest.fixture
def tagging(settings):
    settings.ACE_MESSAGE_PREPARERS = [*settings.ACE_MESSAGE_PREPARERS, "tests.privacy.test_preparers.tagging_preparer"]
    CALLS.clear()
    yield
    CALLS.clear()


def test_preparers_run_before_rendering_and_reach_the_email(message_types, tagging):
    _, email = send_email(make_message("news"))
    assert "Hello Prepared" in html_of(email)
    assert email.extra_headers["X-Campaign"] == "spring" and "List-Unsubscribe" in email.extra_headers
    assert CALLS == ["news"]


def test_preparers_do_not_run_for_a_message_every_policy_denied(message_types, tagging):
    PolicyRuleFactory(kind="deny", category="newsletter")
    [outcome] = ace.send(make_message("news"), limit_to_channels=[ChannelType.EMAIL])
    assert outcome.status.value == "denied" and CALLS == []


def test_caller_context_dict_is_not_changed(message_types):
    shared = {"first_name": "Ann"}
    message = make_message("news")
    message.context = shared
    send_email(message)
    assert shared == {"first_name": "Ann"}  # a dict shared between messages never gets someone's link
    assert "unsubscribe_url" in message.context


def test_a_preparer_that_cannot_be_imported_is_a_clear_configuration_error(message_types, settings):
    settings.ACE_MESSAGE_PREPARERS = ["no.such.module.prepare"]
    with pytest.raises(ImproperlyConfigured, match="ACE_MESSAGE_PREPARERS: cannot import 'no.such.module.prepare'"):
        send_email(make_message("news"))


@pytest.mark.parametrize("bad", ["mail.example.org", "ftp://example.org", "https://", "https://x.org/?a=1"])
def test_public_base_url_must_be_an_http_address(message_types, settings, bad):
    settings.ACE_PUBLIC_BASE_URL = bad
    with pytest.raises(ImproperlyConfigured, match="ACE_PUBLIC_BASE_URL"):
        send_email(make_message("news"))


def test_file_channel_writes_the_headers(message_types, settings, file_channel_dir):
    settings.ACE_ENABLED_CHANNELS = ["file_email", "file_push"]
    settings.ACE_CHANNEL_DEFAULT_EMAIL = settings.ACE_CHANNEL_TRANSACTIONAL_EMAIL = "file_email"
    settings.ACE_CHANNEL_ROUTERS = []
    ace.send(make_message("news"), limit_to_channels=[ChannelType.EMAIL])
    [written] = list(file_channel_dir.glob("*.eml"))
    parsed = email.message_from_string(written.read_text(), policy=email.policy.default)
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert str(parsed["List-Unsubscribe"]).strip().startswith("<http://127.0.0.1:8000/ace/unsubscribe/")
