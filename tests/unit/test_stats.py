"""mlws.stats: exact against scipy where scipy is installed, and calibrated by simulation (seeded,
so each run gives the same numbers): no-effect pairs are rarely called different, real effects are
found as often as theory allows, and many groups compare fast."""

from __future__ import annotations

import random

import pytest

from mlws.stats import compare, comparison_text, rank, student, summarize, summary_text


def test_t_quantiles_and_tails_match_the_tables():
    # printed tables: t_{0.975} for df 1, 4, 10, 30
    for df, t in ((1, 12.706), (4, 2.776), (10, 2.228), (30, 2.042)):
        assert student.quantile(0.975, df) == pytest.approx(t, abs=1e-3)
        assert student.two_sided_p(t, df) == pytest.approx(0.05, abs=1e-4)


def test_against_scipy_where_installed():
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(1)
    for df in (1, 2.5, 7, 40):
        assert student.quantile(0.975, df) == pytest.approx(stats.t.ppf(0.975, df), rel=1e-8)
    for _ in range(30):
        a = [rng.gauss(0, 1) for _ in range(rng.randint(2, 9))]
        b = [rng.gauss(0.5, 2) for _ in range(rng.randint(2, 9))]
        mine, theirs = compare(a, b, method="welch"), stats.ttest_ind(b, a, equal_var=False)
        assert mine.p == pytest.approx(theirs.pvalue, rel=1e-7)
        ci = theirs.confidence_interval()
        assert (mine.low, mine.high) == pytest.approx((ci.low, ci.high), rel=1e-7)


def test_summary_of_a_group():
    s = summarize([1.0, 2.0, 3.0])
    assert (s.n, s.mean, s.sd) == (3, 2.0, 1.0)
    assert s.low == pytest.approx(2 - 4.303 / 3**0.5, abs=1e-3)
    assert summarize([5.0]).sd is None and summarize([]) is None
    assert summary_text(s) == "2.0 ± 1.0 [-0.5, 4.5] n=3"


def test_an_interval_shows_its_numbers_at_one_precision():
    """A user saw `0.18 ± 0.03 [0.1, 0.3]`: `g` drops trailing zeros, so the numbers of one interval
    had different precisions. Now all at the precision that shows the spread to 2 significant digits."""
    assert summary_text(summarize([0.15, 0.18, 0.21])) == "0.180 ± 0.030 [0.105, 0.255] n=3"
    assert summary_text(summarize([1200.0, 1234.0, 1260.0])) == "1231 ± 30 [1157, 1306] n=3"
    rng = random.Random(3)
    for _ in range(200):
        scale = 10 ** rng.uniform(-5, 4)
        xs = [rng.gauss(5 * scale, scale) for _ in range(rng.randint(2, 8))]
        text = summary_text(summarize(xs))
        numbers = text.replace("±", " ").replace("[", " ").replace("]", " ").replace(",", " ").split()[:4]
        places = {len(n.partition(".")[2]) for n in numbers}
        assert len(places) == 1, text
        c = compare(xs, [x + scale for x in xs])
        head = comparison_text(c).split(":")[0].replace("[", " ").replace("]", " ").replace(",", " ").split()
        assert len({len(n.partition(".")[2]) for n in head}) == 1, head


def _null_pair(rng, n):
    return [rng.gauss(0, 1) for _ in range(n)], [rng.gauss(0, 1) for _ in range(n)]


@pytest.mark.parametrize("n", [3, 5, 10])
def test_no_true_effect_is_called_different_at_most_7_percent_of_the_time(n):
    rng = random.Random(27 + n)
    called = sum(compare(*_null_pair(rng, n)).distinguishable for _ in range(200))
    assert called <= 14, f"{called}/200 no-effect pairs called different"


@pytest.mark.slow  # seconds: out of the fast lane (make test-fast), still in make test
def test_the_bootstrap_is_calibrated_too():
    rng = random.Random(5)
    called = sum(compare(*_null_pair(rng, 12), method="bootstrap").distinguishable for _ in range(200))
    assert called <= 14


def test_a_true_effect_of_two_sd_is_found_as_often_as_theory_allows():
    """At 2 sd with 5 seeds each, any calibrated two-sided 95% test finds the effect at most ~79% of
    the time (the t-test's exact power; Welch's is ~77%): the issue's 80% needs 6 seeds."""
    rng = random.Random(7)

    def rate(n, trials=400):
        return (
            sum(
                compare([rng.gauss(0, 1) for _ in range(n)], [rng.gauss(2, 1) for _ in range(n)]).distinguishable
                for _ in range(trials)
            )
            / trials
        )

    assert rate(5) >= 0.72
    assert rate(6) >= 0.80


def test_the_verdict_is_in_words_and_single_runs_are_not_judged():
    same = compare([0.90, 0.91, 0.92], [0.905, 0.915, 0.91])
    assert same.verdict.startswith("not distinguishable from seed noise (Welch's t-test, p=")
    apart = compare([0.80, 0.81, 0.79, 0.80], [0.90, 0.91, 0.92, 0.90])
    assert apart.distinguishable and apart.verdict.startswith("distinguishable from seed noise")
    assert comparison_text(apart).startswith("+0.107 [+0.092, +0.123]: distinguishable")
    one = compare([0.5], [0.6])
    assert one.distinguishable is None and "cannot be told from seed noise" in one.verdict
    far = compare([0.80, 0.81, 0.79], [0.95])
    assert far.method == "prediction" and far.distinguishable
    with pytest.raises(ValueError):
        compare([], [1.0])


def test_skewed_large_samples_are_bootstrapped_small_ones_are_not():
    rng = random.Random(3)
    skewed = [rng.expovariate(1.0) ** 3 for _ in range(12)]
    assert compare(skewed, [x + 1 for x in skewed]).method == "bootstrap"
    assert compare(skewed[:5], [x + 1 for x in skewed[:5]]).method == "welch"


def test_ranking_names_the_best_and_whether_the_top_two_differ():
    out = rank({"a": [0.90, 0.91, 0.92], "b": [0.95, 0.96, 0.94], "c": [0.951, 0.949, 0.955], "d": []}, "max")
    assert [k for k, _ in out["ranking"]] == ["c", "b", "a"]
    assert out["top_two"].distinguishable is False
    low = rank({"a": [0.1, 0.11, 0.12], "b": [0.5, 0.51, 0.49]}, "min")
    assert [k for k, _ in low["ranking"]] == ["a", "b"] and low["top_two"].distinguishable


def test_a_thousand_groups_compare_in_well_under_a_second_of_work():
    """Timing-free: counts the t-quantile evaluations instead (bench/bench_stats.py times it)."""
    rng = random.Random(11)
    groups = [[rng.gauss(0, 1) for _ in range(5)] for _ in range(1001)]
    student.quantile.cache_clear()
    for i in range(1000):
        compare(groups[i], groups[i + 1])
    # one Newton solve per comparison at most (+1 for the groups' own df)
    assert student.quantile.cache_info().currsize <= 1001
