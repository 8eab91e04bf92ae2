"""mlws plan [overrides ...]: the resolved config, or the task a compute backend compiles (compute=sky: the SkyPilot task and its price).

Nothing is launched or recorded.
"""

from __future__ import annotations

from .render import print_json


def add_arguments(p) -> None:
    p.add_argument("overrides", nargs="*")
    p.add_argument("--json", action="store_true", help="the RunSpec (and task and estimate) as JSON")
    p.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        help="write DIR/spec.json and, for a backend that compiles a task, DIR/task.yaml mounting it "
        "(launched by hand with the command printed, unrecorded)",
    )


def run(args) -> int:
    import json

    import yaml

    from mlws import api

    planned = api.plan_compute(args.overrides, output=args.output)
    spec, task, estimate = planned["spec"], planned["task"], planned["estimate"]
    if args.output:
        return _write(args.output, task, planned)
    if args.json:
        print_json({"spec": json.loads(spec.to_json()), "task": task, "estimate": estimate})
        return 0
    if task is None:
        print(f"# experiment: {spec.experiment}  overrides: {' '.join(spec.overrides) or '(none)'}")
        print(yaml.safe_dump(spec.config, sort_keys=False), end="")
        return 0
    print(
        "# task for compute backend "
        + str(spec.config["compute"].get("_target_"))
        + " (runs/N/spec.json is written at launch)"
    )
    print(_yaml(task), end="")
    for line in planned.get("lines") or []:
        print(f"# {line}")
    for note in planned.get("notes") or []:
        print(f"# note: {note}")
    return 0


def _write(output: str, task, planned: dict) -> int:
    from pathlib import Path

    from mlws.fileio import write_atomic

    folder = Path(output).resolve()
    print(f"wrote {folder / 'spec.json'} (the frozen run spec)")
    if task is not None:
        write_atomic(folder / "task.yaml", _yaml(task))
        print(f"wrote {folder / 'task.yaml'} (mounts the spec)")
        for line in planned.get("lines") or []:  # the backend's: price, how to launch it, which guards act
            print(f"# {line}")
        for note in planned.get("notes") or []:
            print(f"# note: {note}")
        print("# launched by hand, the run is not recorded in the registry (mlws train records it)")
    return 0


def _yaml(data) -> str:
    """YAML with multi-line strings (setup, run) as literal blocks, as people write them."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper, value):
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return yaml.dump(data, Dumper=Dumper, sort_keys=False)
