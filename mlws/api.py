"""The Python API that the CLI and notebooks call: train, plan, check, runs, show."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import MlwsError
from .workspace import Workspace, find_workspace

# Fields of `mlws runs --json`; `show` adds config, git, versions, artifacts and the rest.
SUMMARY_FIELDS = ("id", "experiment", "status", "overrides", "metrics", "created_at", "ended_at",
                  "run_dir", "backend", "error", "stop_reason", "labels", "note", "parent_id")


def _ws(workspace) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else find_workspace(workspace)


def _registry(ws: Workspace):
    from .registry import open_registry
    registry = open_registry(ws.registry_url)
    running = registry.list(status="running")
    registry.reap_dead(running)
    if any(r["backend"] == "sky" for r in running):
        sync_cloud_status(registry, running)
    return registry


def plan(overrides=(), *, workspace=None):
    """The validated RunSpec these overrides would run (nothing recorded, no user code run)."""
    from .planning import plan as make_plan
    spec, _ = make_plan(_ws(workspace), list(overrides))
    return spec


def check(experiments=None, *, workspace=None) -> dict[str, str | None]:
    """Compose and validate each experiment: {name: None if fine, else the error message}."""
    from .planning import plan as make_plan
    ws = _ws(workspace)
    names = experiments or ws.experiment_names()
    results: dict[str, str | None] = {}
    for name in names:
        try:
            make_plan(ws, [f"+experiment={name}"])
            results[name] = None
        except MlwsError as e:
            results[name] = str(e)
    return results


def train(overrides=(), *, detach: bool = False, workspace=None, command: str | None = None,
          labels=(), note: str = "") -> dict:
    """Validate, record and run. Returns the run's record (still 'running' when detached)."""
    from .planning import plan as make_plan

    ws = _ws(workspace)
    spec, patch = make_plan(ws, list(overrides), command=command)
    return _launch(ws, spec, patch, detach=detach, labels=labels, note=note)


def _launch(ws: Workspace, spec, patch: str, *, detach: bool, labels=(), note: str = "",
            rerun_of: int | None = None) -> dict:
    from dataclasses import replace

    from .compute import get_backend
    from .history.labels import check_label, check_note
    from .history.parent import choose_parent

    labels = tuple(check_label(l) for l in labels)
    note = check_note(note)
    spec = replace(spec, labels=labels, note=note)
    backend = get_backend(spec.config.get("compute", {}).get("backend", "local"))
    prepared = backend.prepare(spec)  # cloud: compile, validate, price — before anything is recorded
    registry = _registry(ws)
    candidates = registry.parent_candidates([e for e in (spec.experiment, spec.builds_on) if e])
    parent = rerun_of if rerun_of is not None else choose_parent(
        spec.config, spec.experiment, spec.builds_on, list(spec.overrides), candidates)
    run_id = registry.create(spec, patch, backend.name, run_dir_for=lambda i: str(ws.runs_dir / str(i)),
                             labels=labels, note=note, builds_on=spec.builds_on, parent_id=parent,
                             rerun_of=rerun_of)
    try:
        run_dir = ws.runs_dir / str(run_id)
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        if patch:
            (run_dir / "git.patch").write_text(patch)
        spec = spec.with_run(run_id, str(run_dir))
        spec_path = spec.write(run_dir / "spec.json")
    except BaseException as e:
        registry.finish(run_id, "failed", error=f"could not prepare the run directory: {e}")
        raise
    try:
        submitted = backend.submit(spec_path, detach=detach, prepared=prepared)
    except MlwsError as e:
        if backend.name != "local":
            registry.finish(run_id, "failed", error=str(e))
        raise
    if backend.name == "sky":
        registry.update(run_id, artifacts={"run_dir": str(run_dir), "cloud": submitted["cloud"],
                                           "estimate": prepared.get("estimate"), "checkpoints": {}})
        return registry.get(run_id) if detach else follow_cloud_run(run_id, workspace=ws)
    if detach:
        registry.set_owner(run_id, submitted["pid"])
        return registry.get(run_id)
    return submitted


