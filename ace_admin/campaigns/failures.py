"""How a run's undelivered messages are grouped (status + reason, addresses and ids taken out) and which groups are
worth retrying: shared by the run page (``story.failure_groups``) and the retry action (``service.retry_failures``),
so the button retries exactly the rows its group counted."""

from __future__ import annotations

import re

#: Delivery-log statuses that are not failures (delivered, stopped by a policy, or still on their way).
NOT_FAILED = ("sent", "denied", "disabled", "sending", "retrying")

_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{4}-\d\d-\d\dT[\d:.+]+")
#: Failures worth trying again: the provider kept failing, the message ran out of time, or a template was wrong
#: (fixed since). Not: addresses refused for good, messages that killed workers.
RETRYABLE_STATUSES = ("expired", "template_error", "template_missing")
RETRYABLE_MARKERS = ("still failing after", "after expiration")


def reason(status: str, error: str) -> str:
    """The group reason of one delivery-log row: its error without addresses, ids and times."""
    return _ID.sub("…", _ADDRESS.sub("<address>", error or ""))[:300] or status


def retryable(status: str, reason_text: str) -> bool:
    return status in RETRYABLE_STATUSES or any(marker in reason_text for marker in RETRYABLE_MARKERS)
