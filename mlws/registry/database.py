"""The one database object a registry's tables share: its dialect (SQLite or PostgreSQL), its
transactions (database errors become one MlwsError), and its clock."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

from ..errors import MlwsError


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Database:
    def __init__(self, dialect):
        self.dialect = dialect
        self.param = dialect.param

    @contextmanager
    def transaction(self, write: bool = False):
        """A connection (in a write transaction when `write`); database errors become MlwsError."""
        db = None
        try:
            db = self.dialect.connect()
            if write:
                self.dialect.begin_write(db)
            yield db
            if write:
                db.execute("COMMIT")
        except MlwsError:
            _rollback(db)
            raise
        except self.dialect.errors as e:
            _rollback(db)
            raise MlwsError(self.dialect.explain(e) or str(e)) from None
        except BaseException:
            _rollback(db)
            raise
        finally:
            if db is not None:
                db.close()


def _rollback(db) -> None:
    try:
        if db is not None:
            db.execute("ROLLBACK")
    except Exception:
        pass
