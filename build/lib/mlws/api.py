"""The Python API that the CLI and notebooks call: a thin facade over the operations in mlws.ops.

    import mlws
    mlws.train(["+experiment=model_12"]); mlws.runs(); mlws.show(12); mlws.diff(11, 12)

Runs (train, plan, status, stop, logs, files) live in ops/runs.py, history (labels, notes, search,
diff, lineage, rerun, report) in ops/history.py, serving in ops/serving.py, sweeps in ops/sweeps.py.
"""
from __future__ import annotations

from .ops.history import (count_runs, diff, label, lineage, lineage_tree, note, report, rerun, rerun_warnings,
                          search_runs)
from .ops.runs import (SUMMARY_FIELDS, copy_artifacts, cost, down, logs, plan, plan_compute, refresh, runs,
                       show, stop, summary, train, watch)
from .ops.notebook import load_run, notebook, notebook_list, notebook_status, notebook_stop, runs_frame
from .ops.review import check, diff_git
from .ops.sweeps import count_sweeps, sweep, sweeps
from .ops.sweeps import resume as resume_sweep
from .ops.sweeps import view as sweep_view
from .ops.serving import serve, serve_export, serve_list, serve_remote, serve_stop

__all__ = ["train", "plan", "plan_compute", "check", "diff_git", "runs", "refresh", "show", "summary", "cost", "watch", "stop",
           "logs", "copy_artifacts", "down", "label", "note", "search_runs", "count_runs", "diff", "lineage",
           "lineage_tree", "rerun", "rerun_warnings", "report", "serve", "serve_list", "serve_stop",
           "serve_export", "serve_remote", "runs_frame", "load_run", "notebook", "notebook_list", "notebook_status", "notebook_stop", "sweep", "sweeps", "count_sweeps", "sweep_view", "resume_sweep", "SUMMARY_FIELDS"]
