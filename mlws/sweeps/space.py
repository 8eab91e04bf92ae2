"""A sweep command's overrides, parsed with Hydra's own override grammar: what is fixed, what is swept
(the search space), what configures Hydra's sweeper; the sweep's signature. No composition here."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from ..errors import MlwsError


@dataclass(frozen=True)
class SweepArgs:
    fixed: tuple[str, ...]      # ordinary overrides, every trial gets them
    swept: dict                 # key → its sweep expression as typed, e.g. {"model.lr": "1e-3,3e-4"}
    hydra: tuple[str, ...]      # hydra/sweeper=optuna, hydra.sweeper.n_trials=20, ...
    representative: tuple[str, ...]  # one point of the space (each swept key's first value)

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
    fixed, hydra, swept, representative = [], [], {}, []
    for o in parsed:
        if o.is_hydra_override():
            hydra.append(o.input_line)
        elif o.is_sweep_override():
            key = o.get_key_element()
            swept[key] = o.input_line.split("=", 1)[1]
            representative.append(f"{key}={_first_value(o)}")
        else:
            fixed.append(o.input_line)
            representative.append(o.input_line)
    return SweepArgs(tuple(fixed), swept, tuple(hydra), tuple(representative))


def _first_value(o) -> str:
    if o.is_discrete_sweep():
        first = next(iter(o.sweep_string_iterator()), None)
        if first is None:
            raise MlwsError(f"'{o.input_line}' sweeps over no value")
        return first
    return str(o.value().start)  # interval(a,b): its lower end stands for it when validating


def signature(args: SweepArgs, config_space: dict) -> str:
    """Same fixed overrides, search space and sweeper settings → the same sweep (its resume)."""
    blob = json.dumps({"fixed": sorted(args.fixed), "space": space_of(args, config_space),
                       "hydra": sorted(args.hydra)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def space_of(args: SweepArgs, config_space: dict) -> dict:
    """The search space: the sweeper's `params` from the config, then the command's swept keys."""
    return {**{str(k): str(v) for k, v in config_space.items()}, **args.swept}
