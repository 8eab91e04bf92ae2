"""Output for an 80-column terminal (issue 32 points 7 and 8), rendered by rich into a string: paths
and commands whole on their own lines, lineage lines indented under their run, the key metric never
cut, swept values rounded for display."""

import io
from datetime import datetime

import pytest
from rich.console import Console

from mlws.cli.render import (
    aligned,
    format_metrics,
    metric_columns,
    metric_text,
    param_text,
    print_whole,
    short_time,
    weights_of,
)

LONG = "/home/someone/projects/a-team-with-a-long-name/workspace/runs/12/checkpoints/best-epoch03"


def rendered(renderable, width: int = 80) -> str:
    out = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    out.print(renderable)
    return out.file.getvalue()


def test_optuna_values_are_rounded_to_four_significant_digits():
    assert param_text(0.0007197497206563878) == "0.0007197"
    assert param_text(0.002589947322121699) == "0.00259"
    assert param_text(123456.7) == "1.235e+05"
    assert param_text(3) == "3" and param_text("adam") == "adam" and param_text(True) == "True"


def test_metric_text():
    assert metric_text(0.99666) == "0.9967" and metric_text(None) == "-" and metric_text("nan?") == "nan?"
    assert (
        format_metrics({"val/acc": 0.5, "val/loss": 1.0}, ("val/acc", "val/loss"), sep="\n")
        == "val/acc=0.5000\nval/loss=1.0000"
    )


def test_short_time():
    now = datetime(2026, 12, 7, 15, 0)
    assert short_time("2026-12-07T14:18:26+00:00", now) == "12-07 14:18"
    assert short_time("2025-03-01T09:00:00", now) == "2025-03-01"
    assert short_time(None, now) == "-" and short_time("yesterday", now) == "yesterday"


def test_metric_columns_are_named_by_the_metric_when_every_run_shares_it():
    a = {"metrics": {"val/acc": 0.91234, "val/loss": 0.2}}
    b = {"metrics": {"val/acc": 0.5}}
    same = lambda r: ("val/acc", "val/loss")
    assert metric_columns([a, b], same) == (["val/acc", "val/loss"], [["0.9123", "0.2000"], ["0.5000", "-"]])
    mixed = lambda r: ("val/acc",) if r is a else ("val/loss",)
    c = {"metrics": {"val/loss": 0.3}}
    assert metric_columns([a, c], mixed) == (["metrics"], [["val/acc=0.9123"], ["val/loss=0.3000"]])


def test_weights_are_the_safetensors_next_to_the_checkpoints():
    record = {
        "config": {},
        "artifacts": {"checkpoints": {"best": LONG + ".ckpt", "last": "/r/last.ckpt", "best_score": 0.9}},
    }
    on_disk = {LONG + ".ckpt", LONG + ".safetensors", "/r/last.ckpt", "/r/last.safetensors"}
    assert weights_of(record, on_disk.__contains__) == [
        ("best", LONG + ".safetensors"),
        ("last", "/r/last.safetensors"),
    ]
    # an older run with only the .ckpt here: no weights named
    assert weights_of(record, {LONG + ".ckpt", "/r/last.ckpt"}.__contains__) == []
    # safe_weights off: none, whatever is on disk
    assert weights_of({**record, "config": {"safe_weights": False}}, on_disk.__contains__) == []
    # a remote run: neither file is here, the run wrote them where it ran
    assert [n for n, _ in weights_of(record, lambda p: False)] == ["best", "last"]


def test_print_whole_never_folds_a_path():
    out = Console(width=40, file=io.StringIO(), color_system=None)
    print_whole(out, LONG + ".safetensors")
    assert out.file.getvalue() == f"  {LONG}.safetensors\n"


def test_aligned_has_a_header_and_the_link_last_and_whole():
    link = "http://127.0.0.1:8888/lab?token=" + "x" * 43
    assert aligned(("name", "backend", "link"), [("local", "local", link), ("a-longer-name", "sky", "")]) == [
        "name           backend  link",
        f"local          local    {link}",
        "a-longer-name  sky",
    ]


