"""The DB template loader, through ace.send: DB over files, fallback, languages, sites, extends/include, caching."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection

from ace.outcome import DeliveryStatus
from ace_admin import stamp
from ace_admin.models import Template, TemplateRevision
from tests.ace_admin.conftest import html_of, make_message, send_email
from tests.factories import SiteFactory, TemplateFactory

SUBJECT = "ace_admin_tests/edx_ace/welcome/email/subject.txt"
BODY = "ace_admin_tests/edx_ace/welcome/email/body.html"
LAYOUT = "ace_admin_tests/layout.html"
FOOTER = "ace_admin_tests/footer.html"

pytestmark = pytest.mark.django_db


def subject_of(message=None) -> str:
    result, email = send_email(message or make_message())
    assert result.for_channel(result[0].channel_type).status is DeliveryStatus.SENT, result
    return email.subject


def test_files_are_used_without_db_templates():
    _, email = send_email(make_message())
    assert email.subject == "Welcome Ann (file)"
    assert "FILE-LAYOUT File body for Ann FILE-FOOTER" in html_of(email)


def test_saved_template_is_used_by_the_next_send_and_deleting_it_falls_back_to_the_file(db_template):
    assert subject_of() == "Welcome Ann (file)"  # warm every cache first
    template = db_template(SUBJECT, "Hello {{ first_name }} from the database")
    assert subject_of() == "Hello Ann from the database"
    template.content = "Edited: {{ first_name }}"
    template.save()
    assert subject_of() == "Edited: Ann"
    template.published = False  # templates with history are archived/unpublished, not deleted
    template.save()
    assert subject_of() == "Welcome Ann (file)"


def test_bulk_writes_are_seen_by_the_next_send(db_template):
    db_template(SUBJECT, "Version one")
    assert subject_of() == "Version one"
    Template.objects.filter(name=SUBJECT).update(content="Version two")  # an admin action / import
    assert subject_of() == "Version two"
    TemplateRevision.objects.filter(template__name=SUBJECT).delete()  # history first: it protects the template
    Template.objects.filter(name=SUBJECT).delete()
    assert subject_of() == "Welcome Ann (file)"
    Template.objects.bulk_create([Template(name=SUBJECT, content="Version three")])
    assert subject_of() == "Version three"
    Template.objects.filter(name=SUBJECT).update(published=False)  # a draft is never sent
    assert subject_of() == "Welcome Ann (file)"


def test_the_shared_stamp_is_what_invalidates(db_template):
    """Another process's edit reaches this one through the stamp in the shared cache, not the DB alone."""
    db_template(SUBJECT, "Old text")
    assert subject_of() == "Old text"
    with connection.cursor() as cursor:  # a write this process's caches are not told about
        cursor.execute("UPDATE ace_admin_template SET content = %s WHERE name = %s", ["New text", SUBJECT])
    assert subject_of() == "Old text"  # warm: served from memory, no query
    cache.set(stamp.STAMP_KEY, "written-by-another-process", None)
    assert subject_of() == "New text"


@pytest.mark.parametrize(("language", "expected"), [
    ("pt-br", "Olá (pt-br)"), ("pt", "Olá (pt)"), ("pt-pt", "Olá (pt)"), ("fr", "Bonjour"),
    ("de", "Hello (any language)"), (None, "Hello (any language)"),
])
def test_language_variants(db_template, language, expected):
    db_template(SUBJECT, "Olá (pt-br)", language="pt_BR")  # stored normalised as pt-br
    db_template(SUBJECT, "Olá (pt)", language="pt")
    db_template(SUBJECT, "Bonjour", language="fr")
    db_template(SUBJECT, "Hello (any language)")
    assert subject_of(make_message(language=language)) == expected


def test_a_language_without_db_version_and_no_neutral_one_uses_the_file(db_template):
    db_template(SUBJECT, "Bonjour", language="fr")
    assert subject_of(make_message(language="de")) == "Welcome Ann (file)"
    assert subject_of(make_message(language="fr")) == "Bonjour"


def test_site_variants(db_template):
    other = SiteFactory(domain="courses.example.org", name="Courses")
    db_template(SUBJECT, "All sites")
    db_template(SUBJECT, "Courses site", site=other)
    db_template(SUBJECT, "Courses site, French", site=other, language="fr")
    assert subject_of(make_message(options={"site": "courses.example.org"})) == "Courses site"
    assert subject_of(make_message(options={"site": other.pk})) == "Courses site"
    assert subject_of(make_message(options={"site": str(other.pk)})) == "Courses site"
    assert subject_of(make_message(options={"site": "example.com"})) == "All sites"
    assert subject_of(make_message()) == "All sites"
    assert subject_of(make_message(language="fr", options={"site": "courses.example.org"})) == "Courses site, French"
    # Language first: a French reader on another site gets the all-sites text, not a French one elsewhere.
    assert subject_of(make_message(language="fr", options={"site": "example.com"})) == "All sites"


def test_db_body_extends_file_layout_which_includes_file_footer(db_template):
    db_template(BODY, '{% extends "ace_admin_tests/layout.html" %}{% block content %}DB body {{ first_name }}'
                      '{% endblock %}')
    _, email = send_email(make_message())
    assert "FILE-LAYOUT DB body Ann FILE-FOOTER" in html_of(email)


