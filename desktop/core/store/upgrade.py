"""Bring a history to this Restyle's schema on request (`restyle-cli db upgrade`), saying from
which version to which.

Opening a History applies pending migrations already (history.py, postgres.py); what this adds
is reading the version *before*, without changing anything, so the upgrade can be reported.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from desktop.core.store.errors import HistoryError
from desktop.core.store.history import History, sqlite_path
from desktop.core.store.postgres import is_postgres_url


class NoHistory(HistoryError):
    """The path names no history (and the caller did not ask for a new one)."""


@dataclass(frozen=True)
class Upgrade:
    """Where a history was and is: `where` names it for people (never with a password)."""

    where: str
    before: int
    after: int
    created: bool = False

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def sentence(self) -> str:
        if self.created:
            return (f"Created the history {self.where} at schema {self.after}"
                    f" (schema {self.before} -> {self.after}).")
        if self.changed:
            return (f"Upgraded the history {self.where} from schema {self.before} to"
                    f" {self.after} (schema {self.before} -> {self.after}).")
        return (f"The history {self.where} is up to date (schema {self.before} ->"
                f" {self.after}: nothing to do).")


def stored_version(target: Path | str) -> int | None:
    """The schema version a history is at, read without changing it; None when there is no
    history there yet (no SQLite file, or a PostgreSQL database without Restyle's tables)."""
    if is_postgres_url(target):
        return _postgres_version(str(target))
    path = sqlite_path(target)
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise HistoryError.from_sqlite(path, exc) from exc


def _postgres_version(url: str) -> int | None:
    import psycopg

    from desktop.core.store.postgres import CONNECT_TIMEOUT_S, describe_url, explain

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            exists = conn.execute("SELECT to_regclass('restyle_schema')").fetchone()
            if exists is None or exists[0] is None:
                return None
            row = conn.execute("SELECT version FROM restyle_schema").fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error as exc:
        reason, todo = explain(exc, url)
        raise HistoryError(f"The team history, {describe_url(url)}, cannot be opened:"
                           f" {reason}. {todo}") from exc


def upgrade(target: Path | str, *, create: bool = True) -> Upgrade:
    """Apply the pending migrations of the history at `target`. `create=False` refuses a
    target where there is no SQLite file yet (a mistyped path is not a new history)."""
    before = stored_version(target)
    if before is None and not create and not is_postgres_url(target):
        raise NoHistory(f"There is no history at {sqlite_path(target)}: check the path"
                           " (an SQLite URL is sqlite:///relative or sqlite:////absolute).")
    history = History(target)  # refuses a history written by a newer Restyle, in a sentence
    try:
        return Upgrade(history.where, before or 0, history.schema_version,
                       created=before is None)
    finally:
        history.close()
