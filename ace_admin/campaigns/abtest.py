"""A/B tests of a campaign: who gets which variant, how the winner is picked, and how sure the difference is.

A campaign with variants (``CampaignVariant``: B, C, D; the campaign's own message type is A) tests them in each
run. The run's plan (``CampaignRun.ab_plan``) is taken when the run starts, so editing the campaign later does not
change a run under way. Each recipient's share follows from a hash of the run's bulk-send id and the recipient:

- the **holdout** (``ab_holdout_percent``) gets nothing; their batches are kept (done, never sent) so the people
  can be compared with the others later;
- the **test group** (``ab_test_percent``) is split evenly between the variants and sent at once;
- the **rest** waits (batches in status "waiting") until the winner is picked, ``ab_wait_hours`` after the run
  started, by the highest unique open or click rate (people only: machine opens and clicks are in no rate), then
  gets the winner. With the rule "no winner" there is no rest: the whole audience (less the holdout) is split.

Every share is a batch of the same run, so the delivery log's unique (run, recipient, channel) key holds across
variants: nobody is mailed twice, whichever worker dies when.

The winner and the confidence of a difference (``ace_admin.reports.stats``: a two-sided two-proportion z-test
between the best variant and each other one, ``1 - p``) are the figures the reports show; a guide for the
marketer, not a stopping rule.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from ace_admin.models import Campaign
from ace_admin.reports import stats
from ace_admin.reports.stats import base_of, confidence, describe, metric_of  # noqa: F401 (this module's API)

#: The label of the campaign's own message type.
CONTROL = "A"
HOLDOUT = "holdout"
#: Hash buckets: shares are counted in hundredths of a percent.
_BUCKETS = 10_000


def test_percent(rule: str, test: int, holdout: int) -> int:
    """The share of the audience in the test: ``test``, or everyone but the holdout when there is no winner."""
    return 100 - holdout if rule == Campaign.AB_RULE_NONE else test


def plan_for(campaign, started_at) -> dict:
    """The A/B plan of a run of ``campaign`` starting at ``started_at`` (``{}``: the campaign tests nothing)."""
    variants = list(campaign.variants.order_by("label").values_list("label", "message_type_id")) if campaign.pk else []
    if not variants:
        return {}
    rule = campaign.ab_winner_rule
    plan = {"variants": {CONTROL: campaign.message_type_id, **dict(variants)},
            "holdout_percent": campaign.ab_holdout_percent, "rule": rule,
            "test_percent": test_percent(rule, campaign.ab_test_percent, campaign.ab_holdout_percent)}
    if rule != Campaign.AB_RULE_NONE:
        plan["wait_hours"] = campaign.ab_wait_hours
        plan["decide_at"] = (started_at + timedelta(hours=campaign.ab_wait_hours)).isoformat()
    return plan


def labels(plan: dict) -> list[str]:
    return sorted((plan or {}).get("variants", {}))


def has_winner_rule(plan: dict) -> bool:
    return bool(plan) and plan.get("rule") != Campaign.AB_RULE_NONE


def share(plan: dict, seed: str, row: dict) -> str:
    """Which share of the run ``row`` falls in: a variant label, ``HOLDOUT``, or ``""`` (the rest, waiting for the
    winner). The same for every reading of the audience (a resumed run puts everyone where they were)."""
    digest = hashlib.sha256(f"{seed}|{row.get('id') or ''}|{(row.get('email') or '').lower()}".encode()).digest()
    value = int.from_bytes(digest[:8], "big")
    bucket, pick = value % _BUCKETS, value // _BUCKETS
    holdout = round(plan.get("holdout_percent", 0) * _BUCKETS / 100)
    if bucket < holdout:
        return HOLDOUT
    if bucket < holdout + round(plan.get("test_percent", 0) * _BUCKETS / 100):
        names = labels(plan)
        return names[pick % len(names)]
    return ""


def split(plan: dict, seed: str, rows: list[dict]) -> dict[str, list[dict]]:
    """``rows`` by share (see :func:`share`), in their order."""
    shares: dict[str, list[dict]] = {}
    for row in rows:
        shares.setdefault(share(plan, seed, row), []).append(row)
    return shares


def estimate(plan: dict, audience_size: int) -> dict:
    """How an audience of ``audience_size`` is expected to split under ``plan`` (for the campaign form): per
    variant, holdout, and the rest that gets the winner."""
    names = labels(plan)
    holdout = round(audience_size * plan.get("holdout_percent", 0) / 100)
    test = round(audience_size * plan.get("test_percent", 0) / 100)
    return {"variants": {name: test // len(names) for name in names}, "holdout": holdout,
            "rest": max(audience_size - holdout - test, 0)}


# --- the decision: the statistics live with the reports (ace_admin.reports.stats), which show them too ---------------

decide = stats.compare
