"""Sweeps: a sweeper adapter chooses the trials, mlws runs and records each one as a run.

sweeper.py (the contract, and the adapter a config names), grid.py, optuna_sweeper.py and
random_search.py (the adapters; distributions.py: Hydra's sweep grammar as Optuna distributions),
space.py (the command's overrides → fixed, swept, sweeper settings), start.py (check, record, start
or resume), drive.py (settle, then Hydra's multirun with mlws's sweeper and launcher plugins),
driver.py (trials as runs on the run's backend, in parallel, resumable), records.py (which recorded
sweep a command continues), study.py (where Optuna's study lives), views.py and ranking.py (trials,
best first).
"""
