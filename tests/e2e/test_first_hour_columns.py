"""Issue 32 points 7 and 8, in a real terminal: tmux at 80x50 (a laptop's split terminal). Each
command's screen is captured with `capture-pane -J`, which joins the lines the terminal soft-wrapped:
a path or a command printed whole comes back whole; one folded by the program does not."""

import json
import shlex
import subprocess
import sys
import uuid

import pytest

from mlws.cli.render import metric_text, param_text

from ..support.helpers import (
    clean_env,
    free_port,
    make_workspace,
    mlws,
    mlws_json,
    stop_what_the_workspace_started,
    use_record_only_backend,
    wait_for,
)

pytestmark = [pytest.mark.tmux]

WIDTH, HEIGHT = 80, 50


@pytest.fixture
def term(tmp_path, env):
    """run(ws, *args): the mlws command in a fresh tmux window of 80x50; its whole screen (scrollback
    included) with soft-wrapped lines joined, once the command has exited."""
    socket = f"mlws-cols-{uuid.uuid4().hex[:8]}"
    tmux = lambda *a: subprocess.run(["tmux", "-L", socket, *a], capture_output=True, text=True, timeout=30, env=env)
    count = iter(range(1000))

    def run(ws, *args, timeout: float = 240) -> str:
        name = f"w{next(count)}"
        cmd = (
            f"cd {shlex.quote(str(ws))} && {shlex.quote(sys.executable)} -m mlws.cli.main "
            f"{' '.join(shlex.quote(a) for a in args)}; echo __exit $?; sleep 600"
        )
        started = tmux("new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT), cmd)
        assert started.returncode == 0, started.stderr
        tmux("set-option", "-t", name, "history-limit", "5000")
        screen = lambda: tmux("capture-pane", "-p", "-J", "-S", "-", "-t", name).stdout
        text = wait_for(
            lambda: (s := screen()) and "__exit " in s and s, timeout=timeout, what=f"mlws {args[0]} to end"
        )
        assert "__exit 0" in text, text
        tmux("kill-session", "-t", name)
        return text

    yield run
    tmux("kill-server")


def lines_of(screen: str) -> list[str]:
    return [line.rstrip() for line in screen.splitlines()]


def test_train_summary_and_watch_print_paths_and_commands_whole(ws, env, term):
    screen = term(ws, "train", "+experiment=model_01", "trainer.max_epochs=1")
    run = mlws_json("show", "1", cwd=ws, env=env)
    art, lines = run["artifacts"], lines_of(screen)
    best, last = art["checkpoints"]["best"], art["checkpoints"]["last"]
    weights = [best.removesuffix(".ckpt") + ".safetensors", last.removesuffix(".ckpt") + ".safetensors"]
    assert all((ws / w).is_file() for w in weights)
    for whole in [run["run_dir"], *weights, best, last, f"wandb sync {art['wandb_dir']}"]:
        assert f"  {whole}" in lines, (whole, screen)
    assert any(line.startswith(f"  {art['log']}") for line in lines)
    assert max(len(w) for w in weights) + 2 > WIDTH  # the terminal did wrap them: -J joined them back
    text = "\n".join(lines)
    assert "safetensors" in text and "for resuming" in text
    assert text.index(weights[0]) < text.index(best)  # the weights to load come first, the .ckpt after

    for once in (["--once"], []):  # the snapshot, and the live view (it ends at once: the run has ended)
        shown = lines_of(term(ws, "watch", "1", *once))
        assert f"  wandb beta leet {art['wandb_dir']}" in shown, shown


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """Runs recorded through the real launch path by a record-only backend (no training), with long
    labels and overrides, a lineage of several steps, and an Optuna sweep of three trials; shared by
    the tests that only read them (its own folder; what it started is stopped at the end)."""
    tmp = tmp_path_factory.mktemp("columns")
    ws, env = make_workspace(tmp / "ws"), clean_env(tmp)
    try:
        yield _record(ws, env)
    finally:
        stop_what_the_workspace_started(ws)


def _record(ws, env):
    backend = use_record_only_backend(ws)
    for n in ("01", "02", "03", "04"):
        # model_02's run changes five keys from model_01's: the lineage lists four and names the diff
        epochs, batch = ("41", "64") if n == "02" else ("40", "128")
        out = mlws(
            "train",
            f"+experiment=model_{n}",
            *backend,
            f"trainer.max_epochs={epochs}",
            f"data.batch_size={batch}",
            "--label",
            f"a-rather-long-label-for-model-{n}",
            cwd=ws,
            env=env,
        )
        assert out.returncode == 0, out.stderr
    out = mlws(
        "train",
        "-m",
        "+experiment=model_12",
        *backend,
        "hydra/sweeper=optuna",
        "model.lr=interval(1e-4,1e-2)",
        "hydra.sweeper.n_trials=3",
        "--json",
        cwd=ws,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    return ws


def test_runs_keeps_the_key_metric_whole(records, env, term):
    lines = lines_of(term(records, "runs"))
    for r in mlws_json("runs", cwd=records, env=env):
        row = next(line for line in lines if line.lstrip().startswith(f"{r['id']} "))
        assert metric_text(r["metrics"]["val/acc"]) in row, lines
        assert len(row) <= WIDTH


def test_lineage_lines_keep_their_arrow_and_say_which_diff(records, env, term):
    screen = term(records, "lineage", "4")
    lines = [line for line in lines_of(screen) if line and not line.startswith("__exit")]
    assert lines[0].startswith("  run 1 model_01") and sum(line.startswith("→ run ") for line in lines) == 3
    assert all(line.startswith(("→ run ", "  ")) for line in lines), lines  # nothing back at column 0
    assert "… 1 more key: mlws diff 1 2" in screen


def test_sweep_values_rounded_and_best_whole(records, env, term):
    view = mlws_json("sweep", "1", cwd=records, env=env)
    lrs = [t["params"]["model.lr"] for t in view["trials"]]
    assert all(isinstance(v, float) and len(repr(v)) > 10 for v in lrs)  # Optuna's draws: full precision in JSON
    screen = term(records, "sweep", "1")
    for t in view["trials"]:
        assert param_text(t["params"]["model.lr"]) in screen and repr(t["params"]["model.lr"]) not in screen
        assert metric_text(t["value"]) in screen
    best = mlws_json("sweeps", cwd=records, env=env)[0]["best"]
    shown = term(records, "sweeps")
    assert f"val/acc={metric_text(best['value'])}" in shown and f"run {best['run']}" in shown


def test_notebook_list_has_a_header(ws, env, term):
    # a recorded cloud notebook (no server here: a state file as `mlws notebook compute=sky` leaves)
    folder = ws / ".mlws" / "notebooks" / "sky"
    folder.mkdir(parents=True)
    token = "t" * 43
    (folder / "state.json").write_text(
        json.dumps(
            {
                "name": "sky",
                "backend": "sky",
                "url": "http://203.0.113.7:8888",
                "token": token,
                "cluster": "mlws-notebook-sky",
            }
        )
    )
    (folder / "state.json").chmod(0o600)  # as mlws writes it: a state file anyone else could write is ignored
    lines = [line for line in lines_of(term(ws, "notebook", "list")) if line]
    assert lines[0].split() == ["name", "backend", "link"]
    assert lines[1].split() == ["sky", "sky", f"http://203.0.113.7:8888/lab?token={token}"]


def test_report_goes_under_runs_and_stays_out_of_git(records, env):
    out = mlws("report", cwd=records, env=env)
    assert out.returncode == 0, out.stderr
    assert (records / "runs" / "report.html").is_file() and not (records / "report.html").exists()
    assert f"  {records / 'runs' / 'report.html'}" in out.stdout.splitlines()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored=no"], cwd=records, capture_output=True, text=True
    ).stdout
    assert "report" not in status, status
    assert "runs/report.html" in mlws("report", "--help", cwd=records, env=env).stdout


def test_a_notebook_cell_prints_no_terminal_codes(records, env, monkeypatch, capsys):
    """`%mlws runs` in a Jupyter kernel, which sets FORCE_COLOR for the tools it starts."""
    from mlws.jupyter.magic import mlws_magic

    for key in list(__import__("os").environ):
        if key.startswith(("WANDB_", "MLWS_")):
            monkeypatch.delenv(key)
    for key, value in {**env, "FORCE_COLOR": "1", "CLICOLOR_FORCE": "1", "TERM": "xterm-color"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(records)
    assert mlws_magic("runs") == 0 and mlws_magic("watch 1") == 0
    text = capsys.readouterr().out
    assert "model_01" in text and "\x1b" not in text


def test_mlws_cells_in_a_real_kernel_print_no_terminal_codes(records, env):
    """A JupyterLab kernel sets FORCE_COLOR for the tools it starts: `%mlws runs` and `%mlws watch 1`
    still show plain text (the watch view as a display, redrawn in place while the run runs)."""
    from ..support.jupyter_ws import execute, start_kernel

    port = free_port()
    out = mlws(
        "notebook", "--detach", "--port", str(port), "--idle-minutes", "0", "--json", cwd=records, env=env, timeout=180
    )
    assert out.returncode == 0, out.stderr[-3000:]
    name = json.loads(out.stdout)["name"]
    try:
        state = json.loads((records / ".mlws" / "notebooks" / name / "state.json").read_text())
        kernel = start_kernel(state["url"], state["token"])
        shown = execute(
            state["url"], state["token"], kernel, "%load_ext mlws\n%mlws runs\n%mlws watch 1", displays=True
        )
        assert "model_01" in shown and "run 1 · model_01 · succeeded" in shown, shown
        assert "\x1b" not in shown, repr(shown[:2000])
    finally:
        mlws("notebook", "stop", name, cwd=records, env=env)
