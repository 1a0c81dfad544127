"""Move a desk's whole history into another database (the team's PostgreSQL), nothing lost.

`copy_history` reads every row of the source (jobs, assets, inputs, outputs, batches, batch
items, reviews, votes) and writes the rows the target lacks in one transaction: a row the
target holds already and that is identical is skipped (copying twice changes nothing); one
that differs is a conflict, reported, and nothing at all is written. Both histories are opened
through `History`, so each is brought to this Restyle's schema first, and a history written by
a newer Restyle is refused. Asset files go first, content-addressed (assets.py: a temporary
name, the SHA-256 checked, a rename), so the rows never name a file the target lacks. A
source whose jobs a Restyle is working on right now (a live lease) is refused: a job copied
mid-flight could be taken over by the team's workers while the desk still follows it.

Afterwards every table is read back: per table, the count of source rows the target holds;
the sets of input and output SHA-256s; every review and vote field by field. The report says
so, or the copy raises CopyError.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.core.assets import AssetMismatch, AssetStore
from desktop.core.model import JobState
from desktop.core.store.errors import HistoryError
from desktop.core.store.history import History, sqlite_path
from desktop.core.store.postgres import is_postgres_url

#: Every table of the history in an order its foreign keys accept, with its primary key and
#: the column that finds a chunk of rows (the key's first column).
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("assets", ("sha256",)),
    ("jobs", ("id",)),
    ("job_inputs", ("job_id", "role", "position")),
    ("outputs", ("job_id", "position")),
    ("batches", ("id",)),
    ("batch_items", ("batch_id", "position")),
    ("reviews", ("job_id", "position", "reviewer")),
    ("votes", ("id",)),
)
#: Columns that may differ between two copies of the same row: when this desk first stored an
#: image is not part of the image (two desks that used the same photo both have its row).
IGNORED = {"assets": frozenset({"created_at"})}
#: Rows read or looked up at once.
CHUNK = 500
#: How many conflicting rows a refusal names.
SHOWN_CONFLICTS = 5


class CopyError(Exception):
    """The copy cannot be made or did not check out: a sentence saying why and what to do."""


class CopyRefused(CopyError):
    """The arguments do not name a copy that can be made (the same database twice, no source
    history, one assets folder without the other)."""


class CopyCheckFailed(CopyError):
    """Reading the copy back found a difference."""


class CopyBusy(CopyError):
    """A Restyle is working on some of the source's jobs right now (a live lease): copied
    mid-flight, the team's workers could take them over while the desk still follows them."""


class CopyConflict(CopyError):
    """Rows the target holds with the same keys but other values; nothing was written."""

    def __init__(self, conflicts: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
        self.conflicts = list(conflicts)
        shown = "; ".join(f"{table} {'/'.join(str(k) for k in key)}"
                          for table, key in self.conflicts[:SHOWN_CONFLICTS])
        more = len(self.conflicts) - SHOWN_CONFLICTS
        extra = f" and {more:,} more" if more > 0 else ""
        super().__init__(
            f"Nothing was copied: {len(self.conflicts):,} row(s) of the source are in the"
            f" target already with other values ({shown}{extra}). Another desk's history may"
            " use the same ids, or the source changed since an earlier copy; look at those"
            " rows in both before copying.")


@dataclass
class TableCount:
    source: int = 0
    copied: int = 0
    skipped: int = 0  # in the target already, identical


@dataclass
class FileCount:
    copied: int = 0
    present: int = 0  # in the target's folder already, hash checked
    missing: list[str] = field(default_factory=list)  # in no source folder: sha256s


@dataclass
class CopyReport:
    source: str
    target: str
    schema: int
    tables: dict[str, TableCount]
    files: FileCount | None
    checked: tuple[str, ...] = ()

    def copied(self, table: str) -> int:
        return self.tables[table].copied

    def sentence(self) -> str:
        parts = [_count(self.copied("jobs"), "job"), _count(self.copied("assets"), "image"),
                 _count(self.copied("batches"), "batch", "batches"),
                 _count(self.copied("reviews"), "review"), _count(self.copied("votes"), "vote")]
        text = f"Copied {', '.join(parts)} from {self.source} to {self.target}"
        skipped = sum(t.skipped for t in self.tables.values())
        if skipped:
            text += f" ({skipped:,} identical row(s) already there were left as they were)"
        if self.files is not None:
            text += (f"; {_count(self.files.copied, 'file')} copied,"
                     f" {self.files.present:,} already in place")
        text += "; checked: counts, hashes and reviews match."
        if self.files is not None and self.files.missing:
            text += (f" {len(self.files.missing):,} image file(s) were in no source folder"
                     " and are still missing (their rows were copied).")
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "target": self.target, "schema": self.schema,
            "tables": {name: vars(count) for name, count in self.tables.items()},
            "files": None if self.files is None else {
                "copied": self.files.copied, "present": self.files.present,
                "missing": list(self.files.missing)},
            "checked": list(self.checked),
            "message": self.sentence(),
        }


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def same_database(a: Path | str, b: Path | str) -> bool:
    """Whether two targets name one database: the same SQLite file, or the same PostgreSQL
    host, port and database (whatever user or password the URLs give)."""
    if is_postgres_url(a) != is_postgres_url(b):
        return False
    if is_postgres_url(a):
        from psycopg.conninfo import conninfo_to_dict

        def where(url: str) -> tuple[str, str, str]:
            info = conninfo_to_dict(url)
            host = str(info.get("host") or "localhost")
            host = "localhost" if host in ("127.0.0.1", "::1") else host.lower()
            return host, str(info.get("port") or "5432"), str(info.get("dbname") or
                                                             info.get("user") or "")

        try:
            return where(str(a)) == where(str(b))
        except Exception:  # a URL libpq cannot read: opening it says why, in a sentence
            return False
    return sqlite_path(a).resolve() == sqlite_path(b).resolve()