def runs(*, workspace=None) -> list[dict]:
    """Every recorded run, oldest first, as summary dicts (the `mlws runs --json` contract)."""
    return [summary(r) for r in _registry(_ws(workspace)).list()]


def show(run_id: int, *, workspace=None) -> dict:
    """One run in full: the summary plus config, git, versions, artifacts, command and times."""
    record = _registry(_ws(workspace)).get(int(run_id))
    record["git"] = {**record["git"], "patch": record.pop("git_patch") or ""}
    return record


def summary(record: dict) -> dict:
    out = {k: record.get(k) for k in SUMMARY_FIELDS}
    if record.get("backend") == "sky":
        out["cost"] = cost(record)
    return out


def cost(record: dict) -> dict | None:
    """A cloud run's hourly price (from SkyPilot's catalog at launch) and its spend so far."""
    from datetime import datetime, timezone
    estimate = (record.get("artifacts") or {}).get("estimate") or {}
    if not estimate.get("available") or not record.get("started_at"):
        return None
    start = datetime.fromisoformat(record["started_at"])
    end = datetime.fromisoformat(record["ended_at"]) if record.get("ended_at") else datetime.now(timezone.utc)
    hours = max((end - start).total_seconds(), 0) / 3600
    return {"hourly_price": estimate["hourly_price"], "spend": round(estimate["hourly_price"] * hours, 4),
            "instance_type": estimate.get("instance_type")}


def watch(run_id: int, *, workspace=None, thresholds=None) -> dict:
    """A snapshot of a run: status, latest metrics and hardware, progress, warnings."""
    from .monitor.snapshot import snapshot
    return snapshot(show(run_id, workspace=workspace), thresholds)


