"""`mlws train ... --seeds K` and `mlws rerun N --seeds K`: run a replicate group (a sweep over
`seed`), then show its trials and the group's key metric as mean ± sd with its 95% interval."""

from __future__ import annotations

import shlex


def run_seeds(args) -> int:
    """`mlws train ... --seeds K`"""
    from mlws import api
    from mlws.errors import MlwsError

    if args.multirun:
        raise MlwsError("--seeds repeats one config; in a sweep (-m) add seed=42,43,44 as a swept key instead")
    if args.resume or args.force or args.max_failures is not None:
        raise MlwsError(
            "--resume, --force and --max-failures are for sweeps (-m); the same --seeds command "
            "again runs only the replicates still missing"
        )
    command = shlex.join(
        ["mlws", "train", *args.overrides, "--seeds", str(args.seeds)]
        + (["--parallel", str(args.parallel)] if args.parallel != 1 else [])
    )
    with _progress_to_stderr(args.json):
        result = api.train_seeds(
            args.overrides,
            args.seeds,
            parallel=args.parallel,
            detach=args.detach,
            labels=args.label,
            note=args.note,
            command=command,
        )
    return show(result, as_json=args.json, detached=args.detach)


def rerun_seeds(args) -> int:
    """`mlws rerun N --seeds K`"""
    from mlws import api

    with _progress_to_stderr(args.json):
        result = api.rerun_seeds(args.run_id, args.seeds, parallel=args.parallel, detach=args.detach)
    return show(result, as_json=args.json, detached=args.detach)


def _progress_to_stderr(active: bool):
    from .sweep_cmd import _progress_to_stderr as quiet

    return quiet(active)


def show(result: dict, *, as_json: bool = False, detached: bool = False) -> int:
    """The sweep's table (or --json: the sweep's view with `group`), then the group's line (with
    --detach, where the group's runs have only just started: where its summary will be)."""
    from .sweep_cmd import show as show_sweep

    code = show_sweep(result, as_json=as_json)
    if detached and not as_json and (result.get("sweep") or {}).get("status") == "running":
        group = result["group"]["group"]
        print(f"replicate group {group}: its runs train in the background; mlws sweep {group} shows its summary")
    elif not as_json:
        from .replicates_render import group_line

        print(group_line(result["group"]))
    return code
