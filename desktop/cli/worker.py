"""`restyle-cli worker [--queue NAME] [--concurrency N]`: run the team's queued jobs.

Needs team mode (RESTYLE_DATABASE_URL on PostgreSQL and RESTYLE_ASSETS_DIR). Runs until SIGTERM
or Ctrl+C, then stops cleanly: nothing new is taken, jobs the providers accepted stay as they
are for another worker to carry on, jobs never sent go back to the queue. Exit codes: 0 after
a clean stop; 3 team mode is off or the team database cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any

from desktop.cli.errors import EXIT_OK, EXIT_SETUP, CliError
from desktop.cli.team_mode import team_database
from desktop.core.store import HistoryError
from desktop.core.store.postgres import describe_url
from desktop.services import Services
from desktop.team import DEFAULT_QUEUE


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "worker", help="run the team's queued jobs (team mode)",
        description="Take jobs from a task queue in the team database and run them, within "
                    "each provider's concurrency setting across the whole team, until SIGTERM "
                    "or Ctrl+C. Needs RESTYLE_DATABASE_URL (PostgreSQL) and RESTYLE_ASSETS_DIR.")
    p.add_argument("--queue", default=DEFAULT_QUEUE, metavar="NAME",
                   help=f"the task queue to serve (default: {DEFAULT_QUEUE})")
    p.add_argument("--concurrency", type=_concurrency, default=4, metavar="N",
                   help="jobs this worker runs at once (default 4)")


def _concurrency(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a whole number") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"must be 1 to 256, not {value}")
    return value


async def cmd_worker(services: Services, args: argparse.Namespace) -> int:
    url = team_database(services, "restyle-cli worker")
    from desktop.team.worker import TeamWorker

    worker = TeamWorker(services, queue=args.queue, concurrency=args.concurrency,
                        label=f"restyle-cli worker ({args.queue})")
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, worker.stop)
            handled.append(sig)
    ready = [p for p in services.provider_ids() if services.readiness(p).ready]
    print(f"Worker serving queue '{args.queue}' of {describe_url(url)}, up to "
          f"{args.concurrency} jobs at once; providers set up here: "
          f"{', '.join(ready) or 'none'}. Stop it with Ctrl+C or SIGTERM.", flush=True)
    import psycopg
    from procrastinate.exceptions import ConnectorException

    try:
        stats = await worker.run()
    except HistoryError as exc:
        raise CliError(str(exc), EXIT_SETUP) from None
    except (OSError, psycopg.Error, ConnectorException) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise CliError(f"The worker lost the team database ({first}); the jobs it held are "
                       "carried on by another worker. Check RESTYLE_DATABASE_URL and the "
                       "database server, then start the worker again.", EXIT_SETUP) from None
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
    print(f"Worker stopped: ran {stats.ran} {'job' if stats.ran == 1 else 'jobs'} to their end;"
          f" {stats.handed_back} handed back to the queue for another worker.",
          file=sys.stderr, flush=True)
    return EXIT_OK
