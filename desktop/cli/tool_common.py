"""What the provider tool commands (`vsai`, `vtryon`, `fitinview`) share: the provider set up
and checked, its failures as exit codes, a question before anything paid or destructive, and
small value types."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

from desktop.cli.batches import _ask
from desktop.cli.checks import apply_base_url, check_ready
from desktop.cli.errors import (
    EXIT_INTERRUPTED,
    EXIT_JOB_FAILED,
    EXIT_SETUP,
    EXIT_USAGE,
    CliError,
)
from desktop.cli.output import local_time
from desktop.core.model import ErrorCode
from desktop.core.provider_tools.remote_jobs import parse_time
from desktop.core.sources import shown
from desktop.providers.base import Provider, ProviderError
from desktop.services import Services

P = TypeVar("P")


def tool_ready(services: Services, args: argparse.Namespace, provider_id: str) -> None:
    """--base-url applied and the checks that need no network: CliError exit 3 when the
    provider's key or base URL is missing."""
    args.provider = provider_id
    apply_base_url(services, args)
    check_ready(services, provider_id)


def tool_provider(services: Services, args: argparse.Namespace, provider_id: str,
                  kind: type[P]) -> P:
    """The configured provider, after `tool_ready`; close it with `aclose()`."""
    tool_ready(services, args, provider_id)
    provider = services.create_provider(provider_id)
    if not isinstance(provider, kind):  # a registry that maps the id to something else
        raise CliError(f"{provider.title} does not offer these tools.", EXIT_USAGE)
    return provider


def failure(exc: ProviderError, *, given_id: str | None = None) -> CliError:
    """A provider's failure as a sentence and an exit code: 3 key, auth, credits or
    configuration; 2 invalid input, or an id the user gave that the service does not have;
    1 anything else (the service failed or could not be reached)."""
    if exc.code.is_setup_problem:
        return CliError(exc.message, EXIT_SETUP)
    if exc.code == ErrorCode.INVALID_INPUT:
        return CliError(exc.message, EXIT_USAGE)
    if given_id is not None and exc.code == ErrorCode.NOT_FOUND:
        return CliError(exc.message, EXIT_USAGE)
    return CliError(exc.message, EXIT_JOB_FAILED)


def confirm(stdin: TextIO, question: str, *, yes: bool, what_not_done: str) -> None:
    """Ask before something paid or destructive: --yes skips the question; without a terminal
    nothing is done (exit 2); a "no" exits 1 and Ctrl+C 130, as `batch` does."""
    if yes:
        return
    if not stdin.isatty():
        raise CliError(f"{question} Not done: confirm with --yes (standard input is not a "
                       f"terminal, so there is no one to ask). {what_not_done}", EXIT_USAGE)
    answer = _ask(stdin, f"{question} [y/N] ")
    if answer is None:
        raise CliError(f"Interrupted. {what_not_done}", EXIT_INTERRUPTED)
    if not answer:
        raise CliError(f"Not done. {what_not_done}", EXIT_JOB_FAILED)


def positive_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`."""
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{shown(text, 40)}' is not a whole number"
                                             ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low} to {high}, not {value}")
        return value
    return convert


async def closing(provider: Provider, work: Callable[[], Any]) -> Any:
    """Run `work()` (a coroutine function) and close the provider's client after."""
    try:
        return await work()
    finally:
        await provider.aclose()


def say(text: str, *, as_json: bool) -> None:
    """A line for people: stdout, or stderr when stdout carries JSON."""
    print(text, file=sys.stderr if as_json else sys.stdout)


def when(text: str | None) -> str:
    """A provider's ISO time as local time for a table ("?" when absent or unreadable)."""
    seconds = parse_time(text)
    return local_time(seconds) if seconds is not None else "?"