def test_closing_summary_prints_each_path_whole_and_names_the_weights(monkeypatch, tmp_path):
    from mlws.cli import train_cmd

    ckpts = tmp_path / ("a-long-folder-name-" * 3) / "checkpoints"
    ckpts.mkdir(parents=True)
    for name in ("best-epoch03.ckpt", "best-epoch03.safetensors", "last.ckpt", "last.safetensors"):
        (ckpts / name).write_text("")
    wandb = str(tmp_path / "runs/12/wandb/offline-run-20261207_141839-946d4wdb")
    record = {
        "id": 12,
        "experiment": "model_12",
        "status": "succeeded",
        "metrics": {"val/acc": 0.98765, "val/loss": 0.1},
        "monitor": {"metric": "val/acc", "mode": "max", "loss": "val/loss"},
        "run_dir": str(ckpts.parent),
        "config": {},
        "artifacts": {
            "checkpoints": {"best": str(ckpts / "best-epoch03.ckpt"), "last": str(ckpts / "last.ckpt")},
            "log": str(ckpts.parent / "train.log"),
            "warnings": 2,
            "wandb_dir": wandb,
            "wandb_mode": "offline",
        },
    }
    out = Console(width=80, file=io.StringIO(), color_system=None)
    monkeypatch.setattr(train_cmd, "console", lambda: out)
    train_cmd._closing_summary(record)
    lines = out.file.getvalue().splitlines()
    for whole in [
        str(ckpts / "best-epoch03.safetensors"),
        str(ckpts / "last.safetensors"),
        str(ckpts / "best-epoch03.ckpt"),
        str(ckpts / "last.ckpt"),
        str(ckpts.parent),
        str(ckpts.parent / "train.log") + " (2 warnings)",
        f"wandb sync {wandb}",
    ]:
        assert f"  {whole}" in lines, (whole, lines)
    text = "\n".join(lines)
    assert text.index("best-epoch03.safetensors") < text.index("best-epoch03.ckpt")  # the weights to load first
    assert "for resuming" in text and "val/acc=0.9877" in text


def test_lineage_lines_keep_their_arrow_and_indent_and_say_where_the_rest_is():
    from mlws.cli.lineage_cmd import chain_view

    step = lambda i, summary, desc: {
        "id": i,
        "experiment": f"model_{i:02d}",
        "labels": ["a-fairly-long-label"],
        "metric": "val/acc",
        "value": 0.5 + i / 100,
        "delta": None if i == 1 else 0.01,
        "description": desc,
        "summary": summary,
        "note": "" if i == 1 else "tried " * 20,
    }
    chain = [
        step(1, [], "baseline: logistic regression on raw pixels, SGD, with a description too long for one line"),
        step(
            2,
            [
                f"model.key{k}: mlws.compute.local.LocalBackend → testing_backends.record_only.RecordOnly"
                for k in range(10)
            ],
            "normalise pixels to 0..1, raise SGD lr",
        ),
    ]
    lines = [l.rstrip() for l in rendered(chain_view(chain), width=60).splitlines() if l.strip()]
    assert lines[0].startswith("  run 1 model_01") and any(l.startswith("→ run 2 model_02") for l in lines)
    assert all(l.startswith(("→ run ", "  ")) for l in lines), lines  # nothing back at column 0
    assert [l for l in lines if "testing_backends" in l] == ["      testing_backends.record_only.RecordOnly"] * 4
    assert "… 6 more keys: mlws diff 1 2" in "\n".join(lines)
    assert "val/acc=0.5200" in "\n".join(lines) and "(+0.0100)" in "\n".join(lines)


def test_runs_table_keeps_the_key_metric_whole_at_80_columns():
    from mlws.cli.runs_cmd import table

    records = [
        {
            "id": i,
            "experiment": "model_with_a_long_name_%02d" % i,
            "status": "succeeded",
            "metrics": {"val/acc": 0.912345 + i / 1000, "val/loss": 0.123456},
            "labels": ["a-rather-long-label", "another-long-label"],
            "cost": None,
            "overrides": [
                f"+experiment=model_with_a_long_name_{i:02d}",
                "model.lr=0.0007197497206563878",
                "trainer.max_epochs=40",
                "data.batch_size=128",
            ],
            "created_at": "2026-12-07T14:18:26+00:00",
        }
        for i in range(1, 4)
    ]
    text = rendered(table(records, lambda r: ("val/acc", "val/loss")), width=80)
    assert max(len(l) for l in text.splitlines()) <= 80
    for r in records:
        row = next(l for l in text.splitlines() if l.lstrip().startswith(f"{r['id']} "))
        assert metric_text(r["metrics"]["val/acc"]) in row and "0.1235" in row, text
    assert "val/acc" in text and "…" in text  # the overrides gave way, not the metric


