"""Batch commands: `batch` (plan, confirm, run a matrix of jobs), `batches`, and `batch
show|pause|resume|cancel|retry BATCH_ID`.

Exit codes as for `run`: 0 every cell that was sent succeeded (with --no-wait: the first jobs
were accepted); 1 some cell failed, needs attention, was refused or kept out by the budget,
or the batch was paused or cancelled before its end; 2 usage or invalid input (nothing was
stored or sent); 3 a provider is not set up (checked for every provider before anything is
sent), or a job ran into a key, credits or configuration problem; 130 Ctrl+C (the batch is
paused: nothing new is sent, jobs the providers accepted stay resumable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from desktop.cli.args import timeout_seconds
from desktop.cli.batch_output import (
    BatchProgressLine,
    batch_json,
    full_batch_json,
    grid_lines,
    plan_json,
    plan_lines,
    summary_lines,
)
from desktop.cli.checks import check_known, check_ready, find_batch
from desktop.cli.errors import (
    EXIT_INTERRUPTED,
    EXIT_JOB_FAILED,
    EXIT_OK,
    EXIT_SETUP,
    EXIT_USAGE,
    CliError,
    exit_code_for,
)
from desktop.cli.jobs import wait_until_accepted
from desktop.cli.matrix import ROLES, MatrixRequest, build_matrix
from desktop.cli.output import local_time, print_json
from desktop.cli.team_mode import team_database
from desktop.core.batch_runner import BatchProgress, BatchRunner, progress_of
from desktop.core.batches import Batch, BatchItem, BatchState, ItemState, make_plan
from desktop.core.engine import JobEngine
from desktop.core.model import InvalidInput, Job, JobState, TaskSpec
from desktop.services import Services
from desktop.team import DEFAULT_QUEUE

ACTIONS = ("show", "pause", "resume", "cancel", "retry")


def add_parsers(sub: Any) -> None:
    """The batch and batches commands."""
    p = sub.add_parser(
        "batch", help="run a matrix of jobs: inputs x variants x providers",
        description="Plan and run a batch: one job per before image (--person, --room or "
                    "--image: files, folders or globs) and variant (garment groups, parameter "
                    "combinations) at each --provider. Or act on a batch: "
                    "batch show|pause|resume|cancel|retry BATCH_ID.")
    p.add_argument("--provider", action="append", default=[], metavar="ID",
                   help="a provider to run every cell at (repeat for several)")
    p.add_argument("--task", metavar="TASK", help="the task every cell runs (its id)")
    for role, what in (("person", "person photos"), ("room", "room photos"),
                       ("image", "images")):
        p.add_argument(f"--{role}", action="append", default=[], metavar="SRC",
                       help=f"{what} (the rows): files, folders (their images, by name) or "
                            "globs")
    p.add_argument("--garment", action="append", default=[], metavar="SRC",
                   help="garment images (files, folders or globs): each group is a variant")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="task parameter; a comma list (choices, numbers) or a repeated key "
                        "makes an axis; values starting with [ or { are JSON")
    p.add_argument("--garments-per-job", type=_garments_per_job, metavar="N",
                   help="garments in one try-on job (1 to 3; default 1)")
    p.add_argument("--budget", type=_credits, metavar="CREDITS",
                   help="never send jobs that would cost more credits than this in total")
    p.add_argument("--yes", action="store_true", help="send without asking")
    p.add_argument("--name", help="a name for the batch")
    p.add_argument("--no-wait", action="store_true",
                   help="return once the first jobs are accepted")
    p.add_argument("--timeout", type=timeout_seconds, metavar="SECONDS",
                   help="deadline for each job (default: the provider's setting)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--remote", action="store_true",
                   help="team mode: queue the jobs for the team's workers instead of running "
                        "them here; prints the batch id and returns")
    p.add_argument("--queue", metavar="NAME",
                   help=f"with --remote: the task queue (default: {DEFAULT_QUEUE})")
    actions = p.add_subparsers(dest="action", metavar="{show,pause,resume,cancel,retry}")
    helps = {"show": "show a batch's cells as a grid",
             "pause": "send nothing new (accepted jobs finish)",
             "resume": "carry a batch on to its end",
             "cancel": "send nothing more; stop jobs not yet sent",
             "retry": "send the failed cells again, then carry the batch on"}
    for action in ACTIONS:
        a = actions.add_parser(action, help=helps[action])
        a.add_argument("batch_id", metavar="BATCH_ID",
                       help="a batch id or an unambiguous prefix (4 characters or more)")
        a.add_argument("--json", action="store_true")
        if action in ("resume", "retry"):
            # Distinct names: the new-batch flags of `batch` itself must stay unset here.
            a.add_argument("--remote", dest="action_remote", action="store_true",
                           help="team mode: queue the cells for the team's workers (a batch "
                                "whose jobs went to a queue goes back to it without this)")
            a.add_argument("--queue", dest="action_queue", metavar="NAME",
                           help="with --remote: the task queue (default: the batch's own, "
                                f"else {DEFAULT_QUEUE})")

    p = sub.add_parser("batches", help="list batches, newest first")
    p.add_argument("--json", action="store_true")


def _garments_per_job(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a whole number") from None
    if not 1 <= value <= 3:
        raise argparse.ArgumentTypeError(f"must be 1, 2 or 3, not {value}")
    return value


def _credits(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a number of credits") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of credits above 0, not {text[:40]}")
    return value


# -- batch --------------------------------------------------------------------------------------
async def cmd_batch(services: Services, args: argparse.Namespace, stdin: TextIO) -> int:
    if args.action is not None:
        given = [flag for flag, value in _new_batch_flags(args).items() if value]
        if given:
            raise CliError(f"{', '.join(given)} describe a new batch; `batch {args.action}` "
                           "takes only BATCH_ID and --json (resume and retry: also --remote and"
                           " --queue).", EXIT_USAGE)
        return await _batch_action(services, args)
    if not args.provider or not args.task:
        raise CliError("batch needs --provider (one or more) and --task; or an action: "
                       "batch show|pause|resume|cancel|retry BATCH_ID.", EXIT_USAGE)
    # Other commands build their batch's arguments by hand (vsai bulk): no team flags there.
    remote, queue = getattr(args, "remote", False), getattr(args, "queue", None)
    if queue and not remote:
        raise CliError("--queue names the team's task queue for --remote.", EXIT_USAGE)
    team_url = team_database(services, "batch --remote") if remote else None
    providers = tuple(dict.fromkeys(args.provider))
    for provider in providers:  # every provider set up before anything is planned or sent
        if team_url is None:
            check_ready(services, provider)
        else:  # the workers hold the keys: only a provider that exists is needed here
            check_known(services, provider)
    engine = services.engine("restyle-cli batch")
    runner = services.batch_runner(engine)
    try:
        request = MatrixRequest(task=args.task, providers=providers,
                                inputs={role: getattr(args, role) for role in ROLES},
                                params=args.param, garments_per_job=args.garments_per_job)
        matrix = build_matrix(request, lambda p: _task_of(engine, p, args.task))
        items, plan = runner.plan(matrix, budget=args.budget, deadline_s=args.timeout)
        info = sys.stderr if args.json else sys.stdout
        for line in plan_lines(matrix, items, plan, runner.prices):
            print(line, file=info)
        if not plan.jobs:
            if args.json:
                print_json({"id": None, "plan": plan_json(matrix, items, plan)})
            raise CliError("Nothing to send: every cell was refused or kept out by the budget "
                           "(see the plan above). Nothing was stored.", EXIT_USAGE)
        if not args.yes:
            if not stdin.isatty():
                if args.json:
                    print_json({"id": None, "plan": plan_json(matrix, items, plan)})
                raise CliError("Not sent: confirm the plan above with --yes (standard input is "
                               "not a terminal, so there is no one to ask). Nothing was stored.",
                               EXIT_USAGE)
            answer = _ask(stdin, f"Send {plan.jobs} {'job' if plan.jobs == 1 else 'jobs'}? "
                                 "[y/N] ")
            if answer is None:
                print("Interrupted: nothing was sent.", file=sys.stderr)
                return EXIT_INTERRUPTED
            if not answer:
                print("Not sent; nothing was stored.", file=sys.stderr)
                return EXIT_JOB_FAILED
        batch = await runner.create(args.name or "", matrix, items, budget=args.budget)
        if team_url is not None:
            from desktop.cli.batch_remote import enqueue_batch  # procrastinate: team mode only

            return await enqueue_batch(team_url, runner, batch.id,
                                       queue=queue or DEFAULT_QUEUE, as_json=args.json)
        print(f"Batch {batch.id} \"{batch.name}\": sending {plan.jobs} "
              f"{'job' if plan.jobs == 1 else 'jobs'}.", file=info)
        return await _run(services, engine, runner, batch.id, as_json=args.json,
                          no_wait=args.no_wait)
    finally:
        runner.close()
        await engine.aclose()


def _new_batch_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The flags that describe a new batch, with their values (empty when not given)."""
    return {"--provider": args.provider, "--task": args.task, "--person": args.person,
            "--garment": args.garment, "--room": args.room, "--image": args.image,
            "--param": args.param, "--garments-per-job": args.garments_per_job,
            "--budget": args.budget, "--yes": args.yes, "--name": args.name,
            "--no-wait": args.no_wait, "--timeout": args.timeout,
            "--remote": getattr(args, "remote", False), "--queue": getattr(args, "queue", None)}


