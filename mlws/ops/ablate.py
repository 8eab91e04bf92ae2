"""`mlws ablate RUN`: which of the changes of the lineage step parent → RUN bought its gain.

For the step's changed keys (grouped with --group a,b where keys must change together), the
configurations are: the parent, the run, each change left out of the run (leave-one-out) and each
change added alone to the parent (add-one), at most 2k + 2, each with K seeds from the run's seed
up. A configuration is written as overrides (the run's or parent's own, every changed key pinned to
the value it must have) and planned: the planned config must be exactly the one intended, or the
ablation is refused before anything runs. A run already in the registry with the same effective
config (seed included; its description and price aside) is used again, and configurations that are
the same (with two changes, each one's add-one is the other's leave-one-out) are trained once; the
others are trained as one recorded sweep (ablate_sweep.py), N at a time on the run's own backend,
so running the same ablation again resumes it and only trains what is missing.
The arithmetic is mlws/stats/ablation.py."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import MlwsError
from ..flatten import flatten
from .ablate_changes import _MISSING, IGNORED, _shown, step_changes  # noqa: F401 (step_changes: tests, callers)
from .session import session, workspace_of

if TYPE_CHECKING:
    from ..registry import Registry, RunRecord


def ablate(run_id: int, *, seeds: int = 3, groups=(), parallel: int = 1, workspace=None, out=None) -> dict:
    """Plan, run what is missing and report; returns the `--json` shape."""
    from ..stats.ablation import ablation
    from .replicates import check_seeds

    check_seeds(seeds)
    if parallel < 1:
        raise MlwsError(f"--parallel must be at least 1 (got {parallel})")
    ws = workspace_of(workspace)
    registry = session(ws).registry
    run = registry.get(int(run_id))
    if run.get("parent_id") is None and not _step_file(ws, run_id).exists():
        raise MlwsError(f"run {run_id} has no parent run: there is no lineage step to ablate (mlws lineage {run_id})")
    parent = registry.get(_step_parent(ws, run))
    changes = step_changes(parent["config"], run["config"], groups, _references(ws, parent, run))
    monitor: Mapping[str, Any] = run.get("monitor") or {}
    metric, mode = monitor.get("metric"), monitor.get("mode") or "max"
    if not metric:
        raise MlwsError(f"run {run_id} names no monitor.metric: nothing to ablate by")
    first = run["config"].get("seed")
    if not isinstance(first, int):
        raise MlwsError(f"run {run_id} records no integer seed")
    seed_list = [first + i for i in range(seeds)]
    configs = plan_configs(ws, parent, run, changes, seed_list)
    _keep_step(ws, int(run_id), parent["id"])
    done = _reuse(registry, configs)
    missing, seen = [], set()
    for c in configs:  # with two changes, one's add-one is the other's leave-one-out: trained once
        for s in seed_list:
            same = (_canonical(c["config"]), s)
            if (c["name"], s) not in done and same not in seen:
                missing.append((c, s))
            seen.add(same)
    say = lambda m: print(m, file=out or sys.stderr, flush=True)
    say(
        f"ablate run {run_id} (parent {parent['id']}): {len(changes)} change(s), {len(configs)} configurations × "
        f"{seeds} seed(s); {len(done)} run(s) in the registry already, {len(missing)} to train"
    )
    for c in changes:
        if c["linked"]:
            say(f"  one change: {c['change']} ({'; '.join(c['linked'])})")
    from . import ablate_sweep

    sweep_id, failed = ablate_sweep.earlier(ws, int(run_id)), []
    if missing:  # nothing to train: no sweep is started (an earlier one is still named)
        record = ablate_sweep.sweep_for(ws, registry, run, parent, configs, seed_list, parallel, len(missing))
        sweep_id = record["id"]
        say(f"  as sweep {sweep_id} (mlws sweep {sweep_id}; mlws sweep {sweep_id} --stop)")
        failed = ablate_sweep.train(ws, registry, record, missing, parallel, out or sys.stderr)
    done = _reuse(registry, configs)
    values = {}
    for c in configs:
        runs = [done[(c["name"], s)] for s in seed_list if (c["name"], s) in done]
        c["runs"] = [r["id"] for r in runs]
        xs = [
            float(r["metrics"][metric]) for r in runs if isinstance((r.get("metrics") or {}).get(metric), (int, float))
        ]
        c["values"] = xs
        for key in [c["key"], *c.get("aliases", [])]:
            values[key] = xs
    short = [c["name"] for c in configs if not c["values"]]
    if short:
        logs = "; ".join(f["log"] for f in failed[:3])
        raise MlwsError(
            f"no {metric} for {', '.join(short)} "
            f"({len(failed)} run(s) failed{': ' + logs if logs else ''}); "
            f"keys that only work together can be one change (--group a,b); `mlws ablate {run_id}` "
            "again retries what is missing"
        )
    names = [c["change"] for c in changes]
    result = ablation(values, names)
    report = {
        "run": int(run_id),
        "parent": parent["id"],
        "metric": metric,
        "mode": mode,
        "seeds": seed_list,
        "changes": [{k: v for k, v in c.items() if k != "_raw"} for c in changes],
        "configurations": [_public(c) for c in configs],
        "failed": failed,
        **result,
        "sweep": sweep_id,
        "trained": len(missing),
        "reused": sum(len(c["runs"]) for c in configs) - len(missing),
    }
    # kept for `mlws report`'s ablation section
    (ws.state_dir / "ablations" / str(run_id) / "result.json").write_text(json.dumps(report, default=str))
    return report


def _references(ws, parent: Mapping[str, Any], run: Mapping[str, Any]) -> dict:
    """What each key of the parent's and the run's unresolved configs interpolates."""
    from .ablate_links import raw_flat, references

    refs: dict = {}
    for record in (parent, run):
        try:
            found = references(raw_flat(ws, _own(record)))
        except MlwsError:  # overrides that no longer compose: plan_configs says so, naming them
            continue
        for key, paths in found.items():
            refs.setdefault(key, set()).update(paths)
    return refs


def _step_file(ws, run_id: int):
    return ws.state_dir / "ablations" / str(run_id) / "step.json"


def _step_parent(ws, run: Mapping[str, Any]) -> int:
    """The parent the first ablation of this run used: its variants are runs too, and a run recorded
    with extra overrides may choose one of them as its closest parent afterwards (mlws/history/parent.py)."""
    path = _step_file(ws, run["id"])
    if path.exists():
        return int(json.loads(path.read_text())["parent"])
    return int(run["parent_id"])


def _keep_step(ws, run_id: int, parent_id: int) -> None:
    path = _step_file(ws, run_id)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"run": run_id, "parent": parent_id}))


def plan_configs(
    ws, parent: Mapping[str, Any], run: Mapping[str, Any], changes: list[dict], seeds: list[int]
) -> list[dict[str, Any]]:
    """The configurations (parent, run, leave-one-out, add-one), each planned and checked."""
    from ..planning import plan

    every = {k: v for c in changes for k, v in c["_raw"].items()}
    configs: list[dict[str, Any]] = [
        {"name": "parent", "kind": "parent", "change": None, "key": "parent", "overrides": _own(parent)},
        {"name": "run", "kind": "run", "change": None, "key": "run", "overrides": _own(run)},
    ]
    if len(changes) > 1:  # with one change, leaving it out is the parent and adding it is the run
        for c in changes:
            configs.append(
                {
                    "name": f"run without {c['change']}",
                    "kind": "leave_out",
                    "change": c["change"],
                    "key": ("leave_out", c["change"]),
                    "overrides": _own(run) + _pins(every, {k: 0 for k in c["_raw"]}, default=1),
                }
            )
            configs.append(
                {
                    "name": f"parent with {c['change']}",
                    "kind": "add",
                    "change": c["change"],
                    "key": ("add", c["change"]),
                    "overrides": _own(parent) + _pins(every, {k: 1 for k in c["_raw"]}, default=0),
                }
            )
    for c in configs:
        try:
            spec, _ = plan(ws, [*c["overrides"], f"seed={seeds[0]}"])
        except MlwsError as e:
            raise MlwsError(f"{c['name']}: {e}") from None
        c["config"] = spec.config
    by_name = {c["name"]: c for c in configs}
    for c in configs:  # the planned config must be the one meant: the run's or parent's, keys swapped
        source = run if c["kind"] in ("run", "leave_out") else parent
        want = flatten({k: v for k, v in source["config"].items() if k not in IGNORED})
        for k, pair in every.items():
            side = (
                0
                if c["kind"] == "leave_out" and c["change"] and k in _keys(changes, c["change"])
                else 1
                if c["kind"] == "add" and k in _keys(changes, c["change"])
                else None
            )
            if side is not None:
                want.pop(k, None)
                if pair[side] is not _MISSING:
                    want[k] = pair[side]
        got = flatten({k: v for k, v in c["config"].items() if k not in IGNORED})
        wrong = sorted(k for k in want.keys() | got.keys() if want.get(k, _MISSING) != got.get(k, _MISSING))
        if wrong:
            raise MlwsError(
                f"{c['name']}: its overrides do not give the intended config "
                f"(keys {', '.join(wrong[:5])}); "
                "group keys that must change together with --group a,b"
            )
    if len(changes) == 1:
        c = changes[0]["change"]
        by_name["parent"]["aliases"] = [("leave_out", c)]
        by_name["run"]["aliases"] = [("add", c)]
    return configs


def _keys(changes, name) -> set:
    return next(set(c["_raw"]) for c in changes if c["change"] == name)


def _own(record: Mapping[str, Any]) -> list[str]:
    return [o for o in record["overrides"] if o.lstrip("+~").split("=", 1)[0] != "seed"]


def _pins(every: dict, chosen: dict, default: int) -> list[str]:
    """Overrides that set every changed key to its parent (0) or run (1) value."""
    out = []
    for k, pair in every.items():
        value = pair[chosen.get(k, default)]
        out.append(f"~{k}" if value is _MISSING else f"++{k}={hydra_value(value)}")
    return out


def hydra_value(value) -> str:
    """A value in Hydra's override grammar, taken literally."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("${", "\\${") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{hydra_value(v)}" for k, v in value.items()) + "}"
    raise MlwsError(f"cannot write {value!r} as an override")


def _canonical(config: dict) -> str:
    """What a run learns: its config without seed, description and cost (a label and a price)."""
    return json.dumps({k: v for k, v in config.items() if k not in IGNORED}, sort_keys=True, default=str)


def _reuse(registry: Registry, configs: list[dict]) -> dict[tuple[str, Any], RunRecord]:
    """{(configuration name, seed): succeeded run} for runs whose effective config matches."""
    wanted: dict[tuple[str, Any], RunRecord] = {}
    by_config: dict[str, list[RunRecord]] = {}
    for r in registry.list(status="succeeded", with_config=True):
        if r.get("config"):
            by_config.setdefault(_canonical(r["config"]), []).append(r)
    for c in configs:
        for r in by_config.get(_canonical(c["config"]), []):
            seed = r["config"].get("seed")
            wanted.setdefault((c["name"], seed), r)
    return wanted


def _public(c: dict) -> dict:
    return {k: c.get(k) for k in ("name", "kind", "change", "overrides", "runs", "values")}
