"""Where an input image comes from, and reading it without trusting it.

A source is a local file path or an http(s) URL; nothing else is read. The engine's Preparer
(jobs from the CLI and the window) and the window's input panes (previews) both come through
here, so a hostile source gets the same sentence everywhere, naming the file and the problem:

- a source with control characters or bytes that are not UTF-8, or an address other than
  http(s) (ftp://, file://, data:), is refused by `classify` before anything is touched;
- anything that is not a regular file (a folder, /dev/zero, a named pipe, a socket) is refused
  from `os.stat` before it is opened; the file is then opened non-blocking and checked again
  with `os.fstat`, because the path could have been swapped in between;
- at most `max_bytes` + 1 bytes are ever read, whatever size the file claims;
- reading gives up after the time limit (a stalled network drive), in the worker and, should
  one read block, in the caller too (`load_file`);
- OS errors (a symlink loop, a path through a regular file, a name too long) become sentences;
- names are shown with control and invisible formatting characters escaped and long names
  shortened (`shown`), so a file name cannot rewrite a terminal or the window's error line.

Downloads belong to the providers' layer (httpx stays out of core): the URL loader applies the
URL limits, and the Preparer bounds its total time again (`within`).
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
import stat
import time
import unicodedata
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from desktop.core.humanize import human_bytes, human_duration
from desktop.core.limits import Limits, setting_name
from desktop.core.model import InvalidInput

T = TypeVar("T")

Kind = Literal["url", "file"]
#: Runs a blocking function in a worker: asyncio.to_thread, or the engine's CPU pool.
Runner = Callable[..., Awaitable[Any]]

HTTP_PREFIXES = ("http://", "https://")
#: Bytes asked of the OS per read: the time limit is checked between reads.
CHUNK = 1 << 20
#: How much of a name or address a sentence shows.
SHOWN_LIMIT = 120

# A scheme of two or more letters: "C:" is a Windows drive, not an address.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]+):")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


# -- what a source is -------------------------------------------------------------------------
def is_http_url(text: str) -> bool:
    """True for an http(s) URL with something after the scheme (the only remote sources)."""
    lowered = text[:8].lower()
    return any(lowered.startswith(p) and len(text) > len(p) for p in HTTP_PREFIXES)


def classify(source: str) -> Kind:
    """'url' for an http(s) address, 'file' for anything naming a local path.

    Raises InvalidInput for an empty source, one with control characters, and every other
    kind of address (ftp://, file://, data:, ...), each with a sentence saying what to do.
    A path that exists is a path even when it looks like an address ("notes:v2.png").
    """
    if not source or not source.strip():
        raise InvalidInput("No file or address was given.")
    check_name(source)
    if is_http_url(source):
        return "url"
    match = _SCHEME.match(source)
    if match is None or os.path.lexists(source):
        return "file"
    scheme = match.group(1).lower()
    if scheme == "file":
        path = urllib.request.url2pathname(urllib.parse.urlsplit(source).path)
        raise InvalidInput(
            f"{shown(source)} is a file:// address; give the file's path instead "
            f"({shown(path)})."
        )
    if scheme == "data":
        raise InvalidInput(
            f"{shown(source, 60)} is a data: URI, not a file or a web address; save the image "
            "to a file and give its path."
        )
    if scheme in ("http", "https"):
        raise InvalidInput(f"{shown(source)} is not a complete web address.")
    raise InvalidInput(
        f"{shown(source)} is a {scheme}: address; Restyle reads images from local files and "
        "http(s) addresses only. Download the image first, then give the file."
    )


def check_name(source: str) -> None:
    """InvalidInput when `source` holds a control character (a line break, an escape, NUL):
    such a name breaks terminals, logs and exports, and is almost always a mistake; or bytes
    that are not UTF-8 text (an old Latin-1 name): the history stores names as text."""
    # `isprintable` is false for every character `_is_control` finds: the common, clean name
    # is passed over in one C loop.
    found = None if source.isprintable() else next(
        (ch for ch in source if _is_control(ch)), None)
    if found is not None:
        raise InvalidInput(
            f"{shown(source)} contains a control character ({_escape(found)}) in its name; "
            "rename the file (or correct the address) and try again."
        )
    try:
        source.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(
            f"{shown(source)} has a name that is not UTF-8 text (the byte "
            f"{_escape(source[exc.start])}); rename the file and try again."
        ) from None


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code < 0xA0 or code in (0x2028, 0x2029)


# -- showing names safely ---------------------------------------------------------------------
def shown(text: str, limit: int = SHOWN_LIMIT) -> str:
    """`text` fit for a sentence: control, invisible formatting and undecodable characters
    escaped (\\n, \\x1b, \\u202e), and the middle of a long text replaced by an ellipsis."""
    # `_escape` changes only characters `isprintable` is false for (control, format, line and
    # paragraph separators, surrogates): a clean text is itself, found in one C loop.
    escaped = text if text.isprintable() else "".join(_escape(ch) for ch in text)
    if len(escaped) <= limit:
        return escaped
    head = (limit * 2) // 3
    tail = max(1, limit - head - 1)
    return escaped[:head] + "…" + escaped[-tail:]


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code < 0x20 or 0x7F <= code < 0xA0:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF or unicodedata.category(ch) in ("Cf", "Zl", "Zp"):
        return f"\\u{code:04x}"  # bidi overrides and zero-width characters disguise names
    return ch


def file_name(source: str) -> str:
    """The last part of a path, shown safely ('photo.jpg'); the whole path when it has none."""
    name = os.path.basename(os.path.normpath(source)) if source else ""
    return shown(name or source, 80)


def url_name(url: str) -> str:
    """A display name for a URL: its last path segment, else its host."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError:
        return shown(url, 80)
    segment = urllib.parse.unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
    return shown(segment or host or url, 80)


def shown_url(url: str) -> str:
    """A URL for a sentence: no user name or password, no query values (signed links carry
    tokens there), escaped and shortened like any name."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return shown(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = "?…" if parts.query else ""
    return shown(f"{parts.scheme}://{netloc}{parts.path}{query}")


def absolute_path(source: str) -> str:
    """The absolute path stored with a job ('~' expanded, links resolved); never raises."""
    path = os.path.abspath(os.path.expanduser(source))
    try:
        return os.path.realpath(path)
    except (OSError, ValueError, RuntimeError):
        return path


# -- reading files ----------------------------------------------------------------------------
def read_file(source: str, *, max_bytes: int, timeout_s: float,
              clock: Callable[[], float] = time.monotonic,
              limit_setting: str = "input_max_bytes") -> bytes:
    """The bytes of the regular file `source` names (blocking: run it in a worker).

    Refuses, with a sentence naming the file: control characters in the name, anything but a
    regular file, a file over `max_bytes` (by its size, or by what reading finds: a file may
    grow, and /proc files claim 0 bytes), a read that takes longer than `timeout_s`, and
    every OS error. `limit_setting` names the setting `max_bytes` came from, for the sentence.
    """
    started = clock()
    check_name(source)
    path = os.path.expanduser(source)
    name = file_name(path)
    try:
        before = os.stat(path)
    except OSError as exc:
        raise _os_problem(source, path, exc) from None
    except ValueError:  # an embedded NUL; check_name catches those first
        raise InvalidInput(f"{shown(source)} is not a valid file path.") from None
    _require_regular(source, before.st_mode)
    if before.st_size > max_bytes:
        raise _too_large(name, before.st_size, max_bytes, limit_setting)
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
             | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _os_problem(source, path, exc) from None
    try:
        _require_regular(source, os.fstat(fd).st_mode)  # swapped since the stat?
        chunks: list[bytes] = []
        total = 0
        while True:
            try:
                chunk = os.read(fd, min(CHUNK, max_bytes + 1 - total))
            except BlockingIOError:
                raise InvalidInput(
                    f"{shown(source)} is not ready to be read (another program holds it); "
                    "try again in a moment."
                ) from None
            except OSError as exc:
                raise _os_problem(source, path, exc) from None
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                raise _too_large(name, None, max_bytes, limit_setting)
            chunks.append(chunk)
            if clock() - started > timeout_s:
                raise too_slow(name, timeout_s)
        return b"".join(chunks)
    finally:
        os.close(fd)


async def load_file(source: str, limits: Limits, run: Runner | None = None) -> bytes:
    """`read_file` in a worker (`run`, default asyncio.to_thread) within the input limits.

    The worker checks the time between reads; a single read that blocks (a dead network
    mount) is abandoned here after the same limit, with the same sentence.
    """
    runner = run or asyncio.to_thread
    work = runner(read_file, source, max_bytes=limits.input_max_bytes,
                  timeout_s=limits.input_read_timeout_s)
    return await within(work, limits.input_read_timeout_s,
                        lambda: too_slow(file_name(source), limits.input_read_timeout_s))


async def within(work: Awaitable[T], seconds: float,
                 problem: Callable[[], Exception]) -> T:
    """Await `work` for at most `seconds`; after that raise `problem()` instead."""
    try:
        return await asyncio.wait_for(work, seconds)
    except TimeoutError:
        raise problem() from None


def too_slow(name: str, limit_s: float) -> InvalidInput:
    return InvalidInput(
        f"Reading {name} took longer than {human_duration(limit_s)} "
        f"({setting_name('input_read_timeout_s')} in settings.json); copy it to a local disk "
        "and try again."
    )


def _too_large(name: str, size: int | None, max_bytes: int,
               setting: str = "input_max_bytes") -> InvalidInput:
    actual = f"{name} is {human_bytes(size)}," if size is not None else f"{name} is"
    return InvalidInput(
        f"{actual} larger than the {human_bytes(max_bytes)} Restyle accepts for one image; "
        f"downscale or compress it first (the limit is {setting_name(setting)} in "
        "settings.json)."
    )


def _require_regular(source: str, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    where = shown(source)
    if stat.S_ISDIR(mode):
        raise InvalidInput(f"{where} is a folder, not an image file; choose the images in it.")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise InvalidInput(f"{where} is a device, not an image file.")
    if stat.S_ISFIFO(mode):
        raise InvalidInput(
            f"{where} is a named pipe (FIFO), not an image file; save the image to a file first."
        )
    if stat.S_ISSOCK(mode):
        raise InvalidInput(f"{where} is a socket, not an image file.")
    raise InvalidInput(f"{where} is not a regular file, so it cannot be an image file.")


def _os_problem(source: str, path: str, exc: OSError) -> InvalidInput:
    """The sentence for an OSError met while opening or reading `path`."""
    where = shown(source)
    code = exc.errno
    if code == errno.ENOENT:
        if os.path.islink(path):
            try:
                target = shown(os.readlink(path))
            except OSError:
                target = "a file"
            return InvalidInput(f"{where} is a link to {target}, which does not exist.")
        return InvalidInput(f"{where} does not exist; it may have been moved or deleted.")
    if code == errno.ELOOP:
        return InvalidInput(
            f"{where} cannot be opened: its symbolic links form a loop (a link that leads back "
            "to itself)."
        )
    if code == errno.ENOTDIR:
        blocker = _file_in_path(path)
        part = f" ({shown(blocker)})" if blocker else ""
        return InvalidInput(
            f"{where} cannot be opened: a part of its path{part} is a file, not a folder."
        )
    if code == errno.ENAMETOOLONG:
        longest = max((len(p) for p in path.split(os.sep)), default=0)
        return InvalidInput(
            f"{where} cannot be opened: the name is too long for this system ({longest} "
            f"characters in one name, {len(path)} in the whole path; most systems allow 255 "
            "and 4096)."
        )
    if code in (errno.EACCES, errno.EPERM):
        return InvalidInput(f"{where} cannot be read (permission denied).")
    if code == errno.EISDIR:
        return InvalidInput(f"{where} is a folder, not an image file; choose the images in it.")
    if code in (errno.ENXIO, errno.ENODEV):
        return InvalidInput(f"{where} is not a regular file, so it cannot be an image file.")
    reason = exc.strerror or type(exc).__name__
    return InvalidInput(f"{where} cannot be read ({reason}).")


def _file_in_path(path: str) -> str | None:
    """The first part of `path` that exists and is not a folder (why a path is ENOTDIR)."""
    current = os.path.abspath(path)
    parents: list[str] = []
    while True:
        parent = os.path.dirname(current)
        if parent == current:
            break
        parents.append(parent)
        current = parent
    for candidate in reversed(parents):
        try:
            if not stat.S_ISDIR(os.stat(candidate).st_mode):
                return candidate
        except (OSError, ValueError):
            return None
    return None
