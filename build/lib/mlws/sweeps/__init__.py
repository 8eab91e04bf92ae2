"""Sweeps: Hydra's sweepers decide the trials, mlws runs and records each one as a run.

space.py (the command's overrides → fixed, swept, sweeper settings), multirun.py (Hydra's multirun
with mlws's launcher plugin), driver.py (trials as runs on the run's backend, in parallel,
resumable), study.py (Optuna's study in the registry's database), ranking.py (trials, best first).
"""
