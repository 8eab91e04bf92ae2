"""mlws plan [overrides ...]: the resolved config, validated, nothing run or recorded."""
from __future__ import annotations

from .render import print_json


def add_arguments(p) -> None:
    p.add_argument("overrides", nargs="*")
    p.add_argument("--json", action="store_true", help="print the whole RunSpec as JSON")


def run(args) -> int:
    from mlws import api
    spec = api.plan(args.overrides)
    if args.json:
        import json
        print_json(json.loads(spec.to_json()))
    else:
        import yaml
        print(f"# experiment: {spec.experiment}  overrides: {' '.join(spec.overrides) or '(none)'}")
        print(yaml.safe_dump(spec.config, sort_keys=False), end="")
    return 0
