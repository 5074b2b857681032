"""Email-client-ready HTML at send time: CSS inlined (as inlining the rendered document would), <style> kept,
nothing fetched, and a text part that follows HTML edited in the admin."""

from __future__ import annotations

import http.server
import re
import threading

import css_inline
import pytest

from ace import presentation
from ace.ace import prepare
from ace.channel import ChannelType, get_channel_for_message
from ace.channel.mixins import EmailChannelMixin
from ace.message import Message
from ace.recipient import Recipient
from ace_admin.content import email_ready
from tests.ace_admin.conftest import html_of, send_email
from tests.conftest import load_demo
from tests.factories import TemplateFactory

pytestmark = pytest.mark.django_db

NEWSLETTER = "demo/edx_ace/newsletter/email/"


@pytest.fixture
def newsletter(db):
    return load_demo()["newsletter"]


def newsletter_message(newsletter, language="en", email="reader@example.org") -> Message:
    return Message(app_label="demo", name="newsletter", recipient=Recipient(lms_user_id=None, email_address=email),
                   language=language, context=dict(newsletter.sample_context))


def render_email(message):
    return presentation.render(get_channel_for_message(ChannelType.EMAIL, message), message)


def _untokened(html: str) -> str:
    return re.sub(r"/ace/(unsubscribe|preferences)/[^/\"]+/", r"/ace/\1/TOKEN/", html)


def test_delivered_html_is_the_rendered_document_inlined(newsletter, settings):
    message = newsletter_message(newsletter)
    result, email = send_email(message)
    assert email is not None, result
    html = html_of(email)

    settings.ACE_RENDERED_MESSAGE_PROCESSORS = []  # the engine alone: what edx-ace would render
    reference = newsletter_message(newsletter)
    prepare(reference)  # as send() does: the unsubscribe and preference links the footer shows
    plain = render_email(reference)
    document = EmailChannelMixin.html_document(plain)
    expected = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False).inline(document)
    # The footer's unsubscribe and preference links carry a token made afresh for each message.
    assert _untokened(html) == _untokened(expected)
    # <style> rules reached the elements; media queries are still there for the clients that read them.
    assert "border-collapse: collapse" in html.split("<body", 1)[1]
    assert "@media only screen and (max-width: 620px)" in html
    # A style written on the element wins over the <style> rule (a { color: #1a5fb4 }).
    assert 'style="color: #1f2328;text-decoration: none"' in html


def test_inlining_can_be_turned_off(newsletter, settings):
    settings.ACE_ADMIN_INLINE_CSS = False
    rendered = render_email(newsletter_message(newsletter))
    assert "border-collapse: collapse" not in rendered.body_html.split("<body", 1)[1]


def test_a_fragment_gets_the_css_of_head_html_and_keeps_its_head(db_template):
    base = "ace_admin_tests/edx_ace/styled/email/"
    db_template(base + "subject.txt", "Styled")
    db_template(base + "head.html", "<style>.cta { color: red; } @media (max-width: 600px) { .cta { color: blue; } }"
                                    "</style>")
    db_template(base + "body.html", '<p class="cta">Go {{ first_name }}</p>')
    message = Message(app_label="ace_admin_tests", name="styled", recipient=Recipient(1, "ann@example.com"),
                      context={"first_name": "Ann"})
    rendered = render_email(message)
    assert rendered.body_html == '<p class="cta" style="color: red;">Go Ann</p>'
    assert "@media" in rendered.head_html
    _, email = send_email(message)
    assert '<p class="cta" style="color: red;">Go Ann</p>' in html_of(email)


def test_remote_stylesheets_are_never_fetched(db_template):
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"p { color: green; }")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = "ace_admin_tests/edx_ace/linked/email/"
        db_template(base + "subject.txt", "Linked")
        db_template(base + "body.html", f'<html><head><link rel="stylesheet" href="http://127.0.0.1:'
                                        f'{server.server_address[1]}/x.css"><style>p {{ margin: 0; }}</style></head>'
                                        f'<body><p>Hi</p></body></html>')
        message = Message(app_label="ace_admin_tests", name="linked", recipient=Recipient(1, "ann@example.com"))
        rendered = render_email(message)
    finally:
        server.shutdown()
        server.server_close()
    assert requests == []
    assert "<link" not in rendered.body_html
    assert '<p style="margin: 0;">Hi</p>' in rendered.body_html


def test_text_part_follows_html_edited_in_the_admin(newsletter):
    # Files only: the developer's body.txt is used.
    files_only = render_email(newsletter_message(newsletter))
    assert "Browse all courses: https://learning.example.org/courses/" in files_only.body

    TemplateFactory(name=NEWSLETTER + "body.html", language="",
                    content='{% extends "ace/email/base.html" %}{% block content %}<p>Edited in the admin for '
                            '{{ first_name }}.</p><p><a href="https://example.org/x">Read more</a></p>{% endblock %}')
    derived = render_email(newsletter_message(newsletter))
    assert "Edited in the admin for Ada." in derived.body
    assert "Read more (https://example.org/x)" in derived.body
    assert "Browse all courses" not in derived.body  # the file text written for the old HTML is not used

    # A text template saved in the admin is an explicit override: it is kept.
    TemplateFactory(name=NEWSLETTER + "body.txt", language="", content="Hand-written text for {{ first_name }}.")
    explicit = render_email(newsletter_message(newsletter))
    assert explicit.body == "Hand-written text for Ada."


def test_text_follows_html_is_only_decided_while_rendering(newsletter):
    message = newsletter_message(newsletter)
    channel = get_channel_for_message(ChannelType.EMAIL, message)
    assert email_ready.text_follows_html(channel, message) is False  # both parts are files


def test_push_passes_through_untouched(settings):
    class Push:
        channel_type = ChannelType.PUSH

    assert email_ready.finish_email(Push(), None, object()) is None
