"""Run history as a story: labels and notes, effective-config diffs, parents, chains, reports."""
