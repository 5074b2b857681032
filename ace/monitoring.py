"""Reporting message delivery facts to a monitoring service (New Relic when it is installed)."""

from __future__ import annotations

from ace.utils.once import once


@once
def _newrelic_agent():
    try:
        import newrelic.agent
    except ImportError:
        return None
    return newrelic.agent


def report(key, value) -> None:
    """Report one ``key``/``value`` fact about the message being handled."""
    report_to_newrelic(key, value)


def report_to_newrelic(key, value) -> None:
    """Attach ``key``/``value`` to the current New Relic transaction; a no-op without the agent."""
    agent = _newrelic_agent()
    if agent is None:
        return
    add = getattr(agent, "add_custom_attribute", None) or agent.add_custom_parameter
    add(key, value)
