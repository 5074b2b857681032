"""Rendering: template names, the email and push renderers, the acetags library."""

import pytest
from django.template import TemplateDoesNotExist

from ace.channel import channels
from ace.channel.mixins import EmailChannelMixin
from ace.presentation import render
from ace.renderers import AbstractRenderer, EmailRenderer, RenderedEmail, html_to_text, one_line
from tests.ace.channels import RecordingEmailChannel, RecordingPushChannel
from tests.ace.helpers import make_message

# The project renders through ace_admin's database loader and policy: these tests read the database
# (empty here, so files and settings decide).
pytestmark = pytest.mark.django_db


class LinkingChannel(RecordingEmailChannel):
    def get_action_links(self, message=None, omit_unsubscribe_link=False):
        links = [(f"https://example.org/prefs/{message.recipient.lms_user_id}", "Preferences")]
        if not omit_unsubscribe_link:
            links.append(("https://example.org/unsubscribe", "Unsubscribe"))
        return links


def test_template_names_follow_the_documented_scheme():
    renderer = EmailRenderer()
    assert renderer.rendered_message_cls is RenderedEmail
    assert AbstractRenderer.rendered_message_cls is None
    name = renderer.get_template_for_message(RecordingEmailChannel(), make_message(), "body.html")
    assert name == "tests/edx_ace/greeting/email/body.html"


def test_missing_required_template_raises():
    with pytest.raises(TemplateDoesNotExist, match="tests/edx_ace/pushonly/email/subject.txt"):
        render(RecordingEmailChannel(), make_message(name="pushonly"))
    with pytest.raises(TemplateDoesNotExist, match="tests/edx_ace/emailonly/push/title.txt"):
        render(RecordingPushChannel(), make_message(name="emailonly"))


def test_optional_email_parts_default():
    rendered = render(RecordingEmailChannel(), make_message(name="emailonly"))
    assert (rendered.from_name, rendered.head_html) == ("", "")
    assert rendered.body.strip() == "Email only body Ann"


def test_context_autoescaped_in_html_not_in_text():
    context = {"first_name": "Tom & Jerry <3", "site": "A&B", "code": '<script>"x"</script>'}
    rendered = render(RecordingEmailChannel(), make_message(context=context))
    assert "&lt;script&gt;" in rendered.body_html and "<script>" not in rendered.body_html
    assert "Tom &amp; Jerry &lt;3" in rendered.body_html
    assert rendered.subject == "Hello Tom & Jerry <3, welcome to A&B"
    assert rendered.from_name == "Greeting team of A&B"
    assert rendered.body == 'Dear Tom & Jerry <3, your code is <script>"x"</script> (plain).\n'
    pushed = render(RecordingPushChannel(), make_message(context=context))
    assert (pushed.title, pushed.body) == ("Hi Tom & Jerry <3", 'Your code is <script>"x"</script>.')


def test_derived_text_part_reads_like_the_html():
    rendered = render(RecordingEmailChannel(), make_message(name="htmlonly", context={"first_name": "A & B"}))
    assert rendered.body.splitlines()[0] == "Title for A & B"


def test_action_links_tag_renders_the_channel_links():
    rendered = render(LinkingChannel(), make_message(name="actions"))
    assert "links:1[Preferences|https://example.org/prefs/7]" in rendered.body_html


@pytest.mark.django_db
def test_action_links_tag_with_a_channel_without_links():
    channel = channels().get_default_channel(RecordingEmailChannel.channel_type)
    assert isinstance(channel, EmailChannelMixin)
    assert "links:0</p>" in render(channel, make_message(name="actions")).body_html


def test_action_links_property_is_the_deprecated_spelling():
    assert RecordingEmailChannel().action_links == []
    assert RecordingEmailChannel().tracker_image_sources == []


def test_one_line_and_html_to_text():
    assert one_line(" a\n b\r\n\tc ") == "a b c"
    text = html_to_text("<style>p{}</style><h1>T</h1><p>a &amp; b</p><p>c<br>d</p>")
    assert text == "T\na & b\nc\nd\n"


@pytest.mark.parametrize("body,text", [
    ('<p>Reset: <a href="https://example.org/r?a=1&amp;b=2">this link</a>.</p>', "Reset: this link (https://example.org/r?a=1&b=2).\n"),
    ('<a href="https://example.org/">https://example.org/</a>', "https://example.org/\n"),
    ("<a href='#top'>Back to top</a>", "Back to top\n"),
    ('<a class="btn" href=https://example.org/go><b>Go</b></a>', "Go (https://example.org/go)\n"),
    ('<a href="https://example.org/pixel"><img src="x.png"></a>', "https://example.org/pixel\n"),
])
def test_derived_text_keeps_link_addresses(body, text):
    assert html_to_text(body) == text

