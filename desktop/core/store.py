"""The job history in SQLite: jobs, their input and output assets, versioned migrations.

WAL mode so the window can read while a CLI process writes; every write is one short
transaction. The schema version lives in `PRAGMA user_version`; `MIGRATIONS[i]` takes the
database from version i to i + 1. Methods are blocking: callers on an event loop run them in a
worker thread (the engine uses one dedicated thread so writes keep their order).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.core.model import (
    Asset,
    ErrorCode,
    Job,
    JobError,
    JobSpec,
    JobState,
    Output,
    OutputKind,
)
from desktop.core.permissions import FILE_MODE, private_file, tighten

MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: the first schema.
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        task TEXT NOT NULL,
        state TEXT NOT NULL,
        spec TEXT NOT NULL,
        remote_id TEXT,
        remote_data TEXT NOT NULL DEFAULT '{}',
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        deadline_at REAL,
        cost_credits REAL,
        error_code TEXT,
        error_message TEXT,
        provider_code TEXT,
        progress REAL,
        favorite INTEGER NOT NULL DEFAULT 0,
        note TEXT NOT NULL DEFAULT '',
        search_text TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX jobs_created ON jobs(created_at DESC);
    CREATE INDEX jobs_state ON jobs(state);
    CREATE INDEX jobs_provider_task ON jobs(provider, task);
    CREATE TABLE assets (
        sha256 TEXT PRIMARY KEY,
        mime TEXT NOT NULL,
        size INTEGER NOT NULL,
        width INTEGER,
        height INTEGER,
        created_at REAL NOT NULL
    );
    CREATE TABLE job_inputs (
        job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        position INTEGER NOT NULL,
        sha256 TEXT NOT NULL REFERENCES assets(sha256),
        PRIMARY KEY (job_id, role, position)
    );
    CREATE INDEX job_inputs_sha ON job_inputs(sha256);
    CREATE TABLE outputs (
        job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        sha256 TEXT NOT NULL REFERENCES assets(sha256),
        kind TEXT NOT NULL DEFAULT 'image',
        label TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (job_id, position)
    );
    CREATE INDEX outputs_sha ON outputs(sha256);
    """,
    # 1 -> 2: who works on a job (a lease with a heartbeat), cross-process cancel requests, and
    # when its submit was sent (a job list searched too early proves nothing).
    # Plain ALTER TABLE ... ADD COLUMN, so the same step runs on PostgreSQL.
    """
    ALTER TABLE jobs ADD COLUMN owner TEXT;
    ALTER TABLE jobs ADD COLUMN lease_until REAL;
    ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN submitted_at REAL;
    CREATE INDEX jobs_owner ON jobs(owner);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


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


@dataclass(frozen=True)
class JobFilter:
    provider: str | None = None
    task: str | None = None
    states: tuple[JobState, ...] = ()
    text: str | None = None
    favorite: bool | None = None
    since: float | None = None
    until: float | None = None


class History:
    """One SQLite connection shared by threads behind a lock (writes are short)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created 0600 before SQLite opens it: SQLite gives -wal and -shm the same mode.
        private_file(path)
        for leftover in ("-wal", "-shm"):
            tighten(path.with_name(path.name + leftover), FILE_MODE)
        self.path = path
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(
                str(path), timeout=10.0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise HistoryError.from_sqlite(path, exc) from exc
        try:
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except BaseException as exc:
            self._conn.close()  # no History comes out of here: free the file (and any lock)
            if isinstance(exc, sqlite3.Error):
                raise HistoryError.from_sqlite(path, exc) from exc
            raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- schema ------------------------------------------------------------------------------
    def _migrate(self) -> None:
        """Apply pending migrations, each in one IMMEDIATE transaction together with its
        version bump: a step is applied and counted, or neither. The version is read again
        under the write lock, so two processes opening a new history at the same moment (the
        window and a CLI run) cannot both apply the same step. A step that fails is rolled back
        and raises HistoryError; the database stays at the version before it."""
        with self._lock:
            while True:
                step: int | None = None  # the version a step is being applied to
                try:
                    self._conn.execute("BEGIN IMMEDIATE")
                    version = self._conn.execute("PRAGMA user_version").fetchone()[0]
                    if version > SCHEMA_VERSION:
                        raise HistoryError(
                            f"The history database {self.path} was written by a newer Restyle"
                            f" (schema {version}, this version knows {SCHEMA_VERSION})."
                            " Update Restyle."
                        )
                    if version == SCHEMA_VERSION:
                        self._conn.execute("COMMIT")
                        return
                    step = version
                    for statement in _statements(MIGRATIONS[version]):
                        self._conn.execute(statement)
                    self._set_version(version + 1)
                    self._conn.execute("COMMIT")
                except BaseException as exc:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    if isinstance(exc, sqlite3.Error):
                        raise HistoryError.from_sqlite(self.path, exc,
                                                       upgrading_from=step) from exc
                    raise

    def _set_version(self, version: int) -> None:
        """Record the schema version; called inside the step's transaction (a seam for tests
        that make the bump fail)."""
        self._conn.execute(f"PRAGMA user_version = {int(version)}")

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    # -- writing -----------------------------------------------------------------------------
    def save_job(self, job: Job, *, assets: Iterable[Asset] = (), owner: str | None = None,
                 lease_until: float | None = None) -> None:
        """Insert or update the job row, its inputs and outputs, in one transaction.

        With `owner`, the write is fenced: a new job is inserted owned by `owner`; an existing
        one is only updated while `owner` holds it (else LeaseLost, and nothing is written).
        The write leaves the job owned by
        `owner` until `lease_until`, or free once the job is terminal or needs attention.
        Without `owner` (tools, tests, imports) the ownership columns are left as they are.
        """
        row = _job_row(job)
        released = job.state.terminal or job.state == JobState.NEEDS_ATTENTION
        row["owner"] = None if released else owner
        row["lease_until"] = None if released else lease_until
        row["fence"] = owner
        with self._transaction() as conn:
            for asset in assets:
                _insert_asset(conn, asset)
            cursor = conn.execute(
                """
                INSERT INTO jobs (id, provider, task, state, spec, remote_id, remote_data,
                    attempts, created_at, updated_at, started_at, finished_at, deadline_at,
                    cost_credits, error_code, error_message, provider_code, progress, favorite,
                    note, search_text, owner, lease_until, submitted_at)
                VALUES (:id, :provider, :task, :state, :spec, :remote_id, :remote_data,
                    :attempts, :created_at, :updated_at, :started_at, :finished_at,
                    :deadline_at, :cost_credits, :error_code, :error_message, :provider_code,
                    :progress, :favorite, :note, :search_text, :owner, :lease_until,
                    :submitted_at)
                ON CONFLICT(id) DO UPDATE SET
                    state=excluded.state, spec=excluded.spec, remote_id=excluded.remote_id,
                    remote_data=excluded.remote_data, attempts=excluded.attempts,
                    updated_at=excluded.updated_at, started_at=excluded.started_at,
                    finished_at=excluded.finished_at, deadline_at=excluded.deadline_at,
                    cost_credits=excluded.cost_credits, error_code=excluded.error_code,
                    error_message=excluded.error_message, provider_code=excluded.provider_code,
                    progress=excluded.progress, note=excluded.note,
                    search_text=excluded.search_text, submitted_at=excluded.submitted_at
                """ + (_FENCED_UPDATE if owner is not None else "\n"),
                row,
            )
            if cursor.rowcount == 0:
                raise LeaseLost(job.id)
            conn.execute("DELETE FROM job_inputs WHERE job_id = ?", (job.id,))
            conn.executemany(
                "INSERT INTO job_inputs (job_id, role, position, sha256) VALUES (?, ?, ?, ?)",
                [
                    (job.id, role, i, sha)
                    for role, shas in job.inputs.items()
                    for i, sha in enumerate(shas)
                ],
            )
            conn.execute("DELETE FROM outputs WHERE job_id = ?", (job.id,))
            conn.executemany(
                "INSERT INTO outputs (job_id, position, sha256, kind, label)"
                " VALUES (?, ?, ?, ?, ?)",
                [(job.id, o.position, o.sha256, str(o.kind), o.label) for o in job.outputs],
            )

    def set_favorite(self, job_id: str, favorite: bool) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE jobs SET favorite = ? WHERE id = ?", (int(favorite), job_id))

    # -- ownership (see core/engine/ledger.py) ------------------------------------------------
    def claim(self, job_id: str, owner: str, lease_until: float, *, expected: str | None
              ) -> bool:
        """Take an unfinished job over from `expected` (its owner as last read, None when it
        had none): a compare-and-swap, so of two processes that both saw the owner gone only
        one gets the job."""
        terminal = [str(s) for s in JobState if s.terminal]
        marks = ",".join("?" * len(terminal))
        holder = "owner IS NULL" if expected is None else "owner = ?"
        args: list[Any] = [owner, lease_until, job_id, *terminal]
        if expected is not None:
            args.append(expected)
        with self._transaction() as conn:
            cursor = conn.execute(
                f"UPDATE jobs SET owner = ?, lease_until = ? WHERE id = ?"
                f" AND state NOT IN ({marks}) AND {holder}", args,
            )
            return cursor.rowcount == 1

    def renew(self, owner: str, lease_until: float) -> int:
        """Extend every lease `owner` holds (the heartbeat); returns how many it holds."""
        with self._transaction() as conn:
            return conn.execute("UPDATE jobs SET lease_until = ? WHERE owner = ?",
                                (lease_until, owner)).rowcount

    def release(self, owner: str, job_id: str | None = None) -> None:
        """Give up `owner`'s lease on one job, or on all of its jobs."""
        with self._transaction() as conn:
            if job_id is None:
                conn.execute("UPDATE jobs SET owner = NULL, lease_until = NULL WHERE owner = ?",
                             (owner,))
            else:
                conn.execute("UPDATE jobs SET owner = NULL, lease_until = NULL"
                             " WHERE owner = ? AND id = ?", (owner, job_id))

    def request_cancel(self, job_id: str) -> None:
        """Ask whichever process owns the job to cancel it (it checks at every poll)."""
        with self._transaction() as conn:
            conn.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))

    def delete_job(self, job_id: str) -> list[Asset]:
        """Delete a job; returns the assets no other job uses any more (their rows are gone
        too), so the caller can remove their files."""
        with self._transaction() as conn:
            shas = {
                r[0]
                for r in conn.execute(
                    "SELECT sha256 FROM job_inputs WHERE job_id = ?"
                    " UNION SELECT sha256 FROM outputs WHERE job_id = ?",
                    (job_id, job_id),
                )
            }
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            orphans: list[Asset] = []
            for sha in sorted(shas):
                used = conn.execute(
                    "SELECT 1 FROM job_inputs WHERE sha256 = ?"
                    " UNION ALL SELECT 1 FROM outputs WHERE sha256 = ? LIMIT 1",
                    (sha, sha),
                ).fetchone()
                if used is None:
                    row = conn.execute("SELECT * FROM assets WHERE sha256 = ?",
                                       (sha,)).fetchone()
                    if row is not None:
                        orphans.append(_asset_from_row(row))
                    conn.execute("DELETE FROM assets WHERE sha256 = ?", (sha,))
            return orphans

    # -- reading -----------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            return self._hydrate([row])[0] if row else None

    def find(self, id_or_prefix: str) -> Job | None:
        """A job by its id or an unambiguous prefix of at least 4 characters."""
        job = self.get(id_or_prefix)
        if job is not None or len(id_or_prefix) < 4:
            return job
        with self._lock:
            pattern = _escape_like(id_or_prefix) + "%"
            rows = self._conn.execute(
                "SELECT * FROM jobs WHERE id LIKE ? ESCAPE '\\' LIMIT 2", (pattern,)
            ).fetchall()
            if len(rows) > 1:
                raise LookupError(f"More than one job id starts with '{id_or_prefix}'.")
            return self._hydrate(rows)[0] if rows else None

    def list(self, where: JobFilter | None = None, *, limit: int = 50, offset: int = 0
             ) -> list[Job]:
        """Jobs matching the filter, newest first."""
        clause, args = _where(where or JobFilter())
        with self._lock:
            rows = self._conn.execute(
                f"SELECT * FROM jobs {clause} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return self._hydrate(rows)

    def count(self, where: JobFilter | None = None) -> int:
        clause, args = _where(where or JobFilter())
        with self._lock:
            return int(self._conn.execute(f"SELECT COUNT(*) FROM jobs {clause}", args)
                       .fetchone()[0])

    def unfinished(self) -> list[Job]:
        """Every job not in a terminal state, oldest first."""
        terminal = [str(s) for s in JobState if s.terminal]
        marks = ",".join("?" * len(terminal))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT * FROM jobs WHERE state NOT IN ({marks}) ORDER BY created_at", terminal
            ).fetchall()
            return self._hydrate(rows)

    def asset(self, sha256: str) -> Asset | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM assets WHERE sha256 = ?",
                                     (sha256,)).fetchone()
        return _asset_from_row(row) if row else None

    def _hydrate(self, rows: list[sqlite3.Row]) -> list[Job]:
        """Build Job objects with their inputs and outputs (two queries for the whole page)."""
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        marks = ",".join("?" * len(ids))
        inputs: dict[str, dict[str, list[str]]] = {i: {} for i in ids}
        for r in self._conn.execute(
            f"SELECT job_id, role, sha256 FROM job_inputs WHERE job_id IN ({marks})"
            " ORDER BY job_id, role, position", ids
        ):
            inputs[r[0]].setdefault(r[1], []).append(r[2])
        outputs: dict[str, list[Output]] = {i: [] for i in ids}
        for r in self._conn.execute(
            f"SELECT o.job_id, o.position, o.sha256, o.kind, o.label, a.mime, a.size, a.width,"
            f" a.height FROM outputs o JOIN assets a ON a.sha256 = o.sha256"
            f" WHERE o.job_id IN ({marks}) ORDER BY o.job_id, o.position", ids
        ):
            outputs[r[0]].append(
                Output(position=r[1], sha256=r[2], kind=OutputKind(r[3]), label=r[4], mime=r[5],
                       size=r[6], width=r[7], height=r[8])
            )
        return [_job_from_row(r, inputs[r["id"]], outputs[r["id"]]) for r in rows]


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (executescript would commit our transaction)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements


