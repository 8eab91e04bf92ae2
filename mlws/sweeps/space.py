"""A sweep command's overrides, parsed with Hydra's own override grammar: what is fixed, what is swept
(the search space), what configures Hydra's sweeper; the sweep's signature. No composition here."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from ..errors import MlwsError


@dataclass(frozen=True)
class SweepArgs:
    fixed: tuple[str, ...]  # ordinary overrides, every trial gets them
    swept: dict  # key → its sweep expression as typed, e.g. {"model.lr": "1e-3,3e-4"}
    hydra: tuple[str, ...]  # hydra/sweeper=optuna, hydra.sweeper.n_trials=20, ...
    representative: tuple[str, ...]  # one point of the space (each swept key's first value)
    task: tuple[str, ...] = ()  # the non-Hydra overrides in the command's order (as Hydra's sweepers get them)
    grid_size: int | None = None  # the number of points when every swept key is a list or range

    @property
    def sweeper_choice(self) -> str:
        for o in self.hydra:
            key, _, value = o.lstrip("+").partition("=")
            if key == "hydra/sweeper":
                return value
        return "basic"


def parse(overrides: list[str]) -> SweepArgs:
    """Split a sweep's overrides; a malformed one is a clear error."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as e:
        raise MlwsError(f"cannot parse override: {str(e).strip().splitlines()[0]}") from None
    hydra, task = [], []
    last: dict[str, object] = {}  # a key given twice: the last one counts (as in Hydra), in its first place
    for o in parsed:
        if o.is_hydra_override():
            hydra.append(o.input_line)
        else:
            task.append(o.input_line)
            last[o.get_key_element()] = o
    fixed, swept, representative, grid_size = [], {}, [], 1
    for key, o in last.items():
        if o.is_sweep_override():
            values = _values(o)
            swept[key] = o.input_line.split("=", 1)[1]
            representative.append(f"{key}={values[0] if values else o.value().start}")
            grid_size = grid_size * len(values) if values is not None and grid_size is not None else None
        else:
            fixed.append(o.input_line)
            representative.append(o.input_line)
    return SweepArgs(tuple(fixed), swept, tuple(hydra), tuple(representative), tuple(task), grid_size)


def _values(o) -> list[str] | None:
    """A list or range sweep's values as override strings; None for an interval (a sampled range;
    its lower end stands for it when validating)."""
    from hydra.errors import HydraException

    if not o.is_discrete_sweep():
        return None
    try:
        values = list(o.sweep_string_iterator())
    except HydraException as e:  # glob(): it needs the config's groups, which are not read here
        raise MlwsError(
            f"'{o.input_line}': {str(e).strip().splitlines()[0]}; mlws sweeps take lists, ranges, "
            "choice() and interval(), not glob()"
        ) from None
    if not values:
        raise MlwsError(f"'{o.input_line}' sweeps over no value")
    return values


def signature(args: SweepArgs, config_space: dict) -> str:
    """Same fixed overrides, search space and sweeper settings → the same sweep (its resume)."""
    blob = json.dumps(
        {"fixed": sorted(args.fixed), "space": space_of(args, config_space), "hydra": sorted(args.hydra)},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def space_of(args: SweepArgs, config_space: dict) -> dict:
    """The search space: the sweeper's `params` from the config, then the command's swept keys."""
    return {**{str(k): str(v) for k, v in config_space.items()}, **args.swept}
