"""`restyle-cli report` and `restyle-cli lookbook`: a selection of jobs (ids, or the filters
`jobs` takes) as an HTML or CSV report, or as a lookbook (PDF or PNG pages)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from desktop.cli.args import MAX_LIST_LIMIT, list_limit
from desktop.cli.checks import check_out_dir, find_batch, find_job
from desktop.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from desktop.cli.jobs import STATES, VERDICT_FILTERS
from desktop.cli.output import print_json
from desktop.cli.rankings import since_date
from desktop.core.exports.lookbook import PAPER, PageSetup, build_lookbook, write_lookbook
from desktop.core.exports.report import report_format, write_report
from desktop.core.model import InvalidInput, Job, JobState
from desktop.core.sources import shown
from desktop.core.store import JobFilter
from desktop.services import Services

#: Jobs a report or lookbook takes when --limit is not given.
DEFAULT_LIMIT = 1000


def add_selection(p: argparse.ArgumentParser) -> None:
    """Job ids, or the filters of `restyle-cli jobs` (plus --since)."""
    p.add_argument("job_ids", nargs="*", metavar="JOB_ID",
                   help="these jobs (ids or unambiguous prefixes); else the filters choose")
    p.add_argument("--provider", metavar="ID", help="only jobs at this provider")
    p.add_argument("--task", metavar="TASK", help="only jobs of this task")
    p.add_argument("--state", choices=STATES, metavar="STATE",
                   help="only jobs in this state: " + ", ".join(STATES))
    p.add_argument("--search", metavar="TEXT", help="words that must all appear")
    p.add_argument("--verdict", choices=VERDICT_FILTERS,
                   help="reviewed pass or fail (by anyone, or by --reviewer), or (un)reviewed")
    p.add_argument("--tag", metavar="TAG", help="a review gave this defect tag")
    p.add_argument("--reviewer", metavar="NAME", help="reviewed by NAME")
    p.add_argument("--batch", metavar="BATCH_ID", help="the jobs of one batch")
    p.add_argument("--since", type=since_date, metavar="DATE",
                   help="jobs created on or after DATE (YYYY-MM-DD or an ISO date and time)")
    p.add_argument("--limit", type=list_limit, default=DEFAULT_LIMIT, metavar="N",
                   help=f"at most N jobs, the newest (1 to {MAX_LIST_LIMIT}; default "
                        f"{DEFAULT_LIMIT})")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("report", help="write a report of jobs as HTML or CSV")
    add_selection(p)
    p.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="FILE.html (one self-contained page) or FILE.csv (one row per output;"
                        " FILE-providers.csv beside it when there are reviews or votes)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("lookbook", help="write try-on results as a lookbook (PDF or PNG pages)")
    add_selection(p)
    p.add_argument("--out", type=Path, required=True, metavar="FILE.pdf|DIR",
                   help="one PDF, or a folder that gets one PNG per page")
    p.add_argument("--paper", choices=list(PAPER), default="a4",
                   help="the paper size (default a4)")
    p.add_argument("--portrait", action="store_true", help="portrait pages (default landscape)")
    p.add_argument("--dpi", type=int, default=150, metavar="N", help="72 to 600 (default 150)")
    p.add_argument("--json", action="store_true")


def selected_jobs(services: Services, args: argparse.Namespace) -> list[Job]:
    """The jobs named, or those the filters choose (newest first, up to --limit); a note on
    stderr when the limit left some out."""
    filters = {name: getattr(args, name) for name in ("provider", "task", "state", "search",
                                                      "verdict", "tag", "reviewer", "batch",
                                                      "since")}
    if args.job_ids:
        if any(v is not None for v in filters.values()):
            raise CliError("Give job ids or filters, not both.", EXIT_USAGE)
        return list({j.id: j for j in (find_job(services, g) for g in args.job_ids)}.values())
    batch = find_batch(services, args.batch).id if args.batch else None
    where = JobFilter(provider=args.provider, task=args.task,
                      states=(JobState(args.state),) if args.state else (), text=args.search,
                      verdict=args.verdict, tag=args.tag, reviewer=args.reviewer, batch=batch,
                      since=args.since)
    jobs = services.history.list(where, limit=args.limit)
    if not jobs:
        raise CliError("No jobs match; nothing was written.", EXIT_USAGE)
    total = services.history.count(where)
    if total > len(jobs):
        print(f"Note: {total} jobs match; the newest {len(jobs)} are used (--limit).",
              file=sys.stderr)
    return jobs


def cmd_report(services: Services, args: argparse.Namespace) -> int:
    try:
        report_format(args.out)  # before anything is read: a wrong name costs nothing
    except InvalidInput as exc:
        raise CliError(f"--out {exc}", EXIT_USAGE) from None
    jobs = selected_jobs(services, args)
    try:
        written = write_report(jobs, services.history, services.assets,
                               services.review_store(), args.out)
    except InvalidInput as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if args.json:
        print_json({"format": written.format, "files": [str(f) for f in written.files],
                    "jobs": written.jobs, "providers": written.providers})
        return EXIT_OK
    names = " and ".join(shown(str(f)) for f in written.files)
    print(f"Report of {written.jobs} job{'' if written.jobs == 1 else 's'} written to "
          f"{names}.")
    return EXIT_OK


def cmd_lookbook(services: Services, args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.suffix.lower() != ".pdf":
        if out.suffix.lower() == ".png" or (out.exists() and not out.is_dir()):
            raise CliError(f"--out {shown(str(out))}: a lookbook is written as a .pdf file or "
                           "into a folder (one PNG per page).", EXIT_USAGE)
        check_out_dir(out)
    jobs = selected_jobs(services, args)
    try:
        setup = PageSetup(paper=args.paper, landscape=not args.portrait, dpi=args.dpi)
        book = build_lookbook(jobs, services.history, services.assets, setup=setup,
                              limits=services.settings.limits)
        files = write_lookbook(book, out)
    except InvalidInput as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if args.json:
        print_json({"files": [str(f) for f in files], "pages": len(book.pages),
                    "persons": [{"name": n, "pages": p} for n, p in book.persons],
                    "looks": book.looks,
                    "skipped": [{"job_id": s.job_id, "reason": s.reason}
                                for s in book.skipped]})
        return EXIT_OK
    for skipped in book.skipped:
        print(f"Skipped job {skipped.job_id[:12]}: {skipped.reason}.", file=sys.stderr)
    where = shown(str(out))  # the PDF, or the folder of PNG pages
    print(f"Lookbook of {book.looks} look{'' if book.looks == 1 else 's'} on "
          f"{len(book.pages)} page{'' if len(book.pages) == 1 else 's'} written to {where}.")
    return EXIT_OK