def copy_history(source: Path | str, target: Path | str, *,
                 assets_from: Path | None = None, assets_to: Path | None = None,
                 progress: Callable[[str], None] | None = None) -> CopyReport:
    """Copy every row of `source` that `target` lacks (see the module docstring)."""
    say = progress or (lambda _text: None)
    if same_database(source, target):
        raise CopyRefused("The source and the target are the same database: give --to the"
                          " team database and --from the desk's history.")
    if not is_postgres_url(source) and not sqlite_path(source).is_file():
        raise CopyRefused(f"There is no history at {sqlite_path(source)}: give --from the"
                          " desk's history file (sqlite:///PATH).")
    if (assets_from is None) != (assets_to is None):
        raise CopyRefused("Give both --assets-from and --assets-to (the folders the image"
                          " files are copied from and to), or neither.")
    src = _open(source, "source")
    try:
        dst = _open(target, "target")
        try:
            return _copy(src, dst, assets_from, assets_to, say)
        finally:
            dst.close()
    finally:
        src.close()


def _open(where: Path | str, role: str) -> History:
    try:
        return History(where)
    except HistoryError as exc:
        raise CopyError(f"The {role} cannot be used. {exc}") from exc


def _refuse_live_jobs(src: History) -> None:
    terminal = [str(s) for s in JobState if s.terminal]
    with src.reading() as conn:
        live = conn.execute(
            "SELECT COUNT(*) FROM jobs WHERE owner IS NOT NULL AND lease_until > ?"
            f" AND state NOT IN ({', '.join('?' * len(terminal))})",
            [time.time(), *terminal]).fetchone()[0]
    if live:
        raise CopyBusy(f"Nothing was copied: a Restyle is still working on {live:,} job(s) of"
                       f" {src.where}. Let them finish (or close Restyle and the restyle-cli"
                       " commands using this history), then copy again.")


def _copy(src: History, dst: History, assets_from: Path | None, assets_to: Path | None,
          say: Callable[[str], None]) -> CopyReport:
    _refuse_live_jobs(src)
    counts = {table: TableCount() for table, _ in TABLES}
    plan: dict[str, list[dict[str, Any]]] = {}
    conflicts: list[tuple[str, tuple[Any, ...]]] = []
    say("Comparing the source with the target...")
    for table, key in TABLES:
        rows = _rows(src, table, key)
        counts[table].source = len(rows)
        new, same, differ = _sort_out(dst, table, key, rows)
        plan[table] = new
        counts[table].skipped = same
        conflicts.extend((table, k) for k in differ)
    if conflicts:
        raise CopyConflict(conflicts)
    files = None
    if assets_from is not None and assets_to is not None:
        say("Copying image files...")
        files = _copy_files(src, assets_from, assets_to, dst.dialect == "postgresql")
    say("Writing the rows...")
    with dst.transaction() as conn:
        for table, key in TABLES:
            new = plan[table]
            # Read again inside the transaction: what another desk wrote meanwhile counts.
            fresh, same, differ = _sort_out_on(conn, table, key, new)
            if differ:
                raise CopyConflict([(table, k) for k in differ])
            counts[table].skipped += same
            if fresh:
                columns = list(fresh[0])
                conn.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)})"
                    f" VALUES ({', '.join('?' * len(columns))})",
                    [tuple(r[c] for c in columns) for r in fresh])
            counts[table].copied = len(fresh)
    say("Checking the copy...")
    checked = verify(src, dst)
    return CopyReport(src.where, dst.where, src.schema_version, counts, files, checked)


def _rows(history: History, table: str, key: Sequence[str]) -> list[dict[str, Any]]:
    with history.reading() as conn:
        cursor = conn.execute(f"SELECT * FROM {table} ORDER BY {', '.join(key)}")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _sort_out(history: History, table: str, key: Sequence[str],
              rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, list[tuple]]:
    with history.reading() as conn:
        return _sort_out_on(conn, table, key, rows)


