"""Migration 0008 (drafts and publishing) carries existing templates over: same content, same published flag, no
draft, ``content_revision`` pointing at the version of that content; and the audit trail's view permission."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("ace_admin", "0009_snippets_and_images")]  # the migration 0008 follows
AFTER = [("ace_admin", "0008_drafts_and_publishing")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_templates_stay_published_with_identical_content():
    try:
        old = _migrate(BEFORE)
        MessageType = old.get_model("ace_admin", "MessageType")
        Template = old.get_model("ace_admin", "Template")
        Revision = old.get_model("ace_admin", "TemplateRevision")
        for group in ("ACE editors", "ACE managers"):  # made by 0005 (a transactional test may have flushed them)
            old.get_model("auth", "Group").objects.get_or_create(name=group)
        news = MessageType.objects.create(app_label="demo", name="news")
        rows = {
            "live": ("demo/edx_ace/news/email/subject.txt", "fr", "Nouvelles {{ month }}\n", True),
            "draft": ("demo/edx_ace/news/email/body.html", "", "<p>Brouillon</p>", False),
            "restored": ("demo/edx_ace/news/email/body.txt", "", "Version one\r\n", True),
            "bare": ("ace/email/base.html", "", "{% block content %}{% endblock %}", True),
        }
        made = {}
        for key, (name, language, content, published) in rows.items():
            made[key] = Template.objects.create(name=name, language=language, content=content, published=published,
                                                message_type=news if key != "bare" else None)
        for key in ("live", "draft"):
            Revision.objects.create(template=made[key], number=1, content=made[key].content)
        # Restored: versions 1 and 2 exist, the content is version 1's again (a restore before drafts existed).
        Revision.objects.create(template=made["restored"], number=1, content="Version one\r\n")
        Revision.objects.create(template=made["restored"], number=2, content="Version two")
        before = sorted(Template.objects.values_list("name", "language", "content", "published", "archived"))

        new = _migrate(AFTER)
        Template = new.get_model("ace_admin", "Template")
        after = sorted(Template.objects.values_list("name", "language", "content", "published", "archived"))
        assert after == before  # byte for byte, published flags unchanged
        assert set(Template.objects.values_list("draft_content", "publish_at")) == {(None, None)}
        revisions = dict(Template.objects.values_list("name", "content_revision"))
        assert revisions == {"demo/edx_ace/news/email/subject.txt": 1, "demo/edx_ace/news/email/body.html": 1,
                             "demo/edx_ace/news/email/body.txt": 1, "ace/email/base.html": None}
        Group = new.get_model("auth", "Group")
        for group in ("ACE editors", "ACE managers"):
            assert Group.objects.get(name=group).permissions.filter(codename="view_publishingevent").exists()
        _migrate(BEFORE)  # and back
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
