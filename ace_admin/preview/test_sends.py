"""Who a "Send a test" from the preview may reach, and how often.

- only the requesting user's own address or the message type's seed addresses (which only managers set);
- at most ``MAX_TEST_RECIPIENTS`` (10) addresses per send, and seed lists of at most 10;
- ``ACE_TEST_SEND_LIMIT_PER_HOUR`` test messages per user per hour (default 20), counted in Django's cache,
  which every web process shares (Redis, or files under var/);
- never to a suppressed or erased address (skipped; the page says so).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ace_admin.models import Suppression, identity_hash
from ace_admin.settings import admin_settings

MAX_TEST_RECIPIENTS = 10
_WINDOW_SECONDS = 3600
_KEY = "ace_admin:test-sends:{user}:{window}"


def hourly_limit() -> int:
    return int(admin_settings.ACE_TEST_SEND_LIMIT_PER_HOUR)


def validate_seed_addresses(addresses: list[str]) -> None:
    """A seed list: valid addresses, at most MAX_TEST_RECIPIENTS."""
    problems = []
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            problems.append(f"{address!r} is not an email address.")
    if len(addresses) > MAX_TEST_RECIPIENTS:
        problems.append(f"At most {MAX_TEST_RECIPIENTS} seed addresses ({len(addresses)} given).")
    if problems:
        raise ValidationError(problems)


@dataclass
class Plan:
    """The addresses a test send goes to, and those it skips with the reason."""

    addresses: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    refused: str = ""


def blocked_addresses(addresses: list[str]) -> dict[str, str]:
    """Address -> why it gets no test: suppressed (bounced, complained, added by staff) or erased."""
    by_hash = {identity_hash(address): address for address in addresses}
    found = {}
    for address_hash, reason in (Suppression.objects.filter(address_hash__in=list(by_hash), lifted_at__isnull=True)
                                 .values_list("address_hash", "reason")):
        found[by_hash[address_hash]] = ("the person's data was erased" if reason == Suppression.REASON_ERASED
                                        else "the address is suppressed")
    return found


def plan(user, addresses: list[str], messages_each: int = 1) -> Plan:
    """What to send: at most MAX_TEST_RECIPIENTS unique addresses, none suppressed or erased, within the user's
    hourly allowance (counted here, when the plan is made; ``messages_each`` messages per address, e.g. one per
    A/B variant)."""
    result = Plan()
    unique = list(dict.fromkeys(address.strip().lower() for address in addresses if address.strip()))
    for address in unique[MAX_TEST_RECIPIENTS:]:
        result.skipped.append((address, f"a test goes to at most {MAX_TEST_RECIPIENTS} addresses"))
    unique = unique[:MAX_TEST_RECIPIENTS]
    blocked = blocked_addresses(unique)
    result.skipped.extend((address, blocked[address]) for address in unique if address in blocked)
    wanted = [address for address in unique if address not in blocked]
    if wanted and not _take(user, len(wanted) * max(messages_each, 1)):
        result.refused = (f"Not sent: you may send {hourly_limit()} test messages per hour and have reached that "
                          "limit. Try again later.")
        return result
    result.addresses = wanted
    return result


def _take(user, count: int) -> bool:
    """Count ``count`` test messages for ``user`` in this hour's window, unless that passes the limit."""
    # The account's creation time too: a user id reused after a deletion does not inherit the count.
    joined = f"{user.date_joined.timestamp():.6f}" if getattr(user, "date_joined", None) else ""
    key = _KEY.format(user=f"{user.pk}-{joined}", window=int(time.time() // _WINDOW_SECONDS))
    cache.add(key, 0, _WINDOW_SECONDS + 60)
    try:
        total = cache.incr(key, count)
    except ValueError:  # expired between add and incr
        cache.set(key, count, _WINDOW_SECONDS + 60)
        total = count
    if total > hourly_limit():
        cache.decr(key, count)
        return False
    return True
