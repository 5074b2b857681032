"""The Django admin of ACE: content (message types, templates, history) and operations (routes, policies, log)."""

import ace_admin.campaign_admin  # noqa: F401  (audiences, campaigns, runs)
from ace_admin import privacy_admin  # noqa: F401  (suppressions, opt-out counts, erasure; imports operations)
from ace_admin.admin import content, operations  # noqa: F401  (importing registers the ModelAdmins)
