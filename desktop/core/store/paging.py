"""Keyset pagination of the job list: a page starts after the last row of the previous one.

The list is ordered newest first, `created_at DESC, id DESC`; the id breaks ties, so the order
is total and a cursor (the last row's created_at and id) names one place in it. The next page is
the rows strictly after that place. Unlike OFFSET, which reads and drops every row before the
page, the `jobs_created_id` index (schema.py) takes the query straight to the cursor, so a page
costs the same at any depth. Plain SQL, no SQLite-only syntax: the team back-end runs the same
text on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.core.model import Job
from desktop.core.store.filters import JobFilter, where_clause

#: The one order every page uses; the index jobs_created_id matches it.
ORDER = "ORDER BY created_at DESC, id DESC"


@dataclass(frozen=True)
class PageCursor:
    """Where a page ended: its last row's sort key. The next page starts strictly after it."""

    created_at: float
    id: str

    @classmethod
    def after(cls, job: Job) -> PageCursor:
        return cls(job.created_at, job.id)


def page_query(where: JobFilter, limit: int, after: PageCursor | None) -> tuple[str, list[Any]]:
    """The SELECT of one page and its arguments.

    "After the cursor" in a DESC order is `(created_at, id) < (c, i)`, written as
    `created_at <= c AND (created_at < c OR id < i)`: the first term is a plain range on the
    index's leading column (every engine seeks on it), the second drops the cursor's own row
    and the ties that came before it."""
    clause, args = where_clause(where)
    if after is not None:
        keyset = "created_at <= ? AND (created_at < ? OR id < ?)"
        clause = f"{clause} AND {keyset}" if clause else f"WHERE {keyset}"
        args = [*args, after.created_at, after.created_at, after.id]
    return f"SELECT * FROM jobs {clause} {ORDER} LIMIT ?", [*args, int(limit)]
