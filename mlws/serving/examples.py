"""Samples from a run's own validation data, as a request would send them, with their true targets:
the demo page's examples, and the samples it gets wrong.

A data module may offer `examples(n)` (pairs of a model input and its target, chosen to show the
model); otherwise the first n validation samples are the examples. Samples become request samples
through the input hook's `to_sample` (the inverse of its scaling), so an example sent to
`POST /predict` gets the same answer as on the page.
"""

from __future__ import annotations

SCAN_LIMIT = 5000  # validation samples checked for "where it is wrong" (the page says when cut)


def validation_pairs(data_cfg: dict, limit: int = SCAN_LIMIT):
    """(data module, [(model input tensor, target tensor), ...]) of the first `limit` validation samples."""
    from hydra.utils import instantiate

    dm = instantiate(data_cfg)
    for stage in ("validate", "fit"):
        try:
            dm.setup(stage)
            break
        except Exception:  # a data module that knows only one stage name
            if stage == "fit":
                raise
    pairs = []
    for batch in dm.val_dataloader():
        x, y = batch[0], batch[1]
        pairs += list(zip(x, y))
        if len(pairs) >= limit:
            break
    return dm, pairs[:limit]


def to_sample(hook, x) -> list:
    """A model input (one sample's tensor) as the JSON the input hook takes back."""
    back = getattr(hook, "to_sample", None)
    return back(x) if back else x.tolist()


def plain(target):
    """A target as JSON: a class index, a number, or numbers."""
    value = target.tolist() if hasattr(target, "tolist") else target
    return value


def collect(data_cfg: dict, hook, n_examples: int = 12, limit: int = SCAN_LIMIT) -> dict:
    """{"examples": [{"index", "sample", "target"}], "validation": [the same], "cut": bool, "names"}."""
    dm, pairs = validation_pairs(data_cfg, limit)
    chosen = getattr(dm, "examples", None)
    shown = list(chosen(n_examples)) if callable(chosen) else pairs[:n_examples]
    rows = lambda items: [
        {"index": i, "sample": to_sample(hook, x), "target": plain(y)} for i, (x, y) in enumerate(items)
    ]
    names = getattr(dm, "class_names", None)  # optional: a data module's names for class indices
    return {
        "examples": rows(shown),
        "validation": rows(pairs),
        "cut": len(pairs) >= limit,
        "names": list(names) if isinstance(names, (list, tuple)) else None,
    }


def where_wrong(validation: list[dict], predictions: list, kind: str, top: int = 50) -> list[dict]:
    """The validation samples the model gets wrong: a class other than the target (classification),
    else the largest absolute errors (regression). Each with its prediction."""
    out = []
    for row, predicted in zip(validation, predictions):
        if kind == "classification" and predicted != row["target"]:
            out.append({**row, "prediction": predicted, "error": None})
        elif kind == "regression" and isinstance(predicted, (int, float)) and isinstance(row["target"], (int, float)):
            out.append({**row, "prediction": predicted, "error": abs(predicted - row["target"])})
    if kind == "regression":
        out = sorted(out, key=lambda r: -r["error"])[:top]
    return out
