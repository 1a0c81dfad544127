"""The change feed: what other desks changed in the team history, as it is committed.

On PostgreSQL, triggers (schema.POSTGRES_AFTER[5]) announce every change a window shows on the
channel `restyle_changes`, payload "<table>:<key>", at commit. `PostgresChangeFeed` LISTENs on
a connection of its own (not one of the pool's: a pooled connection goes back to the pool and
its LISTEN with it), in a thread, and hands the notices to a callback in small batches:
a burst (a batch writing 60 cells) arrives as one call with each (table, key) once.

When the connection is lost (the server restarted, the network went away, an administrator
ended the session), the feed says so through its status callback and connects again, waiting
a little longer after each failure. Notices sent meanwhile are lost: PostgreSQL keeps none for
a listener that is not connected, so the status callback's `FeedStatus.BACK` is the moment for
the window to read again what it shows.

On SQLite there is no feed (`needs_feed` is False): another process's writes (a `restyle-cli
run`) reach the window as they did before team mode, through its timers (the attention
controller's look for orphans and jobs running elsewhere every 30 s, the batch panel's 2 s look
at running batches). Nothing here changes that.

No Qt: the callbacks are called on the feed's thread; the window moves them to its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from desktop.core.store.postgres import is_postgres_url

log = logging.getLogger(__name__)

CHANNEL = "restyle_changes"
#: Tables whose changes are announced (the triggers' TG_TABLE_NAME).
TABLES = ("jobs", "reviews", "votes", "batches", "batch_items")
#: After the first notice of a burst, the feed gathers what else arrives this long (s).
GATHER_S = 0.02
#: How long one wait for notices lasts before the feed looks at whether it should stop (s).
WAIT_S = 0.25
#: With nothing heard this long, the feed asks the server whether the connection still
#: works (a connection cut without a word is otherwise noticed only by TCP keepalives).
PING_S = 15.0
#: Waits before each new attempt to connect after a loss (s); the last one repeats.
RECONNECT_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)
#: TCP keepalives on the listening connection: a machine that went away is noticed in about
#: half a minute.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
              "keepalives_count": 3}


@dataclass(frozen=True, order=True)
class Change:
    """One announced change: `table` is one of TABLES; `key` a job id (jobs, reviews), a batch
    id (batches, batch_items) or "left_job,right_job" (votes)."""

    table: str
    key: str

    @classmethod
    def parse(cls, payload: str) -> Change | None:
        table, sep, key = payload.partition(":")
        if not sep or table not in TABLES or not key:
            return None
        return cls(table, key)

    def job_ids(self) -> tuple[str, ...]:
        """The jobs this change is about (none for batches)."""
        if self.table in ("jobs", "reviews"):
            return (self.key,)
        if self.table == "votes":
            return tuple(part for part in self.key.split(",") if part)
        return ()


class FeedStatus(Enum):
    CONNECTED = "connected"  # listening (the first time)
    LOST = "lost"  # the connection went away; trying again
    BACK = "back"  # listening again after a loss: what was announced meanwhile is unknown


def needs_feed(target: object) -> bool:
    """Whether a history at `target` has a change feed (PostgreSQL) or not (SQLite)."""
    return is_postgres_url(target)


def team_place(url: str) -> tuple[str, str]:
    """(database name, host) of a team database URL, for the window's status bar; never the
    user or the password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(url)
    except Exception:
        return ("the team database", "an unknown host")
    host = str(info.get("host") or "localhost")
    if host.startswith("/"):
        host = "this machine"  # a Unix socket folder
    port = str(info.get("port") or "")
    if port and port != "5432":
        host = f"{host}:{port}"
    name = str(info.get("dbname") or info.get("user") or "postgres")
    return (name, host)


OnChanges = Callable[[list[Change]], None]
OnStatus = Callable[[FeedStatus, str], None]


