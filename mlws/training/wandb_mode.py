"""Online when W&B credentials exist, offline otherwise, unless the user says which."""

from __future__ import annotations

import netrc
import os
from urllib.parse import urlparse


def has_wandb_credentials() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname
    try:
        return netrc.netrc(os.environ.get("NETRC")).authenticators(host) is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def resolve_mode(mode: str | None) -> str:
    """mode from the config: auto | online | offline | disabled (WANDB_MODE wins if set)."""
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"]
    if mode in (None, "auto"):
        return "online" if has_wandb_credentials() else "offline"
    return mode
