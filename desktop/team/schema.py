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
from desktop.core.store.postgres import create_missing
from desktop.team.slots import SCHEMA_LOCK, SLOTS_TABLE


def ensure_schema(url: str) -> bool:
    """Create the queue tables where they are missing; True when this call created
    procrastinate's. Blocking. Where they exist nothing is created or locked, so a user who
    may use the tables but not create any (a team whose owner ran `db upgrade`) gets through.
    HistoryError with a sentence when the database cannot be reached or the tables are
    missing and the user may not create them."""
    try:
        with psycopg.connect(url, connect_timeout=10, autocommit=True) as conn:
            created = create_missing(conn, "procrastinate_jobs",
                                     SchemaManager.get_schema(), SCHEMA_LOCK)
            create_missing(conn, "restyle_team_slots", SLOTS_TABLE, SCHEMA_LOCK)
            return created
    except psycopg.Error as exc:
        raise HistoryError(
            "Could not set up the team's task queue in the team database "
            f"({_first_line(exc)}). Check RESTYLE_DATABASE_URL and that its user may create "
            "tables, or have the database's owner run `restyle-cli db upgrade` once.") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
