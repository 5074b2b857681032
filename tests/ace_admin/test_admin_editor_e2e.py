"""Templates the visual editor cannot represent open in the source editor and keep every byte (a real browser)."""

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
    page.wait_for_function("() => document.querySelector('.ace-editor').aceEditor")
    page.click("input[name=_save]")
    page.wait_for_url(live_url("/admin/ace_admin/template/"))
    template.refresh_from_db()
    return template.content


def render(source, **context):
    return engines["django"].from_string(source).render(context)


def test_a_child_template_with_a_comment_opens_in_source_and_keeps_its_bytes(admin_page, live_url):  # noqa: F811
    template = TemplateFactory(name="ace_e2e/edx_ace/digest/email/body.html", content=CHILD)
    saved = edit_and_save(admin_page, live_url, template)
    assert saved == CHILD and TAGS.findall(saved) == TAGS.findall(CHILD)
    assert admin_page.log.errors == []
    assert template.revisions.count() == 1


def test_a_full_email_document_opens_in_source_and_keeps_its_bytes(admin_page, live_url):  # noqa: F811
    template = TemplateFactory(name="ace_e2e/layout.html", content=PAGE)
    saved = edit_and_save(admin_page, live_url, template)
    assert saved == PAGE
    assert render(saved).count("<html") == 1
    assert template.revisions.count() == 1
