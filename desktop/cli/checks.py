"""Checks made before anything is sent: a provider set up, a base URL, a job found, an output
folder that takes files. Each failure is a CliError with a sentence."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from desktop.cli.errors import EXIT_SETUP, EXIT_USAGE, CliError
from desktop.core.batches import Batch
from desktop.core.model import ErrorCode, Job
from desktop.core.sources import shown
from desktop.providers.registry import provider_class
from desktop.services import Services


def check_ready(services: Services, provider_id: str) -> None:
    ready = services.readiness(provider_id)
    if not ready.ready:
        code = EXIT_USAGE if ready.code == ErrorCode.INVALID_INPUT else EXIT_SETUP
        raise CliError(ready.problem, code)


def check_known(services: Services, provider_id: str) -> None:
    """The provider exists (for jobs that run elsewhere: the team's workers hold the keys)."""
    ready = services.readiness(provider_id)
    if not ready.ready and ready.code == ErrorCode.INVALID_INPUT:
        raise CliError(ready.problem, EXIT_USAGE)


def apply_base_url(services: Services, args: argparse.Namespace) -> None:
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


def find_job(services: Services, job_id: str) -> Job:
    try:
        job = services.history.find(job_id)
    except LookupError as exc:
        raise CliError(f"{exc} Give more characters of the id.", EXIT_USAGE) from None
    if job is None:
        raise CliError(f"No job '{job_id}' in history. `restyle-cli jobs` lists them.",
                       EXIT_USAGE)
    return job


def find_batch(services: Services, given: str) -> Batch:
    """A batch by id or an unambiguous prefix of 4 characters or more; CliError (exit 2)."""
    try:
        batch = services.batch_store().find(given)
    except LookupError as exc:
        raise CliError(f"{exc} Give more characters of the id.", EXIT_USAGE) from None
    if batch is None:
        more = " (give at least 4 characters of its id)" if len(given) < 4 else ""
        raise CliError(f"No batch '{shown(given, 60)}' in history{more}. `restyle-cli batches`"
                       " lists them.", EXIT_USAGE)
    return batch


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
        raise CliError(f"Cannot create the output folder {where} ({reason(exc)}); choose "
                       "another folder with --out.", EXIT_USAGE) from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".restyle-write-test-", dir=out_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise CliError(f"Cannot write into the output folder {where} ({reason(exc)}); choose "
                       "another folder with --out.", EXIT_USAGE) from None
    return out_dir


def reason(exc: BaseException) -> str:
    """The short reason of an error, for a sentence."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
