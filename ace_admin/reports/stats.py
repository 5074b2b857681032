"""A/B figures: which variant leads on a rate, and how sure the difference is (pure functions, figures in and out).

The confidence of a difference is a two-sided two-proportion z-test with a pooled standard error, ``1 - p``
(Bonferroni-adjusted when the leader is compared with several variants): the
run page, the report and the campaigns' winner rule (``ace_admin.campaigns.abtest``) all read it from here. Rates
count unique messages with the event (people only) out of those delivered, or, when the provider reports no
deliveries, out of those sent less hard bounces, as the reports' funnels do.
"""

from __future__ import annotations

import math


def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2))


def confidence(successes_a: int, trials_a: int, successes_b: int, trials_b: int,
               comparisons: int = 1) -> float | None:
    """How sure it is that two rates differ: 1 - the two-sided p-value of a pooled two-proportion z-test. None when
    either side has no trials or nothing happened on either side yet; 0.0 when the rates are equal. With
    ``comparisons`` > 1 (the leader against each of several variants) the p-value is multiplied by their number
    (Bonferroni), so that the confidence holds for all the comparisons together, not by luck of having many."""
    if not trials_a or not trials_b or not successes_a + successes_b:
        return None
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    error = math.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))
    if error == 0:
        return 0.0
    z = abs(successes_a / trials_a - successes_b / trials_b) / error
    p_value = 2 * (1 - _normal_cdf(z))
    return 1 - min(1.0, p_value * max(comparisons, 1))


def metric_of(rule: str) -> str:
    """The funnel key a rule compares: ``clicked`` or ``opened`` (unique messages, people only)."""
    return "opened" if rule == "open" else "clicked"


def base_of(figures: dict) -> int:
    """What a rate is out of: messages delivered, or (providers that report no deliveries, e.g. plain SMTP) sent
    less hard bounces, as the reports count it."""
    return figures.get("delivered") or max(figures.get("sent", 0) - figures.get("bounced", 0), 0)


def compare(rule: str, figures: dict[str, dict], chosen: str | None = None) -> tuple[str, dict]:
    """The winner among ``figures`` (``{label: funnel}``) by ``rule`` (or ``chosen``, a manager's pick), and what
    the decision rests on: each variant's rate and the confidence that the winner's rate differs from it. Ties
    (no events at all included) go to the earliest label: A, the campaign's own message, unless a variant did
    better."""
    metric = metric_of(rule)
    rates = {}
    for label in sorted(figures):
        base = base_of(figures[label])
        rates[label] = (figures[label].get(metric, 0) / base) if base else 0.0
    winner = chosen or max(sorted(rates), key=lambda label: (rates[label], -ord(label[0])))
    compared = {}
    for label in sorted(figures):
        if label == winner:
            continue
        compared[label] = confidence(figures.get(winner, {}).get(metric, 0), base_of(figures.get(winner, {})),
                                     figures[label].get(metric, 0), base_of(figures[label]),
                                     comparisons=len(figures) - 1)
    return winner, {"metric": metric, "rates": rates, "confidence": compared}


def describe(summary: dict) -> str:
    """One sentence for the run and report pages: "B won on unique clicks (3.1% vs A 2.4%, 97% confidence)"."""
    if not summary or not summary.get("winner"):
        return ""
    winner, rates = summary["winner"], summary.get("rates", {})
    metric = "unique clicks" if summary.get("metric") == "clicked" else "unique opens"
    how = f"picked by {summary['chosen_by']}" if summary.get("chosen_by") else f"won on {metric}"
    parts = []
    for label, sure in sorted(summary.get("confidence", {}).items()):
        sure_text = "no data" if sure is None else f"{sure:.0%} confidence"
        parts.append(f"{label} {rates.get(label, 0):.1%}, {sure_text}")
    versus = f" vs {'; '.join(parts)}" if parts else ""
    return f"{winner} {how} ({winner} {rates.get(winner, 0):.1%}{versus})."
