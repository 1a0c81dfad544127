"""Which jobs a list shows: the filter and its SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.core.model import JobState


@dataclass(frozen=True)
class JobFilter:
    provider: str | None = None
    task: str | None = None
    states: tuple[JobState, ...] = ()
    text: str | None = None
    favorite: bool | None = None
    since: float | None = None
    until: float | None = None


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
    for term in (f.text or "").lower().split():
        clauses.append("search_text LIKE ? ESCAPE '\\'")
        args.append(f"%{escape_like(term)}%")
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args
