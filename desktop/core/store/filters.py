"""Which jobs a list shows: the filter and its SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.core.model import JobState
from desktop.core.store.sql_text import ascii_lower


@dataclass(frozen=True)
class JobFilter:
    provider: str | None = None
    task: str | None = None
    states: tuple[JobState, ...] = ()
    text: str | None = None
    favorite: bool | None = None
    since: float | None = None
    until: float | None = None
    #: Review fields: "pass" or "fail" (any reviewer said so), "unreviewed" (no review of any
    #: output), "reviewed"; a defect tag; one reviewer's reviews only.
    verdict: str | None = None
    tag: str | None = None
    reviewer: str | None = None
    #: The jobs of one batch.
    batch: str | None = None


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def prefix_match(column: str, prefix: str) -> tuple[str, list[Any]]:
    """`column` starts with `prefix`, whatever the case of its ASCII letters, on both
    back-ends: SQLite's LIKE ignores that case but PostgreSQL's does not, so both sides are
    lowered the one way both engines' LOWER does (sql_text.ascii_lower)."""
    return (f"LOWER({column}) LIKE ? ESCAPE '\\'", [escape_like(ascii_lower(prefix)) + "%"])


def where_clause(f: JobFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if f.provider:
        clauses.append("provider = ?")
        args.append(f.provider)
    if f.task:
        clauses.append("task = ?")
        args.append(f.task)
    if f.states:
        clauses.append(f"state IN ({','.join('?' * len(f.states))})")
        args.extend(str(s) for s in f.states)
    if f.favorite is not None:
        clauses.append("favorite = ?")
        args.append(int(f.favorite))
    if f.since is not None:
        clauses.append("created_at >= ?")
        args.append(f.since)
    if f.until is not None:
        clauses.append("created_at < ?")
        args.append(f.until)
    _review_clauses(f, clauses, args)
    if f.batch:
        clauses.append("id IN (SELECT job_id FROM batch_items WHERE batch_id = ?)")
        args.append(f.batch)
    for term in (f.text or "").split():
        # The job's own words (search_text, stored lowered by Python), or its reviews' tags
        # and notes (lowered by SQL: ASCII letters only, on both back-ends). Both sides are
        # lowered, so LIKE's own case rules (SQLite ignores ASCII case, PostgreSQL does not)
        # never come into it.
        clauses.append("(search_text LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM reviews r"
                       " WHERE r.job_id = jobs.id AND (LOWER(r.tags) LIKE ? ESCAPE '\\'"
                       " OR LOWER(r.note) LIKE ? ESCAPE '\\')))")
        in_reviews = f"%{escape_like(ascii_lower(term))}%"
        args.extend([f"%{escape_like(term.lower())}%", in_reviews, in_reviews])
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args


def _review_clauses(f: JobFilter, clauses: list[str], args: list[Any]) -> None:
    mine = " AND r.reviewer = ?" if f.reviewer else ""
    mine_args = [f.reviewer] if f.reviewer else []
    if f.verdict in ("pass", "fail"):
        clauses.append("EXISTS (SELECT 1 FROM reviews r WHERE r.job_id = jobs.id"
                       f" AND r.verdict = ?{mine})")
        args.extend([f.verdict, *mine_args])
    elif f.verdict in ("reviewed", "unreviewed"):
        negate = "NOT " if f.verdict == "unreviewed" else ""
        clauses.append(f"{negate}EXISTS (SELECT 1 FROM reviews r WHERE r.job_id = jobs.id{mine})")
        args.extend(mine_args)
    elif f.reviewer:
        clauses.append(f"EXISTS (SELECT 1 FROM reviews r WHERE r.job_id = jobs.id{mine})")
        args.extend(mine_args)
    if f.tag:
        # Tags are stored as a JSON list of strings: match the quoted tag.
        # Lowered on both sides: a tag matches whatever its case, on SQLite and PostgreSQL.
        clauses.append("EXISTS (SELECT 1 FROM reviews r WHERE r.job_id = jobs.id"
                       f" AND LOWER(r.tags) LIKE ? ESCAPE '\\'{mine})")
        args.extend([f'%"{escape_like(ascii_lower(f.tag))}"%', *mine_args])