def stop(run_id: int, *, workspace=None, timeout: float = 120.0) -> dict:
    """Ask a local run to stop (SIGTERM): it saves its last checkpoint and records 'stopped'."""
    import os
    import signal
    import socket
    import time

    from .registry.liveness import process_alive

    ws = _ws(workspace)
    registry = _registry(ws)
    record = registry.get(int(run_id))
    if record["status"] != "running":
        raise MlwsError(f"run {run_id} is not running (status: {record['status']})")
    cloud = (record.get("artifacts") or {}).get("cloud")
    if record["backend"] == "sky" and cloud:
        from .cloud.skypilot import cancel
        cancel(cloud)
        registry.finish(int(run_id), "stopped", artifacts=record["artifacts"], stop_reason="cancelled by mlws stop")
        return registry.get(int(run_id))
    if record["host"] != socket.gethostname():
        raise MlwsError(f"run {run_id} runs on host {record['host']!r}, not this one")
    if not process_alive(record["pid"], record["pid_started"]):
        registry.reap_dead()
        raise MlwsError(f"run {run_id}'s process is gone; it is now recorded as failed")
    os.kill(record["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = registry.get(int(run_id))
        if record["status"] != "running":
            return record
        time.sleep(0.2)
    raise MlwsError(f"run {run_id} did not stop within {timeout:.0f} s (pid {record['pid']}); "
                    f"kill it with: kill -9 {record['pid']}")


# -- lineage: labels, notes, search, diff, lineage, rerun, report -------------------------------

def label(run_id: int, labels: list[str], *, remove: bool = False, workspace=None) -> dict:
    """Add (or with remove=True take away) labels; returns the run's labels."""
    from .history.labels import check_label
    for name in labels:
        check_label(name)
    registry = _registry(_ws(workspace))
    record = registry.get(int(run_id))
    current = list(record["labels"] or [])
    if remove:
        missing = [l for l in labels if l not in current]
        if missing:
            raise MlwsError(f"run {run_id} has no label {', '.join(missing)} (labels: {', '.join(current) or 'none'})")
        current = [l for l in current if l not in labels]
    else:
        current += [l for l in labels if l not in current]
    registry.update(int(run_id), labels=current)
    _mirror_to_wandb(record, tags=current)
    return {"id": int(run_id), "labels": current}


def note(run_id: int, text: str, *, workspace=None) -> dict:
    from .history.labels import check_note
    check_note(text)
    registry = _registry(_ws(workspace))
    record = registry.get(int(run_id))
    registry.update(int(run_id), note=text)
    _mirror_to_wandb(record, notes=text)
    return {"id": int(run_id), "note": text}


def _mirror_to_wandb(record: dict, **changes) -> None:
    """Labels become W&B tags and the note the W&B notes, for runs that synced online."""
    from .history.wandb_mirror import mirror
    mirror(record, **changes)


def search_runs(*, label=None, experiment=None, status=None, search=None, where=(), sort=None,
                ascending=False, limit=None, workspace=None) -> list[dict]:
    """Filtered, sorted runs (summaries with labels and note). `where`: ["val/acc>0.9", ...]."""
    from .history.query import apply_where, sort_runs
    # Without metric conditions or sorting, the newest `limit` runs come straight from SQL.
    newest = limit if limit is not None and not where and not sort else None
    rows = _registry(_ws(workspace)).list(experiment=experiment, status=status, label=label, search=search,
                                          newest=newest)
    rows = apply_where(rows, where)
    rows = sort_runs(rows, sort, ascending)
    if limit is not None:
        rows = rows[-limit:] if not sort else rows[:limit]
    return [summary(r) | {"labels": r["labels"], "note": r["note"], "parent": r["parent_id"]} for r in rows]


def count_runs(*, label=None, experiment=None, status=None, search=None, workspace=None) -> int:
    return _registry(_ws(workspace)).count(experiment=experiment, status=status, label=label, search=search)


def diff(a: int, b: int, *, workspace=None) -> dict:
    from .history.diff import run_diff
    registry = _registry(_ws(workspace))
    return run_diff(registry.get(int(a)), registry.get(int(b)))


def lineage(run_id: int | None = None, *, best: str | None = None, mode: str | None = None,
            metric: str | None = None, workspace=None) -> list[dict]:
    """The chain from the root to `run_id` (or to the best run by `best`), one step per run."""
    from .history.chain import best_run, chain_ids, steps
    registry = _registry(_ws(workspace))
    if best:
        run_id = best_run(registry.metric_table(), best, mode)
    if run_id is None:
        raise MlwsError("name a run, or --best METRIC")
    ids = chain_ids(registry.parent_map(), int(run_id))
    records = {r["id"]: r for r in registry.list(ids=ids, full=True)}
    return steps([records[i] for i in ids], metric=best or metric)


def lineage_tree(*, workspace=None) -> list[dict]:
    """Every run with its parent: [{id, experiment, parent, status, labels, metrics}]."""
    return [{"id": r["id"], "experiment": r["experiment"], "parent": r["parent_id"], "status": r["status"],
             "labels": r["labels"], "metrics": r["metrics"]} for r in _registry(_ws(workspace)).list()]


def rerun(run_id: int, *, detach: bool = False, workspace=None) -> tuple[dict, list[str]]:
    """Run again with the recorded resolved config; returns (record, warnings about what differs)."""
    from dataclasses import replace
    from datetime import datetime, timezone

    from .provenance import git_state, package_versions
    from .spec import RunSpec

    ws = _ws(workspace)
    old = _registry(ws).get(int(run_id))
    git = git_state(ws.root)
    patch = git.pop("patch")
    warnings = rerun_warnings(old, git, patch, package_versions())
    spec = RunSpec(experiment=old["experiment"], overrides=tuple(old["overrides"]), config=old["config"],
                   workspace=str(ws.root), command=f"mlws rerun {run_id}",
                   created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), git=git,
                   versions=package_versions(), builds_on=old.get("builds_on"))
    spec = replace(spec, labels=(), note=f"rerun of run {run_id}")
    return _launch(ws, spec, patch, detach=detach, note=spec.note, rerun_of=int(run_id)), warnings


def rerun_warnings(old: dict, git_now: dict, patch_now: str, versions_now: dict) -> list[str]:
    out = []
    then = (old.get("git") or {}).get("commit")
    if then and git_now.get("commit") != then:
        out.append(f"the workspace is at commit {str(git_now.get('commit'))[:10]}, run {old['id']} used "
                   f"{then[:10]}: `git checkout {then[:10]}` to reproduce its code exactly")
    if (old.get("git_patch") or "") != (patch_now or ""):
        out.append(f"uncommitted changes differ from run {old['id']}'s (its patch: {old.get('run_dir')}/git.patch)")
    changed = [f"{k} {v} → {versions_now.get(k)}" for k, v in (old.get("versions") or {}).items()
               if versions_now.get(k) != v]
    if changed:
        out.append("package versions differ: " + ", ".join(changed))
    return out


def report(output, *, metric: str = "val/acc", runs_for_curves=None, workspace=None) -> Path:
    """Write the HTML report; the lineage shown leads to the best run by `metric`."""
    from .history.chain import best_run
    from .fileio import write_atomic
    from .history.report import build_report, read_curves

    ws = _ws(workspace)
    registry = _registry(ws)
    rows = registry.list()
    chain = []
    if any(isinstance((r.get("metrics") or {}).get(metric), (int, float)) for r in rows if r["status"] == "succeeded"):
        chain = lineage(best_run(registry.metric_table(), metric), metric=metric, workspace=ws)
    ids = list(runs_for_curves) if runs_for_curves else [s["id"] for s in chain][-8:]
    page = build_report(rows, chain, read_curves(rows, ids), metric, title=f"mlws report · {ws.root.name}")
    path = Path(output)
    write_atomic(path, page)
    return path


# -- cloud runs: plan, status, logs, stop, copy -------------------------------------------------

def plan_cloud(overrides=(), *, workspace=None) -> dict:
    """{spec, task, estimate} for a compute=sky plan: what would launch and what it costs."""
    from .compute import get_backend
    spec = plan(overrides, workspace=workspace)
    backend = get_backend(spec.config.get("compute", {}).get("backend", "local"))
    if backend.name == "local":
        return {"spec": spec, "task": None, "estimate": None}
    return {"spec": spec, **backend.prepare(spec)}


def sync_cloud_status(registry, records: list[dict]) -> None:
    """Running cloud runs take their status from SkyPilot's job table."""
    from .cloud.skypilot import job_status
    for r in records:
        cloud = (r.get("artifacts") or {}).get("cloud")
        if r["status"] == "running" and r.get("backend") == "sky" and cloud:
            status = job_status(cloud)
            if status and status != "running":
                registry.finish(r["id"], status, artifacts=r["artifacts"],
                                stop_reason="cancelled" if status == "stopped" else None)


def follow_cloud_run(run_id: int, *, workspace=None) -> dict:
    from .cloud.skypilot import tail_logs
    from .registry import open_registry
    ws = _ws(workspace)
    registry = open_registry(ws.registry_url)  # no status sync before the logs: they come first
    tail_logs(registry.get(run_id)["artifacts"]["cloud"], follow=True)
    sync_cloud_status(registry, [registry.get(run_id)])
    return registry.get(run_id)


def logs(run_id: int, *, follow: bool = False, workspace=None, out=None) -> int:
    """Print a run's output: the local output.log (detached runs), or SkyPilot's job logs."""
    import sys
    import time
    ws = _ws(workspace)
    registry = _registry(ws)
    record = registry.get(int(run_id))
    cloud = (record.get("artifacts") or {}).get("cloud")
    if record["backend"] == "sky" and cloud:
        from .cloud.skypilot import tail_logs
        return tail_logs(cloud, follow=follow)
    out = out or sys.stdout
    path = Path(record["run_dir"]) / "output.log"
    if not path.exists():
        raise MlwsError(f"run {run_id} has no output log ({path}); foreground runs print to their terminal")
    with path.open() as f:
        while True:
            chunk = f.read()
            if chunk:
                out.write(chunk)
                out.flush()
            elif not follow or registry.get(int(run_id))["status"] != "running":
                rest = f.read()
                if rest:
                    out.write(rest)
                return 0
            else:
                time.sleep(0.5)


def copy_artifacts(run_id: int, path: str, dest, *, workspace=None) -> dict:
    """Copy RUN:PATH to dest with a progress bar, from the run directory or the run's bucket."""
    ws = _ws(workspace)
    record = _registry(ws).get(int(run_id))
    bucket = ((record.get("config") or {}).get("compute") or {}).get("bucket")
    if record["backend"] == "sky":
        if not bucket:
            raise MlwsError(f"run {run_id} ran on SkyPilot without compute.bucket, so its files stayed on the "
                            "cloud VM; set compute.bucket to keep run directories")
        from .cloud.artifacts import copy_from_bucket
        return copy_from_bucket(f"{bucket.rstrip('/')}/runs/{run_id}", path, dest)
    from .history.copy import copy_local
    return copy_local(Path(record["run_dir"]), path, Path(dest))


# -- serving -----------------------------------------------------------------------------------

def _serve_setup(run_id: int, host: str | None, port: int | None, ws: Workspace):
    from .serving.app import app_args
    record = _registry(ws).get(int(run_id))
    serve_cfg = (record.get("config") or {}).get("serve") or _default_serve_config(ws, record)
    host = host or serve_cfg.get("host", "127.0.0.1")
    port = int(port or serve_cfg.get("port", 8000))
    if serve_cfg.get("token_env") and not os.environ.get(serve_cfg["token_env"]):
        raise MlwsError(f"serve.token_env names {serve_cfg['token_env']}, which is not set")
    return record, app_args(record, serve_cfg, host, port)


def _default_serve_config(ws: Workspace, record: dict) -> dict:
    """Runs recorded before the serve group existed get today's defaults, resolved against their data."""
    from .config import compose
    cfg = compose(ws, []).config.get("serve")
    if not cfg:
        raise MlwsError(f"run {record['id']} has no serve config and the workspace has no serve group "
                        "(conf/serve/default.yaml); add one to serve it")
    cfg["input"]["normalize"] = bool(((record.get("config") or {}).get("data") or {}).get("normalize", False))
    return cfg


def serve(run_id: int, *, host: str | None = None, port: int | None = None, detach: bool = False,
          workspace=None, ready=print, timeout: float = 180.0) -> dict:
    """Serve a run's model; foreground blocks until interrupted, detach returns once healthy."""
    import json
    import subprocess
    import sys
    import time
    import urllib.request

    from .serving.loading import checkpoint_path, load_weights
    from .serving.server import port_free, serve_forever, state_dir

    ws = _ws(workspace)
    record, args = _serve_setup(run_id, host, port, ws)
    load_weights(checkpoint_path(record))  # refuse a bad or malicious checkpoint before starting Ray
    if not port_free(args["host"], args["port"]):
        raise MlwsError(f"port {args['port']} on {args['host']} is in use; choose another with --port")
    states = state_dir(ws.root)
    states.mkdir(parents=True, exist_ok=True)
    state_file = states / f"run-{run_id}.json"
    if not detach:
        serve_forever(args, state_file, ready=ready)
        return {"run_id": int(run_id), "url": f"http://{args['host']}:{args['port']}"}
    args_file = states / f"run-{run_id}.args.json"
    args_file.write_text(json.dumps(args))
    log = states / f"run-{run_id}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mlws.serving.server", str(args_file), str(state_file)],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://{args['host']}:{args['port']}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise MlwsError(f"the server for run {run_id} exited (code {proc.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200 and state_file.exists():
                    return {"run_id": int(run_id), "url": url, "pid": proc.pid, "log": str(log)}
        except OSError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise MlwsError(f"the server for run {run_id} was not healthy after {timeout:.0f} s; see {log}")


