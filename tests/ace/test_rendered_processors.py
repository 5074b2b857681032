"""ACE_RENDERED_MESSAGE_PROCESSORS: the engine's hook that finishes a rendered message before delivery."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from ace import presentation
from ace.presentation import render
from tests.ace.channels import RecordingEmailChannel, RecordingPushChannel
from tests.ace.helpers import make_message

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
