"""The data a run saw, in a few words for the views (watch, lineage, the report): its recorded
fingerprint (artifacts["data"], mlws/training/fingerprint.py), or why there is none."""

from __future__ import annotations


def data_record(record: dict) -> dict:
    return ((record or {}).get("artifacts") or {}).get("data") or {}


def data_text(record: dict) -> str:
    """`fingerprint 3f2a1b9c0d4e (DigitsDataModule.fingerprint())`, `not fingerprinted: ...`, or
    `not recorded` (a run from before fingerprints, or one that has not started training)."""
    fp = data_record(record)
    if not fp:
        return "not recorded"
    digest = fp.get("digest")
    if not digest:
        return str(fp.get("reason") or "not fingerprinted")
    if fp.get("paths"):
        covers = ", ".join(f"{k}={v}" for k, v in fp["paths"].items())
    else:
        covers = str(fp.get("method") or "the data module")
    return f"fingerprint {str(digest).split(':', 1)[-1][:12]} ({covers})"
