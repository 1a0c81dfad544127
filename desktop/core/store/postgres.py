"""The team back-end: the history in PostgreSQL, through psycopg 3 and its connection pool.

The stores write one SQL text for both back-ends (sql_text.py); this module gives them a
connection that speaks it: `?` and `:name` parameters rewritten for psycopg, rows readable by
column name and by position (as sqlite3.Row), `executemany` on the connection. Connections are
in autocommit; `transaction()` wraps its statements in one PostgreSQL transaction.

Migrations are the same steps as SQLite's (schema.py), with PostgreSQL's column types
(`postgres_ddl`). The version lives in a one-row table, `restyle_schema`; a transaction-level
advisory lock makes the machines that open a new team database at the same moment apply each
step once. PostgreSQL's DDL is transactional, so a step is applied and counted, or neither.

psycopg is imported only here, and only when a `postgresql://` URL is used: a desk that never
uses team mode does not load it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from desktop.core.store import schema
from desktop.core.store.errors import HistoryError
from desktop.core.store.sql_text import postgres_ddl, pyformat

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

#: pg_advisory_xact_lock key for migrations ("RESTYLE" in ASCII, as a bigint).
MIGRATION_LOCK = 0x5245535459_4C45
#: Connections one process keeps open at most (the window: a reader thread, the engine's
#: writer, the change listener has its own).
POOL_MAX = 8
CONNECT_TIMEOUT_S = 10


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


#: Whether a table is in the current schema, read from the catalog under the statement's own
#: snapshot. Not to_regclass: its lookup goes through the session's catalog cache, which
#: within a transaction may still say "missing" for a table another session just created
#: (it did for a second process that waited on a creation lock, which then made it again).
TABLE_EXISTS = """
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = current_schema() AND c.relname = %s)
"""


def table_exists(conn: Any, table: str) -> bool:
    """Whether `table` is there (`conn`: a psycopg connection)."""
    row = conn.execute(TABLE_EXISTS, (table,)).fetchone()
    return bool(row and row[0])


def create_missing(conn: Any, table: str, ddl: str, lock: int) -> bool:
    """Run `ddl` to create `table` unless it exists; True when this call created it. Looked
    for first without a lock or DDL (a user who may use the tables but not create them gets
    through), then again under the advisory lock `lock`, so two processes never both create
    it. `conn` is a psycopg connection in autocommit mode."""
    if table_exists(conn, table):
        return False
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
        if table_exists(conn, table):
            return False
        conn.execute(ddl)
        return True


def describe_url(url: str) -> str:
    """The database for people and logs: user, host, port and name, never the password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(url)
    except Exception:
        return "PostgreSQL database (the URL cannot be read)"
    host = info.get("host") or "localhost"
    port = info.get("port") or "5432"
    name = info.get("dbname") or info.get("user") or "postgres"
    user = f"{info['user']}@" if info.get("user") else ""
    return f"PostgreSQL database {name} ({user}{host}:{port})"


_CHECK_URL = ("Check RESTYLE_DATABASE_URL (or the database_url setting), that the server is"
              " running and that it accepts connections from this machine.")
#: SQLSTATEs of a connection the server refused, what they mean and what to do.
_REFUSALS: dict[str, tuple[str, str]] = {
    "28P01": ("the server refused the user name or password",
              "Check the user and password in RESTYLE_DATABASE_URL (or the database_url"
              " setting) with whoever runs the server."),
    "28000": ("the server does not let this user in from this machine",
              "Ask whoever runs the server to allow it (pg_hba.conf), or use another user."),
    "3D000": ("the database does not exist",
              "Create it on the server (createdb NAME), or correct its name in the URL."),
    "42501": ("this user may not use the database",
              "Ask whoever runs the server to grant it (GRANT ALL ON DATABASE ...)."),
    "53300": ("the server has no connection left for this machine",
              "Try again in a moment, or ask whoever runs the server to raise"
              " max_connections."),
    "57P03": ("the server is starting up or shutting down", "Try again in a moment."),
}


def redact(text: str, url: str) -> str:
    """`text` without the URL's password (a message that quotes the URL back, or part of it,
    must not put the password in a log or on the screen)."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    for secret in filter(None, {password, unquote(password or "")}):
        text = text.replace(secret, "***")
    return text


def explain(exc: BaseException, url: str) -> tuple[str, str]:
    """(why, what to do) for a psycopg error, the password never in either."""
    sqlstate = getattr(exc, "sqlstate", None)
    text = redact(" ".join(str(exc).split()), url)
    if sqlstate in _REFUSALS:
        return _REFUSALS[sqlstate]
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return _REFUSALS["28P01"]
    if "does not exist" in lowered and "database" in lowered:
        return _REFUSALS["3D000"]
    if "server closed the connection" in lowered or "terminating connection" in lowered:
        return ("the server ended the connection", "Restyle connects again by itself; if it"
                " keeps failing, check that the server is running.")
    if "connection refused" in lowered:
        return ("nothing answers at that address and port (connection refused)",
                "Check that the server is running and listens there (listen_addresses, port),"
                " and the host and port in RESTYLE_DATABASE_URL.")
    if "resolve host" in lowered or "translate host name" in lowered:
        return ("the server's host name is not known here",
                "Check the host name in RESTYLE_DATABASE_URL and this machine's network.")
    if "timeout" in lowered or "timed out" in lowered:
        return ("the server did not answer in time",
                "Check that this machine can reach it (VPN, firewall), then try again.")
    if "invalid" in lowered and ("uri" in lowered or "connection option" in lowered
                                 or "dsn" in lowered):
        return (f"the URL cannot be read ({text})",
                "Write it as postgresql://USER:PASSWORD@HOST:PORT/DATABASE.")
    return (text or type(exc).__name__, _CHECK_URL)


class Row:
    """A result row readable by column name and by position, like sqlite3.Row."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def keys(self) -> list[str]:
        return list(self._index)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values, strict=False))!r})"


