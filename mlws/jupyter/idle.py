"""A Jupyter server extension that stops the server when nobody uses it.

Activity means a kernel executing or receiving input, a terminal in use or running a command, a
file saved, or an mlws run of this workspace still training here (`%mlws train --detach`). An open
browser tab only polls the REST API, which Jupyter's own `last_activity` counts; this watcher reads
that state inside the server instead, so neither the tab nor the watcher itself is activity.
Jupyter's kernel culling (configured by `mlws notebook`) frees idle kernels; this stops the server.

Configured by environment: MLWS_NOTEBOOK_IDLE_S (0: never stop), MLWS_NOTEBOOK_CHECK_S, and
MLWS_NOTEBOOK_STATUS (a JSON file where each check writes what it saw, for `mlws notebook status`).
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path


def _jupyter_server_extension_points():
    return [{"module": "mlws.jupyter.idle"}]


def _load_jupyter_server_extension(serverapp) -> None:
    import threading

    idle_s = float(os.environ.get("MLWS_NOTEBOOK_IDLE_S", "0"))
    check_s = float(os.environ.get("MLWS_NOTEBOOK_CHECK_S", "30"))
    status = os.environ.get("MLWS_NOTEBOOK_STATUS")
    watcher = IdleWatcher(serverapp, idle_s, Path(status) if status else None)
    serverapp.mlws_idle_watcher = watcher
    serverapp.contents_manager.register_post_save_hook(watcher.saved)
    # A thread of its own: the server's event loop is not running yet when extensions load.
    # It only reads kernel and terminal models; stopping goes through the loop (ServerApp.stop).
    threading.Thread(target=watcher.run, args=(check_s,), name="mlws-idle-watcher", daemon=True).start()


def _epoch(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def decide(
    now: float,
    started: float,
    idle_s: float,
    kernels: list[dict],
    terminals: list[dict],
    runs: list[int] = (),
    saved: float | None = None,
) -> dict:
    """Pure: whether the server is in use, and why. kernels/terminals: {name, state, last_activity
    (epoch)}, a terminal's state "busy" while a command runs in it; runs: mlws runs training here."""
    reasons, last = [], max(started, saved or 0)
    for k in kernels:
        if k.get("state") == "busy":
            reasons.append(f"kernel {k['name']} is busy (a cell is running)")
        if k.get("last_activity"):
            last = max(last, k["last_activity"])
    for t in terminals:
        if t.get("state") == "busy":
            reasons.append(f"{t['name']} is running a command")
        if t.get("last_activity"):
            last = max(last, t["last_activity"])
    reasons += [f"mlws run {r} is training" for r in runs]
    idle_for = 0.0 if reasons else max(0.0, now - last)
    if not reasons and idle_s and idle_for < idle_s:
        reasons.append(f"last activity {idle_for:.0f} s ago (stops after {idle_s:.0f} s without any)")
    stop = bool(idle_s) and not reasons
    return {
        "active": not stop,
        "reasons": reasons,
        "idle_for_s": round(idle_for, 1),
        "idle_limit_s": idle_s,
        "stop": stop,
    }


class IdleWatcher:
    def __init__(self, serverapp, idle_s: float, status_file: Path | None):
        self.app, self.idle_s, self.status_file = serverapp, idle_s, status_file
        self.started = time.time()
        self.last_save: float | None = None

    def saved(self, *args, **kwargs) -> None:
        """Jupyter's post-save hook: editing and saving a file is activity."""
        self.last_save = time.time()

    def _kernels(self) -> list[dict]:
        out = []
        for model in self.app.kernel_manager.list_kernels():
            out.append(
                {
                    "name": f"{model.get('name')} {str(model.get('id'))[:8]}",
                    "state": model.get("execution_state"),
                    "last_activity": _epoch(model.get("last_activity")),
                }
            )
        return out

    def _terminals(self) -> list[dict]:
        manager = self.app.web_app.settings.get("terminal_manager")
        if manager is None:
            return []
        out = []
        for m in manager.list():
            term = manager.terminals.get(m.get("name"))
            pid = getattr(getattr(term, "ptyproc", None), "pid", None)
            out.append(
                {
                    "name": f"terminal {m.get('name')}",
                    "last_activity": _epoch(m.get("last_activity")),
                    "state": "busy" if pid and _has_children(pid) else "idle",
                }
            )
        return out

    def _runs(self) -> list[int]:
        """mlws runs of this workspace still training on this machine (a detached local worker)."""
        root = os.environ.get("MLWS_WORKSPACE")
        if not root or not (Path(root) / ".mlws" / "registry.db").is_file():
            return []
        from ..registry import open_registry
        from ..registry.liveness import owned_here, process_alive
        from ..workspace import Workspace

        registry = open_registry(Workspace(Path(root)).registry_url)
        return [
            r["id"]
            for r in registry.list(status="running")
            if owned_here(r) and process_alive(r["pid"], r.get("pid_started"))
        ]

    def run(self, check_s: float) -> None:
        while True:
            try:
                if self.check():
                    return
            except Exception as e:  # a watcher error must not take the server down
                self.app.log.warning("mlws idle watcher: %s", e)
            time.sleep(check_s)

    def check(self) -> bool:
        kernels = self._kernels()
        verdict = decide(
            time.time(), self.started, self.idle_s, kernels, self._terminals(), self._runs(), self.last_save
        )
        verdict.update(
            checked_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            kernels=[{k: v for k, v in kern.items()} for kern in kernels],
        )
        if verdict["stop"]:
            verdict["stopped"] = (
                f"idle for {verdict['idle_for_s']:.0f} s: no kernel ran, no terminal was used, "
                "no file was saved and no run was training"
            )
        if self.status_file:
            tmp = self.status_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(verdict))
            os.replace(tmp, self.status_file)
        if verdict["stop"]:
            self.app.log.info("mlws: %s; stopping the server", verdict["stopped"])
            self.app.io_loop.add_callback(self.app.stop)  # on the server's own loop, not this thread
        return verdict["stop"]


def _has_children(pid: int) -> bool:
    import psutil

    try:
        return bool(psutil.Process(pid).children())
    except psutil.Error:
        return False
