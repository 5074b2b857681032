"""The Django admin of ACE. Django's autodiscovery imports this module; each wing's admin registers its models."""

from ace_admin.campaigns import admin as campaigns_admin  # noqa: F401  (audiences, campaigns, runs)
from ace_admin.content import admin as content_admin  # noqa: F401  (message types, templates, history)
from ace_admin.privacy import admin as privacy_admin  # noqa: F401  (suppressions, opt-out counts, erasure)
from ace_admin.rules import admin as rules_admin  # noqa: F401  (routes, policies, opt-outs, delivery log)
