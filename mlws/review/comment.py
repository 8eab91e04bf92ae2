"""The pull-request comment, rendered by the trusted job from the untrusted job's data:

    python -P -m mlws.review.comment DIFF.json > comment.md

The job that runs a fork's branch can upload any artifact it likes (the fork can edit review.yml),
so the job holding the write token never posts markdown that job wrote. It takes the structured
result of `mlws diff --git --json`, checks every field against the shape below, and renders it here
with every string made inert (inert.py). Standard library only: the trusted job runs this from the
default branch's checkout without installing anything.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

MAX_BYTES = 20_000_000
STATUSES = {"changed", "added", "deleted", "renamed", "broken", "fixed", "failing"}
MAX_TEXT = 100_000  # one string
MAX_VALUES = 1000  # a side's recorded results


class BadArtifact(ValueError):
    pass


def validated(data) -> dict:
    """Pure: the diff result if it has exactly the shape `mlws diff --git --json` writes; raises
    BadArtifact naming the first field that does not."""
    _fields(
        data,
        "result",
        {
            "ref": _text,
            "commit": _commit,
            "compared_with": _text,
            "uncommitted": _texts,
            "files": _texts,
            "notes": _texts,
            "experiments": _list_of(_experiment),
            "unchanged": _texts,
            "total": _count,
        },
    )
    return data


def _fields(value, where: str, shape: dict, optional: dict | None = None) -> None:
    if not isinstance(value, dict):
        raise BadArtifact(f"{where}: expected an object")
    optional = optional or {}
    missing, extra = shape.keys() - value.keys(), value.keys() - shape.keys() - optional.keys()
    if missing or extra:
        raise BadArtifact(f"{where}: " + (f"missing {sorted(missing)}" if missing else f"unexpected {sorted(extra)}"))
    for key, check in (shape | optional).items():
        if key in value:
            check(value[key], f"{where}.{key}")


def _text(value, where: str) -> None:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise BadArtifact(f"{where}: expected a string of at most {MAX_TEXT} characters")


def _optional_text(value, where: str) -> None:
    if value is not None:
        _text(value, where)


def _commit(value, where: str) -> None:
    if not (isinstance(value, str) and 7 <= len(value) <= 64 and all(c in "0123456789abcdef" for c in value)):
        raise BadArtifact(f"{where}: expected a commit id")


def _count(value, where: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadArtifact(f"{where}: expected a count")


def _list_of(check):
    def checked(value, where: str) -> None:
        if not isinstance(value, list):
            raise BadArtifact(f"{where}: expected a list")
        for i, item in enumerate(value):
            check(item, f"{where}[{i}]")

    return checked


_texts = _list_of(_text)


def _pairs(value, where: str) -> None:
    if not isinstance(value, dict):
        raise BadArtifact(f"{where}: expected an object")
    for key, pair in value.items():
        _text(key, f"{where} key")
        if not (isinstance(pair, list) and len(pair) == 2):
            raise BadArtifact(f"{where}.{key}: expected [before, after]")


def _values(value, where: str) -> None:
    if not isinstance(value, dict):
        raise BadArtifact(f"{where}: expected an object")
    for key in value:
        _text(key, f"{where} key")


def _status(value, where: str) -> None:
    if value not in STATUSES:
        raise BadArtifact(f"{where}: expected one of {sorted(STATUSES)}")


def _experiment(value, where: str) -> None:
    _fields(
        value,
        where,
        {
            "experiment": _text,
            "status": _status,
            "renamed_from": _optional_text,
            "builds_on": _optional_text,
            "error": _optional_text,
            "changed": _pairs,
            "added": _values,
            "removed": _values,
        },
        {"replicates": _replicates},  # only with `mlws diff --git --results`
    )


def _number(value, where: str) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise BadArtifact(f"{where}: expected a finite number")


def _side(value, where: str) -> None:
    _fields(value, where, {"label": _text, "runs": _list_of(_count), "values": _list_of(_number)})
    if len(value["values"]) > MAX_VALUES or len(value["runs"]) != len(value["values"]):
        raise BadArtifact(f"{where}: expected at most {MAX_VALUES} values, one per run")


def _mode(value, where: str) -> None:
    if value not in ("max", "min"):
        raise BadArtifact(f"{where}: expected max or min")


def _replicates(value, where: str) -> None:
    if value is not None:
        _fields(value, where, {"metric": _text, "mode": _mode, "before": _side, "after": _side})


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m mlws.review.comment DIFF.json", file=sys.stderr)
        return 2
    path = Path(argv[0])
    try:
        if path.stat().st_size > MAX_BYTES:
            raise BadArtifact(f"over {MAX_BYTES} bytes")
        data = validated(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, RecursionError) as e:  # JSON, encoding, a 5,000-digit number, BadArtifact
        from .inert import shown

        print(f"error: {shown(path.name)} is not an mlws diff result: {shown(e)}", file=sys.stderr)
        return 2
    from .markdown import render

    sys.stdout.write(render(data))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
