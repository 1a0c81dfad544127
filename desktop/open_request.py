"""What `restyle FILE... [--role ROLE] [--compare A B...]` asks the window to open, and the
versioned JSON a second `restyle` hands to the running window (see desktop/single_instance.py).

Arguments are made absolute in the process that got them (the running window has another
working directory): a path is taken relative to the caller's working directory, a file:// URI
(what a desktop entry's `%F`/`%U` may pass) becomes its local path, and an http(s) address is
kept as it is (an input pane downloads it, or says why it cannot).

Wire format, one message per connection, one JSON object per line (UTF-8, newline-terminated):

    request  {"v": 1, "kind": "open", "files": [...], "role": null, "compare": [...],
              "notes": [...]}
             {"v": 1, "kind": "raise"}
    answer   {"v": 1, "ok": true} | {"v": 1, "ok": false, "error": "<sentence>"}

Anything else (another version, a missing or mistyped field, a relative path, a line over
MAX_LINE bytes) is refused with a sentence; the window logs it and opens nothing.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from desktop.ui.role_words import KINDS

#: The protocol version this Restyle speaks.
VERSION = 1
#: The longest request or answer line accepted, in bytes (a few thousand paths).
MAX_LINE = 1 << 20
MAX_FILES = 1000
MAX_TEXT = 4096  # one path, address or note
MAX_NOTES = 100
#: What `--role` takes: the panes' kinds.
ROLES: tuple[str, ...] = KINDS


class ProtocolError(ValueError):
    """A message that is not a valid request or answer; the text says what is wrong."""


@dataclass(frozen=True)
class OpenRequest:
    """Files for the input panes (`role` None: by the current task's order of roles), files
    for the compare view, and sentences about arguments that name no file (`notes`).
    `kind` "raise" only brings the window to the front."""

    files: tuple[str, ...] = ()
    role: str | None = None
    compare: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    kind: str = "open"

    @property
    def empty(self) -> bool:
        return not (self.files or self.compare or self.notes)

    def describe(self) -> str:
        """For log lines: what is asked, with file names only."""
        if self.kind == "raise":
            return "bring the window to the front"
        parts = []
        if self.files:
            names = ", ".join(_name(f) for f in self.files[:10])
            more = f" and {len(self.files) - 10} more" if len(self.files) > 10 else ""
            role = f" as {self.role}" if self.role else ""
            parts.append(f"{len(self.files)} file(s){role}: {names}{more}")
        if self.compare:
            parts.append(f"{len(self.compare)} file(s) to compare")
        if self.notes:
            parts.append(f"{len(self.notes)} argument(s) refused")
        return "; ".join(parts) or "nothing"


def _name(source: str) -> str:
    return source.rstrip("/").rsplit("/", 1)[-1].rsplit(os.sep, 1)[-1] or source


def argument_source(argument: str, cwd: str) -> str:
    """The absolute path (or http(s) address) a command-line argument names.

    Raises ProtocolError with a sentence for a file:// URI on another host and for an empty
    argument."""
    text = argument.strip()
    if not text:
        raise ProtocolError("An empty file name was given; name an image file.")
    scheme = urllib.parse.urlsplit(text).scheme.lower() if "://" in text else ""
    if text[:5].lower() == "file:":  # file:///x, file://localhost/x and file:/x alike
        parts = urllib.parse.urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            raise ProtocolError(
                f"{text} is a file on another computer ({parts.netloc}); copy it to this one "
                "and open the copy.")
        return os.path.abspath(urllib.request.url2pathname(parts.path))
    if scheme:  # http(s) opens in a pane; other schemes get the pane's own sentence
        return text
    return os.path.abspath(os.path.join(cwd, os.path.expanduser(text)))


def sources_from_arguments(arguments: Iterable[str], cwd: str) -> tuple[list[str], list[str]]:
    """(sources, sentences): each argument as `argument_source` makes it, or why not."""
    sources: list[str] = []
    notes: list[str] = []
    for argument in arguments:
        try:
            sources.append(argument_source(str(argument), cwd))
        except ProtocolError as exc:
            notes.append(str(exc))
    return sources, notes


def request_from_arguments(files: Iterable[str], role: str | None, compare: Iterable[str],
                           cwd: str) -> OpenRequest:
    """The request the command line makes; "raise" when it names no file at all."""
    sources, notes = sources_from_arguments(files, cwd)
    compared, compare_notes = sources_from_arguments(compare, cwd)
    if not (sources or compared or notes or compare_notes):
        return OpenRequest(kind="raise")
    return OpenRequest(tuple(sources), role, tuple(compared), tuple(notes + compare_notes))


# -- wire format ------------------------------------------------------------------------------
def encode_request(request: OpenRequest) -> bytes:
    if request.kind == "raise":
        message: dict[str, Any] = {"v": VERSION, "kind": "raise"}
    else:
        message = {"v": VERSION, "kind": "open", "files": list(request.files),
                   "role": request.role, "compare": list(request.compare),
                   "notes": list(request.notes)}
    return _line(message)


def encode_answer(error: str = "") -> bytes:
    return _line({"v": VERSION, "ok": not error, **({"error": error} if error else {})})


def _line(message: dict[str, Any]) -> bytes:
    data = json.dumps(message, ensure_ascii=False).encode("utf-8") + b"\n"
    if len(data) > MAX_LINE:
        raise ProtocolError(f"The request is too long ({len(data)} bytes); open fewer files.")
    return data


def _object(line: bytes) -> dict[str, Any]:
    if len(line) > MAX_LINE:
        raise ProtocolError(f"the message is longer than {MAX_LINE} bytes")
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError("the message is not JSON") from None
    if not isinstance(message, dict):
        raise ProtocolError("the message is not a JSON object")
    version = message.get("v")
    if version != VERSION or isinstance(version, bool):
        raise ProtocolError(f"protocol version {version!r} is not {VERSION}")
    return message


def _texts(message: dict[str, Any], key: str, limit: int, *, sources: bool) -> tuple[str, ...]:
    value = message.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProtocolError(f"{key!r} is not a list of strings")
    if len(value) > limit:
        raise ProtocolError(f"{key!r} has more than {limit} entries")
    for text in value:
        if not text or len(text) > MAX_TEXT or "\0" in text or "\n" in text:
            raise ProtocolError(f"{key!r} holds an empty, over-long or multi-line entry")
        if sources and not (os.path.isabs(text) or "://" in text):
            raise ProtocolError(f"{key!r} holds a relative path")
    return tuple(value)


def decode_request(line: bytes) -> OpenRequest:
    """The request in one line; ProtocolError says what is wrong with it."""
    message = _object(line)
    kind = message.get("kind")
    if kind == "raise":
        return OpenRequest(kind="raise")
    if kind != "open":
        raise ProtocolError(f"unknown kind {kind!r}")
    role = message.get("role")
    if role is not None and role not in ROLES:
        raise ProtocolError(f"unknown role {role!r}")
    files = _texts(message, "files", MAX_FILES, sources=True)
    compare = _texts(message, "compare", MAX_FILES, sources=True)
    notes = _texts(message, "notes", MAX_NOTES, sources=False)
    request = OpenRequest(files, role, compare, notes)
    if request.empty:
        raise ProtocolError("an open request names no file")
    return request


@dataclass(frozen=True)
class Answer:
    ok: bool
    error: str = field(default="")


def decode_answer(line: bytes) -> Answer:
    message = _object(line)
    ok = message.get("ok")
    error = message.get("error", "")
    if not isinstance(ok, bool) or not isinstance(error, str):
        raise ProtocolError("the answer has no 'ok' flag")
    return Answer(ok, error[:MAX_TEXT])