def serve_list(*, workspace=None) -> list[dict]:
    import json

    from .registry.liveness import process_alive
    from .serving.server import state_dir
    out = []
    for f in sorted(state_dir(_ws(workspace).root).glob("run-*.json")):
        if f.name.endswith(".args.json"):
            continue
        state = json.loads(f.read_text())
        if process_alive(state["pid"], None):
            out.append(state)
        else:
            f.unlink()  # a server that died without cleaning up
    return out


def serve_stop(run_id: int, *, workspace=None, timeout: float = 60.0) -> dict:
    import signal
    import time

    from .registry.liveness import process_alive
    servers = {s["run_id"]: s for s in serve_list(workspace=workspace)}
    if int(run_id) not in servers:
        raise MlwsError(f"run {run_id} is not being served (mlws serve list)")
    state = servers[int(run_id)]
    os.kill(state["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process_alive(state["pid"], None):
        time.sleep(0.2)
    if process_alive(state["pid"], None):
        raise MlwsError(f"the server for run {run_id} (pid {state['pid']}) did not stop in {timeout:.0f} s")
    try:  # Ray's agent processes can outlive their raylet: end the server's whole session
        os.killpg(state["pid"], signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    _wait_port_free(state["url"], deadline)
    return state


def _wait_port_free(url: str, deadline: float) -> None:
    """Ray's HTTP proxy lets go of the port a moment after the server process ends."""
    import time
    from urllib.parse import urlparse

    from .serving.server import port_free
    u = urlparse(url)
    while time.monotonic() < deadline and not port_free(u.hostname, u.port):
        time.sleep(0.2)


def serve_export(run_id: int, output, *, host: str | None = None, port: int | None = None, workspace=None) -> Path:
    """A Ray Serve config file (`serve run FILE`, or KubeRay's serveConfigV2) for this run."""
    import yaml
    ws = _ws(workspace)
    _, args = _serve_setup(run_id, host, port, ws)
    args["token"] = None  # never written to a file: set serve.token_env on the cluster instead
    config = {"proxy_location": "EveryNode", "http_options": {"host": args["host"], "port": args["port"]},
              "applications": [{"name": f"run-{run_id}", "route_prefix": "/",
                                "import_path": "mlws.serving.app:build_app", "args": args}]}
    path = Path(output)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def serve_cloud(run_id: int, overrides=(), *, port: int | None = None, dry_run: bool = False,
                workspace=None) -> dict:
    """Serve a run on a cloud VM through SkyPilot (compute=sky ... overrides); returns the URL."""
    import json

    from .cloud import skypilot
    from .cloud.compile import compile_serve_task
    from .config import compose
    from .serving.loading import checkpoint_path, load_weights

    ws = _ws(workspace)
    composed = compose(ws, list(overrides))
    compute = composed.config["compute"]
    if compute.get("backend") != "sky":
        raise MlwsError("serving elsewhere than this machine needs compute=sky")
    record, args = _serve_setup(run_id, "0.0.0.0", port, ws)  # public on the VM: its port is opened
    load_weights(checkpoint_path(record))
    args["checkpoint"] = "/mlws/checkpoint.ckpt"
    states = ws.state_dir / "serve"
    states.mkdir(parents=True, exist_ok=True)
    args_path = states / f"run-{run_id}.cloud-args.json"
    args_path.write_text(json.dumps({**args, "token": None}))
    if args.get("token"):
        compute = {**compute, "env": {**(compute.get("env") or {}), "MLWS_SERVE_TOKEN_FROM": "secret"}}
    task_config = compile_serve_task(compute, str(ws.root), int(run_id), str(args_path),
                                     str(checkpoint_path(record)), args["port"])
    task = skypilot.validate(task_config)
    estimate = skypilot.estimate(task, compute.get("max_runtime_minutes") or 240)
    if dry_run:
        return {"task": task_config, "estimate": estimate}
    launched = skypilot.launch_server(task, f"mlws-serve-{run_id}", args["port"])
    return {"task": task_config, "estimate": estimate, **launched}
