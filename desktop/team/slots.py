"""Each provider's concurrency limit across the whole team (the engine's `SlotGate`).

A provider's limit (its `concurrency` setting) is a number of slots, rows of
`restyle_team_slots` (schema.py). A job takes a free slot before it is sent or followed and
keeps it while the provider may be working on it:

- a slot is free when no job holds it, or its job has ended, waits in "needs attention", or is
  gone from the history;
- a worker that stops with a job the provider accepted leaves the slot with the job, and a
  worker killed with kill -9 leaves all of its slots with their jobs: the provider still works
  on them, so the team's count stays honest; whoever takes such a job over finds its slot
  again (`hold` for a job that already has one takes no other);
- a job never sent gives its slot back when its worker lets it go.

Taking a slot is one short transaction under a transaction-level advisory lock per provider,
so two workers never take the same slot; a worker waiting for one looks again every
`poll_s` seconds, and after `give_up_s` lets the job go (SlotsBusy) and hands it back to the
queue: a worker whose every task waited for a slot could otherwise never take the jobs that
hold the slots (handed over by a worker that stopped), and the team would wait forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import zlib
from collections.abc import AsyncIterator

import psycopg
from psycopg_pool import AsyncConnectionPool

from desktop.core.contract import ProviderError
from desktop.core.engine.base import SlotsBusy
from desktop.core.model import ErrorCode, JobState
from desktop.core.store.postgres import create_missing

log = logging.getLogger(__name__)

#: pg_advisory_xact_lock's first key for the slot table ("RSTS"); the second is the provider.
SLOTS_LOCK = 0x52535453
#: States in which a job no longer occupies its provider.
_DONE = tuple(str(s) for s in JobState if s.terminal or s == JobState.NEEDS_ATTENTION)

_TAKE = """
UPDATE restyle_team_slots SET job_id = %(job)s, taken_at = %(now)s
WHERE provider = %(provider)s AND slot = (
    SELECT s.slot FROM restyle_team_slots s LEFT JOIN jobs j ON j.id = s.job_id
    WHERE s.provider = %(provider)s AND s.slot < %(limit)s
      AND (s.job_id IS NULL OR j.id IS NULL OR j.state = ANY(%(done)s))
    ORDER BY s.slot LIMIT 1)
RETURNING slot
"""

#: A job gives its slot back unless the provider may still be working on it.
_GIVE_BACK = """
UPDATE restyle_team_slots SET job_id = NULL, taken_at = NULL
WHERE job_id = %(job)s AND NOT EXISTS (
    SELECT 1 FROM jobs j WHERE j.id = %(job)s AND NOT (j.state = ANY(%(done)s))
      AND (j.remote_id IS NOT NULL OR j.submitted_at IS NOT NULL))
