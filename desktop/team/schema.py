"""The team's task queue tables: procrastinate's schema and the slot table (slots.py), created
once in the team database.

Every worker and every `batch --remote` calls `ensure_schema` before using the queue. The
check and the creation run under a transaction-level advisory lock, so two processes starting
at the same moment cannot both create the tables (the second waits, then finds them there),
and a failure leaves nothing half made (PostgreSQL's DDL is transactional).
"""

from __future__ import annotations

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
    procrastinate's. Blocking. HistoryError with a sentence when the database cannot be
    reached or the user may not create tables."""
    try:
        with psycopg.connect(url, connect_timeout=10) as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            present = conn.execute(
                "SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
            created = not (present and present[0])
            if created:
                conn.execute(SchemaManager.get_schema())  # type: ignore[arg-type]
            conn.execute(SLOTS_TABLE)
            return created
    except psycopg.Error as exc:
        raise HistoryError(
            "Could not set up the team's task queue in the team database "
            f"({_first_line(exc)}). Check RESTYLE_DATABASE_URL and that its user may create "
            "tables.") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
