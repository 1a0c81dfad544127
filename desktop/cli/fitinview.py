"""`restyle-cli fitinview`: the FitInView account's job list, and imports into the history.

- `jobs`: the account's try-on jobs, newest first, with their state and cost, and for each the
  history's job when Restyle already has it;
- `import JOB_ID...` or `import --all`: the jobs Restyle does not know become jobs in the
  history, their results downloaded and checked like any result (`JobEngine.adopt`); a job
  already known (by its remote id, or by the Restyle job id its metadata carries) is not
  imported again.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from desktop.cli.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    exit_code_for,
)
from desktop.cli.output import job_to_json, print_job, print_json
from desktop.cli.tool_common import failure, positive_int, tool_provider, tool_ready, when
from desktop.core.model import Job
from desktop.core.provider_tools import RemoteJobList, RemoteJobSummary
from desktop.core.provider_tools.imports import import_jobs, known_jobs
from desktop.core.sources import shown
from desktop.providers.base import ProviderError
from desktop.services import Services

PROVIDER = "fitinview"
ACTIONS = ("jobs", "import")
STATUSES = ("queued", "running", "succeeded", "failed")
#: `import --all` reads at most this many pages of this many jobs.
ALL_PAGES = 50
ALL_PAGE_SIZE = 100


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("fitinview", help="FitInView tools: the account's jobs, import into "
                                         "history",
                       description="The FitInView account's job list.")
    actions = p.add_subparsers(dest="action", required=True,
                               metavar="{" + ",".join(ACTIONS) + "}")
    a = actions.add_parser("jobs", help="list the account's jobs, newest first")
    a.add_argument("--status", choices=STATUSES, help="only jobs in this state")
    a.add_argument("--limit", type=positive_int(1, 100), default=20, metavar="N",
                   help="jobs on the page (1 to 100; default 20)")
    a.add_argument("--cursor", metavar="CURSOR", help="the next_cursor of the last page")
    _common(a)
    a = actions.add_parser("import", help="import jobs Restyle does not know into history")
    a.add_argument("job_ids", nargs="*", metavar="JOB_ID",
                   help="FitInView job ids (`restyle-cli fitinview jobs` lists them)")
    a.add_argument("--all", action="store_true",
                   help="every job on the account's list that history does not have")
    a.add_argument("--status", choices=STATUSES, help="with --all: only jobs in this state")
    a.add_argument("--no-wait", action="store_true",
                   help="return once the jobs are recorded; `restyle-cli resume` collects them")
    _common(a)


def _common(a: argparse.ArgumentParser) -> None:
    a.add_argument("--base-url", metavar="URL", help="FitInView's base URL for this run")
    a.add_argument("--json", action="store_true", help="print JSON")


async def cmd_fitinview(services: Services, args: argparse.Namespace) -> int:
    if args.action == "jobs":
        return await _jobs(services, args)
    return await _import(services, args)


async def _jobs(services: Services, args: argparse.Namespace) -> int:
    provider = tool_provider(services, args, PROVIDER, RemoteJobList)
    try:
        page = await provider.remote_jobs(status=args.status, cursor=args.cursor,
                                          limit=args.limit)
    except ProviderError as exc:
        raise failure(exc) from None
    finally:
        await provider.aclose()  # type: ignore[attr-defined]
    known = await asyncio.to_thread(known_jobs, services.history, PROVIDER, page.jobs)
    if args.json:
        print_json({"jobs": [{**j.to_dict(), "in_history": known.get(j.remote_id)}
                             for j in page.jobs], "next_cursor": page.next_cursor})
        return EXIT_OK
    if not page.jobs:
        print("No jobs on this account" + (f" in state {args.status}." if args.status
                                            else "."))
        return EXIT_OK
    print(f"{'JOB':<24}  {'STATE':<10}  {'COST':>5}  {'CREATED':<20}  IN HISTORY")
    for j in page.jobs:
        cost = f"{j.cost_credits:g}" if j.cost_credits is not None else "?"
        local = known.get(j.remote_id)
        print(f"{shown(j.remote_id, 24):<24}  {j.status_words():<10}  {cost:>5}  "
              f"{when(j.created_at):<20}  {local[:12] if local else 'no'}")
    unknown = sum(1 for j in page.jobs if j.remote_id not in known)
    if unknown:
        print(f"{unknown} not in history: `restyle-cli fitinview import JOB_ID` (or --all) "
              "imports them.")
    if page.next_cursor:
        print(f"More: restyle-cli fitinview jobs --cursor {page.next_cursor}")
    return EXIT_OK


async def _wanted(provider: RemoteJobList, args: argparse.Namespace
                  ) -> list[RemoteJobSummary]:
    """The remote jobs to import: those named (each must exist), or the whole list."""
    if args.all:
        found: list[RemoteJobSummary] = []
        cursor: str | None = None
        for _ in range(ALL_PAGES):
            page = await provider.remote_jobs(status=args.status, cursor=cursor,
                                              limit=ALL_PAGE_SIZE)
            found.extend(page.jobs)
            if not page.next_cursor or page.next_cursor == cursor:
                break
            cursor = page.next_cursor
        return found
    wanted = []
    for job_id in dict.fromkeys(args.job_ids):
        try:
            wanted.append(await provider.remote_job(job_id))
        except ProviderError as exc:
            raise failure(exc, given_id=job_id) from None
    return wanted


async def _import(services: Services, args: argparse.Namespace) -> int:
    if bool(args.job_ids) == bool(args.all):
        raise CliError("Give the FitInView job ids to import, or --all (not both).",
                       EXIT_USAGE)
    if args.status and not args.all:
        raise CliError("--status goes with --all.", EXIT_USAGE)
    tool_ready(services, args, PROVIDER)
    engine = services.engine("restyle-cli fitinview import")
    imported: list[Job] = []
    try:
        provider = engine.provider(PROVIDER)
        assert isinstance(provider, RemoteJobList)
        try:
            remotes = await _wanted(provider, args)
            report = await import_jobs(engine, provider, remotes)
        except ProviderError as exc:
            raise failure(exc) from None
        imported = report.imported
        if not args.no_wait:
            imported = [await engine.wait(j.id) for j in imported]
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        await engine.aclose()
        print("Interrupted: the jobs imported so far are in history; `restyle-cli resume` "
              "collects their results.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        await engine.aclose()
    imported = [services.history.get(j.id) or j for j in imported]
    if args.json:
        print_json({"imported": [job_to_json(services, j) for j in imported],
                    "already_in_history": [{"remote_id": r, "job_id": j}
                                           for r, j in report.known.items()]})
    else:
        for job in imported:
            print_job(services, job)
        for remote_id, job_id in report.known.items():
            print(f"{remote_id}: already in history as job {job_id[:12]}; not imported "
                  "again.")
        if not imported and not report.known:
            print("Nothing to import.")
        elif args.no_wait and imported:
            print("Recorded. `restyle-cli resume` collects their results.")
    if args.no_wait:
        return EXIT_OK
    return max((exit_code_for(j) for j in imported), default=EXIT_OK)
