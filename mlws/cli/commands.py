"""The one table of mlws's commands: each command's help line, its subcommands, and what their
positional words complete to. The parser (main.py) and shell completion (complete.py) both read it."""

from __future__ import annotations

from typing import NamedTuple

RUN_IDS, SWEEP_IDS, OVERRIDES, NOTEBOOK_NAMES = "run ids", "sweep ids", "overrides", "notebook names"


class Command(NamedTuple):
    help: str
    completes: str | None = None  # RUN_IDS, SWEEP_IDS, OVERRIDES, NOTEBOOK_NAMES, or nothing
    # name -> what its positional words complete to; `default` is the one meant when the word after
    # the command names none of them (`mlws serve 12` is `mlws serve run 12`)
    subcommands: dict[str, str | None] = {}
    default: str | None = None


def with_default_subcommand(argv: list[str]) -> list[str]:
    """argv with its command's default subcommand put in where the word after the command names
    none (a subcommand comes right after its command; `-h` there asks for the command's help)."""
    command = COMMANDS.get(argv[0]) if argv else None
    if command is None or command.default is None:
        return argv
    if len(argv) > 1 and (argv[1] in command.subcommands or argv[1] in ("-h", "--help")):
        return argv
    return [argv[0], command.default, *argv[1:]]


COMMANDS: dict[str, Command] = {
    "init": Command("Make this repository an mlws workspace: conf/ pointing at your LightningModule and DataModule"),
    "train": Command(
        "Validate, record and run an experiment: mlws train +experiment=model_12 [key=value ...]", OVERRIDES
    ),
    "sweeps": Command("List sweeps: their trials, status and best value"),
    "sweep": Command(
        "One sweep's trials ranked by its objective, with what varies (--resume runs what is missing)", SWEEP_IDS
    ),
    "plan": Command("Show the resolved config a train would run, without running or recording it", OVERRIDES),
    "check": Command("Compose and validate every experiment (or the ones named)", OVERRIDES),
    "runs": Command("List recorded runs"),
    "show": Command("Show one run in full", RUN_IDS),
    "watch": Command("Watch a run live: metrics, loss trend, CPU/GPU/memory, step rate, ETA, warnings", RUN_IDS),
    "stop": Command("Stop a running run cleanly: last checkpoint kept, status 'stopped'", RUN_IDS),
    "logs": Command("Print a run's output (a detached local run's, or its cluster's or cloud's job logs)", RUN_IDS),
    "cp": Command("Copy a run's artifacts: mlws cp 12:checkpoints/ ./ckpts", RUN_IDS),
    "down": Command("Stop what a compute backend started here for this workspace: mlws down compute=ray", OVERRIDES),
    "serve": Command(
        "Serve a run's model with Ray Serve: API, demo page (serve RUN, serve list, serve stop RUN)",
        RUN_IDS,
        {"run": RUN_IDS, "list": None, "stop": RUN_IDS},
        "run",
    ),
    "notebook": Command(
        "JupyterLab in this project's environment, here or on a cloud GPU (notebook list/status/stop)",
        OVERRIDES,
        {"start": OVERRIDES, "list": None, "status": NOTEBOOK_NAMES, "stop": NOTEBOOK_NAMES},
        "start",
    ),
    "label": Command("Add labels to a run (or --remove them)", RUN_IDS),
    "note": Command("Set a run's note", RUN_IDS),
    "diff": Command("What changed between two runs: effective config, metrics, code", RUN_IDS),
    "lineage": Command("The chain of runs from the first baseline to a run (or --best METRIC, or --all)", RUN_IDS),
    "ablate": Command(
        "Which change of a lineage step bought its gain: leave-one-out and add-one runs over seeds", RUN_IDS
    ),
    "rerun": Command("Run a recorded run again with the same resolved config", RUN_IDS),
    "resume": Command("Carry a killed or stopped local run on from its last checkpoint, as the same run", RUN_IDS),
    "cost": Command("What the runs cost, in total or --by experiment, label, month or backend (from the registry)"),
    "report": Command("Write a self-contained HTML report of the runs and their lineage"),
    "completion": Command('Shell completion: eval "$(mlws completion bash)" (or zsh)'),
}
