"""Which change bought the gain? The arithmetic of an ablation of one lineage step parent → run
with changes c1..ck, from each configuration's metric over seeds:

- gain: mean(run) - mean(parent)
- a change's add-one effect: mean(parent + c) - mean(parent); its leave-one-out effect:
  mean(run) - mean(run - c); its effect: the average of the two; its share: effect / gain
- interaction: the gain minus the sum of the add-one effects (0 when the changes add up)

Effects, the gain and the interaction are linear in the configurations' means: their 95% intervals
are t-based (Welch-Satterthwaite degrees of freedom), calibrated for small seed counts, and decide
whether a change matters. A share is a ratio: its interval comes from a bootstrap that resamples each
configuration's seeds on its own. With a single seed per configuration there are no intervals. Pure."""

from __future__ import annotations

import math
import random

from . import student
from .inference import compare

DRAWS = 1000


def _mean(xs):
    return math.fsum(xs) / len(xs)


def estimates(means: dict, changes: list[str]) -> dict:
    """{gain, interaction, effects: {change: {add, leave_out, effect, share}}} from the mean of each
    configuration: means["parent"], means["run"], means[("add", c)], means[("leave_out", c)]."""
    gain = means["run"] - means["parent"]
    effects = {}
    for c in changes:
        add = means[("add", c)] - means["parent"]
        leave = means["run"] - means[("leave_out", c)]
        effect = (add + leave) / 2
        effects[c] = {"add": add, "leave_out": leave, "effect": effect, "share": effect / gain if gain else None}
    interaction = gain - math.fsum(e["add"] for e in effects.values())
    return {"gain": gain, "interaction": interaction, "effects": effects}


def ablation(values: dict, changes: list[str], *, confidence: float = 0.95, seed: int = 0, draws: int = DRAWS) -> dict:
    """Estimates with bootstrap intervals. `values`: each configuration's metric over seeds, keyed as
    in `estimates`. Returns {gain, interaction, effects} where every number is {estimate, low, high}
    (low/high None with one seed each), the gain also with its test against seed noise."""
    point = estimates({k: _mean(v) for k, v in values.items()}, changes)
    can_resample = all(len(v) > 1 for v in values.values())
    samples = []
    if can_resample:
        rng = random.Random(seed)
        keys = list(values)
        for _ in range(draws):
            means = {k: _mean(rng.choices(values[k], k=len(values[k]))) for k in keys}
            samples.append(estimates(means, changes))
    alpha = 1 - confidence

    def interval(get):
        if not samples:
            return None, None
        xs = sorted(x for x in (get(s) for s in samples) if x is not None)
        if not xs:
            return None, None
        return xs[int(alpha / 2 * len(xs))], xs[min(len(xs) - 1, int((1 - alpha / 2) * len(xs)))]

    def number(estimate, get):
        low, high = interval(get)
        return {"estimate": estimate, "low": low, "high": high}

    def linear(estimate, coefficients):
        low, high = _t_interval(values, coefficients, confidence)
        return {"estimate": estimate, "low": low, "high": high}

    k = len(changes)
    gain = linear(point["gain"], [("run", 1.0), ("parent", -1.0)])
    test = compare(values["parent"], values["run"], confidence=confidence)
    gain |= {"verdict": test.verdict, "distinguishable": test.distinguishable, "p": test.p}
    effects = {}
    for c in changes:
        e = point["effects"][c]
        effect = linear(e["effect"], [(("add", c), 0.5), ("parent", -0.5), ("run", 0.5), (("leave_out", c), -0.5)])
        share = number(e["share"], lambda s, c=c: s["effects"][c]["share"])
        matters = None if effect["low"] is None else not (effect["low"] <= 0 <= effect["high"])
        effects[c] = {
            "add": e["add"],
            "leave_out": e["leave_out"],
            "effect": effect,
            "share": share,
            "matters": matters,
        }
    interaction = linear(
        point["interaction"], [("run", 1.0), ("parent", k - 1.0)] + [(("add", c), -1.0) for c in changes]
    )
    return {"gain": gain, "interaction": interaction, "effects": effects}


def _t_interval(values: dict, coefficients: list, confidence: float) -> tuple[float | None, float | None]:
    """The t-based interval of sum(c * mean(values[key])); a configuration named twice (with one change,
    leaving it out is the parent) counts once, with its coefficients added."""
    merged: dict[int, list] = {}
    for key, c in coefficients:
        xs = values[key]
        merged.setdefault(id(xs), [xs, 0.0])[1] += c
    terms = [(xs, c) for xs, c in merged.values() if c]
    if not terms or any(len(xs) < 2 for xs, _ in terms):
        return None, None
    estimate = math.fsum(c * _mean(xs) for xs, c in terms)
    parts = []
    for xs, c in terms:
        m = _mean(xs)
        variance = math.fsum((x - m) ** 2 for x in xs) / (len(xs) - 1)
        parts.append((c * c * variance / len(xs), len(xs) - 1))
    total = math.fsum(v for v, _ in parts)
    if total == 0:
        return estimate, estimate
    df = total**2 / math.fsum(v * v / d for v, d in parts if v)
    half = student.quantile(0.5 + confidence / 2, df) * math.sqrt(total)
    return estimate - half, estimate + half
