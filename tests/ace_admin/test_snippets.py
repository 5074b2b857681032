"""Snippets: reusable blocks saved in the admin, included by name, per language, through the same sandbox."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from ace_admin.content.snippets import available_snippets, include_tag, template_name
from ace_admin.models import Snippet, Template
from tests.ace_admin.conftest import html_of, make_message, send_email
from tests.factories import EditorFactory, ManagerFactory, SnippetFactory, TemplateFactory

pytestmark = pytest.mark.django_db

BODY = "ace_admin_tests/edx_ace/welcome/email/body.html"


def test_a_template_includes_a_snippet_per_language():
    SnippetFactory(name="snippets/footer.html", content="<p>Footer for {{ first_name }}</p>")
    SnippetFactory(name="snippets/footer.html", language="fr", content="<p>Pied de page pour {{ first_name }}</p>")
    TemplateFactory(name=BODY, content='<p>Hi</p>{% include "snippets/footer.html" %}')

    _, english = send_email(make_message(language="en"))
    _, french = send_email(make_message(language="fr"))
    assert "<p>Footer for Ann</p>" in html_of(english)
    assert "<p>Pied de page pour Ann</p>" in html_of(french)
    assert "Footer for Ann" in english.body  # the text part is derived from the admin-edited HTML


def test_a_snippet_renders_in_the_sandbox():
    # What the sandbox hides from DB templates stays hidden inside a snippet too.
    SnippetFactory(name="snippets/probe.html", content="[{{ message.recipient.save }}|{{ channel.deliver }}]")
    TemplateFactory(name=BODY, content='{% include "snippets/probe.html" %}')
    _, email = send_email(make_message())
    assert "[|]" in html_of(email)


def test_include_needs_a_literal_snippet_name():
    with pytest.raises(ValidationError):
        TemplateFactory(name=BODY, content="{% include snippet_name %}")


def test_available_snippets_lists_each_name_once():
    SnippetFactory(name="snippets/footer.html")
    SnippetFactory(name="snippets/footer.html", language="fr")
    SnippetFactory(name="snippets/cta.html")
    SnippetFactory(name="snippets/old.html", archived=True, published=False)
    TemplateFactory(name="ace/email/other.html", content="x")
    assert available_snippets() == [
        {"name": "cta", "template_name": "snippets/cta.html", "include": '{% include "snippets/cta.html" %}'},
        {"name": "footer", "template_name": "snippets/footer.html", "include": include_tag("footer")},
    ]
    assert Snippet.objects.count() == 4
    assert template_name("footer") == "snippets/footer.html"


def admin_post(client, url, **data):
    fields = {"snippet_name": "", "language": "", "site": "", "content": "", **data}
    return client.post(url, fields)


def test_editor_creates_a_draft_snippet_in_the_admin(client):
    editor = EditorFactory()
    client.force_login(editor)
    response = admin_post(client, "/admin/ace_admin/snippet/add/", snippet_name="cta-button",
                          content='<a href="{{ url }}">Go</a>', published="on")
    assert response.status_code == 302, response.content.decode()[:2000]
    snippet = Template.objects.get(name="snippets/cta-button.html")
    assert snippet.published is False  # an editor's new snippet waits for a manager
    assert snippet.updated_by == editor
    assert snippet.revisions.count() == 1
    page = client.get(f"/admin/ace_admin/snippet/{snippet.pk}/change/")
    assert '{% include &quot;snippets/cta-button.html&quot; %}' in page.content.decode()
    assert "Content-Security-Policy" in page


def test_manager_publishes_and_invalid_content_is_refused(client):
    client.force_login(ManagerFactory())
    bad = admin_post(client, "/admin/ace_admin/snippet/add/", snippet_name="broken", content="{% if %}")
    assert bad.status_code == 200 and not Template.objects.filter(name="snippets/broken.html").exists()
    bad_name = admin_post(client, "/admin/ace_admin/snippet/add/", snippet_name="../x", content="ok")
    assert bad_name.status_code == 200
    good = admin_post(client, "/admin/ace_admin/snippet/add/", snippet_name="header", content="<h1>Hi</h1>",
                      published="on")
    assert good.status_code == 302
    assert Template.objects.get(name="snippets/header.html").published is True
    listing = client.get("/admin/ace_admin/snippet/")
    assert "header" in listing.content.decode()


def test_an_edit_of_a_published_snippet_is_a_draft_until_a_manager_publishes_it(client):
    snippet = SnippetFactory(name="snippets/footer.html", content="<p>Old footer</p>", published=True)
    client.force_login(EditorFactory())
    url = f"/admin/ace_admin/snippet/{snippet.pk}/change/"
    response = admin_post(client, url, snippet_name="footer", content="<p>New footer</p>", published="on")
    assert response.status_code == 302, response.content.decode()[:2000]
    snippet.refresh_from_db()
    assert (snippet.content, snippet.published, snippet.draft_content) == ("<p>Old footer</p>", True,
                                                                        "<p>New footer</p>")
    assert "New footer" in client.get(url).content.decode()  # the editor works on the draft

    client.force_login(ManagerFactory())
    admin_post(client, url, snippet_name="footer", content="<p>New footer</p>", published="on")
    snippet.refresh_from_db()
    assert (snippet.content, snippet.published, snippet.draft_content) == ("<p>New footer</p>", True, None)
    assert snippet.publishing_events.filter(action="publish").exists()
