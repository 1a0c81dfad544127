"""`restyle-cli batch ... --remote` and `batch resume|retry` of a team batch: the batch's jobs
wait in the team's task queue for the workers instead of running here (team mode)."""

from __future__ import annotations

import asyncio
import sys

from desktop.cli.errors import EXIT_OK, EXIT_SETUP, EXIT_USAGE, CliError
from desktop.cli.output import print_json
from desktop.cli.team_mode import team_database
from desktop.core.batch_runner import BatchRunner
from desktop.core.batches import Batch
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
                          queue: str | None) -> tuple[str, str] | None:
    """Where `batch resume|retry` hands the batch, (team database, task queue), or None to run
    it here: the queue named with --remote, else the one its jobs went to (a team batch goes
    back to the team's workers by itself)."""
    if queue and not remote:
        raise CliError("--queue names the team's task queue for --remote.", EXIT_USAGE)
    own = await asyncio.to_thread(services.batch_store().team_queue, batch.id)
    if not remote and own is None:
        return None
    url = team_database(services, f"batch resume {batch.id[:12]} --remote")
    return url, queue or own or DEFAULT_QUEUE
