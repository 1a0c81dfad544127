"""Commands on single jobs: run, jobs, show, resume, cancel."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from desktop.cli.args import (
    MAX_LIST_LIMIT,
    list_limit,
    parse_inputs,
    parse_params,
    timeout_seconds,
)
from desktop.cli.checks import (
    apply_base_url,
    check_out_dir,
    check_ready,
    find_batch,
    find_job,
    reason,
)
from desktop.cli.errors import (
    EXIT_INTERRUPTED,
    EXIT_JOB_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    exit_code_for,
)
from desktop.cli.output import (
    Progress,
    job_to_json,
    local_time,
    print_job,
    print_json,
    review_json,
    review_text,
)
from desktop.core.engine.ledger import describe_owner
from desktop.core.humanize import human_duration
from desktop.core.model import InvalidInput, Job, JobEvent, JobSpec, JobState
from desktop.core.sources import shown
from desktop.core.store import JobFilter
from desktop.providers.base import ProviderError
from desktop.services import Services

#: `jobs --verdict` values (JobFilter.verdict).
VERDICT_FILTERS = ("pass", "fail", "reviewed", "unreviewed")
#: `--state` values (JobState).
STATES = tuple(str(s) for s in JobState)


def add_parsers(sub: Any) -> None:
    """The run, jobs, show, resume and cancel commands."""
    p = sub.add_parser("run", help="run one job and wait for its result")
    p.add_argument("--provider", required=True, metavar="ID",
                   help="the provider's id (listed below, and by `restyle-cli providers`)")
    p.add_argument("--task", required=True, metavar="TASK",
                   help="the task's id at that provider (listed below)")
    for role, what in (("person", "the person photo (try-on)"), ("room", "the room photo "
                       "(staging)"), ("image", "the image to work on (recolour, upscale, ...)")):
        p.add_argument(f"--{role}", action="append", default=[], metavar="SRC",
                       help=f"{what}: a local path or an http(s) URL")
    p.add_argument("--garment", action="append", default=[], metavar="SRC",
                   help="a garment image, path or URL (repeat for several, where the "
                        "provider takes several)")
    p.add_argument("--input", action="append", default=[], metavar="ROLE=SRC",
                   help="an image for any input role of the task, such as a saved workflow's "
                        "own inputs (--input Dress_Model.garment_image=my-shirt.png); repeat for "
                        "several")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="task parameter; values starting with [ or { are JSON; an image "
                        "parameter takes a local path or URL, read like an input")
    p.add_argument("--out", type=Path, metavar="DIR", help="copy the results into DIR")
    p.add_argument("--base-url", metavar="URL", help="the provider's base URL for this run")
    p.add_argument("--timeout", type=timeout_seconds, metavar="SECONDS",
                   help="deadline for the job (default: the provider's setting)")
    p.add_argument("--no-wait", action="store_true",
                   help="return once the provider has accepted the job")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("jobs", help="list jobs in history, newest first")
    p.add_argument("--limit", type=list_limit, default=20, metavar="N",
                   help=f"how many jobs to list (1 to {MAX_LIST_LIMIT}; default 20)")
    add_filter_arguments(p)
    p.add_argument("--json", action="store_true", help="print a JSON list of job objects")

    p = sub.add_parser("show", help="show one job")
    p.add_argument("job_id", metavar="JOB_ID", help="a job id or an unambiguous prefix")
    p.add_argument("--json", action="store_true", help="print the job as one JSON object")

    p = sub.add_parser("resume", help="collect every unfinished job that a provider accepted")
    p.add_argument("job_ids", nargs="*", metavar="JOB_ID",
                   help="only these jobs, tried again now with a new deadline (a job that needs"
                        " attention, once its cause is fixed)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list of the jobs collected, waiting and left alone")

    p = sub.add_parser("cancel", help="cancel a job")
    p.add_argument("job_id", metavar="JOB_ID",
                   help="a job id or an unambiguous prefix (4 characters or more)")


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    """The history filters `jobs` takes (and `export`, which selects jobs the same way)."""
    p.add_argument("--provider", metavar="ID", help="only jobs at this provider")
    p.add_argument("--task", metavar="TASK", help="only jobs of this task")
    p.add_argument("--state", choices=STATES, metavar="STATE",
                   help="only jobs in this state: " + ", ".join(STATES))
    p.add_argument("--search", metavar="TEXT", help="words that must all appear")
    p.add_argument("--verdict", choices=VERDICT_FILTERS,
                   help="reviewed pass or fail (by anyone, or by --reviewer), or (un)reviewed")
    p.add_argument("--tag", metavar="TAG", help="a review gave this defect tag")
    p.add_argument("--reviewer", metavar="NAME", help="reviewed by NAME")
    p.add_argument("--batch", metavar="BATCH_ID", help="the jobs of one batch")


def job_filter(services: Services, args: argparse.Namespace) -> JobFilter:
    """The JobFilter of the arguments `add_filter_arguments` added (a batch by its id or an
    unambiguous prefix; CliError exit 2 when there is none)."""
    batch = find_batch(services, args.batch).id if args.batch else None
    return JobFilter(provider=args.provider, task=args.task,
                     states=(JobState(args.state),) if args.state else (), text=args.search,
                     verdict=args.verdict, tag=args.tag, reviewer=args.reviewer, batch=batch)


class CopyFailed(Exception):
    """The job succeeded but its results could not be copied to --out; they stay in the asset
    store. The message is the sentence to print."""


def copy_outputs(services: Services, job: Job, out_dir: Path) -> dict[int, Path]:
    """Copy the results into `out_dir`, each through a temporary file renamed into place (a
    full disk leaves no half file). CopyFailed names the folder, the reason and where the
    results are kept."""
    paths: dict[int, Path] = {}
    for o in job.outputs:
        src = services.assets.path_for(o.sha256, o.mime)
        dest = out_dir / f"{job.task}-{job.id[:8]}-{o.position + 1}{src.suffix}"
        tmp: str | None = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=out_dir)
            os.close(fd)
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
            tmp = None
        except OSError as exc:
            kept = ", ".join(str(services.assets.path_for(x.sha256, x.mime)) for x in job.outputs)
            raise CopyFailed(
                f"The job succeeded, but its results could not be copied to "
                f"{shown(str(out_dir))} ({reason(exc)}). They are kept in Restyle's asset "
                f"store: {kept}"
            ) from None
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        paths[o.position] = dest
    return paths


async def cmd_run(services: Services, args: argparse.Namespace) -> int:
    apply_base_url(services, args)
    check_ready(services, args.provider)
    inputs = {role: list(getattr(args, role)) for role in ("person", "garment", "room", "image")}
    inputs = parse_inputs(args.input, inputs)
    spec = JobSpec(provider=args.provider, task=args.task,
                   inputs={k: v for k, v in inputs.items() if v},
                   params=parse_params(args.param), deadline_s=args.timeout)
    if args.out is not None:
        check_out_dir(args.out)
    engine = services.engine("restyle-cli run")
    progress = Progress(sys.stderr) if not args.json else None
    job: Job | None = None
    try:
        if progress:
            engine.subscribe(progress)
            progress.start()
        try:
            prepared = await engine.prepare(spec)
        except InvalidInput as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
        except ProviderError as exc:  # a URL input that could not be downloaded
            raise CliError(exc.message, EXIT_USAGE) from None
        cost = engine.provider(spec.provider).estimate_cost(spec.task, prepared.spec.params)
        if cost is not None and not args.json:
            print(f"This run costs {cost:g} credits at "
                  f"{engine.provider(spec.provider).title}.", file=sys.stderr)
        job = await engine.submit(spec, prepared)
        if args.no_wait:
            job = await wait_until_accepted(engine, job.id)
        else:
            job = await engine.wait(job.id)
    except asyncio.CancelledError:
        # Ctrl+C: asyncio.run cancelled us. Stop the engine: a job never sent is closed, a
        # submit on its way gets a few seconds for its answer, an accepted job keeps running
        # at the provider and `restyle-cli resume` collects it.
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        if progress:
            progress.stop()
        if job is not None:
            current = engine.get(job.id) or job
            if current.state == JobState.SUBMITTING:
                grace = human_duration(engine.policy.submit_grace_s)
                print(f"Interrupted: waiting up to {grace} for {current.provider} to confirm "
                      f"it received job {job.id}, so it is not lost.", file=sys.stderr)
        await engine.aclose()
        if job is not None:
            say_interrupted(services.history.get(job.id) or job)
        return EXIT_INTERRUPTED
    finally:
        if progress:
            progress.stop()
        await engine.aclose()  # idempotent; a --no-wait job stays resumable
    copy_problem: str | None = None
    out_paths: dict[int, Path] | None = None
    if args.out is not None and job.outputs:
        try:
            out_paths = copy_outputs(services, job, args.out)
        except CopyFailed as exc:
            copy_problem = str(exc)
    if args.json:
        print_json(job_to_json(services, job, out_paths))
    else:
        print_job(services, job, out_paths)
        if args.no_wait and not job.state.terminal:
            print(f"Submitted. Collect the result with `restyle-cli resume` "
                  f"(then `restyle-cli show {job.id[:12]}`).")
    if copy_problem is not None:
        print(f"restyle-cli: {copy_problem}", file=sys.stderr)
        return EXIT_JOB_FAILED
    if args.no_wait and not job.state.terminal:
        return EXIT_OK
    return exit_code_for(job)


def say_interrupted(job: Job) -> None:
    """After Ctrl+C: where the job stands, and whether it may be charged."""
    if job.remote_id and not job.state.terminal:
        print(f"Interrupted: job {job.id} is still running at {job.provider} (remote id "
              f"{job.remote_id}). Collect it with `restyle-cli resume`.", file=sys.stderr)
    elif job.state == JobState.NEEDS_ATTENTION and job.error is not None:
        print(f"Interrupted: job {job.id}: {job.error.message}", file=sys.stderr)
    elif job.state == JobState.CANCELLED and not job.may_be_charged:
        print(f"Interrupted: job {job.id} was cancelled before it was sent; nothing was "
              "charged.", file=sys.stderr)
    elif job.error is not None:
        print(f"Interrupted: job {job.id} {job.state}: {job.error.message}", file=sys.stderr)


async def wait_until_accepted(engine: Any, job_id: str) -> Job:
    """Wait until the job has a remote id (accepted by the provider) or has ended."""
    accepted = asyncio.Event()

    def watch(event: JobEvent) -> None:
        if event.job.id == job_id and (event.job.remote_id or event.job.state.terminal):
            accepted.set()

    unsubscribe = engine.subscribe(watch)
    try:
        waiter = asyncio.ensure_future(accepted.wait())
        finisher = asyncio.ensure_future(engine.wait(job_id))
        await asyncio.wait({waiter, finisher}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        finisher.cancel()
    finally:
        unsubscribe()
    job = engine.get(job_id) or await engine.wait(job_id)
    return job


def cmd_jobs(services: Services, args: argparse.Namespace) -> int:
    where = job_filter(services, args)
    jobs = services.history.list(where, limit=args.limit)
    if args.json:
        print_json([job_to_json(services, j) for j in jobs])
        return EXIT_OK
    if not jobs:
        if where == JobFilter():
            print("No jobs yet. Run one with `restyle-cli run --provider local --task ...`.")
        else:
            print("No jobs match.")
        return EXIT_OK
    print(f"{'ID':<12}  {'CREATED':<19}  {'PROVIDER/TASK':<28}  {'STATE':<11}  OUTPUTS")
    for j in jobs:
        print(f"{j.id[:12]}  {local_time(j.created_at)}  {j.provider + '/' + j.task:<28}  "
              f"{j.state!s:<11}  {len(j.outputs)}")
        if j.state == JobState.NEEDS_ATTENTION and j.error is not None:
            print(f"{'':14}needs attention: {j.error.message}")
        elif j.owner and not j.state.terminal:
            print(f"{'':14}worked on by {describe_owner(j.owner)}")
    return EXIT_OK


def cmd_show(services: Services, args: argparse.Namespace) -> int:
    """The job, its reviews and, for a batch's job, its batch and cell."""
    job = find_job(services, args.job_id)
    reviews = services.review_store().for_jobs([job.id])
    cell = services.batch_store().batch_of_job(job.id)
    if args.json:
        print_json({**job_to_json(services, job),
                    "reviews": [review_json(r) for r in reviews],
                    "batch": {"id": cell[0], "position": cell[1]} if cell else None})
    else:
        print_job(services, job)
        if cell:
            print(f"  batch:      {cell[0]} (cell {cell[1] + 1})")
        for review in reviews:
            print(f"  review:     {review_text(review)}")
    return EXIT_OK


