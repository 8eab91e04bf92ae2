"""Is a difference bigger than seed noise? Pure statistics over replicate groups (runs that differ
only in `seed`): summaries with a 95% confidence interval, Welch's t-test (a percentile bootstrap for
larger skewed samples), and a verdict in plain words. No numpy or scipy: `mlws runs` stays light.

    from mlws.stats import summarize, compare
    summarize([0.91, 0.92, 0.90])           # Summary(n=3, mean=0.91, sd=0.01, low=0.885, high=0.935)
    compare([0.91, 0.92, 0.90], [0.95, 0.96, 0.94]).verdict
"""

from __future__ import annotations

from .inference import Comparison, Summary, compare, rank, summarize
from .text import comparison_text, summary_text

__all__ = ["Comparison", "Summary", "compare", "comparison_text", "rank", "summarize", "summary_text"]
