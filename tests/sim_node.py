"""A simulated cloud node: runs a SkyPilot task (the one mlws sent to the API server) the way
SkyPilot runs it on a VM, on this machine.

- the VM's filesystem root is a folder: a task path `/mlws/spec.json` is `<node>/root/mlws/spec.json`
  (the one liberty taken: the task's absolute paths are rewritten under that folder);
- a fresh HOME; the workdir synced to ~/sky_workdir by SkyPilot's own rsync (LocalProcessCommandRunner,
  with its .skyignore/.gitignore rules);
- each file mount copied to its path; a bucket mount (s3://B/K) is the folder `<buckets>/B/K`, linked
  at its mount point (what MOUNT_CACHED shows the job: a folder that is kept);
- `setup` runs for real with bash in a clean virtual environment (packages from this machine's package
  sources), `run` with SkyPilot's node variables.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path


class Node:
    def __init__(self, folder: Path, buckets: Path, python_env: Path | None = None):
        self.folder, self.buckets = Path(folder), Path(buckets)
        self.root, self.home = self.folder / "root", self.folder / "home"
        self.workdir = self.home / "sky_workdir"
        self.venv = Path(python_env) if python_env else self.folder / "venv"

    def here(self, remote: str) -> str:
        """Where a path of the VM is on this machine."""
        return str(self.root / remote.lstrip("/")) if remote.startswith("/") else str(self.workdir / remote)

    def _translate(self, text: str, task: dict) -> str:
        """The task's absolute mount paths (`/mlws/...`) as paths under the node's root folder."""
        import re
        tops = {"/" + remote.lstrip("/").split("/")[0] for remote in task.get("file_mounts") or {}
                if remote.startswith("/")}
        for top in tops:  # once each, and only where a path starts (not inside one already rewritten)
            text = re.sub(rf"(?<![\w./-]){re.escape(top)}(?=/|$|\s)", self.here(top), text)
        return text

    def provision(self, task: dict) -> None:
        """The VM as SkyPilot leaves it before setup: workdir synced, file mounts in place."""
        from sky.utils.command_runner import LocalProcessCommandRunner
        self.home.mkdir(parents=True, exist_ok=True)
        self.workdir.mkdir(parents=True, exist_ok=True)
        LocalProcessCommandRunner().rsync(str(task["workdir"]).rstrip("/") + "/", str(self.workdir) + "/",
                                          up=True, stream_logs=False)
        for remote, source in (task.get("file_mounts") or {}).items():
            target = Path(self.here(remote))
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, dict):  # a bucket
                folder = self.buckets / source["source"].split("://", 1)[1]
                folder.mkdir(parents=True, exist_ok=True)
                if not target.exists():
                    target.symlink_to(folder, target_is_directory=True)
            elif Path(source).is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                shutil.copyfile(source, target)

    def env(self, task: dict, rank: int = 0, ips=("127.0.0.1",), gpus: int = 0, extra: dict | None = None) -> dict:
        base = {k: v for k, v in os.environ.items()
                if k in ("LANG", "LC_ALL", "TERM", "TMPDIR", "PIP_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONFIG_FILE")}
        env = {**base, "HOME": str(self.home), "VIRTUAL_ENV": str(self.venv), "PYTHONNOUSERSITE": "1",
               "PATH": f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
               "WANDB_MODE": "offline"}
        env.update({k: self._translate(str(v), task) for k, v in (task.get("envs") or {}).items()})
        env.update({"SKYPILOT_NODE_RANK": str(rank), "SKYPILOT_NODE_IPS": "\n".join(ips),
                    "SKYPILOT_NUM_NODES": str(len(ips)), "SKYPILOT_NUM_GPUS_PER_NODE": str(gpus),
                    "SKYPILOT_TASK_ID": "sky-sim-node"})
        return {**env, **(extra or {})}

    def setup(self, task: dict, timeout: float = 1500) -> subprocess.CompletedProcess:
        if not (self.venv / "bin" / "python").exists():
            venv.EnvBuilder(with_pip=True, clear=True).create(self.venv)
        return subprocess.run(["bash", "-c", self._translate(task["setup"], task)], cwd=self.workdir,
                              env=self.env(task), capture_output=True, text=True, timeout=timeout)

    def run(self, task: dict, **kwargs) -> subprocess.Popen:
        """The job's `run`, started (the caller waits, or kills it to play a preemption)."""
        env = self.env(task, **kwargs)
        return subprocess.Popen(["bash", "-c", self._translate(task["run"], task)], cwd=self.workdir, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


if __name__ == "__main__":
    print(__doc__, file=sys.stderr)
