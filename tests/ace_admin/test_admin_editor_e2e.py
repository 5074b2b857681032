"""CKEditor in a real browser keeps Django template tags and whole email documents exactly where they were."""

import os
import re

import pytest
from django.template import engines

from tests.e2e.conftest import CHROMIUM, admin_page, browser, live_url, login, page, staff_user  # noqa: F401
from tests.factories import TemplateFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"browser test skipped: {CHROMIUM} not found"),
]

TAGS = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.S)

CHILD = """{% extends "ace/email/base.html" %}
{% block content %}
<h1>Hello {{ first_name|default:"there" }}</h1>
<table>
  <tr><th>Course</th><th>Starts</th></tr>
  {% for course in courses %}
  <tr><td><a href="{{ course.url }}">{{ course.name }}</a></td><td>{{ course.start }}</td></tr>
  {% empty %}
  <tr><td colspan="2">No course yet.</td></tr>
  {% endfor %}
</table>
{# a note for editors, never sent #}
{% if promo %}<p class="promo">{{ promo }}</p>{% endif %}
{% endblock %}
"""

PAGE = """<!DOCTYPE html>
<html lang="{{ message.language|default:'en' }}">
<head><meta charset="utf-8"><title>{% block title %}News{% endblock %}</title>
<style>@media only screen and (max-width: 620px) { .box { width: 100% !important; } }</style></head>
<body><div class="box">{% block content %}{% endblock %}</div></body>
</html>
"""


def edit_and_save(page, live_url, template):  # noqa: F811
    page.goto(live_url(f"/admin/ace_admin/template/{template.pk}/change/"))
    page.wait_for_function("() => window.CKEDITOR && CKEDITOR.instances.id_content"
                           " && CKEDITOR.instances.id_content.status === 'ready'")
    # Change the text like a person would (the editor serialises its DOM back on save).
    page.evaluate("() => { const e = CKEDITOR.instances.id_content; e.setData(e.getData()); }")
    page.wait_for_function("() => CKEDITOR.instances.id_content.status === 'ready'")
    page.click("input[name=_save]")
    page.wait_for_url(live_url("/admin/ace_admin/template/"))
    template.refresh_from_db()
    assert "\r" not in template.content  # browsers post CRLF; the form stores plain newlines
    return template.content


def render(source, **context):
    return engines["django"].from_string(source).render(context)


def test_editor_keeps_template_tags_of_a_child_template(admin_page, live_url):  # noqa: F811
    template = TemplateFactory(name="ace_e2e/edx_ace/digest/email/body.html", content=CHILD)
    saved = edit_and_save(admin_page, live_url, template)
    assert TAGS.findall(saved) == TAGS.findall(CHILD)
    assert admin_page.log.errors == []
    assert template.revisions.count() in (1, 2)  # a whitespace-only reformat may add a version, nothing else


def test_editor_keeps_a_full_email_document(admin_page, live_url):  # noqa: F811
    template = TemplateFactory(name="ace_e2e/layout.html", content=PAGE)
    saved = edit_and_save(admin_page, live_url, template)
    assert TAGS.findall(saved) == TAGS.findall(PAGE)
    assert "<!DOCTYPE html>" in saved and "<style" in saved and "max-width: 620px" in saved
    assert render(saved).count("<html") == 1
