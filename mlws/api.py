"""The Python API that the CLI and notebooks call: a thin facade over the operations in mlws.ops.

    import mlws
    mlws.train(["+experiment=model_12"]); mlws.runs(); mlws.show(12); mlws.diff(11, 12)

Runs (train, plan, status, stop, logs, files, cost) live in ops/runs.py, history (labels, notes,
search, diff, lineage, rerun, report) in ops/history.py, review (check, diff --git) in
ops/review.py, serving in ops/serving.py, notebooks and the runs as a table in ops/notebook.py,
sweeps in ops/sweeps.py. The public names are listed once, in mlws/__init__.py.
"""

from __future__ import annotations

from .extras import needs as _needs  # noqa: E402
from .ops.ablate import ablate
from .ops.cost import totals as cost_totals
from .ops.exact import rerun_exact
from .ops.history import (
    count_runs,
    diff,
    label,
    lineage,
    lineage_tree,
    note,
    report,
    rerun,
    rerun_warnings,
    search_runs,
)
from .ops.notebook import load_run, notebook_list, notebook_status, notebook_stop
from .ops.notebook import notebook as _notebook
from .ops.notebook import runs_frame as _runs_frame
from .ops.replicates import group as replicate_group
from .ops.replicates import groups_of as replicate_groups
from .ops.replicates import rerun_seeds, train_seeds
from .ops.resume import resume
from .ops.review import check, diff_git
from .ops.runs import (
    copy_artifacts,
    cost,
    down,
    logs,
    plan,
    plan_compute,
    refresh,
    runs,
    show,
    stop,
    summary,
    train,
    watch,
)
from .ops.serving import serve as _serve
from .ops.serving import serve_export, serve_list, serve_remote, serve_stop
from .ops.sweeps import count_sweeps, sweep
from .ops.sweeps import resume as resume_sweep
from .ops.sweeps import sweeps as list_sweeps  # `mlws.sweeps` is the subpackage's name
from .ops.sweeps import view as sweep_view

# what needs an extra says so first, in one line, whether called from the CLI or from Python
serve = _needs("serve", "mlws serve")(_serve)  # the server's app (and its args) are built here first
notebook = _needs("notebook", "mlws notebook")(_notebook)
runs_frame = _needs("notebook", "mlws.runs_frame")(_runs_frame)

from .public import NAMES as _NAMES  # noqa: E402 (the one list of public names)

__all__ = list(_NAMES)
