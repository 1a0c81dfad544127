"""Small helpers shared by the provider and engine tests."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from desktop.providers.remote import RemoteProvider

P = TypeVar("P", bound="RemoteProvider")


#: Run in a child before the real command: Ctrl+C back to its default, then exec the command.
_DEFAULT_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL);"
    " os.execv(sys.argv[1], sys.argv[1:])"
)


def with_default_sigint(argv: Sequence[str]) -> list[str]:
    """`argv` started so that SIGINT has its default action in the child.

    A test run started in the background from a non-interactive shell (`nohup ... &`) ignores
    SIGINT, and an ignored signal stays ignored across fork and exec; Python then installs no
    KeyboardInterrupt handler and a test that sends the child SIGINT waits in vain. Resetting
    it in a tiny Python trampoline that execs the command (same pid, same pipes) works from a
    process with threads, unlike `preexec_fn`; `restore_signals` does not cover SIGINT.
    """
    if os.name != "posix":
        return list(argv)
    return [sys.executable, "-c", _DEFAULT_SIGINT, *argv]


def run(coro: Awaitable[Any]) -> Any:
    """Run a coroutine on a fresh event loop (the tests use no asyncio plugin)."""
    return asyncio.run(coro)  # type: ignore[arg-type]


class Sleeps:
    """An injected sleep: records the waits, returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def remote_provider(cls: type[P], base: str | None, key: str | None, *,
                sleeps: Sleeps | None = None, read: float = 5.0, **kw: Any) -> P:
    """A remote provider for emulator tests: short timeouts (`read` for reads and downloads),
    waits recorded instead of slept, the key given."""
    from desktop.providers.http import Timeouts

    timeouts = Timeouts(connect=2, read=read, write=5, pool=2, transfer_read=read,
                        transfer_write=5)
    return cls(base, lambda: key, timeouts=timeouts, sleep=sleeps or Sleeps(), **kw)


#: What a careless provider might echo back: the key, a token pair and a signed link.
LEAKED_TOKEN = "TOK-SECRET-4411"
LEAKED_SIGNATURE = "SIG-SECRET-8822"


def leaky_words(key: str) -> str:
    """A provider sentence that carries the key, a `token=` pair and a signed URL."""
    return (f"Done for key {key}; token={LEAKED_TOKEN} - see "
            f"https://cdn.example/r.png?X-Amz-Signature={LEAKED_SIGNATURE}&w=1")


def assert_no_secret(text: str | None, key: str) -> None:
    """None of what `leaky_words` carries is left in `text`."""
    for secret in (key, LEAKED_TOKEN, LEAKED_SIGNATURE):
        assert secret not in (text or ""), text


def assert_request_log_is_clean(records: list[logging.LogRecord], key: str,
                                submit_path: str) -> None:
    """The HTTP layer logged the submit and the polls at DEBUG (so the check below looked at
    something), each with its auth header masked, and no record holds the key."""
    lines = [r.getMessage() for r in records
             if r.name == "restyle.http" and r.levelno == logging.DEBUG]
    assert any(line.startswith("POST ") and submit_path in line for line in lines), lines
    assert any(line.startswith("GET ") for line in lines), lines
    sent = [line for line in lines if " -> " in line and "headers=" in line]
    assert sent and all("[REDACTED]" in line for line in sent if submit_path in line), sent
    for line in lines:
        assert key not in line, line
