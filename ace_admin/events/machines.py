"""Opens and clicks made by software rather than by the person, flagged (counted apart), not dropped.

- Apple Mail Privacy Protection fetches every image of a message on Apple's proxies when it is delivered,
  whether or not it is read: from Apple's network (17.0.0.0/8) with the bare user agent ``Mozilla/5.0``.
- Mail security gateways (Proofpoint, Mimecast, Microsoft Safe Links...) follow every link within seconds of
  delivery, often with HEAD requests or their own user agents (the click within
  ``ACE_TRACKING_SCANNER_SECONDS`` of sending is flagged by ``ingest``, which knows the sending time).
"""

from __future__ import annotations

import functools
import ipaddress

from ace.settings import on_reload
from ace_admin.settings import admin_settings

#: The whole user agent Apple's privacy proxy sends.
APPLE_PROXY_USER_AGENT = "mozilla/5.0"


@functools.cache
def _networks() -> tuple:
    return tuple(ipaddress.ip_network(text, strict=False) for text in admin_settings.ACE_TRACKING_MACHINE_NETWORKS)


on_reload(_networks.cache_clear)


def _in_networks(ip: str | None) -> bool:
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in _networks())


def _agent_reason(user_agent: str) -> str:
    agent = user_agent.strip().lower()
    for fragment in admin_settings.ACE_TRACKING_MACHINE_USER_AGENTS:
        if fragment and fragment in agent:
            return f"automated user agent ({fragment})"
    return ""


def open_reason(user_agent: str | None, ip: str | None = None) -> str:
    """Why an open is a machine's, or '' for a person's."""
    agent = (user_agent or "").strip().lower()
    if _in_networks(ip):
        return "Apple Mail Privacy Protection (Apple network)" if ip.startswith("17.") else "machine network"
    if agent == APPLE_PROXY_USER_AGENT:
        return "Apple Mail Privacy Protection (proxy user agent)"
    if not agent:
        return "no user agent (prefetch)"
    return _agent_reason(agent)


def click_reason(user_agent: str | None, ip: str | None = None, method: str = "GET") -> str:
    """Why a click is a machine's (link scanner), or '' for a person's (timing is judged in ``ingest``)."""
    if method == "HEAD":
        return "HEAD request (link scanner)"
    if not (user_agent or "").strip():
        return "no user agent (link scanner)"
    if _in_networks(ip):
        return "machine network"
    return _agent_reason(user_agent)
