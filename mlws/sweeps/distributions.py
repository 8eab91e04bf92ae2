"""A sampled search space in Hydra's override grammar, as Optuna distributions:

    key=interval(a,b)              FloatDistribution(a, b)     (int(interval(a,b)): IntDistribution)
    key=tag(log, interval(a,b))    the same with log=True
    key=range(a,b[,step])          IntDistribution / FloatDistribution over Hydra's values (b excluded)
    key=choice(x,y) or key=x,y     CategoricalDistribution over the values as Hydra writes them
    shuffle(range(...))            categorical
    key=value                      fixed: every trial gets it

A bad interval (low above high, log of zero) is one clear MlwsError."""

from __future__ import annotations

from ..errors import MlwsError


def search_space(overrides: list[str]) -> dict:
    """{key: an Optuna distribution, or the fixed `key=value` line} for a sampled sweep's overrides
    (the sweeper's params first, then the command's); a key given twice counts once, the last time."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as e:
        raise MlwsError(f"cannot parse override: {str(e).strip().splitlines()[0]}") from None
    space: dict = {}
    for override in parsed:
        key = override.get_key_element()
        if not override.is_sweep_override():
            space[key] = override.input_line
            continue
        try:
            space[key] = _distribution(override)
        except (ValueError, TypeError) as e:
            raise MlwsError(f"'{override.input_line}' is not a valid search range: {e}") from None
    return space


def grid_values(override_line: str) -> list:
    """The values of a list or range (Optuna's grid sampler walks them); an interval is an error."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    (override,) = OverridesParser.create().parse_overrides([override_line])
    if not override.is_discrete_sweep():
        raise MlwsError(f"'{override_line}': Optuna's grid sampler takes lists, ranges and choice(), not interval()")
    try:
        return _values(override)
    except ValueError as e:
        raise MlwsError(f"'{override_line}': {e}") from None


def _distribution(override):
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    value = override.value()
    if override.is_interval_sweep():
        low, high, log = value.start, value.end, "log" in value.tags
        if low >= high:
            raise ValueError(f"its low end {low} must be below its high end {high}")
        if log and low <= 0:
            raise ValueError(f"a log interval needs a low end above 0 (got {low})")
        if isinstance(low, int) and isinstance(high, int):
            return IntDistribution(low, high, log=log)
        return FloatDistribution(float(low), float(high), log=log)
    values = _values(override)
    if override.is_range_sweep() and not value.shuffle and len(values) > 1:
        step = value.step
        if all(isinstance(v, int) for v in (value.start, value.stop, step)):
            return IntDistribution(values[0], values[-1], step=step)
        return FloatDistribution(float(values[0]), float(values[0] + step * (len(values) - 1)), step=float(step))
    return CategoricalDistribution(values)


def _values(override) -> list:
    from hydra.errors import HydraException

    try:
        values = list(override.sweep_iterator(transformer=_choice))
    except HydraException:  # glob(): it needs the config's groups, which are not read here
        raise ValueError("sampled sweeps take interval(), range() and choice(), not glob()") from None
    if not values:
        raise ValueError("it has no value")
    return values


def _choice(value):
    """A value as Optuna keeps it: numbers and booleans as they are, anything else as Hydra writes
    it in an override (quoted where needed), so `key=choice` reads back the same."""
    from hydra.core.override_parser.types import Transformer

    return value if isinstance(value, (int, float, bool)) else Transformer.str(value)


def override(key: str, value) -> str:
    """`key=value` for a sampled value, as Hydra reads it back."""
    if value is None:
        return f"{key}=null"
    if isinstance(value, bool):
        return f"{key}={str(value).lower()}"
    return f"{key}={value}"
