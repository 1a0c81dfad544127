"""File names for exports: a template with fields, made safe on every operating system, unique,
and never outside the folder the user chose.

A template is text with fields in braces, `{input}-{provider}-{variation}`; the extension comes
from the export format. `/` (or `\\`) in the template's own text makes subfolders of the chosen
folder, `{provider}/{input}-{job}`; a field's value never does (its slashes become `_`). A
template cannot be absolute or climb out with `..`, and every name is resolved and checked to
stay inside the folder (a symbolic link inside it that points elsewhere is refused too).

Each folder or file name: characters unsafe on some system (`<>:"/\\|?*`, control characters,
bidirectional overrides) become `_`; leading dashes, dots and spaces and trailing dots and
spaces go; a Windows device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, ...) gets a `_` appended;
at most NAME_MAX_BYTES bytes of UTF-8, cut between characters; never empty. Without overwrite,
a name that exists (in any case: `Room.png` is `room.png` on Windows and macOS) becomes
`name (2).ext`, `name (3).ext`, ...; names are unique within one export run in any case.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import string
import unicodedata
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from desktop.core.model import InvalidInput, Job, OutputKind
from desktop.core.reviews import Review, Verdict

#: The fields a template may use, with what each becomes (for the error sentence and docs).
FIELDS: dict[str, str] = {
    "input": "the name of the job's first input file, without its extension",
    "provider": "the provider's id",
    "task": "the task's id",
    "variation": "the output's variation label, or its number (1, 2, ...)",
    "date": "the day the job was created, YYYY-MM-DD",
    "time": "the time the job was created, HH-MM-SS",
    "job": "the first 8 characters of the job's id",
    "rating": "the reviews' verdict and stars (pass-4star, fail, ...), empty when unreviewed",
    "n": "a counter within this export (001, 002, ...)",
    "batch": "the batch's name (else its id's first 8 characters), empty outside a batch",
}
DEFAULT_TEMPLATE = "{input}-{provider}-{task}-{job}-{variation}"
#: The most bytes (UTF-8) of one file or folder name's stem. File systems take 255; the rest is
#: room for " (NNN)", a listing suffix, the extension and a sidecar's suffix.
NAME_MAX_BYTES = 200
#: Subfolders a template may make, at most.
MAX_FOLDERS = 4
#: What a name with nothing left becomes.
FALLBACK = "image"
#: The roles whose first input names `{input}` (and is a result's "before"), in order.
BEFORE_ROLES = ("person", "room", "image", "garment")

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f-\x9f]+')
#: Invisible characters that reorder text: "photo\u202egnp.exe" shows as "photoexe.png".
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"}
    | {f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")}
)
_DOUBLED = re.compile(r"([-_. ])\1+")
_IMAGE_EXT = re.compile(r"\.(png|jpe?g|webp)$", re.IGNORECASE)
_MAX_COPIES = 100_000


def known_fields() -> str:
    return ", ".join("{" + name + "}" for name in FIELDS)


# -- templates ---------------------------------------------------------------------------------

Part = tuple[str, str | None]  # literal text, then a field name (None at the end)


@dataclass(frozen=True)
class Template:
    """A parsed file name template: folder segments, each a list of (text, field) parts."""

    text: str
    segments: tuple[tuple[Part, ...], ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        """The template, or InvalidInput with a sentence saying what is wrong with it."""
        if not text.strip():
            raise InvalidInput("The file name template is empty; use fields such as "
                               f"{DEFAULT_TEMPLATE}.")
        where = f"The file name template '{_shown(text)}'"
        normalized = text.replace("\\", "/")
        if normalized.startswith("/") or re.match(r"^[A-Za-z]:/", normalized):
            raise InvalidInput(f"{where} is an absolute path; give a name inside the folder "
                               "(use / only between subfolders).")
        raw_segments = normalized.split("/")
        if len(raw_segments) - 1 > MAX_FOLDERS:
            raise InvalidInput(f"{where} makes more than {MAX_FOLDERS} levels of subfolders.")
        segments: list[tuple[Part, ...]] = []
        for number, raw in enumerate(raw_segments):
            if raw.strip() in (".", ".."):
                raise InvalidInput(f"{where} may not use '{raw.strip()}': exports stay inside "
                                   "the chosen folder.")
            if not raw and number == len(raw_segments) - 1:
                raise InvalidInput(f"{where} ends with a folder separator; end it with a name.")
            if not raw:
                continue  # "a//b"
            segments.append(_parse_segment(raw, where))
        return cls(text, tuple(segments))

    @property
    def fields(self) -> set[str]:
        return {name for seg in self.segments for _, name in seg if name}

    def render(self, values: Mapping[str, str]) -> PurePosixPath:
        """The relative path (subfolders and the file's stem, no extension), every part safe.
        Folders that come out empty are left out; the file's stem is never empty."""
        parts: list[str] = []
        *folders, last = self.segments
        for seg in folders:
            name = _render_segment(seg, values)
            if name:
                parts.append(safe_name(name))
        stem = _IMAGE_EXT.sub("", _render_segment(last, values))
        parts.append(safe_name(stem))
        return PurePosixPath(*parts)


def _parse_segment(raw: str, where: str) -> tuple[Part, ...]:
    try:
        parsed = list(string.Formatter().parse(raw))
    except ValueError:
        raise InvalidInput(f"{where} has a '{{' or '}}' without its partner; write fields as "
                           f"{{name}} (known: {known_fields()}).") from None
    parts: list[Part] = []
    for literal, name, spec, conversion in parsed:
        if name is None:
            parts.append((literal, None))
            continue
        if name == "":
            raise InvalidInput(f"{where} has an empty field '{{}}'; known fields: "
                               f"{known_fields()}.")
        if name not in FIELDS:
            raise InvalidInput(f"{where} has an unknown field '{{{_shown(name, 40)}}}'; known "
                               f"fields: {known_fields()}.")
        if spec or conversion:
            raise InvalidInput(f"{where} formats the field '{{{name}}}' "
                               f"('{_shown(spec or '!' + str(conversion), 20)}'); write it "
                               f"plainly as {{{name}}}.")
        parts.append((literal, name))
    return tuple(parts)


def _render_segment(parts: Sequence[Part], values: Mapping[str, str]) -> str:
    text = "".join(lit + (_field_text(values.get(name, "")) if name else "")
                   for lit, name in parts)
    # An empty field leaves no doubled or dangling separator: "{input}--{job}" -> "a-b".
    return _DOUBLED.sub(r"\1", text).strip("-_. ")


def _field_text(value: str) -> str:
    """A field's value never makes folders: its slashes become _."""
    return value.replace("/", "_").replace("\\", "_")


def _shown(text: str, limit: int = 80) -> str:
    clean = "".join(ch if ch.isprintable() else "?" for ch in text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


# -- one safe name -----------------------------------------------------------------------------


def safe_name(text: str, *, max_bytes: int = NAME_MAX_BYTES) -> str:
    """One file or folder name (a stem: the caller adds the extension) safe on Windows, macOS
    and Linux; never empty, at most `max_bytes` bytes of UTF-8."""
    name = unicodedata.normalize("NFC", text)
    name = _BIDI.sub("", name)
    name = _UNSAFE.sub("_", name)
    name = _trim(name)
    name = _cut(name, max_bytes)
    if not name:
        name = FALLBACK
    if _reserved(name):
        base, dot, rest = name.partition(".")
        name = _cut(base.rstrip(" ") + "_" + dot + rest, max_bytes)
    return name


def _trim(name: str) -> str:
    return name.lstrip("-. ").rstrip(". ")


def _cut(name: str, max_bytes: int) -> str:
    """At most `max_bytes` of UTF-8, cut between characters (not inside one, nor before a
    combining mark), trimmed again."""
    data = name.encode("utf-8")
    if len(data) <= max_bytes:
        return name
    cut = data[:max_bytes].decode("utf-8", errors="ignore")
    while cut and unicodedata.combining(cut[-1]):
        cut = cut[:-1]
    while len(cut) < len(name) and unicodedata.combining(name[len(cut)]) and cut:
        cut = cut[:-1]  # the next character would have combined with the last one kept
    return _trim(cut)


def _reserved(name: str) -> bool:
    """A Windows device name, alone or with an extension: CON, nul.png, COM1.tar.gz."""
    return name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED


# -- field values ------------------------------------------------------------------------------


def input_stem(job: Job) -> str:
    """The stem of the first input's file name as the user gave it (a path or a URL's last
    path segment, never its query or user name); "" without one."""
    inputs = job.spec.inputs
    roles = [r for r in BEFORE_ROLES if inputs.get(r)] + sorted(
        r for r in inputs if r not in BEFORE_ROLES and inputs.get(r))
    if not roles:
        return ""
    source = inputs[roles[0]][0]
    if source.startswith("data:"):
        return ""
    if source.startswith(("http://", "https://")):
        path = urllib.parse.unquote(urllib.parse.urlsplit(source).path)
    else:
        path = source
    last = re.split(r"[/\\]", path.rstrip("/\\"))[-1]
    stem, dot, _ext = last.rpartition(".")
    return stem if dot and stem else last


def rating_word(reviews: Iterable[Review]) -> str:
    """The reviews of one output in a word: 'pass-4star' (every verdict pass, mean stars 4),
    'fail-2star', 'fail' (anyone failed it), '3star' (stars, no verdict), '' (unreviewed)."""
    reviews = list(reviews)
    verdicts = {r.verdict for r in reviews if r.verdict is not None}
    stars = [r.stars for r in reviews if r.stars is not None]
    parts: list[str] = []
    if Verdict.FAIL in verdicts:
        parts.append("fail")
    elif Verdict.PASS in verdicts:
        parts.append("pass")
    if stars:
        mean = sum(stars) / len(stars)
        parts.append(f"{int(mean + 0.5)}star")  # half up: 3.5 stars is 4
    return "-".join(parts)


def group_reviews(reviews: Iterable[Review]) -> dict[tuple[str, int], list[Review]]:
    """Reviews by (job id, output position), the mapping `field_values` reads ratings from."""
    grouped: dict[tuple[str, int], list[Review]] = {}
    for review in reviews:
        grouped.setdefault((review.job_id, review.position), []).append(review)
    return grouped


def variation(job: Job, position: int) -> str:
    """The output's label when the job's image outputs have distinct labels (a staging
    service's "modern variation 2"), else its number counted from 1."""
    images = [o for o in job.outputs if o.kind == OutputKind.IMAGE]
    labels = [o.label.strip() for o in images]
    if len(images) > 1 and all(labels) and len(set(labels)) == len(labels):
        found = next((o.label.strip() for o in images if o.position == position), "")
        if found:
            return found
    return str(position + 1)


def field_values(job: Job, position: int, *, n: int = 1, n_width: int = 3,
                 ratings: Mapping[tuple[str, int], Sequence[Review]] | None = None,
                 batch: str = "") -> dict[str, str]:
    """Every field's value for output `position` of `job` (not yet made safe: render does)."""
    created = dt.datetime.fromtimestamp(job.created_at)
    return {
        "input": input_stem(job),
        "provider": job.provider,
        "task": job.task,
        "variation": variation(job, position),
        "date": created.strftime("%Y-%m-%d"),
        "time": created.strftime("%H-%M-%S"),
        "job": job.id[:8],
        "rating": rating_word((ratings or {}).get((job.id, position), ())),
        "n": str(n).zfill(n_width),
        "batch": batch,
    }


# -- unique names inside the folder -------------------------------------------------------------


class NameBook:
    """Hands out file paths inside `folder`: unique within this export (ignoring case, as
    Windows and macOS do), and, unless `overwrite`, not the name of a file that exists."""

    def __init__(self, folder: Path, *, overwrite: bool = False) -> None:
        self.folder = folder
        self.root = folder.resolve()
        self.overwrite = overwrite
        self._taken: set[str] = set()
        self._listed: dict[Path, set[str]] = {}

    def reserve(self, stem: PurePosixPath, suffixes: Sequence[str]) -> list[Path]:
        """Paths `<stem><suffix>` for every suffix (an image and the files that go with it,
        or a listing set's original and staged photo), all free under one stem: `stem`,
        else `stem (2)`, `stem (3)`, ... InvalidInput when the path would leave the folder."""
        *folders, base = stem.parts
        for copy in range(1, _MAX_COPIES + 1):
            tag = "" if copy == 1 else f" ({copy})"
            name = _cut(base, NAME_MAX_BYTES - len(tag.encode())) + tag
            paths = [self.folder.joinpath(*folders, name + suffix) for suffix in suffixes]
            keys = [self._key(p) for p in paths]
            if any(k in self._taken for k in keys) or len(set(keys)) < len(keys):
                continue
            if not self.overwrite and any(self._exists(p) for p in paths):
                continue
            for path in paths:
                self.check_inside(path)
            self._taken.update(keys)
            return paths
        raise InvalidInput(f"There are more than {_MAX_COPIES} files named like {base} in "
                           f"{self.folder}; choose another folder or template.")

    def release(self, paths: Iterable[Path]) -> None:
        """Give names back (a file that was not written after all)."""
        for path in paths:
            self._taken.discard(self._key(path))

    def check_inside(self, path: Path) -> None:
        """InvalidInput unless `path`, with every link followed, is inside the folder."""
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root) or resolved == self.root:
            raise InvalidInput(f"{path.name} would be written outside {self.folder} (a "
                               "subfolder there links elsewhere); choose another template or "
                               "folder.")

    def _exists(self, path: Path) -> bool:
        """A file of this name is there, also in another case (which is the same file on
        Windows and macOS, and would be once the folder is copied there)."""
        if os.path.lexists(path):
            return True
        folder = path.parent
        if folder not in self._listed:
            try:
                self._listed[folder] = {_fold(n) for n in os.listdir(folder)}
            except OSError:
                self._listed[folder] = set()
        return _fold(path.name) in self._listed[folder]

    def _key(self, path: Path) -> str:
        return _fold(os.path.relpath(path, self.folder))


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()
