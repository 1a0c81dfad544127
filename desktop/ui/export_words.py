"""What the export dialog says in plain words: the summary before an export ("12 images from 6
jobs into ~/Listing 14, JPEG 90 %"), the line after it (what was written, what was skipped and
why), and the same export as a `restyle-cli export` command for the Advanced section. No Qt."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.core.exports.composites import DEFAULT_CORNER, DEFAULT_LABEL, DEFAULT_LABEL_SIZE
from desktop.core.exports.naming import DEFAULT_TEMPLATE
from desktop.general_settings import EXPORT_FORMAT_LABELS, LOSSY_FORMATS

if TYPE_CHECKING:  # the export itself (and its Pillow work) loads when an export starts
    from desktop.core.exports.files import ExportOptions, ExportReport, Skipped

#: Skip reasons listed in the status line; the rest are counted.
SHOWN_REASONS = 3


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def short_folder(folder: Path) -> str:
    """The folder as people read it: ~/Listing 14 under the home folder."""
    try:
        return "~/" + folder.relative_to(Path.home()).as_posix()
    except ValueError:
        return str(folder)


def format_words(options: ExportOptions) -> str:
    """'JPEG 90 %', 'PNG', 'WebP 80 %, at most 2048 px'."""
    words = EXPORT_FORMAT_LABELS.get(options.format, options.format.upper())
    if options.format in LOSSY_FORMATS:
        words += f" {options.quality} %"
    if options.max_side:
        words += f", at most {options.max_side} px"
    return words


def summary(*, images: int, jobs: int, skipped: Sequence[Skipped], folder: Path | None,
            options: ExportOptions, sidecar: bool, c2pa: bool) -> str:
    """One or two sentences saying what pressing Export will write."""
    if images == 0:
        text = "Nothing to export: "
        if skipped:
            text += f"{plural(len(skipped), 'job')} without a finished image result."
        else:
            text += "choose jobs with a result."
        return text
    if options.listing:
        what = (f"{plural(images, 'staged photo')}, each after its original "
                f"({plural(images * 2, 'file')}),")
    elif options.composite == "side":
        what = f"{plural(images, 'before | after image')} side by side"
    elif options.composite == "split":
        what = f"{plural(images, 'before | after image')} split at {options.split_at:.0%}"
    else:
        what = plural(images, "image")
    where = short_folder(folder) if folder is not None else "the folder you choose"
    text = f"{what} from {plural(jobs, 'job')} into {where}, {format_words(options)}."
    extras = []
    if sidecar:
        extras.append("a JSON sidecar beside each")
    if c2pa:
        extras.append("signed with C2PA")
    if extras:
        text = text[:-1] + "; " + " and ".join(extras) + "."
    if skipped:
        text += f" {plural(len(skipped), 'job')} left out (no finished image result)."
    return text[0].upper() + text[1:]


def skipped_words(skipped: Sequence[Skipped]) -> str:
    """'Skipped 2: job 1a2b3c4d: it failed: ...; job ...: ...' (the first few, then a count)."""
    if not skipped:
        return ""
    parts = []
    for skip in skipped[:SHOWN_REASONS]:
        which = "" if skip.position is None else f" output {skip.position + 1}"
        parts.append(f"job {skip.job_id[:8]}{which}: {skip.reason.rstrip('.')}")
    more = len(skipped) - SHOWN_REASONS
    tail = f"; and {more} more" if more > 0 else ""
    return f"Skipped {len(skipped)}: " + "; ".join(parts) + tail + "."


def report_words(report: ExportReport) -> str:
    """The status line after an export: what was written where, what was skipped and why."""
    folder = short_folder(report.folder)
    written = len(report.written)
    extra = sum(len(w.extra) for w in report.written)
    files = plural(written, "file") + (f" (and {plural(extra, 'sidecar')})" if extra else "")
    if report.cancelled:
        head = (f"Cancelled: {files} written into {folder}, each complete; nothing after "
                "them.")
    elif report.stopped:
        head = report.stopped
    elif written == 0:
        head = f"Nothing was written into {folder}."
    else:
        head = f"Wrote {files} into {folder}."
    skipped = skipped_words(report.skipped)
    return f"{head} {skipped}".strip()


def cli_command(*, job_ids: Sequence[str], batch_id: str | None, folder: Path,
                options: ExportOptions, sidecar: bool, c2pa: bool) -> str:
    """The same export as a restyle-cli command (shown under Advanced; ids abridged beyond 8)."""
    args = ["restyle-cli", "export"]
    if batch_id:
        args += ["--batch", batch_id]
    else:
        ids = [j[:12] for j in job_ids]
        args += ids[:8] + (["…"] if len(ids) > 8 else [])
    args += ["--out", str(folder), "--format", options.format]
    if options.format in LOSSY_FORMATS:
        args += ["--quality", str(options.quality)]
    if options.max_side:
        args += ["--max-side", str(options.max_side)]
    if options.template != DEFAULT_TEMPLATE:
        args += ["--name", options.template]
    if options.all_outputs:
        args.append("--all-outputs")
    if options.composite != "none":
        args += ["--composite", options.composite]
        if options.composite == "split" and options.split_at != 0.5:
            args += ["--split-at", f"{options.split_at:g}"]
    if options.caption:
        args.append("--caption")
    if options.listing:
        label = options.label
        args.append("--listing")
        if label.text != DEFAULT_LABEL:
            args += ["--label", label.text]
        if label.corner != DEFAULT_CORNER:
            args += ["--label-corner", label.corner]
        if abs(label.size - DEFAULT_LABEL_SIZE) > 1e-9:
            args += ["--label-size", f"{label.size * 100:g}"]
        if label.url:
            args += ["--original-url", label.url]
            if label.qr:
                args.append("--qr")
            if not label.link and label.qr:
                args.append("--no-link")
    if sidecar:
        args.append("--sidecar")
    if c2pa:
        args.append("--c2pa")
    if options.overwrite:
        args.append("--overwrite")
    return " ".join(a if a == "…" else shlex.quote(a) for a in args)