async def cmd_resume(services: Services, args: argparse.Namespace) -> int:
    ids = [find_job(services, given).id for given in args.job_ids] or None
    engine = services.engine("restyle-cli resume")
    progress = Progress(sys.stderr) if not args.json else None
    if progress:
        engine.subscribe(progress)
        progress.start()
    try:
        report = await engine.resume(ids, fresh_deadline=ids is not None)
        finished = [await engine.wait(j.id) for j in report.resumed]
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        if progress:
            progress.stop()
        await engine.aclose()
        print("Interrupted: unfinished jobs stay resumable.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if progress:
            progress.stop()
    await engine.aclose()
    waiting = [services.history.get(j.id) or j for j in report.waiting]
    left = [j for j, _holder in report.left_alone]
    if ids is not None:
        explain_not_resumed(services, ids, report)
    if args.json:
        print_json([job_to_json(services, j) for j in [*finished, *waiting, *left]])
    elif not (finished or waiting or left):
        if ids is None:
            print("Nothing to resume.")
    else:
        for job in [*finished, *waiting]:
            print_job(services, job)
    for job, holder in report.left_alone:
        print(f"Left alone: job {job.id} ({job.provider}/{job.task}, {job.state}) is being "
              f"worked on by {holder}.", file=sys.stderr)
    return max((exit_code_for(j) for j in [*finished, *waiting]), default=EXIT_OK)


def explain_not_resumed(services: Services, ids: list[str], report: Any) -> None:
    """`resume JOB_ID` for a job that was not resumed: say why."""
    seen = {j.id for j in [*report.resumed, *report.waiting, *report.closed]}
    seen |= {j.id for j, _ in report.left_alone}
    for job_id in ids:
        if job_id in seen:
            continue
        job = services.history.get(job_id)
        if job is not None and job.state.terminal:
            raise CliError(f"Job {job_id} has already ended ({job.state}); nothing to resume.",
                           EXIT_JOB_FAILED)


async def cmd_cancel(services: Services, args: argparse.Namespace) -> int:
    job = find_job(services, args.job_id)
    if job.state.terminal:
        print(f"Job {job.id} has already ended ({job.state}); nothing to cancel.")
        return EXIT_JOB_FAILED
    engine = services.engine("restyle-cli cancel")
    try:
        job = await engine.cancel(job.id)
    finally:
        await engine.aclose()
    if not job.state.terminal:
        holder = describe_owner(job.owner) if job.owner else "another Restyle"
        print(f"Job {job.id} is being worked on by {holder}; it was asked to cancel the job and"
              " will do so at its next check.")
        return EXIT_OK
    print(f"Job {job.id}: {job.state}. {job.error.message if job.error else ''}".strip())
    return EXIT_OK if job.state == JobState.CANCELLED else EXIT_JOB_FAILED
