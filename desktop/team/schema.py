"""The team's task queue tables: procrastinate's schema and the slot table (slots.py), created
once in the team database.

Every worker and every `batch --remote` calls `ensure_schema` before using the queue. The
check and the creation run under a transaction-level advisory lock, so two processes starting
at the same moment cannot both create the tables (the second waits, then finds them there),
and a failure leaves nothing half made (PostgreSQL's DDL is transactional).
"""

from __future__ import annotations

from typing import Any

import psycopg
from procrastinate.schema import SchemaManager

from desktop.core.store import HistoryError

#: pg_advisory_xact_lock's key for creating the queue tables ("RSTQ").
SCHEMA_LOCK = 0x52535451

SLOTS_TABLE = """
CREATE TABLE IF NOT EXISTS restyle_team_slots (
    provider TEXT NOT NULL,
    slot INTEGER NOT NULL,
    job_id TEXT,
    taken_at DOUBLE PRECISION,
    PRIMARY KEY (provider, slot)
);
CREATE INDEX IF NOT EXISTS restyle_team_slots_job ON restyle_team_slots (job_id);
"""


def ensure_schema(url: str) -> bool:
    """Create the queue tables where they are missing; True when this call created
    procrastinate's. Blocking. Where they exist nothing is created or locked, so a user who
    may use the tables but not create any (a team whose owner ran `db upgrade`) gets through.
    HistoryError with a sentence when the database cannot be reached or the tables are
    missing and the user may not create them."""
    try:
        with psycopg.connect(url, connect_timeout=10, autocommit=True) as conn:
            if all(_present(conn)):
                return False
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                queue, _slots = _present(conn)
                if not queue:
                    conn.execute(SchemaManager.get_schema())  # type: ignore[arg-type]
                conn.execute(SLOTS_TABLE)
                return not queue
    except psycopg.Error as exc:
        raise HistoryError(
            "Could not set up the team's task queue in the team database "
            f"({_first_line(exc)}). Check RESTYLE_DATABASE_URL and that its user may create "
            "tables, or have the database's owner run `restyle-cli db upgrade` once.") from None


def _present(conn: psycopg.Connection[Any]) -> tuple[bool, bool]:
    """Whether procrastinate's tables and the slot table are there."""
    row = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL,"
                       " to_regclass('restyle_team_slots') IS NOT NULL").fetchone()
    return (bool(row[0]), bool(row[1])) if row else (False, False)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
