"""Moved to ``ace_admin.content.loader``.
This path keeps the ``TEMPLATES`` loaders of deployed settings working;
``manage.py check`` says to update them (ace_admin.W008)."""

from ace_admin.content.loader import Loader

__all__ = ["Loader"]
