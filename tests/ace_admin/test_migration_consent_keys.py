"""Migration 0006 keeps every opt-out: the message type foreign key becomes its natural key, and back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("ace_admin", "0004_campaigns")]
AFTER = [("ace_admin", "0006_archive_and_consent_keys")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_opt_outs_keep_their_message_type_across_the_migration():
    try:
        old = _migrate(BEFORE)
        MessageType = old.get_model("ace_admin", "MessageType")
        OptOut = old.get_model("ace_admin", "OptOut")
        news = MessageType.objects.create(app_label="demo", name="news")
        OptOut.objects.create(email="a@example.org", message_type=news)
        OptOut.objects.create(email="b@example.org", category="offers")
        new = _migrate(AFTER)
        rows = sorted(new.get_model("ace_admin", "OptOut").objects.values_list("email", "category", "app_label",
                                                                               "message_name"))
        assert rows == [("a@example.org", "", "demo", "news"), ("b@example.org", "offers", "", "")]
        back = _migrate(BEFORE)
        restored = back.get_model("ace_admin", "OptOut").objects.get(email="a@example.org")
        assert restored.message_type.name == "news"
    finally:
        _migrate(AFTER)
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
