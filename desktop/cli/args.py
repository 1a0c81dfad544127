"""Argument parsing shared by the commands: the parser class, value types, --param."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from desktop.cli.errors import EXIT_USAGE, CliError
from desktop.core import jsonsafe
from desktop.core.sources import shown

#: The longest --timeout accepted: a week. Longer waits are not deadlines but mistakes, and
#: the event loop's timers overflow on values near the largest float.
MAX_TIMEOUT_S = 7 * 24 * 3600.0
#: The most jobs `jobs --limit` lists at once.
MAX_LIST_LIMIT = 100_000


class Parser(argparse.ArgumentParser):
    """Usage errors exit 2 (the contract), with the usage line. `lazy_epilog` (set by
    `desktop.cli.help_texts.complete`) is the text after the flags, made only when the help is
    printed and kept as written (its examples and lists have their own line breaks)."""

    lazy_epilog: Callable[[], str] | None = None

    def format_help(self) -> str:
        text = super().format_help()
        if self.lazy_epilog is None:
            return text
        return f"{text}\n{self.lazy_epilog().rstrip()}\n"

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def timeout_seconds(text: str) -> float:
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


def list_limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{shown(text, 40)}' is not a whole number"
                                         ) from None
    if not 1 <= value <= MAX_LIST_LIMIT:
        raise argparse.ArgumentTypeError(
            f"must be between 1 and {MAX_LIST_LIMIT}, not {shown(text, 40)}")
    return value


def split_param(item: str) -> tuple[str, str]:
    """A --param item as (key, raw value); CliError (exit 2) without KEY=."""
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise CliError(f"--param '{shown(item, 80)}' must be written KEY=VALUE.", EXIT_USAGE)
    return key, value


def param_value(key: str, value: str) -> Any:
    """A --param value: JSON when it starts with [ or { (finite numbers, at most
    jsonsafe.MAX_DEPTH levels deep), else the text."""
    if value.lstrip().startswith(("[", "{")):
        try:
            return jsonsafe.loads(value)
        except jsonsafe.JsonProblem as exc:
            raise CliError(f"--param {shown(key, 60)}: the value {exc}.", EXIT_USAGE) from None
    return value


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """--param KEY=VALUE items as a dict; values starting with [ or { are JSON (finite
    numbers, at most jsonsafe.MAX_DEPTH levels deep)."""
    params: dict[str, Any] = {}
    for item in items:
        key, value = split_param(item)
        params[key] = param_value(key, value)
    return params


def parse_inputs(items: Sequence[str], inputs: dict[str, list[str]]) -> dict[str, list[str]]:
    """--input ROLE=SRC items added to `inputs` (role -> sources, in order): any role a task
    takes, such as a saved workflow's own image inputs (`Node.garment_image`), for which no
    flag of its own exists. CliError (exit 2) without ROLE= or SRC."""
    merged = {role: list(sources) for role, sources in inputs.items()}
    for item in items:
        role, sep, source = item.partition("=")
        role = role.strip()
        if not sep or not role or not source.strip():
            raise CliError(f"--input '{shown(item, 80)}' must be written ROLE=SRC (a role the "
                           "task takes, then a local path or an http(s) URL).", EXIT_USAGE)
        merged.setdefault(role, []).append(source)
    return merged
