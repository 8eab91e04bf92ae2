"""RunSpec: the frozen contract between planning and execution. Imports nothing heavy."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

SCHEMA_VERSION = 1  # raise it when a field changes meaning or a reader must know a new one


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs to train one run, resolved on the launching machine."""

    experiment: str | None
    overrides: tuple[str, ...]
    config: dict  # fully resolved: no interpolation is evaluated again remotely
    workspace: str
    command: str
    created_at: str  # ISO 8601, UTC
    git: dict = field(default_factory=dict)  # commit, branch, dirty (the patch lives in the registry)
    versions: dict = field(default_factory=dict)  # python and key package versions
    builds_on: str | None = None  # the experiment this one builds on (model_12 -> model_11)
    labels: tuple[str, ...] = ()
    note: str = ""
    run_id: int | None = None
    run_dir: str | None = None
    uid: str = ""  # unique across workspaces and time: keys the run's files in a shared bucket
    schema: int = SCHEMA_VERSION  # the shape of this record; a reader refuses a newer one by name

    def with_run(self, run_id: int, run_dir: str) -> RunSpec:
        import uuid

        return replace(self, run_id=run_id, run_dir=run_dir, uid=self.uid or uuid.uuid4().hex[:16])

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        data = json.loads(text)
        schema = data.get("schema", 1)  # specs written before the field existed are version 1
        if not isinstance(schema, int) or schema > SCHEMA_VERSION:
            from .errors import MlwsError

            raise MlwsError(
                f"this run's spec has schema version {schema!r}, newer than this mlws reads "
                f"({SCHEMA_VERSION}): install the mlws that wrote it (pip install -U mlws)"
            )
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            from .errors import MlwsError

            raise MlwsError(f"this run's spec has fields this mlws does not know: {', '.join(sorted(unknown))}")
        data["schema"] = schema
        data["overrides"] = tuple(data.get("overrides", ()))
        data["labels"] = tuple(data.get("labels", ()))
        return cls(**data)

    def write(self, path: str | os.PathLike) -> Path:
        from .fileio import write_atomic

        return write_atomic(path, self.to_json())

    @classmethod
    def read(cls, path: str | os.PathLike) -> RunSpec:
        return cls.from_json(Path(path).read_text())
