"""The preview service renders what ace.send would deliver, reports template origins, errors and warnings."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from ace import ace
from ace.channel import ChannelType
from ace_admin.models import Template
from ace_admin.preview.render import (
    HTML_CLIP_BYTES,
    build_message,
    missing_variables,
    parse_context,
    render_preview,
)
from tests.factories import MessageTypeFactory, SiteFactory, TemplateFactory

pytestmark = pytest.mark.django_db


def sent_html(email) -> str:
    return next(content for content, kind in email.alternatives if kind == "text/html")


def _tokens_out(html: str) -> str:
    return re.sub(r"gAAAAA[\w=-]+", "TOKEN", html)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("name", ["password_reset", "course_start_reminder", "newsletter"])
def test_preview_is_exactly_what_ace_send_delivers(preview_request, name, language):
    request = preview_request(name, language=language)
    preview = render_preview(request, "ada@example.org")
    assert preview.error is None, preview.error

    message = build_message(request, "ada@example.org")
    ace.send(message, limit_to_channels=[ChannelType.EMAIL])
    [email] = mail.outbox
    assert preview.part("subject").value == email.subject
    assert _tokens_out(preview.part("body").value) == _tokens_out(email.body)  # the text part has the link too
    # Unsubscribe and preference links (the layout's footer) carry encrypted tokens, new for every message.
    assert _tokens_out(preview.html_document) == _tokens_out(sent_html(email))
    assert preview.from_header == email.from_email
    assert preview.channel_name == "django_email"


def test_sources_name_database_revisions_and_files(preview_request):
    template = Template.objects.get(name="demo/edx_ace/password_reset/email/subject.txt", language="fr")
    template.content = "Nouveau : {{ platform_name }}"
    template.save()
    preview = render_preview(preview_request(language="fr"))
    subject = preview.part("subject")
    assert subject.value == "Nouveau : Open Learning"
    assert subject.source.kind == "database"
    assert subject.source.revision == 2
    assert subject.source.describe() == "database, version 2 (fr)"
    files = {source.name: source for source in preview.sources if source.kind == "file"}
    assert files["ace/email/base.html"].path.endswith("templates/ace/email/base.html")
    assert "ace/email/button.html" in files

    english = render_preview(preview_request(language="en"))
    assert english.part("subject").source.kind == "file"
    assert english.part("subject").source.path.endswith("demo/edx_ace/password_reset/email/subject.txt")


def test_unsaved_edits_render_without_being_saved(preview_request):
    name = "demo/edx_ace/password_reset/email/body.html"
    before = list(Template.objects.values_list("pk", "content"))
    overlay = {name: '{% extends "ace/email/base.html" %}{% block content %}<p>Draft for {{ first_name }}</p>'
                     '{% endblock %}'}
    preview = render_preview(preview_request(language="en", overlay=overlay))
    assert preview.error is None
    assert "<p>Draft for Ada</p>" in preview.part("body_html").value
    assert preview.part("body_html").source.kind == "unsaved"
    assert list(Template.objects.values_list("pk", "content")) == before
    # The next render without the overlay is the saved content again (nothing leaked into the loader).
    assert "Draft for" not in render_preview(preview_request(language="en")).part("body_html").value


def test_unsaved_edit_may_extend_the_template_it_replaces(preview_request, db):
    name = "demo/edx_ace/password_reset/email/subject.txt"
    preview = render_preview(preview_request(language="en", overlay={name: f'{{% extends "{name}" %}}'}))
    assert preview.error is None
    assert preview.part("subject").value == "Reset your Open Learning password"


def test_syntax_error_names_the_template_and_line(preview_request):
    name = "demo/edx_ace/password_reset/email/body.html"
    overlay = {name: "<p>one</p>\n<p>two</p>\n{% if first_name %}<p>three</p>\n"}
    preview = render_preview(preview_request(language="en", overlay=overlay))
    assert preview.error.template_name == name
    assert preview.error.line == 3
    assert "endif" in preview.error.message


def test_error_in_an_included_file_names_that_file(preview_request, db):
    TemplateFactory(name="ace/email/button.html", content="ok")
    name = "demo/edx_ace/password_reset/email/body.html"
    overlay = {"ace/email/button.html": "a\n{{ url|nosuchfilter }}"}
    preview = render_preview(preview_request(language="en", overlay=overlay))
    assert preview.error.template_name == "ace/email/button.html"
    assert preview.error.line == 2
    assert "nosuchfilter" in preview.error.message
    assert name in [source.name for source in preview.sources]


def test_missing_required_template_is_reported(preview_request):
    preview = render_preview(preview_request(language="en", channel_type=ChannelType.PUSH))
    assert preview.error is not None
    assert "demo/edx_ace/password_reset/push/title.txt" in preview.error.message


def test_missing_variables_are_warned_about_not_failed(preview_request):
    context = {"platform_name": "Open Learning", "first_name": "Ada"}
    preview = render_preview(preview_request(language="en", context=context))
    assert preview.error is None
    text = "\n".join(preview.warnings)
    assert "{{ reset_url }}" in text
    assert "{{ expires_hours }}" in text
    assert "{{ first_name }}" not in text
    assert "{{ url }}" not in text and "{{ label }}" not in text  # given by {% include ... with url=... %}


def test_missing_variables_static_analysis():
    source = ("{% for item in articles %}{{ item.title }}{{ forloop.counter }}{% endfor %}"
              "{{ user.name }}{{ user.email }}{{ gone|default:'x' }}{% if flag and not other %}{% endif %}"
              "{% with total=count %}{{ total }}{% endwith %}{{ articles.5.title }}")
    context = {"articles": [{"title": "a"}], "user": {"name": "Ada"}, "flag": True}
    assert missing_variables(source, context) == ["user.email", "other", "count", "articles.5"]


def test_html_over_102_kb_is_warned_about(preview_request):
    name = "demo/edx_ace/password_reset/email/body.html"
    overlay = {name: "<p>" + "x" * (HTML_CLIP_BYTES + 10) + "</p>"}
    preview = render_preview(preview_request(language="en", overlay=overlay))
    assert preview.error is None
    assert preview.html_bytes > HTML_CLIP_BYTES
    assert any(f.code == "size-clipped" and "102 KB" in f.message for f in preview.findings)
    small = render_preview(preview_request(language="en"))
    assert not any(f.code == "size-clipped" for f in small.findings)


def test_site_picks_the_site_template(preview_request, db):

    site = SiteFactory(domain="partner.example.org", name="Partner")
    TemplateFactory(name="demo/edx_ace/password_reset/email/subject.txt", language="", site=site,
                    content="Partner reset")
    assert render_preview(preview_request(language="en", site=site)).part("subject").value == "Partner reset"
    assert render_preview(preview_request(language="en")).part("subject").value != "Partner reset"


def test_picked_channel_that_is_not_enabled_is_an_error(preview_request):
    preview = render_preview(preview_request(language="en", channel_name="braze_email"))
    assert "not enabled" in preview.error.message


@pytest.mark.parametrize("text, message", [
    ("{", "not valid JSON"), ("[1, 2]", "must be a JSON object"), ('{"a": 1,}', "line 1"),
])
def test_sample_data_errors_are_explained(text, message):
    with pytest.raises(ValueError, match=message):
        parse_context(text)
    assert parse_context("") == {}
    assert parse_context('{"a": [1]}') == {"a": [1]}


def test_push_parts_render_through_the_push_renderer(db):
    from ace_admin.preview.render import PreviewRequest

    message_type = MessageTypeFactory(app_label="tests", name="greeting",
                                      sample_context={"first_name": "Ada", "code": "1234"})
    preview = render_preview(PreviewRequest(message_type=message_type, context=dict(message_type.sample_context),
                                            channel_type=ChannelType.PUSH))
    assert preview.error is None
    assert preview.channel_name == "file_push"
    assert (preview.part("title").value, preview.part("body").value) == ("Hi Ada", "Your code is 1234.")
    assert preview.part("title").source.kind == "file"
    assert preview.html_document == ""


def test_preview_includes_what_message_preparers_add(preview_request):
    name = "demo/edx_ace/newsletter/email/body.txt"
    overlay = {name: "Hi {{ first_name }}. Unsubscribe: {{ unsubscribe_url }}"}
    request = preview_request("newsletter", language="en", overlay=overlay)
    preview = render_preview(request, "ada@example.org")
    assert preview.error is None
    text = preview.part("body").value
    assert "Unsubscribe: http" in text
    assert not any("unsubscribe_url" in warning for warning in preview.warnings)
