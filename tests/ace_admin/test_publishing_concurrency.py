"""A scheduled publish happens exactly once when several workers check at the same moment (PostgreSQL: real
concurrent transactions, one connection per thread)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from ace_admin.content import publishing
from ace_admin.models import PublishingEvent, Template
from tests.factories import ManagerFactory, MessageTypeFactory, TemplateFactory

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 6


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs DATABASE_URL=postgres://... (concurrent "
                                                                 "transactions; SQLite serialises writers)")
def test_concurrent_workers_publish_a_due_schedule_exactly_once():
    MessageTypeFactory(app_label="tests", name="greeting", category="marketing")
    manager = ManagerFactory()
    templates = [TemplateFactory(name=f"tests/edx_ace/greeting/email/{part}", content="v1")
                 for part in ("subject.txt", "from_name.txt", "body.txt")]
    for template in templates:
        publishing.save_draft(template, "v2", manager)
        publishing.schedule(template, manager, timezone.now() + timedelta(minutes=1))
    Template.objects.update(publish_at=timezone.now() - timedelta(seconds=1))
    barrier = threading.Barrier(WORKERS)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=30)
            results.extend(publishing.publish_due())
        except Exception as error:  # noqa: BLE001 — reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(pk for pk, outcome in results if outcome == "published") == sorted(t.pk for t in templates)
    assert PublishingEvent.objects.filter(action=PublishingEvent.SCHEDULED_PUBLISH).count() == len(templates)
    assert set(Template.objects.values_list("content", "publish_at")) == {("v2", None)}
