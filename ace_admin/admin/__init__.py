"""The Django admin of ACE: content (message types, templates, history) and operations (routes, policies, log)."""

from ace_admin.admin import content, operations  # noqa: F401  (importing registers the ModelAdmins)
