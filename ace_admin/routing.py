"""Moved to ``ace_admin.rules.routing``.
This path keeps ``ACE_CHANNEL_ROUTERS`` of deployed settings working;
``manage.py check`` says to update them (ace_admin.W008)."""

from ace_admin.rules.routing import DatabaseRouter

__all__ = ["DatabaseRouter"]
