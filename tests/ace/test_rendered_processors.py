"""ACE_RENDERED_MESSAGE_PROCESSORS (finish a rendered message wherever it is rendered) and ACE_OUTGOING_PROCESSORS
(change it just before delivery, on real sends only)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from ace import presentation, send
from ace.presentation import render
from tests.ace.channels import RecordingEmailChannel, RecordingPushChannel, enabled_channels
from tests.ace.helpers import make_message

# The project renders through ace_admin's database loader: these tests read the (empty) database.
pytestmark = pytest.mark.django_db

SEEN = []


def shout(channel, message, rendered):
    SEEN.append((channel.channel_type.value, message.name, translation.get_language(),
                 presentation.current_message() is message))
    rendered.subject = rendered.subject.upper() if hasattr(rendered, "subject") else rendered.subject
    return rendered


def keep(channel, message, rendered):
    SEEN.append("keep")
    return None


def replace_body(channel, message, rendered):
    return type(rendered)(**{**{f: getattr(rendered, f) for f in rendered.__slots__ if not f.startswith("__")},
                             "body": "replaced"})


@pytest.fixture(autouse=True)
def _clear():
    SEEN.clear()


def test_no_processor_leaves_the_rendered_message_as_edx_ace_does(settings):
    settings.ACE_RENDERED_MESSAGE_PROCESSORS = []
    rendered = render(RecordingEmailChannel(), make_message(context={"first_name": "Ann"}))
    assert rendered.subject == "Hello Ann, welcome to Example"
    assert SEEN == []


def test_processors_run_in_order_inside_the_message_language(settings):
    settings.ACE_RENDERED_MESSAGE_PROCESSORS = [f"{__name__}.shout", f"{__name__}.keep", f"{__name__}.replace_body"]
    message = make_message(context={"first_name": "Ann"}, language="fr")
    rendered = render(RecordingEmailChannel(), message)
    assert rendered.subject.startswith("HELLO ANN")  # shout's change kept through keep's None
    assert rendered.body == "replaced"  # a processor may return a new object
    assert SEEN == [("email", message.name, "fr", True), "keep"]


def test_processors_see_every_channel_type(settings):
    settings.ACE_RENDERED_MESSAGE_PROCESSORS = [f"{__name__}.keep"]
    render(RecordingPushChannel(), make_message())
    assert SEEN == ["keep"]


def test_a_path_that_cannot_be_imported_is_a_configuration_error(settings):
    settings.ACE_RENDERED_MESSAGE_PROCESSORS = ["no.such.module.processor"]
    with pytest.raises(ImproperlyConfigured, match="ACE_RENDERED_MESSAGE_PROCESSORS"):
        render(RecordingEmailChannel(), make_message())


def shout_email(channel, message, rendered):
    return shout(channel, message, rendered) if hasattr(rendered, "subject") else None


def tag_link(channel, message, rendered):
    SEEN.append(("outgoing", channel.channel_type.value))
    if hasattr(rendered, "body_html"):
        rendered.body_html += "<!-- tracked -->"


def test_outgoing_processors_run_on_sends_after_the_rendered_ones_never_on_a_render(settings):
    settings.ACE_RENDERED_MESSAGE_PROCESSORS = [f"{__name__}.shout_email"]
    settings.ACE_OUTGOING_PROCESSORS = [f"{__name__}.tag_link"]
    message = make_message(context={"first_name": "Ann"})
    previewed = render(RecordingEmailChannel(), message)
    assert "tracked" not in previewed.body_html and SEEN == [("email", message.name, "en", True)]

    SEEN.clear()
    email, push = RecordingEmailChannel(), RecordingPushChannel()
    with enabled_channels(email=email, push=push):
        send(make_message(context={"first_name": "Ann"}))
    [(_, delivered)] = email.delivered
    assert delivered.subject.startswith("HELLO ANN") and delivered.body_html.endswith("<!-- tracked -->")
    assert [entry for entry in SEEN if entry[0] == "outgoing"] == [("outgoing", "email"), ("outgoing", "push")]