def test_sweeps_table_keeps_its_best_value_and_rounds_the_space(monkeypatch, capsys):
    import mlws.api as api
    from mlws.cli import sweeps_cmd

    sweep = {
        "id": 1,
        "experiment": "model_with_a_long_name",
        "sweeper": "optuna",
        "status": "finished",
        "counts": {"succeeded": 20, "failed": 2},
        "settings": {"n_trials": 22},
        "metric": "val/acc",
        "best": {"value": 0.987654321, "run": 123},
        "space": {"model.lr": 0.0007197497206563878, "model.net.hidden": "choice([64],[128],[256])"},
        "created_at": "2026-12-07T14:18:26+00:00",
    }
    monkeypatch.setattr(api, "list_sweeps", lambda limit: [sweep])
    out = Console(width=80, file=io.StringIO(), color_system=None)
    monkeypatch.setattr(sweeps_cmd, "console", lambda: out)
    import argparse

    assert sweeps_cmd.run(argparse.Namespace(limit=None, all=False, json=False)) == 0
    text = out.file.getvalue()
    assert "val/acc=0.9877" in text and "run 123" in text
    assert "0.0007197" in text.replace(" ", "").replace("\n", "") and "0.00071974" not in text.replace(" ", "").replace(
        "\n", ""
    )


def test_sweep_table_rounds_the_trials_values(monkeypatch):
    from mlws.cli import sweep_cmd

    out = Console(width=80, file=io.StringIO(), color_system=None)
    monkeypatch.setattr(sweep_cmd, "console", lambda: out)
    result = {
        "sweep": {
            "id": 3,
            "experiment": "model_12",
            "sweeper": "optuna",
            "status": "finished",
            "metric": "val/acc",
            "mode": "max",
            "error": None,
        },
        "varied": ["model.lr", "model.net.hidden"],
        "unsucceeded": 0,
        "trials": [
            {
                "rank": 1,
                "trial": 2,
                "run": 8,
                "status": "succeeded",
                "value": 0.98765,
                "params": {"model.lr": 0.0007197497206563878, "model.net.hidden": [64]},
            }
        ],
    }
    sweep_cmd._table(result)
    text = out.file.getvalue()
    assert "0.0007197" in text and "0.00071974" not in text and "0.9877" in text and "[64]" in text


@pytest.mark.parametrize("name", ["FORCE_COLOR", "CLICOLOR_FORCE"])
def test_a_notebook_cell_gets_plain_text(name):
    from mlws.jupyter.magic import cell_environment

    env = cell_environment({name: "1", "PATH": "/bin", "TERM": "xterm-color"})
    assert name not in env and env["PATH"] == "/bin" and env["NO_COLOR"] == "1" and env["TTY_COMPATIBLE"] == "0"


def test_watch_in_a_cell_is_redrawn_in_place_until_the_run_ends(monkeypatch):
    """`%mlws watch N`: one display, updated with each plain-text snapshot, not a stream of cursor codes."""
    import subprocess
    import types

    import IPython.display

    from mlws.jupyter import magic

    shown, calls = [], []

    class Handle:
        def update(self, data, raw):
            shown.append(data["text/plain"])

    screens = iter(
        [
            "run 3 · model_12 · running\nstep 1/9",
            "run 3 · model_12 · running\nstep 5/9",
            "run 3 · model_12 · succeeded\nstep 9/9",
        ]
    )

    def fake_run(cmd, **kw):
        calls.append(cmd[3:])
        assert "FORCE_COLOR" not in kw["env"]
        return types.SimpleNamespace(stdout=next(screens), stderr="", returncode=0)

    monkeypatch.setattr(IPython.display, "display", lambda *a, **kw: Handle())
    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr("time.sleep", lambda s: None)
    env = magic.cell_environment({"FORCE_COLOR": "1"})
    assert magic.watch_in_cell(["watch", "3", "--interval", "0.5"], "/ws", env) == 0
    assert calls == [["watch", "3", "--interval", "0.5", "--once"]] * 3
    assert [s.splitlines()[1] for s in shown] == ["step 1/9", "step 5/9", "step 9/9"]


def test_runs_table_with_a_cost_column_keeps_the_date_whole_at_80_columns():
    from mlws.cli.runs_cmd import table

    records = [
        {
            "id": i,
            "experiment": "model_12",
            "status": "succeeded",
            "metrics": {"val/acc": 0.98, "val/loss": 0.07},
            "labels": ["sweep-1"],
            "cost": {"usd": 0.0034, "hours": 0.001, "final": i != 2, "hourly_price": 6.12 if i == 3 else None},
            "overrides": ["+experiment=model_12", "trainer.max_epochs=2", "cost.local_hourly=10"],
            "created_at": "2026-12-07T17:43:26+00:00",
        }
        for i in range(1, 4)
    ]
    text = rendered(table(records, lambda r: ("val/acc", "val/loss")), width=80)
    assert max(len(l) for l in text.splitlines()) <= 80
    flat = text.replace("\n", " ")
    assert "12-07 17:43" in text or all(part in flat for part in ("12-07", "17:43")), text
    assert "17:4 " not in text and "$0.0034" in text and "so far" in text and "@ $6.12/h" in text, text
