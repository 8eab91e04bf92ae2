"""The public API's names, in one place: `mlws.NAME` and `mlws.api` both export exactly these."""

NAMES = ("train", "plan", "plan_compute", "check", "diff_git", "runs", "refresh", "show", "summary", "cost", "cost_totals",
         "watch", "stop", "logs", "copy_artifacts", "down", "label", "note", "search_runs", "count_runs", "diff",
         "lineage", "lineage_tree", "rerun", "rerun_warnings", "rerun_exact", "resume", "report", "serve",
         "serve_list", "serve_stop",
         "serve_export", "serve_remote", "runs_frame", "load_run", "notebook", "notebook_list", "notebook_status",
         "notebook_stop", "sweep", "list_sweeps", "count_sweeps", "sweep_view", "resume_sweep",
         "train_seeds", "rerun_seeds", "replicate_group", "replicate_groups", "ablate")
