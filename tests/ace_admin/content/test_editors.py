"""The editors' proofs without a browser: routing, the parse -> serialise round trip, the merge of a visual
edit into the source, the refusal of a visual save that lost logic, and byte-for-byte posts (JavaScript off)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ace_admin.content import editors
from ace_admin.content.picker import PICKER_SOURCES, PickerItem, picker_items
from tests.factories import MessageTypeFactory, SnippetFactory, TemplateFactory

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "tests" / "corpus" / "email_templates"
VISUAL = {"01_nested_tables.html", "06_include.html", "07_entities.html", "08_rtl.html", "09_marketing_fragment.html",
          "11_crlf_and_no_final_newline.html"}
FRAGMENT = ('{% extends "ace/email/base.html" %}\n{% block content %}\n<p>Hello {{ first_name }},</p>\n'
            "{% for article in articles %}\n<p>{{ article.title }}</p>\n{% endfor %}\n{% endblock %}\n")


@pytest.mark.parametrize("path", sorted(CORPUS.iterdir()), ids=lambda p: p.name)
def test_corpus_routes_to_the_right_editor_and_round_trips(path):
    source = path.read_bytes().decode()
    verdict = editors.classify(source, path.name)
    assert verdict.editor == (editors.VISUAL if path.name in VISUAL else editors.SOURCE), verdict.reason
    if verdict.editor == editors.VISUAL:
        assert editors.from_visual(editors.to_visual(source)) == source


@pytest.mark.parametrize(("source", "reason"), [
    ("<tr>{% for x in xs %}<td>{{ x }}</td>{% endfor %}</tr>", "inside <tr>"),
    ('<p class="{% if a %}b{% endif %}">x</p>', "inside an HTML tag"),
    ("<p>Hi {% if a %}there{% endif %}</p>", "inside <p>"),
    ("{% load i18n %}<p>{% trans 'Hi' %}</p>", "{% trans %}"),
    ("<!--[if mso]><table><![endif]-->", "HTML comments"),
    ("{% load acetags %}<!DOCTYPE html><html></html>", "whole email document"),
])
def test_what_the_visual_editor_cannot_represent_opens_as_source_with_a_reason(source, reason):
    verdict = editors.classify(source, "x.html")
    assert verdict.editor == editors.SOURCE and reason in verdict.reason


def test_text_parts_are_source():
    assert editors.classify("Hello {{ first_name }}", "email/subject.txt").editor == editors.SOURCE


def reformat(markup: str) -> str:
    """Roughly what CKEditor's serialiser does: its own line breaks, attribute quoting, entities."""
    return markup.replace("<p>", "\n<p>").replace("\n\n", "\n").replace("'", "&#39;")


def test_a_visual_edit_changes_only_what_was_typed():
    shown = editors.to_visual(FRAGMENT)
    initial = reformat(shown)
    edited = initial.replace("Hello ", "Hello dear ")
    assert editors.accept_visual(FRAGMENT, initial, edited) == FRAGMENT.replace("Hello ", "Hello dear ")


def test_an_untouched_visual_save_keeps_the_bytes():
    shown = editors.to_visual(FRAGMENT)
    assert editors.accept_visual(FRAGMENT, reformat(shown), reformat(shown)) == FRAGMENT


def test_two_edits_far_apart_keep_the_bytes_between_them():
    shown = editors.to_visual(FRAGMENT)
    initial = reformat(shown)
    chip = '<span class="ace-tag" data-ace-src="{{ article.title }}">'
    edited = initial.replace("Hello ", "Hi ").replace("<p>" + chip, "<p>Read: " + chip)
    result = editors.accept_visual(FRAGMENT, initial, edited)
    assert result == FRAGMENT.replace("Hello ", "Hi ").replace("<p>{{ article.title", "<p>Read: {{ article.title")


def test_a_visual_save_that_loses_a_section_is_refused():
    shown = editors.to_visual(FRAGMENT)
    start = shown.index('<div class="ace-section" data-ace-open="{% for')
    end = shown.index("</div>", start) + len("</div>")
    edited = shown[:start] + shown[end:]
    with pytest.raises(ValidationError, match="would have changed the template"):
        editors.accept_visual(FRAGMENT, shown, edited)


def test_a_merge_tag_may_be_removed_or_added_in_the_visual_editor():
    shown = editors.to_visual(FRAGMENT)
    edited = shown.replace('<span class="ace-tag" data-ace-src="{{ first_name }}">first_name</span>',
                           '<span class="ace-tag" data-ace-src="{{ platform_name }}">platform_name</span>')
    assert "Hello {{ platform_name }}," in editors.accept_visual(FRAGMENT, shown, edited)


