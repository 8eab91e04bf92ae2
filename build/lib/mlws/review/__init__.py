"""Experiments reviewed like code: `mlws check` and `mlws diff --git REF`, safe on a stranger's branch."""
