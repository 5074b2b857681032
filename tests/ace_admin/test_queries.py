"""Query budget of ace.send with warm caches: no template query, at most two policy queries, one insert."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ace_admin.models import Template
from tests.ace_admin.conftest import html_of, make_message, send_email
from tests.factories import ChannelRouteFactory, MessageTypeFactory, PolicyRuleFactory, TemplateFactory

pytestmark = pytest.mark.django_db

BODY = "ace_admin_tests/edx_ace/welcome/email/body.html"


@pytest.fixture
def admin_configured():
    """A type with DB templates (body and layout), a route, a deny rule for push and a frequency cap."""
    welcome = MessageTypeFactory(app_label="ace_admin_tests", name="welcome", category="marketing")
    TemplateFactory(name=BODY, content='{% extends "ace_admin_tests/layout.html" %}'
                                      "{% block content %}DB body {{ first_name }}{% endblock %}")
    TemplateFactory(name="ace_admin_tests/layout.html",
                    content="<html><body>DB-LAYOUT {% block content %}{% endblock %}</body></html>")
    TemplateFactory(name="ace_admin_tests/edx_ace/welcome/email/subject.txt", content="DB subject",
                    language="fr")
    ChannelRouteFactory(order=1, message_type=welcome, channel_type="email", channel_name="django_email")
    PolicyRuleFactory(kind="deny", channel_type="push", category="marketing")
    PolicyRuleFactory(kind="frequency_cap", max_messages=100, period_seconds=86400)
    return welcome


def template_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "ace_admin_template" in q["sql"]]


def test_warm_send_makes_no_template_query_two_policy_queries_and_one_insert(admin_configured,
                                                                              django_assert_num_queries):
    _, email = send_email(make_message(language="fr"))  # warms every cache
    assert email.subject == "DB subject"
    with CaptureQueriesContext(connection) as queries:
        _, email = send_email(make_message(language="fr"))
    assert "DB-LAYOUT DB body Ann" in html_of(email) and email.subject == "DB subject"
    assert template_queries(queries) == []
    # Tests run inside a transaction, as a caller's atomic block: the log insert gets its savepoint (2 statements,
    # no round trip in autocommit), so that a failed insert never breaks the caller's transaction.
    sqls = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(queries) == 5 and len(sqls) == 3, sqls
    assert "ace_admin_optout" in sqls[0] and "ace_admin_deliverylog" in sqls[1]  # opt-outs, cap count
    assert sqls[2].startswith("INSERT") and "ace_admin_deliverylog" in sqls[2]
    with django_assert_num_queries(5):  # the same, for every further send
        send_email(make_message(language="de"))


def test_transactional_warm_send_makes_no_policy_query(admin_configured, django_assert_num_queries):
    send_email(make_message(options={"transactional": True}))
    with django_assert_num_queries(3):  # only the delivery-log insert (in its savepoint)
        _, email = send_email(make_message(options={"transactional": True}))
    assert "DB body Ann" in html_of(email)


def test_after_an_edit_the_next_send_reloads_once(admin_configured, django_assert_num_queries):
    send_email(make_message())
    Template.objects.filter(name=BODY).update(content="{% extends 'ace_admin_tests/layout.html' %}"
                                                     "{% block content %}Edited{% endblock %}")
    _, email = send_email(make_message())
    assert "DB-LAYOUT Edited" in html_of(email)
    with django_assert_num_queries(5):
        send_email(make_message())
