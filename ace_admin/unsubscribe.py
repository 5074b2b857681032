"""Moved to ``ace_admin.privacy.links``.
This path keeps ``ACE_MESSAGE_PREPARERS`` of deployed settings working;
``manage.py check`` says to update them (ace_admin.W008)."""

from ace_admin.privacy.links import prepare_message

__all__ = ["prepare_message"]
