"""A simulated cloud node: runs a SkyPilot task (the one mlws sent to the API server) the way
SkyPilot runs it on a VM, on this machine.

- the VM's filesystem root is a folder: a task path `/mlws/spec.json` is `<node>/root/mlws/spec.json`
  (the one liberty taken: the task's absolute paths are rewritten under that folder);
- a fresh HOME; the workdir zipped as SkyPilot's client zips it for the API server (its exclude rules:
  .skyignore, else git's ignores, else nothing), then synced to ~/sky_workdir by SkyPilot's own rsync;
- each file mount copied to its path; a bucket mount (s3://B/K) is the folder `<buckets>/B/K`, linked
  at its mount point (what MOUNT_CACHED shows the job: a folder that is kept);
- `setup` and `run` run for real with bash as SkyPilot runs them: SkyPilot's user environment
  (~/sky-user-env, a clean virtual environment here) activated, in ~/sky_workdir, `run` with SkyPilot's
  node variables. Packages come from this machine's package sources, plus a package index on loopback
  (PackageIndex: pip's simple API over a folder) where a test serves its own packages. Like a VM's
  image, the node has no pip.conf: those sources are pip's variables (PIP_INDEX_URL, PIP_EXTRA_INDEX_URL,
  PIP_FIND_LINKS, PIP_CERT), as a task's envs would set them;
- SkyPilot's runtime as provisioning leaves it: uv at ~/.local/bin/uv (SkyPilot's runtime setup installs it
  with astral's install script; here from the package sources with pip, once per machine), and the user
  environment ~/sky-user-env made before setup. `uv=False`: an image where that uv is missing.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import threading
import venv
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# what SkyPilot runs before a task's setup and run (sky/skylet/constants.py, log_lib.py): its user env
ACTIVATE_USER_ENV = (
    'if [ -z "${CONDA_PREFIX:-}" ] && [ -f ~/sky-user-env/bin/activate ]; then source ~/sky-user-env/bin/activate; fi'
)


class Node:
    def __init__(
        self,
        folder: Path,
        buckets: Path,
        python_env: Path | None = None,
        index_url: str | None = None,
        uv: bool = True,
    ):
        """`python_env`: a user environment shared with another node (already set up); `index_url`: an
        extra package index the node's pip reads (a PackageIndex); `uv`: SkyPilot's uv is on the node."""
        self.folder, self.buckets, self.uv = Path(folder), Path(buckets), uv
        self.root, self.home = self.folder / "root", self.folder / "home"
        self.workdir = self.home / "sky_workdir"
        self.venv = Path(python_env) if python_env else self.home / "sky-user-env"
        self.index_url = index_url

    def here(self, remote: str) -> str:
        """Where a path of the VM is on this machine."""
        return str(self.root / remote.lstrip("/")) if remote.startswith("/") else str(self.workdir / remote)

    def _translate(self, text: str, task: dict) -> str:
        """The task's absolute mount paths (`/mlws/...`) as paths under the node's root folder."""
        import re

        tops = {
            "/" + remote.lstrip("/").split("/")[0] for remote in task.get("file_mounts") or {} if remote.startswith("/")
        }
        for top in tops:  # once each, and only where a path starts (not inside one already rewritten)
            text = re.sub(rf"(?<![\w./-]){re.escape(top)}(?=/|$|\s)", self.here(top), text)
        return text

    def provision(self, task: dict) -> None:
        """The VM as SkyPilot leaves it before setup: workdir synced, file mounts in place."""
        from sky.data import storage_utils
        from sky.utils.command_runner import LocalProcessCommandRunner

        self.home.mkdir(parents=True, exist_ok=True)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._runtime()
        # what SkyPilot's client uploads to its API server (a zip made with its exclude rules: .skyignore,
        # else what git ignores, else nothing), then the server's rsync to the VM
        workdir = str(task["workdir"]).rstrip("/")
        upload = self.folder / "upload"
        storage_utils.zip_files_and_folders([workdir], self.folder / "upload.zip", relative_to_items=True)
        with zipfile.ZipFile(self.folder / "upload.zip") as z:
            z.extractall(upload)
        LocalProcessCommandRunner().rsync(
            str(upload / Path(workdir).name) + "/", str(self.workdir) + "/", up=True, stream_logs=False
        )
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

    def _runtime(self) -> None:
        """What SkyPilot's runtime setup leaves before a task's setup: its uv, the user environment."""
        uv = runtime_uv() if self.uv else None
        target = self.home / ".local" / "bin" / "uv"
        if uv and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(uv)
        if not (self.venv / "bin" / "python").exists():
            venv.EnvBuilder(with_pip=True, clear=True).create(self.venv)

    def env(self, task: dict, rank: int = 0, ips=("127.0.0.1",), gpus: int = 0, extra: dict | None = None) -> dict:
        base = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TERM", "TMPDIR")}
        base.update(package_sources())
        env = {
            **base,
            "HOME": str(self.home),
            "PYTHONNOUSERSITE": "1",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "WANDB_MODE": "offline",
        }  # the user env is activated by the script, as SkyPilot does
        if self.index_url:
            env["PIP_EXTRA_INDEX_URL"] = " ".join(filter(None, [base.get("PIP_EXTRA_INDEX_URL"), self.index_url]))
        env.update({k: self._translate(str(v), task) for k, v in (task.get("envs") or {}).items()})
        env.update(
            {
                "SKYPILOT_NODE_RANK": str(rank),
                "SKYPILOT_NODE_IPS": "\n".join(ips),
                "SKYPILOT_NUM_NODES": str(len(ips)),
                "SKYPILOT_NUM_GPUS_PER_NODE": str(gpus),
                "SKYPILOT_TASK_ID": "sky-sim-node",
            }
        )
        return {**env, **(extra or {})}

    def _script(self, command: str, task: dict) -> list[str]:
        return ["bash", "-c", f"{ACTIVATE_USER_ENV}\ncd ~/sky_workdir\n{self._translate(command, task)}"]

    def setup(self, task: dict, timeout: float = 1500) -> subprocess.CompletedProcess:
        self._runtime()
        user_env = self.home / "sky-user-env"
        if self.venv != user_env and not user_env.exists():
            user_env.symlink_to(self.venv, target_is_directory=True)
        return subprocess.run(
            self._script(task["setup"], task),
            cwd=self.workdir,
            env=self.env(task),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def run(self, task: dict, **kwargs) -> subprocess.Popen:
        """The job's `run`, started (the caller waits, or kills it to play a preemption)."""
        env = self.env(task, **kwargs)
        user_env = self.home / "sky-user-env"
        if self.venv != user_env and not user_env.exists():
            user_env.symlink_to(self.venv, target_is_directory=True)
        return subprocess.Popen(
            self._script(task["run"], task),
            cwd=self.workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )


@functools.cache
def package_sources() -> dict:
    """This machine's package sources (its pip config and variables) as pip's variables, no pip.conf."""
    done = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=120)
    found = {}
    for line in done.stdout.splitlines():
        key, _, value = line.partition("=")
        name = key.rsplit(".", 1)[-1]
        if name in ("index-url", "extra-index-url", "find-links", "cert") and value:
            found.setdefault("PIP_" + name.upper().replace("-", "_"), value.strip("'\""))
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CERT"):
        if os.environ.get(name):
            found[name] = os.environ[name]
    return {**found, "PIP_CONFIG_FILE": os.devnull}


@functools.cache
def runtime_uv() -> Path | None:
    """uv, as SkyPilot's runtime puts on each node, installed once per machine from the package sources
    with pip (no download script: the sandbox reaches package indexes only). None: not installable here."""
    import tempfile

    folder = Path(tempfile.gettempdir()) / f"mlws-sim-node-uv-{os.getuid()}"
    if not (folder / "bin" / "uv").exists():
        part = folder.with_name(f"{folder.name}.{os.getpid()}")
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--target", str(part), "uv"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            print(f"sim_node: no uv for the node (pip: {done.stderr.strip()[-300:]})", file=sys.stderr)
            shutil.rmtree(part, ignore_errors=True)
            return None
        try:
            part.rename(folder)
        except OSError:  # another process put it there first
            shutil.rmtree(part, ignore_errors=True)
    return folder / "bin" / "uv"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class PackageIndex:
    """pip's simple API (PEP 503) over a folder, on loopback: FOLDER/<name>/<files> is served as
    /<name>/ (an index page of links) and /<name>/<file>. `url` is what pip's --index-url takes."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        folder_ = self.folder

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *a, **k):
                super().__init__(*a, directory=str(folder_), **k)

            def log_message(self, *a):
                pass

            def send_head(self):
                path = self.translate_path(self.path)
                if os.path.isdir(path):  # an index page of links, pip's simple API
                    names = sorted(os.listdir(path))
                    body = "".join(
                        f'<a href="{n}{"/" if os.path.isdir(os.path.join(path, n)) else ""}">{n}</a>\n' for n in names
                    ).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    import io

                    return io.BytesIO(body)
                return super().send_head()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, project: str, filename: str, data: bytes = b"") -> Path:
        path = self.folder / normalize(project) / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def add_wheel(self, project: str, version: str, module: str, code: str = "", requires=()) -> Path:
        """A small pure-Python wheel that pip installs (module `module` with `code`, Requires-Dist `requires`)."""
        import base64
        import hashlib

        dist = f"{project.replace('-', '_')}-{version}"
        meta = f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n" + "".join(
            f"Requires-Dist: {r}\n" for r in requires
        )
        files = {
            f"{module}/__init__.py": code.encode(),
            f"{dist}.dist-info/METADATA": meta.encode(),
            f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: sim_node\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        }

        def digest(data):
            return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

        record = "".join(f"{n},{digest(d)},{len(d)}\n" for n, d in files.items()) + f"{dist}.dist-info/RECORD,,\n"
        path = self.folder / normalize(project) / f"{dist}-py3-none-any.whl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w") as z:
            for n, d in {**files, f"{dist}.dist-info/RECORD": record.encode()}.items():
                z.writestr(n, d)
        return path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    print(__doc__, file=sys.stderr)