def test_file_body_extends_db_layout_and_file_layout_includes_db_footer(db_template):
    db_template(FOOTER, "DB-FOOTER for {{ first_name }}")
    _, email = send_email(make_message())
    assert "FILE-LAYOUT File body for Ann DB-FOOTER for Ann" in html_of(email)
    db_template(LAYOUT, "<html><body>DB-LAYOUT {% block content %}{% endblock %} "
                        '{% include "ace_admin_tests/footer.html" %}</body></html>')
    _, email = send_email(make_message())
    assert "DB-LAYOUT File body for Ann DB-FOOTER for Ann" in html_of(email)
    assert "FILE-LAYOUT" not in html_of(email)


def test_db_layout_can_extend_the_file_of_the_same_name(db_template):
    # DB body -> DB layout -> file layout (same name: the engine skips the DB one it came from).
    db_template(LAYOUT, '{% extends "ace_admin_tests/layout.html" %}{% block content %}DB-LAYOUT-DEFAULT'
                        "{% endblock %}")
    db_template(BODY, '{% extends "ace_admin_tests/layout.html" %}{% block content %}BODY+{{ block.super }}'
                      "{% endblock %}")
    _, email = send_email(make_message())
    assert "FILE-LAYOUT BODY+DB-LAYOUT-DEFAULT FILE-FOOTER" in html_of(email)


def test_language_variant_of_a_layout_extends_the_neutral_db_layout(db_template):
    db_template(LAYOUT, "<html><body>NEUTRAL {% block greeting %}Hi{% endblock %} {% block content %}"
                        "{% endblock %}</body></html>")
    db_template(LAYOUT, '{% extends "ace_admin_tests/layout.html" %}{% block greeting %}Bonjour{% endblock %}',
                language="fr")
    _, email = send_email(make_message(language="fr"))
    assert "NEUTRAL Bonjour File body for Ann" in html_of(email)
    _, email = send_email(make_message(language="de"))
    assert "NEUTRAL Hi File body for Ann" in html_of(email)


@pytest.mark.django_db(transaction=True)
def test_edit_seen_by_a_warm_sender_in_another_thread():
    """A long-lived sending thread (its own DB connection, warm caches) sees an edit from its next send."""
    requests, answers = queue.Queue(), queue.Queue()

    def sender():
        try:
            while requests.get() is not None:
                answers.put(subject_of())
        finally:
            connection.close()

    worker = threading.Thread(target=sender)
    worker.start()
    try:
        template = TemplateFactory(name=SUBJECT, content="Before")
        requests.put("send")
        assert answers.get(timeout=30) == "Before"
        requests.put("send")
        assert answers.get(timeout=30) == "Before"  # warm
        template.content = "After"
        template.save()
        requests.put("send")
        assert answers.get(timeout=30) == "After"
    finally:
        requests.put(None)
        worker.join(timeout=30)


# A second Python process (a "worker") that keeps its caches warm between two sends.
WORKER = textwrap.dedent("""
    import json, sys
    import django
    django.setup()
    from django.test.utils import setup_test_environment
    setup_test_environment()  # the locmem outbox
    from tests.ace_admin.conftest import make_message, send_email
    for line in sys.stdin:
        _, email = send_email(make_message())
        print(json.dumps(email.subject), flush=True)
""")


@pytest.mark.django_db(transaction=True)
@pytest.mark.integration
def test_edit_seen_by_another_process_from_its_next_send(tmp_path):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip("the SQLite test database is in memory: another process cannot see it (run on PostgreSQL)")
    from django.test import override_settings

    cache_dir = tmp_path / "shared-cache"
    shared = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(cache_dir)}}
    settings_dict = connection.settings_dict
    url = (f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:"
           f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": url,
           "ACE_TEST_SHARED_CACHE_DIR": str(cache_dir)}
    with override_settings(CACHES=shared):
        template = TemplateFactory(name=SUBJECT, content="First version")
        worker = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, env=env, cwd=Path(__file__).resolve().parents[2])
        try:
            worker.stdin.write("send\n")
            worker.stdin.flush()
            assert json.loads(worker.stdout.readline()) == "First version"
            template.content = "Second version"
            template.save()  # committed (transactional test), stamp bumped in the shared file cache
            worker.stdin.write("send\n")
            worker.stdin.flush()
            assert json.loads(worker.stdout.readline()) == "Second version"
        finally:
            worker.stdin.close()
            worker.wait(timeout=30)
            TemplateRevision.objects.all().delete()
            Template.objects.all().delete()


def test_a_stamp_written_by_another_process_into_the_file_cache_is_seen(db_template, tmp_path):
    """The default (file-based) cache: this process notices a new stamp file written by another one."""
    from django.core.cache.backends.filebased import FileBasedCache
    from django.test import override_settings

    location = str(tmp_path / "cache")
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                               "LOCATION": location}}):
        db_template(SUBJECT, "Old text")
        assert subject_of() == "Old text"
        with connection.cursor() as cursor:
            cursor.execute("UPDATE ace_admin_template SET content = %s WHERE name = %s", ["New text", SUBJECT])
        assert subject_of() == "Old text"
        other_process_cache = FileBasedCache(location, {})  # its own handle on the same directory
        other_process_cache.set(stamp.STAMP_KEY, "bumped-elsewhere", None)
        assert subject_of() == "New text"
        assert stamp.current_stamp() == "bumped-elsewhere"