#: The fence of a save with an owner: an update lands only while `owner` holds the job (the
#: engine claims a job before it works on it), so a process whose lease was taken over can
#: never overwrite what the new owner wrote.
_FENCED_UPDATE = (", owner=excluded.owner, lease_until=excluded.lease_until"
                  " WHERE jobs.owner = :fence\n")


def _insert_asset(conn: sqlite3.Connection, asset: Asset) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO assets (sha256, mime, size, width, height, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (asset.sha256, asset.mime, asset.size, asset.width, asset.height, time.time()),
    )


def _asset_from_row(row: sqlite3.Row) -> Asset:
    return Asset(sha256=row["sha256"], mime=row["mime"], size=row["size"], width=row["width"],
                 height=row["height"])


def _search_text(job: Job) -> str:
    parts = [job.id, job.provider, job.task, str(job.state), job.remote_id or "", job.note,
             json.dumps(job.spec.params, ensure_ascii=False, default=str)]
    for sources in job.spec.inputs.values():
        parts.extend(sources)
    if job.error is not None:
        parts.extend([str(job.error.code), job.error.message, job.error.provider_code or ""])
    parts.extend(o.label for o in job.outputs)
    return " ".join(p for p in parts if p).lower()


def _job_row(job: Job) -> dict[str, Any]:
    err = job.error
    return {
        "id": job.id,
        "provider": job.provider,
        "task": job.task,
        "state": str(job.state),
        "spec": json.dumps(job.spec.to_dict(), ensure_ascii=False, default=str),
        "remote_id": job.remote_id,
        "remote_data": json.dumps(job.remote_data, ensure_ascii=False, default=str),
        "attempts": job.attempts,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "deadline_at": job.deadline_at,
        "cost_credits": job.cost_credits,
        "error_code": str(err.code) if err else None,
        "error_message": err.message if err else None,
        "provider_code": err.provider_code if err else None,
        "progress": job.progress,
        "favorite": int(job.favorite),
        "note": job.note,
        "search_text": _search_text(job),
        "submitted_at": job.submitted_at,
    }


def _job_from_row(row: sqlite3.Row, inputs: dict[str, list[str]], outputs: list[Output]) -> Job:
    error = None
    if row["error_code"]:
        try:
            code = ErrorCode(row["error_code"])
        except ValueError:
            code = ErrorCode.INTERNAL
        error = JobError(code, row["error_message"] or "", row["provider_code"])
    return Job(
        id=row["id"],
        spec=JobSpec.from_dict(json.loads(row["spec"])),
        state=JobState(row["state"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        remote_id=row["remote_id"],
        remote_data=json.loads(row["remote_data"] or "{}"),
        attempts=row["attempts"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        deadline_at=row["deadline_at"],
        cost_credits=row["cost_credits"],
        error=error,
        progress=row["progress"],
        inputs=inputs,
        outputs=tuple(outputs),
        favorite=bool(row["favorite"]),
        note=row["note"],
        owner=row["owner"],
        lease_until=row["lease_until"],
        cancel_requested=bool(row["cancel_requested"]),
        submitted_at=row["submitted_at"],
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(f: JobFilter) -> tuple[str, list[Any]]:
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
        args.append(f"%{_escape_like(term)}%")
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args
