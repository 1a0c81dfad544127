"""The job history in SQLite: jobs, their input and output assets, versioned migrations.

WAL mode so the window can read while a CLI process writes; every write is one short
transaction. The schema version lives in `PRAGMA user_version`; `MIGRATIONS[i]` (schema.py)
takes the database from version i to i + 1. Methods are blocking: callers on an event loop run
them in a worker thread (the engine uses one dedicated thread so writes keep their order).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from desktop.core.model import (
    Asset,
    Job,
    JobState,
    Output,
    OutputKind,
)
from desktop.core.permissions import FILE_MODE, private_file, tighten
from desktop.core.store import schema
from desktop.core.store.errors import HistoryError, LeaseLost
from desktop.core.store.filters import JobFilter, prefix_match, where_clause
from desktop.core.store.paging import ORDER, PageCursor, page_query
from desktop.core.store.postgres import is_postgres_url
from desktop.core.store.rows import (
    FENCED_UPDATE,
    asset_from_row,
    insert_asset,
    job_from_row,
    job_row,
)

if TYPE_CHECKING:
    from desktop.core.store.postgres import PostgresDatabase


def sqlite_path(target: Path | str) -> Path:
    """The SQLite file of a path or a `sqlite:///path` URL (`sqlite:////abs` or
    `sqlite:///rel`, as SQLAlchemy spells them)."""
    if isinstance(target, str) and target.startswith("sqlite:"):
        rest = target[len("sqlite:"):]
        if not rest.startswith("///"):
            raise HistoryError(f"'{target}' is not an SQLite URL Restyle reads: write"
                               " sqlite:///relative/path or sqlite:////absolute/path.")
        return Path(rest[3:]).expanduser()
    return Path(target).expanduser()


class JobControl(NamedTuple):
    """The columns of a job that say who may work on it (`History.control`)."""

    owner: str | None
    state: JobState
    cancel_requested: bool


class History:
    """The history on one of two back-ends: an SQLite file (one connection shared by threads
    behind a lock; writes are short), or a team database in PostgreSQL (postgres.py: a pool).

    `target` is the SQLite file's path (or a `sqlite:///` URL), or a `postgresql://` URL."""

    def __init__(self, target: Path | str) -> None:
        self._pg: PostgresDatabase | None = None
        self._lock = threading.RLock()
        if is_postgres_url(target):
            from desktop.core.store.postgres import PostgresDatabase

            assert isinstance(target, str)
            self.path = None
            self.dialect = "postgresql"
            self._pg = PostgresDatabase(target)
            self.where = self._pg.where
            return
        path = sqlite_path(target)
        self.dialect = "sqlite"
        self.where = str(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created 0600 before SQLite opens it: SQLite gives -wal and -shm the same mode.
        private_file(path)
        for leftover in ("-wal", "-shm"):
            tighten(path.with_name(path.name + leftover), FILE_MODE)
        self.path: Path | None = path
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
        if self._pg is not None:
            self._pg.close()
            return
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
            # Most opens find the schema current: a plain read says so without the write lock,
            # so a new process never queues behind busy writers just to learn that.
            try:
                current = self._conn.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.Error:
                current = -1  # let the locked path below report it
            if current == schema.SCHEMA_VERSION:
                return
            while True:
                step: int | None = None  # the version a step is being applied to
                try:
                    self._conn.execute("BEGIN IMMEDIATE")
                    version = self._conn.execute("PRAGMA user_version").fetchone()[0]
                    if version > schema.SCHEMA_VERSION:
                        raise HistoryError(
                            f"The history database {self.path} was written by a newer Restyle"
                            f" (schema {version}, this version knows {schema.SCHEMA_VERSION})."
                            " Update Restyle."
                        )
                    if version == schema.SCHEMA_VERSION:
                        self._conn.execute("COMMIT")
                        return
                    step = version
                    for statement in schema.statements(schema.MIGRATIONS[version]):
                        self._conn.execute(statement)
                    self._set_version(version + 1)
                    self._conn.execute("COMMIT")
                except BaseException as exc:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    if isinstance(exc, sqlite3.Error):
                        assert self.path is not None
                        raise HistoryError.from_sqlite(self.path, exc,
                                                       upgrading_from=step) from exc
                    raise

    def _set_version(self, version: int) -> None:
        """Record the schema version; called inside the step's transaction (a seam for tests
        that make the bump fail)."""
        self._conn.execute(f"PRAGMA user_version = {int(version)}")

    @property
    def schema_version(self) -> int:
        if self._pg is not None:
            return self._pg.schema_version()
        with self._lock:
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One short write transaction (BEGIN IMMEDIATE ... COMMIT), for the stores that
        share this history's connection (batches, reviews)."""
        with self._transaction() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """A connection for reads: SQLite's, under the lock, or one from the team pool."""
        if self._pg is not None:
            with self._pg.reading() as conn:
                yield conn
            return
        with self._lock:
            yield self._conn

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        if self._pg is not None:
            with self._pg.transaction() as conn:
                yield conn
            return
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
                 lease_until: float | None = None, links: bool = True) -> None:
        """Insert or update the job row, its inputs and outputs, in one transaction.

        With `owner`, the write is fenced: a new job is inserted owned by `owner`; an existing
        one is only updated while `owner` holds it (else LeaseLost, and nothing is written).
        The write leaves the job owned by
        `owner` until `lease_until`, or free once the job is terminal or needs attention.
        Without `owner` (tools, tests, imports) the ownership columns are left as they are.
        `links=False` leaves the job's input and output rows as they are: for a writer that
        knows they are unchanged since its own last save (the engine, between state changes).
        """
        with self._transaction() as conn:
            write_job(conn, job, assets=assets, owner=owner, lease_until=lease_until,
                      links=links)

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
                        orphans.append(asset_from_row(row))
                    conn.execute("DELETE FROM assets WHERE sha256 = ?", (sha,))
            return orphans

    # -- reading -----------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        with self.reading() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            return self._hydrate(conn, [row])[0] if row else None

    def control(self, job_id: str) -> JobControl | None:
        """Who owns the job, its state and whether a cancel was asked for: what an engine
        checks between polls, read from the job's row alone (no inputs, outputs or JSON)."""
        with self.reading() as conn:
            row = conn.execute(
                "SELECT owner, state, cancel_requested FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
        if row is None:
            return None
        return JobControl(owner=row[0], state=JobState(row[1]),
                          cancel_requested=bool(row[2]))

    def find(self, id_or_prefix: str) -> Job | None:
        """A job by its id or an unambiguous prefix of at least 4 characters."""
        job = self.get(id_or_prefix)
        if job is not None or len(id_or_prefix) < 4:
            return job
        match, args = prefix_match("id", id_or_prefix)
        with self.reading() as conn:
            rows = conn.execute(f"SELECT * FROM jobs WHERE {match} LIMIT 2", args).fetchall()
            if len(rows) > 1:
                raise LookupError(f"More than one job id starts with '{id_or_prefix}'.")
            return self._hydrate(conn, rows)[0] if rows else None

    def list(self, where: JobFilter | None = None, *, limit: int = 50, offset: int = 0
             ) -> list[Job]:
        """Jobs matching the filter, newest first. OFFSET reads every row it skips: a list
        walked page by page uses `page` instead."""
        clause, args = where_clause(where or JobFilter())
        with self.reading() as conn:
            rows = conn.execute(
                f"SELECT * FROM jobs {clause} {ORDER} LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return self._hydrate(conn, rows)

    def page(self, where: JobFilter | None = None, *, limit: int = 50,
             after: PageCursor | None = None) -> list[Job]:
        """One page of the jobs matching the filter, newest first, starting strictly after
        `after` (the previous page's last job, `PageCursor.after(job)`; None: the first page).
        A keyset query (paging.py): the same cost at any depth."""
        sql, args = page_query(where or JobFilter(), limit, after)
        with self.reading() as conn:
            return self._hydrate(conn, conn.execute(sql, args).fetchall())

    def count(self, where: JobFilter | None = None) -> int:
        clause, args = where_clause(where or JobFilter())
        with self.reading() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM jobs {clause}", args)
                       .fetchone()[0])

    def unfinished(self) -> list[Job]:
        """Every job not in a terminal state, oldest first."""
        terminal = [str(s) for s in JobState if s.terminal]
        marks = ",".join("?" * len(terminal))
        with self.reading() as conn:
            rows = conn.execute(
                f"SELECT * FROM jobs WHERE state NOT IN ({marks}) ORDER BY created_at", terminal
            ).fetchall()
            return self._hydrate(conn, rows)

    def same_inputs(self, task: str, input_shas: Iterable[str], *,
                    states: Iterable[JobState] = (JobState.SUCCEEDED,),
                    limit: int = 100) -> list[Job]:
        """Jobs of `task` made from exactly these input images (the same set of sha256, in any
        role), in one of `states`, newest first: the providers a stylist can compare.

        Plain SQL both SQLite and PostgreSQL run: the inputs' index (job_inputs_sha) finds the
        jobs holding every one of the images; NOT EXISTS drops jobs with further inputs. An
        empty set matches nothing (a job with no stored inputs has nothing to match on)."""
        shas = sorted(set(input_shas))
        wanted = [str(s) for s in states]
        if not shas or not wanted:
            return []
        marks = ",".join("?" * len(shas))
        state_marks = ",".join("?" * len(wanted))
        sql = (
            "SELECT j.* FROM jobs j"
            " JOIN (SELECT job_id FROM job_inputs"
            f" WHERE sha256 IN ({marks}) GROUP BY job_id"
            " HAVING COUNT(DISTINCT sha256) = ?) m ON m.job_id = j.id"
            f" WHERE j.task = ? AND j.state IN ({state_marks})"
            " AND NOT EXISTS (SELECT 1 FROM job_inputs o WHERE o.job_id = j.id"
            f" AND o.sha256 NOT IN ({marks}))"
            " ORDER BY j.created_at DESC, j.id DESC LIMIT ?"
        )
        args: list[Any] = [*shas, len(shas), task, *wanted, *shas, int(limit)]
        with self.reading() as conn:
            rows = conn.execute(sql, args).fetchall()
            return self._hydrate(conn, rows)

    def asset(self, sha256: str) -> Asset | None:
        with self.reading() as conn:
            row = conn.execute("SELECT * FROM assets WHERE sha256 = ?",
                                     (sha256,)).fetchone()
        return asset_from_row(row) if row else None

    def _hydrate(self, conn: Any, rows: list[Any]) -> list[Job]:
        """Build Job objects with their inputs and outputs (two queries for the whole page)."""
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        marks = ",".join("?" * len(ids))
        inputs: dict[str, dict[str, list[str]]] = {i: {} for i in ids}
        for r in conn.execute(
            f"SELECT job_id, role, sha256 FROM job_inputs WHERE job_id IN ({marks})"
            " ORDER BY job_id, role, position", ids
        ):
            inputs[r[0]].setdefault(r[1], []).append(r[2])
        outputs: dict[str, list[Output]] = {i: [] for i in ids}
        for r in conn.execute(
            f"SELECT o.job_id, o.position, o.sha256, o.kind, o.label, a.mime, a.size, a.width,"
            f" a.height FROM outputs o JOIN assets a ON a.sha256 = o.sha256"
            f" WHERE o.job_id IN ({marks}) ORDER BY o.job_id, o.position", ids
        ):
            outputs[r[0]].append(
                Output(position=r[1], sha256=r[2], kind=OutputKind(r[3]), label=r[4], mime=r[5],
                       size=r[6], width=r[7], height=r[8])
            )
        return [job_from_row(r, inputs[r["id"]], outputs[r["id"]]) for r in rows]


def write_job(conn: Any, job: Job, *, assets: Iterable[Asset] = (),
              owner: str | None = None, lease_until: float | None = None,
              links: bool = True) -> None:
    """`History.save_job`'s writes, inside a transaction the caller holds (an import writes
    several jobs, their reviews and votes in one)."""
    row = job_row(job)
    released = job.state.terminal or job.state == JobState.NEEDS_ATTENTION
    row["owner"] = None if released else owner
    row["lease_until"] = None if released else lease_until
    row["fence"] = owner
    for asset in assets:
        insert_asset(conn, asset)
    cursor = conn.execute(
        """
        INSERT INTO jobs (id, provider, task, state, spec, remote_id, remote_data,
            attempts, created_at, updated_at, started_at, finished_at, deadline_at,
            cost_credits, error_code, error_message, provider_code, progress, favorite,
            note, search_text, owner, lease_until, submitted_at, queue)
        VALUES (:id, :provider, :task, :state, :spec, :remote_id, :remote_data,
            :attempts, :created_at, :updated_at, :started_at, :finished_at,
            :deadline_at, :cost_credits, :error_code, :error_message, :provider_code,
            :progress, :favorite, :note, :search_text, :owner, :lease_until,
            :submitted_at, :queue)
        ON CONFLICT(id) DO UPDATE SET
            state=excluded.state, spec=excluded.spec, remote_id=excluded.remote_id,
            remote_data=excluded.remote_data, attempts=excluded.attempts,
            updated_at=excluded.updated_at, started_at=excluded.started_at,
            finished_at=excluded.finished_at, deadline_at=excluded.deadline_at,
            cost_credits=excluded.cost_credits, error_code=excluded.error_code,
            error_message=excluded.error_message, provider_code=excluded.provider_code,
            progress=excluded.progress, note=excluded.note,
            search_text=excluded.search_text, submitted_at=excluded.submitted_at
        """ + (FENCED_UPDATE if owner is not None else "\n"),
        row,
    )
    if cursor.rowcount == 0:
        raise LeaseLost(job.id)
    if not links:
        return
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
