"""Moved to ``ace_admin.rules.defaults``.
This path keeps ``ACE_MESSAGE_PREPARERS`` of deployed settings working;
``manage.py check`` says to update them (ace_admin.W008)."""

from ace_admin.rules.defaults import apply_message_type_defaults

__all__ = ["apply_message_type_defaults"]
