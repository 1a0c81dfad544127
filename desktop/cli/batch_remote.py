"""`restyle-cli batch ... --remote` and `batch resume|retry` of a team batch: the batch's jobs
wait in the team's task queue for the workers instead of running here (team mode)."""

from __future__ import annotations

import asyncio
import sys

from desktop.cli.errors import EXIT_OK, EXIT_SETUP, EXIT_USAGE, CliError
from desktop.cli.output import print_json
from desktop.cli.team_mode import team_database
from desktop.core.batch_runner import BatchRunner
from desktop.core.batches import Batch, BatchState
from desktop.core.store import HistoryError
from desktop.services import Services
from desktop.team import DEFAULT_QUEUE
from desktop.team.dispatch import TeamDispatch


async def enqueue_batch(url: str, runner: BatchRunner, batch_id: str, *, queue: str,
                        as_json: bool) -> int:
    """Queue every pending cell of the batch for the team's workers; say how to follow it.
    The queue is opened first: a team database that cannot be used stops here with its
    sentence, before any job is stored."""
    dispatch = TeamDispatch(url, queue=queue)
    try:
        await dispatch.ready()
        queued = await runner.enqueue(batch_id, queue=queue,
                                      hand_over=lambda job: dispatch.hand_over(job.id))
    except HistoryError as exc:
        raise CliError(str(exc), EXIT_SETUP) from None
    finally:
        await dispatch.aclose()
    progress = await runner.progress(batch_id)
    short = batch_id[:12]
    if as_json:
        print_json({"id": batch_id, "queue": queue, "queued": queued,
                    "progress": progress.to_dict()})
    else:
        print(f"Batch {batch_id}: {queued} {'job' if queued == 1 else 'jobs'} waiting in the "
              f"team's queue '{queue}' for `restyle-cli worker --queue {queue}`.")
        print(f"Follow it with `restyle-cli batch show {short}`; `restyle-cli batch cancel "
              f"{short}` stops the jobs not sent yet.")
    if progress.refused or progress.over_budget:
        print(f"{progress.refused + progress.over_budget} cells were refused or kept out by "
              "the budget (see `restyle-cli batch show`).", file=sys.stderr)
    return EXIT_OK


async def remote_queue_of(services: Services, batch: Batch, *, remote: bool,
                          queue: str | None) -> str | None:
    """The task queue `batch resume|retry` hands the batch to, None to run it here: the one
    named with --remote, else the queue its jobs went to (a team batch goes back to the
    team's workers by itself)."""
    if queue and not remote:
        raise CliError("--queue names the team's task queue for --remote.", EXIT_USAGE)
    own = await asyncio.to_thread(services.batch_store().team_queue, batch.id)
    if not remote and own is None:
        return None
    team_database(services, f"batch resume {batch.id[:12]} --remote")
    return queue or own or DEFAULT_QUEUE


async def resume_remote(services: Services, batch: Batch, queue: str, *, retry: bool,
                        as_json: bool) -> int:
    """A team batch carried on by the workers: failed cells made pending again (retry), the
    batch running again unless it was cancelled, its pending cells and the jobs held back
    while it was paused handed to the queue."""
    url = team_database(services, "batch resume --remote")
    engine = services.engine("restyle-cli batch resume")
    runner = services.batch_runner(engine)
    info = sys.stderr if as_json else sys.stdout
    try:
        if retry:
            again = await runner.retry_failed(batch.id)
            print(f"Sending {again} failed {'cell' if again == 1 else 'cells'} of batch "
                  f"{batch.id[:12]} again." if again else
                  f"No failed cells in batch {batch.id[:12]}; nothing to send again.",
                  file=info)
        current = await asyncio.to_thread(runner.store.get, batch.id) or batch
        if current.state == BatchState.CANCELLED:
            print(f"Batch {batch.id[:12]} was cancelled: nothing new is sent; the workers "
                  "collect its accepted jobs.", file=info)
        else:
            await runner.resume(batch.id)
        return await enqueue_batch(url, runner, batch.id, queue=queue, as_json=as_json)
    finally:
        runner.close()
        await engine.aclose()
