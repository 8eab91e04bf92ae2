"""Reading a config file's YAML exactly as Hydra will (OmegaConf's loader), so what mlws checks is
what Hydra composes: `description: 2001-13-45` stays a string instead of failing as a bad date."""

from __future__ import annotations


def read_yaml(text: str):
    """The data; raises yaml.YAMLError for a syntax error, ValueError (one line) for anything else
    the loader rejects."""
    import yaml

    try:
        from omegaconf._utils import get_yaml_loader  # what OmegaConf.load uses

        loader = get_yaml_loader()
    except ImportError:  # pragma: no cover - an OmegaConf without it: every scalar a string
        loader = yaml.BaseLoader
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError, KeyError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(f"not valid YAML data: {first}") from None