def _row_factory(cursor: Any) -> Any:
    description = cursor.description
    if description is None:
        return tuple
    index = {column.name: i for i, column in enumerate(description)}
    return lambda values: Row(values, index)


class PgConnection:
    """One pooled connection with the SQLite-style API the stores use."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        if not params:  # psycopg reads no placeholders then: the text goes as it is
            return self.raw.execute(sql)
        return self.raw.execute(pyformat(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any] | dict[str, Any]]) -> Any:
        rows = list(rows)
        cursor = self.raw.cursor()
        if rows:
            cursor.executemany(pyformat(sql), rows)
        return cursor


class PostgresDatabase:
    """The pool, the migrations and the transactions of one team database."""

    dialect = "postgresql"

    def __init__(self, url: str, *, max_size: int = POOL_MAX) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise HistoryError(
                "The team history is a PostgreSQL database, but this Restyle was installed"
                " without team mode: install it with the team extra (.venv/bin/pip install -e"
                " \".[team]\"), or unset RESTYLE_DATABASE_URL (and database_url in settings)"
                " to use this desk's own history.") from None

        self.url = url
        self.where = describe_url(url)
        self._psycopg = psycopg
        try:
            # One direct connection first: a server that cannot be reached gives its own
            # reason (refused, unknown host, bad password) instead of a pool's timeout.
            with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                 row_factory=_row_factory) as conn:
                self._migrate(PgConnection(conn))
            self._pool: ConnectionPool[Any] = ConnectionPool(
                url, min_size=1, max_size=max_size, open=False, timeout=30.0,
                kwargs={"autocommit": True, "row_factory": _row_factory},
                name="restyle-history",
            )
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
        except psycopg.Error as exc:
            raise self.error(exc, "opened") from exc
        self._closed = threading.Event()

    def error(self, exc: BaseException, doing: str) -> HistoryError:
        """A sentence for a PostgreSQL failure: what failed, why, what to do."""
        reason, todo = explain(exc, self.url)
        return HistoryError(f"The team history, {self.where}, cannot be {doing}: {reason}."
                            f" {todo}")

    # -- schema ------------------------------------------------------------------------------
    def _migrate(self, conn: PgConnection) -> None:
        raw = conn.raw
        # A database at this schema is opened without a lock or DDL: a user who may read and
        # write the tables but not create them (a team whose owner runs `db upgrade`) can.
        if self._stored_version(raw) == schema.SCHEMA_VERSION:
            return
        try:
            self._upgrade(raw)
        except self._psycopg.errors.InsufficientPrivilege as exc:
            reason = redact(str(exc), self.url).strip().splitlines()[0]
            raise HistoryError(
                f"The team history, {self.where}, needs its tables created or upgraded to"
                f" schema {schema.SCHEMA_VERSION}, and this user may not ({reason}). Ask"
                " whoever owns the database to run `restyle-cli db upgrade` as its owner,"
                " then try again.") from None

    def _stored_version(self, raw: Any) -> int | None:
        """The schema version stored, None for a database without Restyle's tables; refuses
        one written by a newer Restyle."""
        if not table_exists(raw, "restyle_schema"):
            return None
        row = raw.execute("SELECT version FROM restyle_schema").fetchone()
        version = int(row[0]) if row else None
        if version is not None:
            self._refuse_newer(version)
        return version

    def _refuse_newer(self, version: int) -> None:
        if version > schema.SCHEMA_VERSION:
            raise HistoryError(
                f"The team history, {self.where}, was written by a newer Restyle"
                f" (schema {version}, this version knows {schema.SCHEMA_VERSION})."
                " Update Restyle on this machine.")

    def _upgrade(self, raw: Any) -> None:
        while True:
            with raw.transaction():
                raw.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                raw.execute("CREATE TABLE IF NOT EXISTS restyle_schema"
                            " (version INTEGER NOT NULL)")
                row = raw.execute("SELECT version FROM restyle_schema").fetchone()
                if row is None:
                    raw.execute("INSERT INTO restyle_schema (version) VALUES (0)")
                    version = 0
                else:
                    version = int(row[0])
                self._refuse_newer(version)
                if version == schema.SCHEMA_VERSION:
                    return
                try:
                    for statement in schema.statements(schema.MIGRATIONS[version]):
                        raw.execute(postgres_ddl(statement))
                    for statement in schema.POSTGRES_AFTER.get(version + 1, ()):
                        raw.execute(statement)
                except self._psycopg.errors.InsufficientPrivilege:
                    raise
                except self._psycopg.Error as exc:
                    raise HistoryError(
                        f"The team history, {self.where}, cannot be upgraded from schema"
                        f" {version} to {version + 1} ({exc}); it was left unchanged at schema"
                        f" {version}. Please report this problem.") from exc
                raw.execute("UPDATE restyle_schema SET version = %s", (version + 1,))

    def schema_version(self) -> int:
        with self.reading() as conn:
            row = conn.execute("SELECT version FROM restyle_schema").fetchone()
            return int(row[0]) if row else 0

    # -- connections ---------------------------------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[PgConnection]:
        try:
            with self._pool.connection() as conn:
                yield PgConnection(conn)
        except self._psycopg.OperationalError as exc:
            raise self.error(exc, "read") from exc

    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                yield PgConnection(conn)
        except self._psycopg.OperationalError as exc:
            raise self.error(exc, "written") from exc

    def close(self) -> None:
        self._closed.set()
        self._pool.close()
