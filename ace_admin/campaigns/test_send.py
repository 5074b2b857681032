""""Send a test" from a campaign's page: the campaign's message — and each of its A/B variants — with its shared
details and the personal details of its audience's first member, to the message type's seed addresses (or the
requester), under the preview's rules (``ace_admin.preview.test_sends``: at most 10 addresses, never a suppressed
one, an hourly allowance counting every message)."""

from __future__ import annotations

from ace import ace as ace_send
from ace.channel import ChannelType
from ace_admin.campaigns.messages import campaign_message
from ace_admin.campaigns.preflight import sample
from ace_admin.preview import test_sends
from ace_admin.preview.render import split_addresses


def send(campaign, user) -> tuple[test_sends.Plan, list[tuple[str, str]]]:
    """Send the test; returns the plan (skipped addresses, refusal) and ``[(address, outcome text)]``."""
    seeds = split_addresses(campaign.message_type.seed_addresses) or [user.email]
    variants = [("", None), *((f" (variant {variant.label})", variant.message_type)
                              for variant in campaign.variants.select_related("message_type"))]
    plan = test_sends.plan(user, seeds, messages_each=len(variants))
    if plan.refused:
        return plan, []
    rows = sample(campaign.audience)[:1] or [{"id": "", "email": "", "lang": "", "ctx": {}}]
    results = []
    for address in plan.addresses:
        for label, message_type in variants:
            message = campaign_message(campaign, {**rows[0], "id": "", "email": address}, message_type=message_type)
            message.options["is_test"] = True
            try:
                outcomes = ace_send.send(message, limit_to_channels=[ChannelType.EMAIL])
            except Exception as error:  # noqa: BLE001 — what the page reports
                results.append((address + label, f"failed: {type(error).__name__}: {error}"))
                continue
            outcome = outcomes.for_channel(ChannelType.EMAIL)
            results.append((address + label, outcome.status.value if outcome else "not sent: no email channel"))
    return plan, results
