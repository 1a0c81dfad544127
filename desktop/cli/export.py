"""`restyle-cli export`: jobs' results as files in a folder: a format, a name template, before/
after composites and listing sets (core/exports/files.py does the work), with what made each
image written into it, and optionally a JSON sidecar, a C2PA signature and a job bundle
(export_provenance.py).

Exit codes: 0 every selected output was written; 1 something was skipped (a failed job, one
without an image output, a file that could not be read or made) or the folder stopped taking
files (what was written stays); 2 bad usage or input, found before any file is written; 3
--c2pa without a usable certificate and key in the settings; 130 Ctrl+C, after the file being
written is complete.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import threading
from pathlib import Path
from typing import Any

from desktop.cli import export_provenance
from desktop.cli.args import Parser
from desktop.cli.checks import check_out_dir, find_job
from desktop.cli.errors import EXIT_INTERRUPTED, EXIT_JOB_FAILED, EXIT_OK, EXIT_USAGE, CliError
from desktop.cli.jobs import add_filter_arguments, job_filter
from desktop.cli.output import print_json
from desktop.core.exports.composites import (
    CORNERS,
    DEFAULT_CORNER,
    DEFAULT_LABEL,
    DEFAULT_LABEL_SIZE,
    ListingLabel,
)
from desktop.core.exports.files import (
    MIN_MAX_SIDE,
    ExportOptions,
    ExportReport,
    ExportSources,
    export_jobs,
    plan,
)
from desktop.core.exports.naming import DEFAULT_TEMPLATE, FIELDS, group_reviews
from desktop.core.model import InvalidInput, Job
from desktop.core.sources import shown
from desktop.general_settings import EXPORT_FORMAT, EXPORT_QUALITY, general_setting
from desktop.providers.registry import provider_class
from desktop.services import Services

#: The filter arguments (add_filter_arguments) that select jobs instead of JOB_IDs.
FILTERS = ("provider", "task", "state", "search", "verdict", "tag", "reviewer", "batch")
#: Arguments that only mean something for a listing set.
LISTING_ONLY = ("label", "label_corner", "label_size", "original_url", "qr", "no_link")


def add_parsers(sub: Any) -> None:
    p: Parser = sub.add_parser(
        "export", help="save jobs' results as files: formats, names, composites, listing sets",
        description="Save the results of the jobs given by id, or of the jobs the filters "
                    "select (the same filters as `jobs`), into a folder.")
    p.add_argument("job_ids", nargs="*", metavar="JOB_ID",
                   help="a job id or an unambiguous prefix (or select jobs with the filters)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="the folder to write into (made if missing)")
    p.add_argument("--all-outputs", action="store_true",
                   help="every image output of each job (every staging variation), not only "
                        "the first")
    p.add_argument("--format", type=export_format, metavar="png|jpeg|webp",
                   help="the file format (default: the export format in settings)")
    p.add_argument("--quality", type=quality, metavar="1-100",
                   help="JPEG and WebP quality (default: the export quality in settings)")
    p.add_argument("--max-side", type=max_side, metavar="PX",
                   help="make each picture at most PX pixels on its longer side")
    p.add_argument("--name", default=DEFAULT_TEMPLATE, metavar="TEMPLATE",
                   help=f"file name template (default {DEFAULT_TEMPLATE}); fields: "
                        + ", ".join("{" + f + "}" for f in FIELDS)
                        + "; / makes subfolders")
    p.add_argument("--composite", choices=("side", "split"),
                   help="before and after side by side, or split at --split-at")
    p.add_argument("--split-at", type=fraction, metavar="FRACTION",
                   help="where a split composite cuts, 0 to 1 of the width (default 0.5)")
    p.add_argument("--caption", action="store_true",
                   help="a caption band with the provider, task and date")
    p.add_argument("--listing", action="store_true",
                   help="a listing set: each original, then the staged photo with the label")
    p.add_argument("--label", metavar="TEXT",
                   help=f"the listing label's text (default '{DEFAULT_LABEL}')")
    p.add_argument("--label-corner", choices=CORNERS, metavar="CORNER",
                   help=f"where the label goes: {', '.join(CORNERS)} (default "
                        f"{DEFAULT_CORNER})")
    p.add_argument("--label-size", type=percent, metavar="PERCENT",
                   help="the label's type size, in percent of the photo's shorter side "
                        f"(default {DEFAULT_LABEL_SIZE * 100:g})")
    p.add_argument("--original-url", metavar="URL",
                   help="where the unaltered original is published: printed on the label")
    p.add_argument("--qr", action="store_true", help="a QR code of --original-url on the label")
    p.add_argument("--no-link", action="store_true",
                   help="do not print --original-url on the label (with --qr: the code only)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace files of the same name (else 'name (2).png' is written)")
    export_provenance.add_arguments(p)
    add_filter_arguments(p)
    p.add_argument("--json", action="store_true", help="print a JSON summary")


def export_format(text: str) -> str:
    value = text.strip().lower()
    value = "jpeg" if value == "jpg" else value
    if value not in ("png", "jpeg", "webp"):
        raise argparse.ArgumentTypeError(f"'{shown(text, 20)}' is not png, jpeg or webp")
    return value


def _whole(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{shown(text, 20)}' is not {what}") from None


def quality(text: str) -> int:
    value = _whole(text, "a whole number")
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be between 1 and 100, not {value}")
    return value


def max_side(text: str) -> int:
    value = _whole(text, "a number of pixels")
    if not MIN_MAX_SIDE <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between {MIN_MAX_SIDE} and 65535 pixels, "
                                         f"not {value}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{shown(text, 20)}' is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{shown(text, 20)}' is not a finite number")
    return value


def fraction(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (0.5 is the middle), not "
                                         f"{shown(text, 20)}")
    return value


def percent(text: str) -> float:
    value = _number(text)
    if not 1 <= value <= 20:
        raise argparse.ArgumentTypeError(f"must be between 1 and 20 percent, not "
                                         f"{shown(text, 20)}")
    return value


def options_from(services: Services, args: argparse.Namespace) -> ExportOptions:
    """ExportOptions from the arguments (format and quality default to the settings');
    CliError exit 2 for options that do not go together."""
    given_listing = [f"--{name.replace('_', '-')}" for name in LISTING_ONLY
                     if getattr(args, name) not in (None, False)]
    if given_listing and not args.listing:
        raise CliError(f"{', '.join(given_listing)} only apply to a listing set: add --listing.",
                       EXIT_USAGE)
    if args.split_at is not None and args.composite != "split":
        raise CliError("--split-at only applies to --composite split.", EXIT_USAGE)
    if args.no_link and not args.qr:
        raise CliError("--no-link leaves the label without the original's address: add --qr, "
                       "or leave --no-link out.", EXIT_USAGE)
    label = ListingLabel(
        text=DEFAULT_LABEL if args.label is None else args.label,
        corner=args.label_corner or DEFAULT_CORNER,
        size=DEFAULT_LABEL_SIZE if args.label_size is None else args.label_size / 100,
        url=args.original_url, qr=args.qr, link=not args.no_link)
    options = ExportOptions(
        format=args.format or str(general_setting(services.settings, EXPORT_FORMAT)),
        quality=args.quality or int(general_setting(services.settings, EXPORT_QUALITY)),
        max_side=args.max_side, template=args.name, all_outputs=args.all_outputs,
        composite=args.composite or "none",
        split_at=0.5 if args.split_at is None else args.split_at, caption=args.caption,
        listing=args.listing, label=label, overwrite=args.overwrite)
    try:
        return options.checked()
    except InvalidInput as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def select_jobs(services: Services, args: argparse.Namespace) -> list[Job]:
    """The jobs given by id (in that order), or those the filters select (oldest first, so
    {n} counts in the order they were made)."""
    filters = [f"--{name}" for name in FILTERS if getattr(args, name)]
    if args.job_ids and filters:
        raise CliError(f"Give job ids or filters ({', '.join(filters)}), not both.", EXIT_USAGE)
    if args.job_ids:
        return list({job.id: job for job in (find_job(services, given)
                                             for given in args.job_ids)}.values())
    if not filters:
        raise CliError("Say which jobs to export: give job ids, or filters such as --batch ID "
                       "or --state succeeded (`restyle-cli export --help` lists them).",
                       EXIT_USAGE)
    where = job_filter(services, args)
    count = services.history.count(where)
    return list(reversed(services.history.list(where, limit=max(1, count))))


def sources_for(services: Services, jobs: list[Job]) -> ExportSources:
    """What names and captions need besides the files: reviews, batch names, provider
    titles."""
    ratings = group_reviews(services.review_store().for_jobs([j.id for j in jobs]))
    batch_store = services.batch_store()
    names: dict[str, str] = {}
    batches: dict[str, str] = {}
    for job in jobs:
        cell = batch_store.batch_of_job(job.id)
        if cell is None:
            continue
        if cell[0] not in names:
            batch = batch_store.get(cell[0])
            names[cell[0]] = (batch.name.strip() if batch and batch.name.strip()
                              else cell[0][:8])
        batches[job.id] = names[cell[0]]
    titles: dict[str, str] = {}
    for provider in {j.provider for j in jobs}:
        try:
            titles[provider] = provider_class(provider).title
        except KeyError:
            titles[provider] = provider
    return ExportSources(services.assets, services.history.asset,
                         limits=services.settings.limits, ratings=ratings, batches=batches,
                         provider_titles=titles)


async def cmd_export(services: Services, args: argparse.Namespace) -> int:
    options = options_from(services, args)
    jobs = select_jobs(services, args)
    out = check_out_dir(args.out)
    if not jobs:
        if args.json:
            print_json(ExportReport(out).to_dict())
        else:
            print("No jobs match; nothing was exported.")
        return EXIT_OK
    sources = sources_for(services, jobs)
    stamping = export_provenance.hooks(services, args, jobs)
    _items, early = plan(jobs, options)
    for skip in early:
        print(f"Skipped job {skip.job_id[:12]}: {skip.reason}", file=sys.stderr)
    stop = threading.Event()

    def progress(done: int, total: int, text: str) -> None:
        print(f"[{done}/{total}] {text}", file=sys.stderr, flush=True)

    work = asyncio.ensure_future(asyncio.to_thread(
        export_jobs, jobs, out, options, sources, progress=progress, cancelled=stop.is_set,
        stamp=stamping.stamp, extra_files=stamping.extra_files))
    interrupted = False
    try:
        report = await asyncio.shield(work)
    except asyncio.CancelledError:
        # Ctrl+C: let the file being written finish (it is written whole or not at all), then
        # stop before the next one.
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        stop.set()
        interrupted = True
        print("Interrupted: finishing the file being written, then stopping.", file=sys.stderr)
        report = await work
    except InvalidInput as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    bundle = None
    if args.bundle and not (interrupted or report.cancelled or report.stopped):
        bundle = await asyncio.to_thread(export_provenance.save_bundle, services, jobs, out,
                                         overwrite=args.overwrite)
    return _finish(report, args.json, interrupted, bundle.path if bundle else None)


def _finish(report: ExportReport, as_json: bool, interrupted: bool,
            bundle: Path | None = None) -> int:
    if as_json:
        print_json({**report.to_dict(), **({"bundle": str(bundle)} if bundle else {})})
    else:
        files = len(report.written)
        print(f"Wrote {files} {'file' if files == 1 else 'files'} to {report.folder}.")
        if bundle is not None:
            print(f"Saved the jobs as the bundle {bundle.name}.")
        for skip in report.skipped:
            which = "" if skip.position is None else f" (output {skip.position + 1})"
            print(f"Skipped job {skip.job_id[:12]}{which}: {skip.reason}")
    if report.stopped:
        print(f"restyle-cli: {report.stopped}", file=sys.stderr)
    if interrupted or report.cancelled:
        print(f"Interrupted: {len(report.written)} complete files were written; nothing "
              "after them.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK if report.complete else EXIT_JOB_FAILED
