"""The forked CLI the suite uses (tests/support/cli_zygote.py) answers as `python -m mlws.cli.main`
does: the same exit status, stdout and stderr, in the call's directory and environment; a timeout
ends the child as subprocess.run ends its own."""

from __future__ import annotations

import re
import subprocess

import psutil
import pytest

from ..support.cli_zygote import server
from ..support.helpers import mlws

CALLS = [
    ["--version"],
    ["show", "99"],  # exit 2, one line on stderr
    ["train", "+experiment=nope"],  # a missing experiment: exit 2
    ["plan", "+experiment=model_01", "model.lr=0.5", "--json"],
    [
        "train",
        "+experiment=model_01",
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=2",
        "logger=none",
        "seed=3",
    ],
    ["runs", "--json"],
]


def comparable(out: subprocess.CompletedProcess, ws) -> tuple:
    # a run's own id, folder and times differ between the two workspaces; the rest must not
    def clean(text: str) -> str:
        text = re.sub(r'"(created_at|commit)": "[^"]*"', r'"\1": "-"', text)
        return text.replace(str(ws), "WS")

    return out.returncode, clean(out.stdout), clean(out.stderr)


def test_the_forked_cli_answers_as_a_fresh_interpreter(tmp_path):
    from ..support.helpers import clean_env, make_workspace

    answers = {}
    for fresh in (True, False):
        ws = make_workspace(tmp_path / f"ws-{fresh}")
        env = clean_env(tmp_path / f"env-{fresh}", MLWS_SEEN_BY="the child")
        answers[fresh] = []
        for args in CALLS:
            out = mlws(*args, cwd=ws, env=env, fresh=fresh)
            answers[fresh].append(comparable(out, ws))
    assert [a[0] for a in answers[True]] == [0, 2, 2, 0, 0, 0]
    for args, real, forked in zip(CALLS, answers[True], answers[False], strict=True):
        if args[0] in ("train", "runs"):  # times, W&B ids: compare the status and the shape
            assert forked[0] == real[0] and len(forked[1].splitlines()) == len(real[1].splitlines()), args
        else:
            assert forked == real, args


def test_the_call_gets_its_own_directory_and_environment(tmp_path):
    from ..support.helpers import clean_env, make_workspace

    ws = make_workspace(tmp_path / "ws")
    env = clean_env(tmp_path, WANDB_MODE="disabled")
    out = mlws(
        "train",
        "+experiment=model_01",
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=2",
        "--json",
        cwd=ws,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert (ws / "runs" / "1").is_dir()  # the call's directory, not the server's
    assert "wandb" not in out.stdout.split("W&B")[0] or "disabled" in out.stdout  # W&B off, as the env says
    assert not (ws / "runs" / "1" / "wandb").exists()


def test_a_timeout_ends_the_child_as_subprocess_run_does(tmp_path):
    from ..support.helpers import clean_env, make_workspace

    ws = make_workspace(tmp_path / "ws")
    env = clean_env(tmp_path)
    before = {p.pid for p in psutil.Process(server().proc.pid).children()}
    with pytest.raises(subprocess.TimeoutExpired):
        mlws("train", "+experiment=model_12", "trainer.max_epochs=500", "logger=none", cwd=ws, env=env, timeout=3)
    children = [p for p in psutil.Process(server().proc.pid).children() if p.pid not in before]
    _, alive = psutil.wait_procs(children, timeout=10)  # SIGKILL takes a moment to land
    assert not alive
    assert mlws("--version", cwd=ws, env=env).returncode == 0  # the server goes on serving
