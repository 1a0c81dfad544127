"""Exporting a selection of jobs to files in a folder: what to write (`ExportOptions`), where
it reads (`ExportSources`), and the run itself (`export_jobs`), which reports every file it
wrote and everything it skipped with the reason.

Each file is written to a hidden temporary file beside its final name, flushed to disk and
then given its name (without overwrite, by a hard link that fails if the name was taken in
the meantime), so a crash, a full disk or a cancel never leaves half a file under a real
name. Cancel is checked between files.

Two hooks let other modules add to every image without this one knowing them:
- `stamp(data, fmt, job, position) -> data`: called on the encoded bytes of every image made
  from an output (the output itself, a composite, a labelled listing photo) before it is
  named and written; returns the bytes to write (metadata added, say). It is not called on a
  listing set's unaltered original: that is the user's photo, not something a provider made.
- `extra_files(image) -> {suffix: bytes}`: called after `stamp` with an `ExportedImage` (the
  original included, `kind == "original"`); each entry is written beside the image as
  `<image file name><suffix>` (".json" gives `room-1.jpg.json`). The image and its extra
  files get their names together, all free, and are written in one step of the run.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from desktop.core import imaging
from desktop.core.assets import AssetStore
from desktop.core.exports import composites, encode
from desktop.core.exports.composites import ListingLabel
from desktop.core.exports.naming import BEFORE_ROLES, DEFAULT_TEMPLATE, NameBook, Template
from desktop.core.exports.naming import field_values as name_fields
from desktop.core.limits import Limits
from desktop.core.model import Asset, InvalidInput, Job, JobState, Output, OutputKind
from desktop.core.reviews import Review

if TYPE_CHECKING:
    from PIL import Image

COMPOSITES = ("none", "side", "split")
MIN_MAX_SIDE = 64
#: Listing set names: the original sorts before its staged photo, whatever the template.
ORIGINAL_SUFFIX = "-1-original"
STAGED_SUFFIX = "-2-staged"
_EXTRA_SUFFIX_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
_MIME_FORMATS = {mime: fmt for fmt, mime in encode.EXPORT_FORMATS.items()}


@dataclass(frozen=True)
class ExportOptions:
    """What an export writes. `all_outputs`: every image output of each job (every staging
    variation), else its first. `composite`: "none", "side" (before | after) or "split" (cut
    at `split_at`, 0..1 of the width). `listing`: for each output, the unaltered original and
    the output with `label` drawn on it. `max_side` applies before any caption or label is
    drawn, so they keep their size relative to the picture."""

    format: str = "png"
    quality: int = encode.DEFAULT_QUALITY
    max_side: int | None = None
    template: str = DEFAULT_TEMPLATE
    all_outputs: bool = False
    composite: str = "none"
    split_at: float = 0.5
    caption: bool = False
    listing: bool = False
    label: ListingLabel = field(default_factory=ListingLabel)
    overwrite: bool = False

    def checked(self) -> ExportOptions:
        """The options with the label tidied, or InvalidInput with a sentence."""
        encode.mime_for_format(self.format)
        encode.checked_quality(self.quality)
        if self.max_side is not None and not MIN_MAX_SIDE <= self.max_side <= 65535:
            raise InvalidInput(f"The longest side must be between {MIN_MAX_SIDE} and 65535 "
                               f"pixels (got {self.max_side}).")
        Template.parse(self.template)
        if self.composite not in COMPOSITES:
            raise InvalidInput(f"The composite '{self.composite}' is not one of "
                               f"{', '.join(COMPOSITES)}.")
        if not 0.0 <= self.split_at <= 1.0 or math.isnan(self.split_at):
            raise InvalidInput(f"The split position must be between 0 and 1 (got "
                               f"{self.split_at}): 0.5 cuts the picture in the middle.")
        label = self.label
        if self.listing:
            if self.composite != "none":
                raise InvalidInput("A listing set holds the original and the staged photo as "
                                   "separate files; choose a listing set or a composite, not "
                                   "both.")
            if self.caption:
                raise InvalidInput("Listing photos carry the disclosure label, not a caption; "
                                   "turn the caption off for a listing set.")
            label = label.checked()
        return replace(self, label=label)


@dataclass(frozen=True)
class ExportSources:
    """Where an export reads: the asset store, the history's asset rows (`find_asset`, e.g.
    History.asset) and the limits files are decoded within; and facts for names and captions:
    reviews by (job id, output position), batch names by job id, provider titles by id."""

    assets: AssetStore
    find_asset: Callable[[str], Asset | None]
    limits: Limits = field(default_factory=Limits)
    ratings: Mapping[tuple[str, int], Sequence[Review]] = field(default_factory=dict)
    batches: Mapping[str, str] = field(default_factory=dict)
    provider_titles: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportedImage:
    """One image about to be written, as the `extra_files` hook sees it. `kind`: "output",
    "composite", "listing" (a staged photo with its label) or "original" (a listing set's
    unaltered input photo)."""

    job: Job
    position: int
    kind: str
    format: str
    data: bytes


@dataclass(frozen=True)
class Written:
    path: Path
    job_id: str
    position: int
    kind: str
    extra: tuple[Path, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "job_id": self.job_id, "output": self.position + 1,
                "kind": self.kind, "extra": [str(p) for p in self.extra]}


@dataclass(frozen=True)
class Skipped:
    job_id: str
    position: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"job_id": self.job_id,
                "output": None if self.position is None else self.position + 1,
                "reason": self.reason}


@dataclass
class ExportReport:
    """What a run did: files written (in order), what was skipped and why, whether it was
    cancelled, and the sentence that stopped it early (a folder that stopped taking files)."""

    folder: Path
    written: list[Written] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    cancelled: bool = False
    stopped: str | None = None

    @property
    def complete(self) -> bool:
        return not (self.skipped or self.cancelled or self.stopped)

    def to_dict(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "written": [w.to_dict() for w in self.written],
                "skipped": [s.to_dict() for s in self.skipped], "cancelled": self.cancelled,
                "stopped": self.stopped}


Stamp = Callable[[bytes, str, Job, int], bytes]
ExtraFiles = Callable[[ExportedImage], Mapping[str, bytes]]
#: progress(done, total, sentence): after each output (written or skipped).
Progress = Callable[[int, int, str], None]


class _Skip(Exception):
    """This output is skipped; the message says why."""


@dataclass(frozen=True)
class _Item:
    job: Job
    output: Output
    n: int


@dataclass(frozen=True)
class _File:
    kind: str
    fmt: str
    data: bytes
    suffix: str  # after the stem: "-1-original.png", ".jpg"
    extra: Mapping[str, bytes]


def plan(jobs: Sequence[Job], options: ExportOptions) -> tuple[list[_Item], list[Skipped]]:
    """The outputs an export writes, and the jobs (or outputs) it skips with the reason."""
    items: list[_Item] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for job in jobs:
        if job.id in seen:
            continue
        seen.add(job.id)
        if job.state != JobState.SUCCEEDED:
            skipped.append(Skipped(job.id, None, _not_succeeded(job)))
            continue
        images = [o for o in job.outputs if o.kind == OutputKind.IMAGE]
        if not images:
            kinds = ", ".join(sorted({str(o.kind) for o in job.outputs})) or "nothing"
            skipped.append(Skipped(job.id, None, f"it has no image output (it made {kinds})."))
            continue
        chosen = job.outputs if options.all_outputs else (images[0],)
        for out in chosen:
            if out.kind != OutputKind.IMAGE:
                skipped.append(Skipped(job.id, out.position,
                                       f"output {out.position + 1} is a {out.kind}, not an "
                                       "image."))
                continue
            items.append(_Item(job, out, len(items) + 1))
    return items, skipped


def _not_succeeded(job: Job) -> str:
    why = f": {job.error.message}" if job.error is not None else "."
    if job.state.terminal:
        return f"it {job.state.title.lower()}{why}" if job.state != JobState.CANCELLED else (
            f"it was cancelled{why}")
    return f"it has not finished ({job.state.title.lower()}); export it once it has."


def export_jobs(jobs: Sequence[Job], folder: Path, options: ExportOptions,
                sources: ExportSources, *, progress: Progress | None = None,
                cancelled: Callable[[], bool] | None = None, stamp: Stamp | None = None,
                extra_files: ExtraFiles | None = None) -> ExportReport:
    """Write the selected jobs' outputs into `folder` (blocking: run it in a worker).

    InvalidInput (before anything is written) for options that cannot work or a folder that
    cannot be made. Everything else lands in the report: an output that cannot be read or
    encoded is skipped with the reason and the run goes on; a folder that stops taking files
    (full disk, permissions) stops the run with `stopped` set."""
    options = options.checked()
    template = Template.parse(options.template)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"Cannot create the folder {folder} ({exc.strerror or exc}); "
                           "choose another.") from None
    items, skipped = plan(jobs, options)
    report = ExportReport(folder, skipped=list(skipped))
    book = NameBook(folder, overwrite=options.overwrite)
    width = max(3, len(str(len(items))))
    for done, item in enumerate(items, 1):
        if cancelled is not None and cancelled():
            report.cancelled = True
            break
        job, out = item.job, item.output
        try:
            files = _make(item, options, sources, stamp, extra_files)
            stem = template.render(name_fields(
                job, out.position, n=item.n, n_width=width, ratings=sources.ratings,
                batch=sources.batches.get(job.id, "")))
            written = _write_group(book, stem, files)
        except (_Skip, InvalidInput, MemoryError) as exc:
            reason = str(exc) if not isinstance(exc, MemoryError) else (
                "there is not enough memory to make it; export it with a smaller longest "
                "side, or without a composite.")
            report.skipped.append(Skipped(job.id, out.position, reason))
            _tell(progress, done, len(items), f"Skipped output {out.position + 1} of job "
                                              f"{job.id[:8]}: {reason}")
            continue
        except OSError as exc:
            report.stopped = (f"Could not write into {folder} ({exc.strerror or exc}); the "
                              f"export stopped after {len(report.written)} files. Free some "
                              "space or choose another folder.")
            _tell(progress, done, len(items), report.stopped)
            break
        for path, file in written:
            report.written.append(Written(path[0], job.id, out.position, file.kind, path[1]))
        names = ", ".join(p[0].name for p, _ in written)
        _tell(progress, done, len(items), f"Wrote {names}")
    return report


def _tell(progress: Progress | None, done: int, total: int, text: str) -> None:
    if progress is not None:
        progress(done, total, text)


# -- making the files ----------------------------------------------------------------------------


def _make(item: _Item, options: ExportOptions, sources: ExportSources, stamp: Stamp | None,
          extra_files: ExtraFiles | None) -> list[_File]:
    job, out = item.job, item.output
    data = _read_output(job, out, sources)
    name = f"output {out.position + 1} of job {job.id[:8]}"
    fmt = options.format
    ext = encode.EXTENSIONS[fmt]
    made: list[tuple[str, str, bytes, str]] = []  # kind, format, bytes, suffix

    def result() -> Image.Image:
        return composites.fit_long_side(_open(data, name, _result_pixels(sources)),
                                        options.max_side)

    def encoded(picture: Image.Image) -> bytes:
        return encode.encode_image(picture, fmt, quality=options.quality, what=name)

    if options.listing:
        original, original_mime = _read_before(job, sources, "original photo")
        original_fmt = _MIME_FORMATS.get(original_mime)
        if original_fmt is None:  # not one of the export formats: PNG keeps every pixel
            original_fmt = "png"
            img = _open(original, "the original photo", _before_pixels(sources))
            original = encode.encode_image(img, "png", what="the original photo")
        made.append(("original", original_fmt, original,
                     ORIGINAL_SUFFIX + encode.EXTENSIONS[original_fmt]))
        staged = composites.draw_label(result(), options.label)
        made.append(("listing", fmt, encoded(staged), STAGED_SUFFIX + ext))
    elif options.composite != "none":
        before_data, _mime = _read_before(job, sources, "before image")
        before = _open(before_data, "the before image", _before_pixels(sources))
        after = result()
        picture = (composites.side_by_side(before, after) if options.composite == "side"
                   else composites.split(before, after, options.split_at))
        picture = _captioned(picture, job, options, sources, composite=True)
        made.append(("composite", fmt, encoded(picture), ext))
    elif options.caption or _shrinks(out, options.max_side):
        picture = _captioned(result(), job, options, sources, composite=False)
        made.append(("output", fmt, encoded(picture), ext))
    else:  # the output as it is (a PNG's bytes untouched), in the chosen format
        made.append(("output", fmt, encode.export_image(
            data, name, fmt, quality=options.quality, max_pixels=_result_pixels(sources)), ext))
    files = []
    for kind, file_fmt, raw, suffix in made:
        final = raw if kind == "original" or stamp is None else stamp(raw, file_fmt, job,
                                                                      out.position)
        extra = dict(extra_files(ExportedImage(job, out.position, kind, file_fmt, final))
                     ) if extra_files is not None else {}
        for extra_suffix in extra:
            _check_extra_suffix(extra_suffix)
        files.append(_File(kind, file_fmt, final, suffix, extra))
    return files


def _captioned(picture: Image.Image, job: Job, options: ExportOptions,
               sources: ExportSources, *, composite: bool) -> Image.Image:
    """The picture with its caption band, the whole within `max_side` (the picture is made
    smaller to leave room for the band; the band's type keeps its share of the picture)."""
    if not options.caption:
        return composites.fit_long_side(picture, options.max_side)
    picture = composites.fit_long_side(picture, options.max_side)
    if options.max_side:
        over = picture.height + composites.caption_band_height(picture.size) - options.max_side
        if over > 0:  # the band would make the picture too tall: leave it room
            picture = composites.scaled(picture, (picture.height - over) / picture.height)
    title = sources.provider_titles.get(job.provider, job.provider)
    return composites.add_caption(picture, composites.caption_text(
        title, job.task, job.created_at, composite=composite))


def _shrinks(out: Output, max_side: int | None) -> bool:
    """Whether `max_side` makes the output smaller (an output of unknown size: maybe)."""
    if not max_side:
        return False
    return not (out.width and out.height and max(out.width, out.height) <= max_side)


def _result_pixels(sources: ExportSources) -> int:
    return sources.limits.result_max_pixels


def _before_pixels(sources: ExportSources) -> int:
    """A before is an input (its own limit) or, for some providers, a result-sized image."""
    return max(sources.limits.result_max_pixels, sources.limits.input_max_pixels)


def _open(data: bytes, name: str, max_pixels: int) -> Image.Image:
    try:
        return imaging.open_image(data, name, max_pixels=max_pixels)
    except MemoryError:
        raise _Skip(f"there is not enough memory to open {name}; close other programs or "
                    "export it alone.") from None


def _read_output(job: Job, out: Output, sources: ExportSources) -> bytes:
    try:
        return sources.assets.path_for(out.sha256, out.mime).read_bytes()
    except OSError:
        raise _Skip(f"the file of output {out.position + 1} is missing from Restyle's asset "
                    "store (it may have been deleted).") from None


def _read_before(job: Job, sources: ExportSources, what: str) -> tuple[bytes, str]:
    """The job's first person, room, image or garment input as stored: (bytes, mime)."""
    sha = next((job.inputs[r][0] for r in BEFORE_ROLES if job.inputs.get(r)), None)
    if sha is None:
        sha = next((shas[0] for shas in job.inputs.values() if shas), None)
    if sha is None:
        raise _Skip(f"the job has no {what} stored (the provider worked from its own copy).")
    asset = sources.find_asset(sha)
    if asset is None:
        raise _Skip(f"the job's {what} is not in the history any more.")
    try:
        return sources.assets.read(asset), asset.mime
    except OSError:
        raise _Skip(f"the job's {what} is missing from Restyle's asset store.") from None


def _check_extra_suffix(suffix: str) -> None:
    """An extra file's suffix: '.json', '.c2pa': a dot, then letters, digits, '.', '_', '-'."""
    if not (2 <= len(suffix) <= 32 and suffix.startswith(".") and set(suffix) <=
            _EXTRA_SUFFIX_CHARS and ".." not in suffix):
        raise ValueError(f"An extra file's suffix must look like '.json', not {suffix!r}.")


# -- writing -------------------------------------------------------------------------------------


def _write_group(book: NameBook, stem: PurePosixPath, files: Sequence[_File]
                 ) -> list[tuple[tuple[Path, tuple[Path, ...]], _File]]:
    """Name the files together (every image with its extra files) and write them; a name
    someone else took meanwhile makes the whole group take the next free name."""
    suffixes: list[str] = []
    for file in files:
        suffixes.append(file.suffix)
        suffixes.extend(file.suffix + extra for extra in file.extra)
    for _attempt in range(5):
        paths = book.reserve(stem, suffixes)
        _make_folders(book, paths[0].parent)
        done: list[Path] = []
        try:
            for file_paths, data in zip(paths, _contents(files), strict=True):
                publish(file_paths, data, overwrite=book.overwrite)
                done.append(file_paths)
        except FileExistsError:
            for path in done:  # ours, just written: give the whole group another name
                with contextlib.suppress(OSError):
                    path.unlink()
            continue
        except BaseException:
            for path in done:
                book.release([path])
            raise
        result = []
        index = 0
        for file in files:
            own = paths[index]
            extras = tuple(paths[index + 1: index + 1 + len(file.extra)])
            index += 1 + len(file.extra)
            result.append(((own, extras), file))
        return result
    raise InvalidInput(f"Other programs keep creating files named like {stem.name} in "
                       f"{book.folder}; choose another folder.")


def _make_folders(book: NameBook, folder: Path) -> None:
    """The template's subfolders; InvalidInput when a file stands where one must go."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InvalidInput(f"{folder.relative_to(book.folder)} in {book.folder} is a file, so "
                           "the template's subfolder cannot be made there; rename the file or "
                           "change the template.") from None
    book.check_inside(folder / "x")


def _contents(files: Sequence[_File]) -> list[bytes]:
    data: list[bytes] = []
    for file in files:
        data.append(file.data)
        data.extend(file.extra.values())
    return data


def publish(path: Path, data: bytes, *, overwrite: bool) -> None:
    """Write `data` to a hidden temporary file beside `path`, flush it to disk, then give it
    its name: replacing a file there with `overwrite`, else failing with FileExistsError if
    the name is taken (a hard link is atomic and never replaces). Nothing is left behind on
    failure or interruption."""
    fd, tmp = tempfile.mkstemp(prefix=".restyle-export-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise
            except OSError:  # no hard links here (FAT, some network shares)
                if os.path.lexists(path):
                    raise FileExistsError(path) from None
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
