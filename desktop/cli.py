"""restyle-cli: the same engine as the window, headless, for terminals, scripts and CI.

Exit codes (a public contract): 0 succeeded (or submitted, with --no-wait); 1 the job failed,
was cancelled or timed out; 2 usage error or invalid input (nothing was submitted); 3 missing
key, auth, credits or provider configuration error; 130 interrupted with Ctrl+C (a job that
already has a remote id is left running and `restyle-cli resume` collects it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import getpass
import json
import logging
import math
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from desktop import __version__
from desktop.core import jsonsafe
from desktop.core.engine.ledger import describe_owner
from desktop.core.humanize import human_duration
from desktop.core.model import (
    ErrorCode,
    EventKind,
    InvalidInput,
    Job,
    JobEvent,
    JobSpec,
    JobState,
)
from desktop.core.redaction import redact_inputs
from desktop.core.sources import shown
from desktop.core.store import HistoryError, JobFilter
from desktop.logs import setup_logging, teardown_logging
from desktop.providers.base import ProviderError
from desktop.providers.registry import PROVIDER_CLASSES, provider_class
from desktop.services import Services

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_USAGE = 2
EXIT_SETUP = 3
EXIT_INTERRUPTED = 130


class CliError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="restyle-cli",
        description="Run Restyle's generative image jobs from a terminal.",
    )
    parser.add_argument("--version", action="version", version=f"restyle {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log details to stderr (keys are always redacted)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("providers", help="list providers, their tasks and whether they are set up")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("run", help="run one job and wait for its result")
    p.add_argument("--provider", required=True)
    p.add_argument("--task", required=True)
    for role in ("person", "room", "image"):
        p.add_argument(f"--{role}", action="append", default=[], metavar="SRC",
                       help=f"{role} image: a local path or an http(s) URL")
    p.add_argument("--garment", action="append", default=[], metavar="SRC",
                   help="garment image (repeat for several)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="task parameter; values starting with [ or { are JSON")
    p.add_argument("--out", type=Path, metavar="DIR", help="copy the results into DIR")
    p.add_argument("--base-url", metavar="URL", help="the provider's base URL for this run")
    p.add_argument("--timeout", type=_timeout_seconds, metavar="SECONDS",
                   help="deadline for the job (default: the provider's setting)")
    p.add_argument("--no-wait", action="store_true",
                   help="return once the provider has accepted the job")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("jobs", help="list jobs in history, newest first")
    p.add_argument("--limit", type=_list_limit, default=20, metavar="N",
                   help=f"how many jobs to list (1 to {MAX_LIST_LIMIT}; default 20)")
    p.add_argument("--provider")
    p.add_argument("--task")
    p.add_argument("--state", choices=[str(s) for s in JobState])
    p.add_argument("--search", metavar="TEXT", help="words that must all appear")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("show", help="show one job")
    p.add_argument("job_id", metavar="JOB_ID", help="a job id or an unambiguous prefix")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("resume", help="collect every unfinished job that a provider accepted")
    p.add_argument("job_ids", nargs="*", metavar="JOB_ID",
                   help="only these jobs, tried again now with a new deadline (a job that needs"
                        " attention, once its cause is fixed)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("cancel", help="cancel a job")
    p.add_argument("job_id", metavar="JOB_ID")

    p = sub.add_parser("account", help="show the provider account (credits, limits)")
    p.add_argument("--provider", required=True)
    p.add_argument("--base-url", metavar="URL")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("keys", help="manage API keys (stored in the system keyring)")
    p.add_argument("action", choices=["status", "set", "delete"])
    p.add_argument("--provider", required=True)
    return parser


#: The longest --timeout accepted: a week. Longer waits are not deadlines but mistakes, and
#: the event loop's timers overflow on values near the largest float.
MAX_TIMEOUT_S = 7 * 24 * 3600.0
#: The most jobs `jobs --limit` lists at once.
MAX_LIST_LIMIT = 100_000


def _timeout_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{shown(text, 40)}' is not a number of seconds"
                                         ) from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{shown(text, 40)}' is not a finite number of "
                                         "seconds")
    if not 0 < value <= MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {MAX_TIMEOUT_S:.0f} seconds (a week), "
            f"not {shown(text, 40)}")
    return value


def _list_limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{shown(text, 40)}' is not a whole number"
                                         ) from None
    if not 1 <= value <= MAX_LIST_LIMIT:
        raise argparse.ArgumentTypeError(
            f"must be between 1 and {MAX_LIST_LIMIT}, not {shown(text, 40)}")
    return value


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """--param KEY=VALUE items as a dict; values starting with [ or { are JSON (finite
    numbers, at most jsonsafe.MAX_DEPTH levels deep)."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CliError(f"--param '{shown(item, 80)}' must be written KEY=VALUE.",
                           EXIT_USAGE)
        if value.lstrip().startswith(("[", "{")):
            try:
                params[key] = jsonsafe.loads(value)
            except jsonsafe.JsonProblem as exc:
                raise CliError(f"--param {shown(key, 60)}: the value {exc}.",
                               EXIT_USAGE) from None
        else:
            params[key] = value
    return params


# -- output --------------------------------------------------------------------------------
def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat(timespec="seconds")


def job_to_json(services: Services, job: Job, out_paths: dict[int, Path] | None = None
                ) -> dict[str, Any]:
    outputs = []
    for o in job.outputs:
        path = (out_paths or {}).get(o.position) or services.assets.path_for(o.sha256, o.mime)
        outputs.append({"path": str(path), "width": o.width, "height": o.height,
                        "mime": o.mime, "kind": str(o.kind), "label": o.label,
                        "sha256": o.sha256})
    return {
        "id": job.id,
        "provider": job.provider,
        "task": job.task,
        "status": str(job.state),
        "remote_id": job.remote_id,
        "outputs": outputs,
        "error": job.error.to_dict() if job.error else None,
        "cost_credits": job.cost_credits,
        "duration_ms": job.duration_ms,
        "created_at": _iso(job.created_at),
        "finished_at": _iso(job.finished_at),
        "params": job.spec.params,
        # A URL input may carry user info or a signed link's token: never printed as given.
        "inputs": redact_inputs(job.spec.inputs),
        "note": job.note,
        "favorite": job.favorite,
        "may_be_charged": job.may_be_charged and _charges(job.provider),
        "owner": describe_owner(job.owner) if job.owner else None,
    }


def _charges(provider_id: str) -> bool:
    """Whether the provider bills jobs at all (the offline one does not)."""
    try:
        return provider_class(provider_id).needs_key
    except KeyError:
        return True


def _print_json(data: Any, stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    stream.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    stream.flush()


def _print_job(services: Services, job: Job, out_paths: dict[int, Path] | None = None) -> None:
    data = job_to_json(services, job, out_paths)
    print(f"Job {job.id}  {job.provider}/{job.task}  {job.state}")
    if job.remote_id:
        print(f"  remote id:  {job.remote_id}")
    print(f"  created:    {_local_time(job.created_at)}")
    if job.duration_ms is not None:
        print(f"  duration:   {human_duration(job.duration_ms / 1000)}")
    if job.cost_credits is not None:
        print(f"  cost:       {job.cost_credits:g} credits")
    if job.spec.params:
        print("  params:     " + ", ".join(f"{k}={json.dumps(v, default=str)}"
                                          for k, v in job.spec.params.items()))
    for role, sources in data["inputs"].items():
        for src in sources:
            print(f"  {role + ':':<11} {src}")
    if job.note:
        print(f"  note:       {job.note}")
    for out in data["outputs"]:
        size = f"{out['width']}x{out['height']}" if out["width"] else out["mime"]
        print(f"  output:     {out['path']}  ({size})")
    if job.error:
        code = f" [{job.error.provider_code}]" if job.error.provider_code else ""
        label = "needs you:" if job.state == JobState.NEEDS_ATTENTION else "error:"
        print(f"  {label:<11} {job.error.code}{code}: {job.error.message}")
    if data["owner"] and not job.state.terminal:
        print(f"  worked on:  by {data['owner']}")
    if data["may_be_charged"] and job.state != JobState.SUCCEEDED:
        print(f"  charges:    {job.provider} may have charged for this job.")


def _local_time(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def exit_code_for(job: Job) -> int:
    """0 succeeded; 3 a key, credits or configuration problem (also for a job waiting in
    needs_attention for one); 2 invalid input nothing was sent for; 1 anything else that did
    not succeed (failed, cancelled, timed out, or waiting for another reason)."""
    if job.state == JobState.SUCCEEDED:
        return EXIT_OK
    if job.error is not None:
        if job.error.code.is_setup_problem:
            return EXIT_SETUP
        if job.error.code == ErrorCode.INVALID_INPUT and job.remote_id is None:
            return EXIT_USAGE
    return EXIT_JOB_FAILED


class _Progress:
    """A one-line status on an interactive terminal while a job runs."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.state = ""
        self.message = ""
        self.started = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def __call__(self, event: JobEvent) -> None:
        if event.kind == EventKind.STATE:
            self.state = str(event.job.state)
        if event.message:
            self.message = event.message
        elif event.job.progress is not None:
            self.message = f"{round(event.job.progress * 100)} %"
        self._draw()

    def _draw(self) -> None:
        if not self.enabled:
            return
        elapsed = human_duration(time.monotonic() - self.started)
        line = f"{self.state or 'starting'}  {elapsed}  {self.message}"[:100]
        self.stream.write("\r\033[K" + line)
        self.stream.flush()

    async def tick(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            self._draw()

    def start(self) -> None:
        if self.enabled:
            self._task = asyncio.ensure_future(self.tick())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.enabled = False  # later events (a cancel, say) must not redraw the line


# -- commands ------------------------------------------------------------------------------
def cmd_providers(services: Services, args: argparse.Namespace) -> int:
    rows = []
    for pid, cls in PROVIDER_CLASSES.items():
        ready = services.readiness(pid)
        key = services.secrets.status(pid) if cls.needs_key else None
        provider = cls.from_config(services.provider_config(pid))
        rows.append({
            "id": pid,
            "title": cls.title,
            "ready": ready.ready,
            "problem": ready.problem or None,
            "needs_key": cls.needs_key,
            "key": str(key.source) if key else None,
            "base_url": services.base_url(pid),
            "tasks": [
                {
                    "id": t.id,
                    "title": t.title,
                    "note": t.note,
                    "inputs": [{"role": r.role, "min": r.min_count, "max": r.max_count}
                               for r in t.inputs],
                    "params": [{"name": p.name, "type": str(p.type), "default": p.default,
                                "choices": list(p.choices) or None, "minimum": p.minimum,
                                "maximum": p.maximum, "max_length": p.max_length,
                                "required": p.required, "help": p.help}
                               for p in t.params],
                }
                for t in provider.tasks
            ],
        })
    if args.json:
        _print_json(rows)
        return EXIT_OK
    for row in rows:
        status = "ready" if row["ready"] else row["problem"]
        print(f"{row['id']:<16} {row['title']}  ({status})")
        for t in row["tasks"]:
            roles = " ".join(
                f"--{r['role']}" + (f" x{r['min']}-{r['max']}" if r["max"] > 1 else "")
                for r in t["inputs"]
            )
            print(f"    {t['id']:<20} {t['title']}  [{roles}]")
            for p in t["params"]:
                extra = []
                if p["choices"]:
                    extra.append("|".join(str(c) for c in p["choices"]))
                if p["minimum"] is not None or p["maximum"] is not None:
                    low, high = (f"{v:g}" if v is not None else "" for v in
                                 (p["minimum"], p["maximum"]))
                    extra.append(f"{low}..{high}")
                if p["max_length"] is not None:
                    extra.append(f"at most {p['max_length']} characters")
                if p["default"] is not None:
                    extra.append(f"default {p['default']}")
                if p["required"]:
                    extra.append("required")
                print(f"        {p['name']:<16} {p['type']:<8} {'; '.join(extra)}")
    return EXIT_OK


def _check_ready(services: Services, provider_id: str) -> None:
    ready = services.readiness(provider_id)
    if not ready.ready:
        code = EXIT_USAGE if ready.code == ErrorCode.INVALID_INPUT else EXIT_SETUP
        raise CliError(ready.problem, code)


def _apply_base_url(services: Services, args: argparse.Namespace) -> None:
    url = getattr(args, "base_url", None)
    if not url:
        return
    if not url.startswith(("http://", "https://")):
        raise CliError(f"--base-url {url!r} must start with http:// or https://.", EXIT_USAGE)
    try:
        cls = provider_class(args.provider)
    except KeyError:
        return  # reported by the readiness check
    if not cls.needs_base_url and cls.default_base_url is None:
        print(f"Note: {cls.title} has no base URL; --base-url is ignored.", file=sys.stderr)
        return
    services.base_url_overrides[args.provider] = url


def check_out_dir(out_dir: Path) -> Path:
    """Create the --out folder and prove it takes files (a temporary file is created and
    removed), before anything is submitted: a job must not run, and be paid for, only to
    find its results cannot be saved where asked. CliError (exit 2) with a sentence."""
    where = shown(str(out_dir))
    try:
        if out_dir.exists() and not out_dir.is_dir():
            raise CliError(f"--out {where} is a file, not a folder; give a folder for the "
                           "results.", EXIT_USAGE)
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise CliError(f"--out {where} cannot be created: a part of its path is a file, not a "
                       "folder.", EXIT_USAGE) from None
    except (OSError, ValueError) as exc:
        raise CliError(f"Cannot create the output folder {where} ({_reason(exc)}); choose "
                       "another folder with --out.", EXIT_USAGE) from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".restyle-write-test-", dir=out_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise CliError(f"Cannot write into the output folder {where} ({_reason(exc)}); choose "
                       "another folder with --out.", EXIT_USAGE) from None
    return out_dir


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


class CopyFailed(Exception):
    """The job succeeded but its results could not be copied to --out; they stay in the asset
    store. The message is the sentence to print."""


def _copy_outputs(services: Services, job: Job, out_dir: Path) -> dict[int, Path]:
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
                f"{shown(str(out_dir))} ({_reason(exc)}). They are kept in Restyle's asset "
                f"store: {kept}"
            ) from None
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        paths[o.position] = dest
    return paths


async def cmd_run(services: Services, args: argparse.Namespace) -> int:
    _apply_base_url(services, args)
    _check_ready(services, args.provider)
    inputs = {role: list(getattr(args, role)) for role in ("person", "garment", "room", "image")}
    spec = JobSpec(provider=args.provider, task=args.task,
                   inputs={k: v for k, v in inputs.items() if v},
                   params=parse_params(args.param), deadline_s=args.timeout)
    if args.out is not None:
        check_out_dir(args.out)
    engine = services.engine("restyle-cli run")
    progress = _Progress(sys.stderr) if not args.json else None
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
            job = await _wait_until_accepted(engine, job.id)
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
            _say_interrupted(services.history.get(job.id) or job)
        return EXIT_INTERRUPTED
    finally:
        if progress:
            progress.stop()
        await engine.aclose()  # idempotent; a --no-wait job stays resumable
    copy_problem: str | None = None
    out_paths: dict[int, Path] | None = None
    if args.out is not None and job.outputs:
        try:
            out_paths = _copy_outputs(services, job, args.out)
        except CopyFailed as exc:
            copy_problem = str(exc)
    if args.json:
        _print_json(job_to_json(services, job, out_paths))
    else:
        _print_job(services, job, out_paths)
        if args.no_wait and not job.state.terminal:
            print(f"Submitted. Collect the result with `restyle-cli resume` "
                  f"(then `restyle-cli show {job.id[:12]}`).")
    if copy_problem is not None:
        print(f"restyle-cli: {copy_problem}", file=sys.stderr)
        return EXIT_JOB_FAILED
    if args.no_wait and not job.state.terminal:
        return EXIT_OK
    return exit_code_for(job)


def _say_interrupted(job: Job) -> None:
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


async def _wait_until_accepted(engine: Any, job_id: str) -> Job:
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
    where = JobFilter(provider=args.provider, task=args.task,
                      states=(JobState(args.state),) if args.state else (), text=args.search)
    jobs = services.history.list(where, limit=args.limit)
    if args.json:
        _print_json([job_to_json(services, j) for j in jobs])
        return EXIT_OK
    if not jobs:
        print("No jobs yet. Run one with `restyle-cli run --provider local --task ...`.")
        return EXIT_OK
    print(f"{'ID':<12}  {'CREATED':<19}  {'PROVIDER/TASK':<28}  {'STATE':<11}  OUTPUTS")
    for j in jobs:
        print(f"{j.id[:12]}  {_local_time(j.created_at)}  {j.provider + '/' + j.task:<28}  "
              f"{j.state!s:<11}  {len(j.outputs)}")
        if j.state == JobState.NEEDS_ATTENTION and j.error is not None:
            print(f"{'':14}needs attention: {j.error.message}")
        elif j.owner and not j.state.terminal:
            print(f"{'':14}worked on by {describe_owner(j.owner)}")
    return EXIT_OK


def _find_job(services: Services, job_id: str) -> Job:
    try:
        job = services.history.find(job_id)
    except LookupError as exc:
        raise CliError(f"{exc} Give more characters of the id.", EXIT_USAGE) from None
    if job is None:
        raise CliError(f"No job '{job_id}' in history. `restyle-cli jobs` lists them.",
                       EXIT_USAGE)
    return job


def cmd_show(services: Services, args: argparse.Namespace) -> int:
    job = _find_job(services, args.job_id)
    if args.json:
        _print_json(job_to_json(services, job))
    else:
        _print_job(services, job)
    return EXIT_OK


async def cmd_resume(services: Services, args: argparse.Namespace) -> int:
    ids = [_find_job(services, given).id for given in args.job_ids] or None
    engine = services.engine("restyle-cli resume")
    progress = _Progress(sys.stderr) if not args.json else None
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
        _explain_not_resumed(services, ids, report)
    if args.json:
        _print_json([job_to_json(services, j) for j in [*finished, *waiting, *left]])
    elif not (finished or waiting or left):
        if ids is None:
            print("Nothing to resume.")
    else:
        for job in [*finished, *waiting]:
            _print_job(services, job)
    for job, holder in report.left_alone:
        print(f"Left alone: job {job.id} ({job.provider}/{job.task}, {job.state}) is being "
              f"worked on by {holder}.", file=sys.stderr)
    return max((exit_code_for(j) for j in [*finished, *waiting]), default=EXIT_OK)


def _explain_not_resumed(services: Services, ids: list[str], report: Any) -> None:
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
    job = _find_job(services, args.job_id)
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


async def cmd_account(services: Services, args: argparse.Namespace) -> int:
    _apply_base_url(services, args)
    try:
        cls = provider_class(args.provider)
    except KeyError:
        _check_ready(services, args.provider)
        raise
    if not cls.supports_account:
        if not cls.needs_key:
            message = f"{cls.title} runs on this computer: no account and no credits needed."
            if args.json:
                _print_json({"provider": args.provider, "credits": None, "message": message})
            else:
                print(message)
            return EXIT_OK
        raise CliError(f"{cls.title} has no account endpoint.", EXIT_USAGE)
    _check_ready(services, args.provider)
    provider = services.create_provider(args.provider)
    try:
        info = await provider.account()
    except ProviderError as exc:
        code = EXIT_SETUP if exc.code.is_setup_problem else EXIT_JOB_FAILED
        raise CliError(exc.message, code) from None
    finally:
        await provider.aclose()
    if args.json:
        _print_json(info.to_dict())
    else:
        print(f"{cls.title} account")
        if info.credits is not None:
            print(f"  credits:  {info.credits:g}")
        if info.plan:
            print(f"  plan:     {info.plan}")
        for k, v in {**info.limits, **info.details}.items():
            print(f"  {k}: {v}")
        if info.purchase_url:
            print(f"  buy credits: {info.purchase_url}")
        if info.message:
            print(f"  {info.message}")
    return EXIT_OK


def cmd_keys(services: Services, args: argparse.Namespace, stdin: TextIO) -> int:
    try:
        cls = provider_class(args.provider)
    except KeyError:
        _check_ready(services, args.provider)
        raise
    if not cls.needs_key:
        raise CliError(f"{cls.title} needs no API key.", EXIT_USAGE)
    store = services.secrets
    if args.action == "status":
        status = store.status(args.provider)
        print(f"{cls.title}: {'key present' if status.present else 'no key'}"
              f" ({status.source}). {status.message}")
        if not status.keyring_available and not status.refusal:
            print(f"Keyring backend: {status.backend} (not usable on this machine).")
        return EXIT_OK
    env = store.env_override(args.provider)
    if args.action == "delete":
        removed = store.delete(args.provider)
        print(f"{cls.title}: key removed." if removed else f"{cls.title}: no stored key.")
        if env:
            print(f"{cls.title}: {env} is still set in this environment, so Restyle keeps "
                  "using that key until you unset it.")
        return EXIT_OK
    if stdin.isatty():
        key = getpass.getpass(f"API key for {cls.title} (input hidden): ")
    else:
        key = stdin.readline()
    key = key.strip()
    if not key:
        raise CliError("No key given on standard input; nothing was stored.", EXIT_USAGE)
    status = store.set(args.provider, key)
    if not status.keyring_available:  # kept for this process only, which ends now
        advice = ("" if env else f" Set RESTYLE_{args.provider.upper()}_API_KEY in your "
                  "environment instead.")
        raise CliError(f"{status.message} A key set from the command line would be lost at "
                       f"once: nothing was stored.{advice}", EXIT_SETUP)
    print(f"{cls.title}: {status.message}")
    return EXIT_OK


async def _dispatch(services: Services, args: argparse.Namespace, stdin: TextIO) -> int:
    try:
        if args.command == "run":
            return await cmd_run(services, args)
        if args.command == "resume":
            return await cmd_resume(services, args)
        if args.command == "cancel":
            return await cmd_cancel(services, args)
        if args.command == "account":
            return await cmd_account(services, args)
        if args.command == "providers":
            return cmd_providers(services, args)
        if args.command == "jobs":
            return cmd_jobs(services, args)
        if args.command == "show":
            return cmd_show(services, args)
        if args.command == "keys":
            return cmd_keys(services, args, stdin)
        raise CliError(f"Unknown command {args.command}.", EXIT_USAGE)
    finally:
        await services.aclose()


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None) -> int:
    multiprocessing.freeze_support()  # a frozen build's local worker processes start here
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        services = Services.open()
    except HistoryError as exc:
        print(f"restyle-cli: {exc}", file=sys.stderr)
        return EXIT_SETUP
    log_setup = setup_logging(services.paths.log_file,
                              stderr_level=logging.DEBUG if args.verbose else None)
    try:
        return asyncio.run(_dispatch(services, args, stdin or sys.stdin))
    except CliError as exc:
        print(f"restyle-cli: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: a sentence and the log, never a traceback on screen
        log.exception("restyle-cli %s failed", args.command)
        print(f"restyle-cli: {args.command} failed because of an unexpected error "
              f"({type(exc).__name__}); the details are in {services.paths.log_file}.",
              file=sys.stderr)
        return EXIT_JOB_FAILED
    finally:
        services.close()
        teardown_logging(log_setup)


if __name__ == "__main__":
    sys.exit(main())
