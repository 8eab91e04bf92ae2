"""mlws: experiments as code. `mlws.train(["+experiment=model_12"])`, `mlws.runs()`, `mlws.show(1)`.

The API is loaded on first use so `import mlws` stays light.
"""
__version__ = "0.1.0"
# The public API, in one place: mlws.api exports exactly these (it takes this list), and
# `mlws.NAME` loads the API on first use so `import mlws` stays light.
__all__ = ["train", "plan", "plan_compute", "check", "diff_git", "runs", "refresh", "show", "summary", "cost",
           "watch", "stop", "logs", "copy_artifacts", "down", "label", "note", "search_runs", "count_runs", "diff",
           "lineage", "lineage_tree", "rerun", "rerun_warnings", "report", "serve", "serve_list", "serve_stop",
           "serve_export", "serve_remote", "runs_frame", "load_run", "notebook", "notebook_list", "notebook_status",
           "notebook_stop", "sweep", "list_sweeps", "count_sweeps", "sweep_view", "resume_sweep"]


def load_ipython_extension(ipython) -> None:
    """`%load_ext mlws`: the `%mlws` line magic."""
    from .jupyter.magic import load_ipython_extension as load
    load(ipython)


def __getattr__(name):
    if name in __all__:
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module 'mlws' has no attribute {name!r}")
