"""The file channels (local development): what they write is the message a real channel would send."""

import email
import email.policy
import json

import pytest

from ace import send
from ace.channel import ChannelType
from tests.ace.helpers import make_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def file_channels(settings):
    settings.ACE_ENABLED_CHANNELS = ["file_email", "file_push"]
    settings.ACE_CHANNEL_DEFAULT_EMAIL = settings.ACE_CHANNEL_TRANSACTIONAL_EMAIL = "file_email"


def test_email_written_as_a_mime_file(file_channels, file_channel_dir):
    message = make_message(options={"reply_to": "help@example.org"})
    result = send(message)
    [eml] = file_channel_dir.glob("*.eml")
    assert result.for_channel(ChannelType.EMAIL).details == {"path": str(eml)}
    parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert (parsed["To"], parsed["Subject"], parsed["Reply-To"]) == (
        "ann@example.com", "Hello Ann, welcome to Example", "help@example.org")
    assert parsed["X-ACE-Message-ID"] == str(message.uuid)
    assert "greeting-head" in parsed.get_body(preferencelist=("html",)).get_content()
    [push] = file_channel_dir.glob("*.json")
    assert json.loads(push.read_text())["title"] == "Hi Ann"


def test_dash_writes_to_standard_output(file_channels, settings, capsys):
    settings.ACE_CHANNEL_FILE_PATH = "-"
    result = send(make_message())
    out = capsys.readouterr().out
    assert "Subject: Hello Ann, welcome to Example" in out
    assert '"title": "Hi Ann"' in out
    assert {o.details["path"] for o in result} == {"-"}
