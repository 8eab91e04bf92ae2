"""Jupyter for the workspace: `mlws notebook` (JupyterLab), its idle policy, the
notebook API (`mlws.runs_frame`, `mlws.load_run`) and the `%mlws` magic."""
