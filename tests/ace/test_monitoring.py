"""ace.monitoring: facts go to New Relic when its agent is importable, and nowhere otherwise."""

import sys
import types

import pytest

from ace import monitoring
from tests.ace.helpers import make_message


@pytest.fixture
def fresh_agent_lookup():
    monitoring._newrelic_agent.reset()
    yield
    monitoring._newrelic_agent.reset()


def test_without_newrelic_report_is_a_no_op(fresh_agent_lookup, monkeypatch):
    monkeypatch.setitem(sys.modules, "newrelic", None)  # import newrelic -> ImportError
    assert monitoring.report("key", "value") is None
    make_message().report_basics()


def test_with_an_agent_facts_are_attached(fresh_agent_lookup, monkeypatch):
    """A stand-in for the New Relic agent package (not installed here), speaking its documented API."""
    received = []
    agent = types.ModuleType("newrelic.agent")
    agent.add_custom_attribute = lambda key, value: received.append((key, value))
    package = types.ModuleType("newrelic")
    package.agent = agent
    monkeypatch.setitem(sys.modules, "newrelic", package)
    monkeypatch.setitem(sys.modules, "newrelic.agent", agent)

    message = make_message(send_uuid=None, language="fr")
    message.report_basics()
    assert received == [  # edx-ace's keys first (message_name with the app label, language), then ACE's
        ("message_name", "tests.greeting"),
        ("language", "fr"),
        ("message_uuid", str(message.uuid)),
        ("message_send_uuid", None),
    ]
