"""Moved to ``ace_admin.campaigns.audiences``. This path keeps platform code that registers audiences working."""

from ace_admin.campaigns.audiences import Row, register, registered

__all__ = ["Row", "register", "registered"]