def test_picker_offers_sample_data_loop_fields_engine_variables_links_and_plugged_sources(db):
    message_type = MessageTypeFactory(sample_context={"first_name": "Ada", "articles": [{"title": "T", "url": "u"}]})
    PICKER_SOURCES.append(lambda mt, source: [PickerItem("Snippets", "footer", '{% include "snippets/footer" %}')])
    try:
        items = picker_items(message_type, FRAGMENT)
    finally:
        PICKER_SOURCES.pop()
    inserts = {(item.group, item.insert) for item in items}
    assert ("This message's data", "{{ first_name }}") in inserts
    assert ("In the loop over articles", "{{ article.url }}") in inserts
    assert ("Every message", "{{ recipient.email_address }}") in inserts
    assert ("Links", "{{ unsubscribe_url }}") in inserts and ("Links", "{{ preferences_url }}") in inserts
    assert ("Snippets", '{% include "snippets/footer" %}') in inserts


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def template_post(template, content, **extra):
    return {"name": template.name, "language": template.language, "site": "", "published": "on",
            "content": content, "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0", **extra}


@pytest.mark.parametrize("content", [
    FRAGMENT, FRAGMENT.rstrip("\n"), FRAGMENT.replace("\n", "\r\n"), "\n\n  Leading and trailing  \n\n",
    (CORPUS / "05_trans.html").read_bytes().decode(),
], ids=["lf", "no-final-newline", "crlf", "blank-lines", "trans"])
def test_an_untouched_save_without_javascript_keeps_the_bytes_and_records_no_version(staff, content):
    template = TemplateFactory(name="tests/edx_ace/greeting/email/body.html", content=content)
    # A browser posts every textarea with CRLF line ends.
    response = staff.post(reverse("admin:ace_admin_template_change", args=[template.pk]),
                          template_post(template, content.replace("\r\n", "\n").replace("\n", "\r\n")))
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.content.encode() == content.encode()
    assert template.revisions.count() == 1


def test_a_refused_visual_save_says_why_and_saves_nothing(staff):
    template = TemplateFactory(name="tests/edx_ace/greeting/email/body.html", content=FRAGMENT)
    shown = editors.to_visual(FRAGMENT)
    edited = shown.replace("{% for article in articles %}", "{% for article in news %}")
    response = staff.post(reverse("admin:ace_admin_template_change", args=[template.pk]), template_post(
        template, FRAGMENT, content__mode="visual", content__visual=edited, content__initial=shown))
    assert response.status_code == 200
    assert "would have changed the template" in response.content.decode()
    template.refresh_from_db()
    assert template.content == FRAGMENT and template.revisions.count() == 1


def test_picker_lists_the_snippets_saved_in_the_admin(db):
    SnippetFactory(name="snippets/footer.html", content="<p>Footer</p>")
    inserts = {(item.group, item.label, item.insert) for item in picker_items(MessageTypeFactory(), FRAGMENT)}
    assert ("Snippets", "footer", '{% include "snippets/footer.html" %}') in inserts


@pytest.mark.parametrize("chip", [
    '{% debug %}',  # not a merge tag or an include: the visual editor may not add it
    '{% include "../../config/settings.py" %}',  # a file outside the template folders, dressed as a snippet chip
    '{% include "/etc/passwd" %}',
    '{{ message.__class__.__init__.__globals__ }}',  # a merge tag, accepted as such, but data-only when rendered
], ids=["debug", "relative-include", "absolute-include", "dunder-merge-tag"])
def test_a_crafted_chip_from_the_visual_editor_cannot_reach_a_file_or_an_object(staff, chip):
    template = TemplateFactory(name="tests/edx_ace/greeting/email/body.html", content=FRAGMENT)
    shown = editors.to_visual(FRAGMENT)
    escaped = chip.replace("&", "&amp;").replace('"', "&quot;")
    edited = shown.replace("</p>", f'<span class="ace-tag" data-ace-src="{escaped}">x</span></p>', 1)
    response = staff.post(reverse("admin:ace_admin_template_change", args=[template.pk]), template_post(
        template, FRAGMENT, content__mode="visual", content__visual=edited, content__initial=shown))
    template.refresh_from_db()
    assert template.content == FRAGMENT  # what is sent never changes from an editor's page
    if response.status_code == 302:
        # A merge tag or an include may be added from the visual editor: it is stored in the draft, and the
        # sandbox decides what it can reach when rendered (HOSTILE in tests/ace_admin/hostile_templates.py sends
        # the same include names and dunder paths: nothing of a file or an object comes out).
        assert chip in template.working_content and not chip.startswith("{% debug")
    else:
        assert response.status_code == 200 and not template.has_draft, template.working_content
