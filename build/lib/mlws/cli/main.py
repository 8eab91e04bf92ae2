"""`mlws` entry point: dispatches to one module per command; user errors print without a traceback."""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "init": "Make this repository an mlws workspace: conf/ pointing at your LightningModule and DataModule",
    "train": "Validate, record and run an experiment: mlws train +experiment=model_12 [key=value ...]",
    "sweeps": "List sweeps: their trials, status and best value",
    "sweep": "One sweep's trials ranked by its objective, with what varies (--resume runs what is missing)",
    "plan": "Show the resolved config a train would run, without running or recording it",
    "check": "Compose and validate every experiment (or the ones named)",
    "runs": "List recorded runs",
    "show": "Show one run in full",
    "watch": "Watch a run live: metrics, loss trend, CPU/GPU/memory, step rate, ETA, warnings",
    "stop": "Stop a running run cleanly: last checkpoint kept, status 'stopped'",
    "logs": "Print a run's output (a detached local run's, or its cluster's or cloud's job logs)",
    "cp": "Copy a run's artifacts: mlws cp 12:checkpoints/ ./ckpts",
    "down": "Stop what a compute backend started here for this workspace: mlws down compute=ray",
    "serve": "Serve a run's model with Ray Serve: API, demo page (serve list / serve stop RUN)",
    "notebook": "JupyterLab in this project's environment, here or on a cloud GPU (notebook list/status/stop)",
    "label": "Add labels to a run (or --remove them)",
    "note": "Set a run's note",
    "diff": "What changed between two runs: effective config, metrics, code",
    "lineage": "The chain of runs from the first baseline to a run (or --best METRIC, or --all)",
    "rerun": "Run a recorded run again with the same resolved config",
    "report": "Write a self-contained HTML report of the runs and their lineage",
    "completion": "Shell completion: eval \"$(mlws completion bash)\" (or zsh)",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlws", description="Experiments as code: Hydra configs, Lightning training, a run registry.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"mlws.cli.{name}_cmd")
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from mlws.errors import MlwsError

    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["__complete"]:  # a TAB in the shell: answered without building every parser
        from .complete import main as complete
        return complete(args_in[1:])

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # Overrides may come after options (`train +experiment=x --label a model.lr=3`).
    if hasattr(args, "overrides") and not any(e.startswith("-") for e in extra):
        args.overrides = [*args.overrides, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args) or 0
    except MlwsError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