class PostgresChangeFeed:
    """LISTEN on `restyle_changes` in a thread; see the module docstring.

    `on_changes` gets each batch (sorted, no duplicates); `on_status` gets FeedStatus with a
    sentence (empty when connected). Both are called on the feed's thread and must not block
    for long. `start()` returns at once; `close()` stops the thread (within about WAIT_S)."""

    def __init__(self, url: str, on_changes: OnChanges, on_status: OnStatus, *,
                 reconnect_delays: Sequence[float] | None = None,
                 ping_s: float = PING_S) -> None:
        self.url = url
        self._on_changes = on_changes
        self._on_status = on_status
        self._delays = tuple(reconnect_delays or ()) or RECONNECT_DELAYS  # read at start
        self._ping_s = ping_s
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: Any = None
        self._lock = threading.Lock()
        #: The server process of the listening connection (tests end it to cut the feed).
        self.backend_pid: int | None = None
        #: How many times the feed connected (1 = never lost).
        self.connections = 0

    # -- public -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="restyle-change-feed",
                                        daemon=True)
        self._thread.start()

    def wait_listening(self, timeout: float) -> bool:
        """Block until the feed listens (tests; the window never waits for it)."""
        return self._listening.wait(timeout)

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    def close(self, timeout: float = 2.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    # -- the thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        failures = 0
        lost = False
        while not self._stop.is_set():
            try:
                conn = self._connect()
            except Exception as exc:
                failures += 1
                if not lost:
                    lost = True
                    self._status(FeedStatus.LOST, _lost_sentence(exc, self.url))
                self._stop.wait(self._delays[min(failures, len(self._delays)) - 1])
                continue
            failures = 0
            self.connections += 1
            self._listening.set()
            self._status(FeedStatus.BACK if lost else FeedStatus.CONNECTED, "")
            lost = False
            try:
                self._listen(conn)
            except Exception as exc:
                if self._stop.is_set():
                    break
                log.warning("The team database's change feed was cut: %s", _reason(exc))
                lost = True
                self._listening.clear()
                self._status(FeedStatus.LOST, _lost_sentence(exc, self.url))
                self._stop.wait(self._delays[0])
            finally:
                self._listening.clear()
                self._close_conn(conn)

    def _connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10,
                               application_name="restyle change feed", **KEEPALIVES)
        try:
            conn.execute(f"LISTEN {CHANNEL}")
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
            self.backend_pid = int(row[0]) if row else None
        except BaseException:
            conn.close()
            raise
        with self._lock:
            self._conn = conn
        return conn

    def _listen(self, conn: Any) -> None:
        quiet_since = time.monotonic()
        while not self._stop.is_set():
            batch: set[Change] = set()
            for notice in conn.notifies(timeout=WAIT_S, stop_after=1):
                self._add(batch, notice.payload)
            if batch:
                # The rest of a burst: whatever follows within GATHER_S joins this batch.
                for notice in conn.notifies(timeout=GATHER_S):
                    self._add(batch, notice.payload)
                quiet_since = time.monotonic()
                self._deliver(sorted(batch))
            elif time.monotonic() - quiet_since >= self._ping_s:
                conn.execute("SELECT 1")  # raises when the connection is gone
                quiet_since = time.monotonic()

    @staticmethod
    def _add(batch: set[Change], payload: str) -> None:
        change = Change.parse(payload)
        if change is not None:
            batch.add(change)
        else:
            log.debug("Ignoring a notice the window does not read: %r", payload)

    def _deliver(self, changes: list[Change]) -> None:
        try:
            self._on_changes(changes)
        except Exception:  # a failing receiver must not end the feed
            log.exception("Handing over team changes failed")

    def _status(self, status: FeedStatus, sentence: str) -> None:
        try:
            self._on_status(status, sentence)
        except Exception:
            log.exception("Reporting the change feed's status failed")

    def _close_conn(self, conn: Any) -> None:
        with self._lock:
            if self._conn is conn:
                self._conn = None
        try:
            conn.close()
        except Exception:
            log.debug("Closing the change feed's connection failed", exc_info=True)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _lost_sentence(exc: BaseException, url: str) -> str:
    from desktop.core.store.postgres import explain

    why, _todo = explain(exc, url)
    return (f"Lost the team database ({why}); reconnecting… Other desks' changes show once"
            " it is back.")
