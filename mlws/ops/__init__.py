"""Operations behind `mlws.api`, one module per domain: runs (train, plan, status, stop, logs, files,
cost), history (labels, notes, search, diff, lineage, rerun, report), review (check, diff --git),
serving (serve, list, stop, export), notebook (JupyterLab, runs_frame, load_run), sweeps (launch,
resume, view) and session (the registry opened once per command, status refreshed)."""
