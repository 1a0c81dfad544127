"""Jobs whose worker is gone go back to the queue.

A worker killed with kill -9 (or a lost machine) leaves its jobs owned by a process that no
longer exists, and their procrastinate tasks "doing" forever. Every worker looks, at start
and every few seconds, for unfinished jobs of the queues it serves whose owner is gone (the
ledger's rule: no owner, a lapsed lease, or on this machine a process that is no more) and
hands each to the queue again (once: the job id is the queueing lock). A job of a paused
batch that was never sent is not: it waits for the batch's resume, which hands it over; nor
is a job nobody has claimed yet whose task waits in the queue or is being taken (a second task
would only race the first). The worker that gets it claims it through the ledger and carries
it on: a job the provider accepted is only polled, never sent again (and a worker given two
tasks for one job runs it once: JobEngine.start_queued).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from psycopg_pool import AsyncConnectionPool

from desktop.core.engine.ledger import owner_gone
from desktop.core.model import JobState

log = logging.getLogger(__name__)

_WAITING = tuple(str(s) for s in JobState if not s.terminal and s != JobState.NEEDS_ATTENTION)

_ORPHANS = """
SELECT id, queue, owner, lease_until, remote_id IS NOT NULL OR submitted_at IS NOT NULL
FROM jobs
WHERE queue = ANY(%(queues)s) AND state = ANY(%(states)s)
  AND NOT (remote_id IS NULL AND submitted_at IS NULL AND EXISTS (
      SELECT 1 FROM batch_items i JOIN batches b ON b.id = i.batch_id
      WHERE i.job_id = jobs.id AND b.state = 'paused'))
  AND NOT (owner IS NULL AND EXISTS (
      SELECT 1 FROM procrastinate_jobs p
      WHERE p.queueing_lock = jobs.id AND p.status IN ('todo', 'doing')))
ORDER BY created_at
"""


async def orphans(pool: AsyncConnectionPool, queues: Iterable[str],
                  clock: Callable[[], float] = time.time) -> list[tuple[str, str, bool]]:
    """(job id, queue, whether the provider may have it) of every job of `queues` that waits
    for a worker and has none alive."""
    async with pool.connection() as conn:
        cur = await conn.execute(_ORPHANS, {"queues": list(queues), "states": list(_WAITING)})
        rows = await cur.fetchall()
    now = clock()
    return [(r[0], r[1], bool(r[4])) for r in rows if owner_gone(r[2], r[3], now)]


async def sweep(pool: AsyncConnectionPool, queues: Iterable[str],
                defer: Callable[[str, str, bool], Awaitable[bool]]) -> int:
    """Hand every orphaned job of `queues` to the queue; how many were handed over."""
    handed = 0
    for job_id, queue, sent in await orphans(pool, queues):
        if await defer(job_id, queue, sent):
            handed += 1
    if handed:
        log.info("Handed %d jobs whose worker is gone back to the queue", handed)
    return handed
