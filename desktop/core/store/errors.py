"""What can go wrong with the history, as exceptions that carry a sentence."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class HistoryError(Exception):
    """The history database cannot be used; the message says why and what to do."""

    @classmethod
    def from_sqlite(cls, path: Path, exc: sqlite3.Error, *, upgrading_from: int | None = None
                    ) -> HistoryError:
        """A sentence for an SQLite failure while opening the history or upgrading it from
        schema `upgrading_from`: a problem of the machine (disk full, locked, read-only,
        damaged) says what to do about it; anything else is reported as it is."""
        doing = ("opened" if upgrading_from is None
                 else f"upgraded from schema {upgrading_from} to {upgrading_from + 1}")
        head = f"The history database {path} cannot be {doing}"
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF  # the primary result code
        if code in _SQLITE_ADVICE:
            reason, todo = _SQLITE_ADVICE[code]
            return cls(f"{head}: {reason} ({exc}). {todo}")
        if upgrading_from is not None:
            return cls(f"{head} ({exc}); it was left unchanged at schema {upgrading_from}."
                       " Please report this problem; to carry on meanwhile, move the file aside"
                       " to start a new history.")
        return cls(f"{head} ({exc}). Move it aside to start a new history; nothing else is"
                   " affected.")


_LOCKED = ("another program is holding it locked",
           "Close other Restyle windows and restyle-cli commands, then try again.")
_NOT_WRITABLE = ("it cannot be written",
                 "Check that you may write to the file and its folder, then try again.")
_DAMAGED = ("the file is damaged or is not a Restyle history",
            "Move it aside to start a new history; nothing else is affected.")
#: Primary SQLite result codes that are problems of the machine, not of Restyle: what they
#: mean and what to do (https://www.sqlite.org/rescode.html).
_SQLITE_ADVICE: dict[int, tuple[str, str]] = {
    sqlite3.SQLITE_FULL: ("the disk is full", "Free some space on it, then try again."),
    sqlite3.SQLITE_BUSY: _LOCKED,
    sqlite3.SQLITE_LOCKED: _LOCKED,
    sqlite3.SQLITE_READONLY: _NOT_WRITABLE,
    sqlite3.SQLITE_PERM: _NOT_WRITABLE,
    sqlite3.SQLITE_CANTOPEN: ("the file cannot be opened or created",
                              "Check that it is a file (not a folder) and that you may write to"
                              " its folder, then try again."),
    sqlite3.SQLITE_IOERR: ("the disk reported a read or write error",
                           "Check that the disk is still connected and working, then try"
                           " again."),
    sqlite3.SQLITE_CORRUPT: _DAMAGED,
    sqlite3.SQLITE_NOTADB: _DAMAGED,
}


class LeaseLost(Exception):
    """Another process has taken over the job (this one's lease ran out): stop working on it."""


def store_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a history read or write can raise on either back-end, for callers that
    turn them into a sentence: SQLite's, HistoryError (a lost team database becomes one), and
    psycopg's when the team back-end is loaded (psycopg is never imported just for this)."""
    import sys

    errors: tuple[type[BaseException], ...] = (sqlite3.Error, HistoryError)
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        errors = (*errors, psycopg.Error)
    return errors
