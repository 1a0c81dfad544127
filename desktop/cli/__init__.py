"""restyle-cli: the same engine as the window, headless, for terminals, scripts and CI.

Exit codes (a public contract): 0 succeeded (or submitted, with --no-wait); 1 the job failed,
was cancelled or timed out; 2 usage error or invalid input (nothing was submitted); 3 missing
key, auth, credits or provider configuration error; 130 interrupted with Ctrl+C (a job that
already has a remote id is left running and `restyle-cli resume` collects it).

The package: `args` (parsing), `errors` (exit codes), `output` (JSON and text), `checks`
(before anything is sent), and one module per family of commands (`jobs`, `account`,
`batches` with `matrix` and `batch_output`, `reviews`, `rankings`, `export`, `bundles`
(import), `db` (upgrade, copy), `reports` (report, lookbook); the provider tools `vsai`,
`vtryon` and `fitinview`, sharing `tool_common`; `worker` runs the team's queued jobs (team
mode, `team_mode`).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import logging
import multiprocessing
import os
import shutil  # noqa: F401  (kept importable as desktop.cli.shutil, which tests patch)
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from desktop import __version__
from desktop.cli import (
    account,
    batches,
    bundles,
    db,
    export,
    fitinview,
    help_texts,
    jobs,
    rankings,
    reports,
    reviews,
    vsai,
    vtryon,
    worker,
)
from desktop.cli.account import cmd_account, cmd_keys, cmd_providers
from desktop.cli.args import MAX_LIST_LIMIT, MAX_TIMEOUT_S, Parser, parse_params
from desktop.cli.batches import cmd_batch, cmd_batches
from desktop.cli.bundles import cmd_import
from desktop.cli.checks import check_out_dir
from desktop.cli.errors import (
    EXIT_INTERRUPTED,
    EXIT_JOB_FAILED,
    EXIT_OK,
    EXIT_SETUP,
    EXIT_USAGE,
    CliError,
    exit_code_for,
)
from desktop.cli.export import cmd_export
from desktop.cli.fitinview import cmd_fitinview
from desktop.cli.jobs import CopyFailed, cmd_cancel, cmd_jobs, cmd_resume, cmd_run, cmd_show
from desktop.cli.output import job_to_json
from desktop.cli.rankings import cmd_rankings
from desktop.cli.reports import cmd_lookbook, cmd_report
from desktop.cli.reviews import cmd_review, cmd_vote
from desktop.cli.vsai import cmd_vsai
from desktop.cli.vtryon import cmd_vtryon
from desktop.cli.worker import cmd_worker
from desktop.core.store import HistoryError
from desktop.logs import setup_logging, teardown_logging
from desktop.services import Services

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_JOB_FAILED",
    "EXIT_OK",
    "EXIT_SETUP",
    "EXIT_USAGE",
    "MAX_LIST_LIMIT",
    "MAX_TIMEOUT_S",
    "CliError",
    "CopyFailed",
    "build_parser",
    "check_out_dir",
    "cmd_account",
    "cmd_batch",
    "cmd_batches",
    "cmd_cancel",
    "cmd_export",
    "cmd_import",
    "cmd_jobs",
    "cmd_keys",
    "cmd_lookbook",
    "cmd_providers",
    "cmd_rankings",
    "cmd_report",
    "cmd_resume",
    "cmd_review",
    "cmd_run",
    "cmd_show",
    "cmd_vote",
    "exit_code_for",
    "job_to_json",
    "main",
    "parse_params",
]

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="restyle-cli",
        description="Run Restyle's generative image jobs from a terminal.",
    )
    parser.add_argument("--version", action="version", version=f"restyle {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log details to stderr (keys are always redacted)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser,
                                metavar="COMMAND", title="commands (restyle-cli COMMAND --help "
                                "for each)")
    jobs.add_parsers(sub)
    account.add_parsers(sub)
    batches.add_parsers(sub)
    reviews.add_parsers(sub)
    rankings.add_parsers(sub)
    export.add_parsers(sub)
    bundles.add_parsers(sub)
    db.add_parsers(sub)
    reports.add_parsers(sub)
    vsai.add_parsers(sub)
    vtryon.add_parsers(sub)
    fitinview.add_parsers(sub)
    worker.add_parsers(sub)
    help_texts.complete(parser)
    return parser


def _handlers(stdin: TextIO) -> dict[str, Callable[[Services, argparse.Namespace], Any]]:
    """Each command's function, looked up when called (so a test may replace one here)."""
    return {
        "run": cmd_run,
        "resume": cmd_resume,
        "cancel": cmd_cancel,
        "account": cmd_account,
        "providers": cmd_providers,
        "jobs": cmd_jobs,
        "show": cmd_show,
        "keys": lambda services, args: cmd_keys(services, args, stdin),
        "batch": lambda services, args: cmd_batch(services, args, stdin),
        "batches": cmd_batches,
        "review": cmd_review,
        "vote": cmd_vote,
        "rankings": cmd_rankings,
        "export": cmd_export,
        "import": cmd_import,
        "report": cmd_report,
        "lookbook": cmd_lookbook,
        "vsai": lambda services, args: cmd_vsai(services, args, stdin),
        "vtryon": lambda services, args: cmd_vtryon(services, args, stdin),
        "fitinview": cmd_fitinview,
        "worker": cmd_worker,
    }


async def _dispatch(services: Services, args: argparse.Namespace, stdin: TextIO) -> int:
    try:
        handler = _handlers(stdin).get(args.command)
        if handler is None:
            raise CliError(f"Unknown command {args.command}.", EXIT_USAGE)
        result = handler(services, args)
        if inspect.isawaitable(result):
            result = await result
        return int(result)
    finally:
        await services.aclose()


def _guarded(run: Callable[[], int], what: str, log_file: Path) -> int:
    """Run a command; what it raises becomes its sentence and exit code, never a traceback."""
    try:
        return run()
    except CliError as exc:
        print(f"restyle-cli: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`restyle-cli jobs | head`): nothing to say to it. Point
        # stdout at nothing so Python's own flush at exit does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug: a sentence and the log, never a traceback on screen
        log.exception("restyle-cli %s failed", what)
        print(f"restyle-cli: {what} failed because of an unexpected error "
              f"({type(exc).__name__}); the details are in {log_file}.", file=sys.stderr)
        return EXIT_JOB_FAILED


def _run_db(args: argparse.Namespace) -> int:
    """`db ACTION`, with main's handling of errors but without Services (cli/db.py)."""
    from desktop.config import resolve_paths

    log_file = resolve_paths().log_file
    log_setup = setup_logging(log_file, stderr_level=logging.DEBUG if args.verbose else None)
    try:
        return _guarded(lambda: db.cmd_db(args), f"db {args.db_command}", log_file)
    finally:
        teardown_logging(log_setup)


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None) -> int:
    multiprocessing.freeze_support()  # a frozen build's local worker processes start here
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command == "db":  # before the configured history is opened (cli/db.py)
        return _run_db(args)
    try:
        services = Services.open()
    except HistoryError as exc:
        print(f"restyle-cli: {exc}", file=sys.stderr)
        return EXIT_SETUP
    log_setup = setup_logging(services.paths.log_file,
                              stderr_level=logging.DEBUG if args.verbose else None)
    try:
        return _guarded(lambda: asyncio.run(_dispatch(services, args, stdin or sys.stdin)),
                        args.command, services.paths.log_file)
    finally:
        services.close()
        teardown_logging(log_setup)
