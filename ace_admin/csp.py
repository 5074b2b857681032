"""Moved to ``ace_admin.preview.csp``.
This path keeps the ``MIDDLEWARE`` of deployed settings working;
``manage.py check`` says to update them (ace_admin.W008)."""

from ace_admin.preview.csp import ContentSecurityPolicyMiddleware

__all__ = ["ContentSecurityPolicyMiddleware"]
