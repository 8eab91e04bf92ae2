"""Where an Optuna sweep's study lives: the registry's own database (the SQLite file or the team's
PostgreSQL), under the sweep's name. Pure, but for `quiet` (Optuna's logging)."""

from __future__ import annotations

import logging
import warnings


def storage_url(registry_url: str) -> str:
    """SQLAlchemy's URL for the registry's database (psycopg 3 is the PostgreSQL driver mlws ships)."""
    for prefix in ("postgresql://", "postgres://"):
        if registry_url.startswith(prefix):
            return "postgresql+psycopg://" + registry_url[len(prefix) :]
    return registry_url


def study_name(sweep_id: int) -> str:
    return f"mlws-sweep-{sweep_id}"


def quiet() -> None:
    """Optuna's info logs and experimental-feature warnings are not the user's."""
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