def _sort_out_on(conn: Any, table: str, key: Sequence[str], rows: list[dict[str, Any]]
                 ) -> tuple[list[dict[str, Any]], int, list[tuple]]:
    """(rows the target lacks, how many it holds identical, keys it holds with other values)."""
    new: list[dict[str, Any]] = []
    same = 0
    differ: list[tuple] = []
    ignored = IGNORED.get(table, frozenset())
    for chunk in _chunks(rows):
        held = _held(conn, table, key, chunk)
        for row in chunk:
            there = held.get(tuple(row[k] for k in key))
            if there is None:
                new.append(row)
            elif all(there.get(c) == v for c, v in row.items() if c not in ignored):
                same += 1
            else:
                differ.append(tuple(row[k] for k in key))
    return new, same, differ


def _held(conn: Any, table: str, key: Sequence[str], rows: Sequence[dict[str, Any]]
          ) -> dict[tuple, dict[str, Any]]:
    """The target's rows sharing a first key column with `rows`, by their whole key."""
    firsts = sorted({r[key[0]] for r in rows})
    if not firsts:
        return {}
    cursor = conn.execute(
        f"SELECT * FROM {table} WHERE {key[0]} IN ({', '.join('?' * len(firsts))})", firsts)
    names = [d[0] for d in cursor.description]
    found = (dict(zip(names, row, strict=True)) for row in cursor.fetchall())
    return {tuple(r[k] for k in key): r for r in found}


def _copy_files(src: History, assets_from: Path, assets_to: Path, shared: bool) -> FileCount:
    """Every asset file the source's rows name, from one folder into the other."""
    rows = _rows(src, "assets", ("sha256",))
    if rows and not assets_from.is_dir():
        raise CopyRefused(f"There is no assets folder at {assets_from}: give --assets-from"
                          " the desk's assets folder.")
    if assets_from.resolve() == assets_to.resolve():
        raise CopyRefused("--assets-from and --assets-to are the same folder.")
    count = FileCount()
    if not rows:
        return count
    origin = AssetStore(assets_from)
    store = AssetStore(assets_to, shared=shared)
    for row in rows:
        sha, mime = row["sha256"], row["mime"]
        path = origin.path_for(sha, mime)
        if not path.is_file():
            count.missing.append(sha)
            continue
        try:
            copied = store.import_file(path, sha, mime)
        except AssetMismatch as exc:
            raise CopyError(f"Nothing was copied into the database: {exc} The desk's copy of"
                            " this image is damaged; restore it, or remove its job, then copy"
                            " again.") from exc
        except OSError as exc:
            raise CopyError(f"Nothing was copied into the database: the image file {path}"
                            f" cannot be copied to {assets_to} ({exc}). Check that the folder"
                            " is mounted and writable, then copy again.") from exc
        if copied:
            count.copied += 1
        else:
            count.present += 1
    return count


def verify(src: History, dst: History) -> tuple[str, ...]:
    """Read the copy back: every source row is in the target (per table, the count of them
    found), the input and output SHA-256s are the same sets, every review and vote is the
    same field by field. Raises CopyError on the first difference; returns what it checked."""
    for table, key in TABLES:
        rows = _rows(src, table, key)
        new, same, differ = _sort_out(dst, table, key, rows)
        if new or differ or same != len(rows):
            raise CopyCheckFailed(
                f"The copy did not check out: of {len(rows):,} rows of {table},"
                f" {same:,} are in the target as they are in the source ({len(new):,} missing,"
                f" {len(differ):,} different). Please report this problem; the source was not"
                " changed.")
    for table in ("job_inputs", "outputs"):
        want = _hashes(src, table)
        have = _hashes(dst, table, jobs=[job for job, _ in want])
        if want != have:
            raise CopyCheckFailed(f"The copy did not check out: the {table} hashes differ. Please"
                            " report this problem; the source was not changed.")
    return ("counts", "hashes", "reviews", "votes")


def _hashes(history: History, table: str, jobs: Sequence[str] | None = None
            ) -> set[tuple[str, str]]:
    """(job id, sha256) of every input or output (of these jobs only, when given)."""
    found: set[tuple[str, str]] = set()
    with history.reading() as conn:
        if jobs is None:
            found.update((r[0], r[1]) for r in conn.execute(
                f"SELECT job_id, sha256 FROM {table}"))
            return found
        unique = sorted(set(jobs))
        for chunk in _chunks(unique):
            found.update((r[0], r[1]) for r in conn.execute(
                f"SELECT job_id, sha256 FROM {table} WHERE job_id IN"
                f" ({', '.join('?' * len(chunk))})", list(chunk)))
    return found