"""


SLOTS_TABLE = """
CREATE TABLE IF NOT EXISTS restyle_team_slots (
    provider TEXT NOT NULL,
    slot INTEGER NOT NULL,
    job_id TEXT,
    taken_at DOUBLE PRECISION,
    PRIMARY KEY (provider, slot)
);
CREATE INDEX IF NOT EXISTS restyle_team_slots_job ON restyle_team_slots (job_id);
"""
#: pg_advisory_xact_lock's key for creating the team's tables ("RSTQ"; schema.py uses it too).
SCHEMA_LOCK = 0x52535451


def ensure_slot_table(url: str) -> None:
    """Create the slot table where it is missing (blocking; psycopg.Error as raised)."""
    with psycopg.connect(url, connect_timeout=10, autocommit=True) as conn:
        create_missing(conn, "restyle_team_slots", SLOTS_TABLE, SCHEMA_LOCK)


class TeamSlots:
    """The engine's slot gate in team mode. Opened on first use (or by `open()`), `close()`
    after. A worker gives up after `give_up_s` (SlotsBusy: it hands the job back to the
    queue); a desk's engine (`give_up_s=None`) waits its turn, its job queued meanwhile."""

    def __init__(self, url: str, *, poll_s: float = 0.25,
                 give_up_s: float | None = 5.0) -> None:
        self.url = url
        self._pool = self._new_pool()
        self.poll_s = poll_s
        self.give_up_s = give_up_s
        self._opened = False
        self._open_lock = asyncio.Lock()

    async def open(self) -> None:
        """Open the connections and make the slot table where it is missing (a desk can run
        jobs before any worker or `db upgrade` made it). ProviderError with a sentence when
        it is missing and this user may not create it: nothing is sent then."""
        async with self._open_lock:
            if self._opened:
                return
            await self._pool.open(wait=True, timeout=30)
            self._opened = True
            try:
                await asyncio.to_thread(ensure_slot_table, self.url)
            except psycopg.errors.InsufficientPrivilege:
                raise ProviderError(
                    ErrorCode.NOT_CONFIGURED,
                    "Not sent: the team's provider limits are kept in a table the team"
                    " database does not have yet, and this user may not create it. Ask whoever"
                    " owns the database to run `restyle-cli db upgrade`, then run the job"
                    " again.") from None

    def _new_pool(self) -> AsyncConnectionPool:
        return AsyncConnectionPool(self.url, min_size=1, max_size=2, open=False,
                                   kwargs={"connect_timeout": 10})

    async def close(self) -> None:
        """Close the connections. Engines may share a gate: one that closes leaves it
        usable, opened again by the next `hold` (a pool cannot be opened twice: a new one)."""
        async with self._open_lock:
            if self._opened:
                self._opened = False
                pool, self._pool = self._pool, self._new_pool()
                await pool.close()

    @contextlib.asynccontextmanager
    async def hold(self, provider_id: str, job_id: str, limit: int) -> AsyncIterator[None]:
        await self.open()
        slot = await self._acquire(provider_id, job_id, max(1, limit))
        log.debug("Job %s holds %s slot %d", job_id, provider_id, slot)
        try:
            yield
        finally:
            # Also when the job's task is being cancelled (the worker stops): the slot must
            # not stay taken by a job that was never sent.
            await asyncio.shield(self._give_back(job_id))

    async def _acquire(self, provider_id: str, job_id: str, limit: int) -> int:
        """A slot for the job, or SlotsBusy after `give_up_s` of waiting."""
        until = None if self.give_up_s is None else time.monotonic() + self.give_up_s
        while True:
            slot = await self._try_take(provider_id, job_id, limit)
            if slot is not None:
                return slot
            if until is not None and time.monotonic() >= until:
                raise SlotsBusy(provider_id)
            await asyncio.sleep(self.poll_s * (0.5 + random.random()))

    async def _try_take(self, provider_id: str, job_id: str, limit: int) -> int | None:
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s, %s)",
                               (SLOTS_LOCK, _key(provider_id)))
            cur = await conn.execute(
                "SELECT slot FROM restyle_team_slots WHERE provider = %s AND job_id = %s",
                (provider_id, job_id))
            row = await cur.fetchone()
            if row is not None:  # taken over: the job kept its slot
                return int(row[0])
            await conn.execute(
                "INSERT INTO restyle_team_slots (provider, slot) SELECT %s, g"
                " FROM generate_series(0, %s - 1) g ON CONFLICT DO NOTHING",
                (provider_id, limit))
            cur = await conn.execute(_TAKE, {"job": job_id, "now": time.time(),
                                             "provider": provider_id, "limit": limit,
                                             "done": list(_DONE)})
            row = await cur.fetchone()
            return int(row[0]) if row is not None else None

    async def _give_back(self, job_id: str) -> None:
        try:
            await self.open()  # closed meanwhile by another engine sharing the gate
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute(_GIVE_BACK, {"job": job_id, "done": list(_DONE)})
        except Exception:  # the next taker frees it anyway once the job has ended
            log.warning("Giving back the slot of job %s failed", job_id, exc_info=True)


def _key(provider_id: str) -> int:
    """A stable 32-bit signed key for a provider id."""
    value = zlib.crc32(provider_id.encode())
    return value - (1 << 32) if value >= 1 << 31 else value
