"""Comparing 1,000 replicate groups (5 seeds each, Welch's t-test with its interval): wall time of
the pure statistics in mlws.stats, median of 5. Goal: under 1 s. Also the simulated calibration
(200 no-effect pairs; detection rate of a 2 sd effect with 5 and 6 seeds), 2,000 pairs each.

    .venv/bin/python bench/bench_stats.py
"""

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mlws.stats import (  # noqa: E402
    compare,
    rank,
    student,  # noqa: E402
)


def main() -> None:
    rng = random.Random(0)
    groups = [[rng.gauss(0, 1) for _ in range(5)] for _ in range(1001)]
    times = []
    for _ in range(5):
        student.quantile.cache_clear()
        start = time.perf_counter()
        for i in range(1000):
            compare(groups[i], groups[i + 1])
        rank({i: g for i, g in enumerate(groups[:1000])})
        times.append(time.perf_counter() - start)
    median = statistics.median(times) * 1000
    print(f"1,000 group comparisons + a ranking of 1,000 groups: {median:.0f} ms (goal < 1000 ms)")
    null = (
        sum(compare(*([rng.gauss(0, 1) for _ in range(5)] for _ in range(2))).distinguishable for _ in range(2000))
        / 2000
    )
    print(f"no-effect pairs called different at 95% (5 seeds each): {null:.1%} (goal <= 7%)")
    for n in (5, 6):
        power = (
            sum(
                compare([rng.gauss(0, 1) for _ in range(n)], [rng.gauss(2, 1) for _ in range(n)]).distinguishable
                for _ in range(2000)
            )
            / 2000
        )
        print(f"2 sd effect found with {n} seeds each: {power:.1%}")


if __name__ == "__main__":
    main()