def _task_of(engine: JobEngine, provider: str, task: str) -> TaskSpec | None:
    try:
        return engine.provider(provider).task(task)
    except (InvalidInput, KeyError):
        return None


def _ask(stdin: TextIO, question: str) -> bool | None:
    """Ask on the terminal; True for y/yes. None when Ctrl+C was pressed: while the answer is
    awaited, Ctrl+C interrupts at once (asyncio's own handler would only note it)."""
    sys.stderr.write(question)
    sys.stderr.flush()
    previous = None
    with contextlib.suppress(ValueError):  # not the main thread: keep the handler as it is
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        answer = stdin.readline()
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return answer.strip().lower() in ("y", "yes")


async def _run(services: Services, engine: JobEngine, runner: BatchRunner, batch_id: str, *,
               as_json: bool, no_wait: bool = False) -> int:
    """Run the batch (to its end, or its first wave with `no_wait`) with a progress line on a
    terminal; print the result; the exit code. Ctrl+C pauses the batch."""
    line = None if as_json else BatchProgressLine(sys.stderr, lambda: runner.progress(batch_id))
    try:
        if line is not None:
            line.start()
        if no_wait:
            await runner.run(batch_id, first_wave=True)
            for item in await asyncio.to_thread(runner.store.items, batch_id):
                if item.state == ItemState.STARTED and item.job_id and engine.get(item.job_id):
                    await wait_until_accepted(engine, item.job_id)
        else:
            await runner.run(batch_id)
    except asyncio.CancelledError:
        # Ctrl+C: asyncio.run cancelled us. Pause the batch (nothing new is sent, also by
        # another process feeding it), then stop the engine: jobs never sent are closed and
        # go back to the batch, accepted ones keep running at their provider.
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        if line is not None:
            line.stop()
        await runner.pause(batch_id)
        await engine.aclose()
        items = services.batch_store().items(batch_id)
        jobs = _load_jobs(services, items)
        accepted = [j for j in jobs.values() if j.remote_id and not j.state.terminal]
        message = f"Interrupted: batch {batch_id} is paused; nothing new is sent."
        if accepted:
            message += (f" {len(accepted)} {'job' if len(accepted) == 1 else 'jobs'} the "
                        "providers accepted keep running there.")
        print(message + f" Carry it on with `restyle-cli batch resume {batch_id[:12]}`.",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if line is not None:
            line.stop()
    await engine.aclose()  # a --no-wait batch's accepted jobs stay resumable
    return _report(services, runner, batch_id, as_json=as_json, no_wait=no_wait)


def _load_jobs(services: Services, items: Sequence[BatchItem]) -> dict[str, Job]:
    jobs: dict[str, Job] = {}
    for item in items:
        if item.job_id and item.state == ItemState.STARTED:
            job = services.history.get(item.job_id)
            if job is not None:
                jobs[job.id] = job
    return jobs


def _snapshot(services: Services, runner: BatchRunner | None, batch: Batch
              ) -> tuple[list[BatchItem], dict[str, Job], BatchProgress]:
    items = services.batch_store().items(batch.id)
    jobs = _load_jobs(services, items)
    limit = runner.engine.policy.global_limit if runner is not None else 1
    return items, jobs, progress_of(batch, items, jobs, limit)


def _report(services: Services, runner: BatchRunner, batch_id: str, *, as_json: bool,
            no_wait: bool = False) -> int:
    batch = _get(services, batch_id)
    items, jobs, progress = _snapshot(services, runner, batch)
    if as_json:
        plan = make_plan(items, prices=runner.prices, budget=batch.budget_credits)
        print_json(full_batch_json(services, batch, progress, items, jobs, plan))
    else:
        for line in grid_lines(batch, items, jobs):
            print(line)
        for line in summary_lines(batch, progress):
            print(line)
        _say_next(batch, progress, no_wait)
    return batch_exit_code(batch, items, jobs, progress, no_wait=no_wait)


def _say_next(batch: Batch, progress: BatchProgress, no_wait: bool) -> None:
    short = batch.id[:12]
    if no_wait and (progress.left or progress.running):
        print(f"Submitted the first jobs. Carry the batch on, and collect its results, with "
              f"`restyle-cli batch resume {short}`.")
        return
    if progress.failed:
        print(f"Send the failed cells again with `restyle-cli batch retry {short}`.")
    if progress.waiting:
        print("Jobs that need attention say what to fix (`restyle-cli batch show "
              f"{short}`); `restyle-cli resume JOB_ID` collects one once it is fixed.")
    if progress.state == BatchState.PAUSED and progress.left:
        print(f"Paused with {progress.left} cells left: carry it on with "
              f"`restyle-cli batch resume {short}`.")


def batch_exit_code(batch: Batch, items: Sequence[BatchItem], jobs: Mapping[str, Job],
                    progress: BatchProgress, *, no_wait: bool = False) -> int:
    """3 when a job ran into a key, credits or configuration problem; else 1 when a cell
    failed, needs attention, was refused, kept out by the budget or cancelled, or the batch
    stopped with cells left; else 0. With `no_wait`, jobs still running and cells not sent
    yet are fine."""
    codes = []
    for item in items:
        job = jobs.get(item.job_id or "") if item.state == ItemState.STARTED else None
        if job is None:
            continue
        if no_wait and not job.state.terminal and job.state != JobState.NEEDS_ATTENTION:
            continue
        if job.state.terminal or job.state == JobState.NEEDS_ATTENTION:
            codes.append(exit_code_for(job))
    if EXIT_SETUP in codes:
        return EXIT_SETUP
    not_sent = progress.over_budget + progress.refused + progress.cancelled
    unfinished = (progress.left or progress.running) and not no_wait
    if any(c != EXIT_OK for c in codes) or not_sent or unfinished:
        return EXIT_JOB_FAILED
    return EXIT_OK


# -- batches, batch ACTION BATCH_ID ---------------------------------------------------------------
def _get(services: Services, batch_id: str) -> Batch:
    batch = services.batch_store().get(batch_id)
    if batch is None:
        raise CliError(f"Batch {batch_id} is no longer in the history.", EXIT_USAGE)
    return batch


def cmd_batches(services: Services, args: argparse.Namespace) -> int:
    rows = []
    for batch in services.batch_store().list(limit=1000):
        _, _, progress = _snapshot(services, None, batch)
        rows.append((batch, progress))
    if args.json:
        print_json([batch_json(b, p) for b, p in rows])
        return EXIT_OK
    if not rows:
        print("No batches yet. Start one with `restyle-cli batch --provider local --task ...`.")
        return EXIT_OK
    print(f"{'ID':<12}  {'CREATED':<19}  {'TASK':<16}  {'STATE':<9}  {'DONE':>9}  "
          f"{'FAILED':>6}  {'LEFT':>5}  NAME")
    for b, p in rows:
        print(f"{b.id[:12]}  {local_time(b.created_at)}  {b.task[:16]:<16}  {b.state!s:<9}  "
              f"{f'{p.done}/{p.total}':>9}  {p.failed:>6}  {p.left:>5}  {b.name}")
    return EXIT_OK


async def _batch_action(services: Services, args: argparse.Namespace) -> int:
    batch = find_batch(services, args.batch_id)
    if args.action == "show":
        items, jobs, progress = _snapshot(services, None, batch)
        if args.json:
            plan = make_plan(items, prices=services.settings.prices(list(batch.matrix.providers)),
                             budget=batch.budget_credits)
            print_json(full_batch_json(services, batch, progress, items, jobs, plan))
        else:
            for line in [*grid_lines(batch, items, jobs), *summary_lines(batch, progress)]:
                print(line)
        return EXIT_OK
    team: tuple[str, str] | None = None  # (database, queue): the team's workers carry it on
    if args.action in ("resume", "retry"):
        from desktop.cli.batch_remote import remote_queue_of

        team = await remote_queue_of(services, batch, remote=args.action_remote,
                                     queue=args.action_queue)
        if team is None:
            for provider in batch.matrix.providers:  # every one set up before anything is sent
                check_ready(services, provider)
    engine = services.engine(f"restyle-cli batch {args.action}")
    runner = services.batch_runner(engine)
    try:
        if args.action == "pause":
            return await _pause(services, runner, batch, args.json)
        if args.action == "cancel":
            return await _cancel(services, runner, batch, args.json)
        if args.action == "retry":
            again = await runner.retry_failed(batch.id)
            info = sys.stderr if args.json else sys.stdout
            if again:
                print(f"Sending {again} failed {'cell' if again == 1 else 'cells'} of batch "
                      f"{batch.id[:12]} again.", file=info)
            else:
                print(f"No failed cells in batch {batch.id[:12]}; nothing to send again.",
                      file=info)
        await _resume_state(runner, batch, args.json)
        if team is not None:
            from desktop.cli.batch_remote import enqueue_batch

            url, queue = team
            return await enqueue_batch(url, runner, batch.id, queue=queue, as_json=args.json)
        return await _run(services, engine, runner, batch.id, as_json=args.json)
    finally:
        runner.close()
        await engine.aclose()


async def _resume_state(runner: BatchRunner, batch: Batch, as_json: bool) -> None:
    info = sys.stderr if as_json else sys.stdout
    current = await asyncio.to_thread(runner.store.get, batch.id) or batch
    if current.state == BatchState.CANCELLED:
        print(f"Batch {batch.id[:12]} was cancelled: its accepted jobs are collected, nothing "
              "new is sent.", file=info)
        return
    await runner.resume(batch.id)


async def _pause(services: Services, runner: BatchRunner, batch: Batch, as_json: bool) -> int:
    if batch.state in (BatchState.FINISHED, BatchState.CANCELLED):
        print(f"Batch {batch.id[:12]} has already {_ended(batch.state)}; nothing to pause.")
        return EXIT_JOB_FAILED
    await runner.pause(batch.id)
    return _after_control(services, batch.id, as_json,
                          f"Batch {batch.id[:12]} is paused: nothing new is sent; jobs already "
                          f"sent finish. `restyle-cli batch resume {batch.id[:12]}` carries it "
                          "on.")


async def _cancel(services: Services, runner: BatchRunner, batch: Batch, as_json: bool) -> int:
    if batch.state in (BatchState.FINISHED, BatchState.CANCELLED):
        print(f"Batch {batch.id[:12]} has already {_ended(batch.state)}; nothing to cancel.")
        return EXIT_JOB_FAILED
    stopped = await runner.cancel(batch.id)
    return _after_control(services, batch.id, as_json,
                          f"Batch {batch.id[:12]} is cancelled: {stopped} "
                          f"{'cell' if stopped == 1 else 'cells'} will not be sent. Jobs the "
                          "providers accepted finish there (they are paid for); "
                          f"`restyle-cli batch resume {batch.id[:12]}` collects them.")


def _after_control(services: Services, batch_id: str, as_json: bool, message: str) -> int:
    batch = _get(services, batch_id)
    if as_json:
        _, _, progress = _snapshot(services, None, batch)
        print_json(batch_json(batch, progress))
    else:
        print(message)
    return EXIT_OK


def _ended(state: BatchState) -> str:
    return "finished" if state == BatchState.FINISHED else "been cancelled"
