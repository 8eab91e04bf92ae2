"""Labels and notes: what is allowed, checked before anything is written."""

from __future__ import annotations

import re

from ..errors import MlwsError

LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}")
MAX_NOTE_BYTES = 64 * 1024


def check_label(label: str) -> str:
    if not LABEL.fullmatch(label):
        raise MlwsError(
            f"invalid label {label!r}: use 1-64 letters, digits and _ . : + - "
            "(no spaces or control characters), starting with a letter or digit"
        )
    return label


def check_note(note: str) -> str:
    size = len(note.encode("utf-8", "surrogatepass"))
    if size > MAX_NOTE_BYTES:
        raise MlwsError(
            f"note is {size:,} bytes; the limit is {MAX_NOTE_BYTES:,} (64 KiB) — link to a document instead"
        )
    bad = [c for c in note if ord(c) < 32 and c not in "\n\t"]
    if bad:
        raise MlwsError(f"note contains control characters ({', '.join(repr(c) for c in sorted(set(bad)))})")
    return note
