"""A test backend that trains nothing (named so): each run's metric is a known function of the
config (model_12's wider net is better by 0.1) plus noise drawn from the seed. Recorded through
mlws's real launch path."""

from __future__ import annotations

SEEDED_BACKEND = """
import json, random
from pathlib import Path

from mlws.compute import Backend, Status, Submission


class Seeded(Backend):
    name = "seeded-record-only"

    def submit(self, spec_path, *, detach, prepared=None):
        config = json.loads(Path(spec_path).read_text())["config"]
        wide = config["model"]["net"]["channels"][0] >= 32
        acc = 0.7 + (0.1 if wide else 0.0) + random.Random(config["seed"]).gauss(0, 0.01)
        return Submission(handle={"metrics": {"val/acc": round(acc, 5)}}, remote=True)

    def status(self, record):
        return Status("succeeded", metrics=record["artifacts"]["compute"]["metrics"])
"""


def use_seeded_backend(ws) -> list[str]:
    (ws / "testing_backends").mkdir(exist_ok=True)
    (ws / "testing_backends" / "__init__.py").write_text("")
    (ws / "testing_backends" / "seeded.py").write_text(SEEDED_BACKEND)
    (ws / "conf" / "compute").mkdir(exist_ok=True)
    (ws / "conf" / "compute" / "seeded.yaml").write_text("_target_: testing_backends.seeded.Seeded\n")
    return ["compute=seeded", "logger=none"]
