"""`restyle-cli import`: a job bundle from another machine added to this history."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from desktop.cli.errors import EXIT_OK, EXIT_USAGE, CliError
from desktop.cli.output import job_to_json, print_json
from desktop.core.exports.bundle import ImportResult, import_bundle
from desktop.core.model import InvalidInput
from desktop.core.sources import shown
from desktop.services import Services


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("import", help="add a job bundle (a .zip from Export bundle) to the "
                                      "history")
    p.add_argument("file", type=Path, metavar="FILE.zip", help="the job bundle to add")
    p.add_argument("--json", action="store_true")


def cmd_import(services: Services, args: argparse.Namespace) -> int:
    """0 imported; 2 refused (not a bundle, damaged, unsafe, or already in the history)."""
    try:
        result = import_bundle(args.file, services.history, services.assets,
                               services.review_store(), services.settings.limits)
    except InvalidInput as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if args.json:
        jobs = [services.history.get(i) for i in result.imported]
        print_json({**result.to_dict(),
                    "jobs": [job_to_json(services, j) for j in jobs if j is not None]})
        return EXIT_OK
    for line in import_lines(services, result):
        print(line)
    return EXIT_OK


def import_lines(services: Services, result: ImportResult) -> list[str]:
    count = len(result.imported)
    lines = [f"Imported {count} job{'' if count == 1 else 's'} from "
             f"{shown(result.path.name, 80)}, with {result.reviews} "
             f"review{'' if result.reviews == 1 else 's'} and {result.votes} "
             f"vote{'' if result.votes == 1 else 's'}:"]
    for job_id in result.imported:
        job = services.history.get(job_id)
        if job is not None:
            lines.append(f"  {job.id}  {job.provider}/{job.task}  {job.state}  "
                         f"{len(job.outputs)} output{'' if len(job.outputs) == 1 else 's'}")
    for old, new in result.renamed.items():
        lines.append(f"Note: job {old} is stored as {new}: another job here has that id.")
    for job_id in result.unfinished:
        lines.append(f"Note: job {job_id} had not ended where it was exported; it is kept as "
                     "failed here and is never sent again.")
    if result.already_present:
        lines.append("Already in your history, left as they are: "
                     + ", ".join(result.already_present) + ".")
    if result.votes_skipped:
        lines.append(f"{result.votes_skipped} vote{'' if result.votes_skipped == 1 else 's'} "
                     "left out: the other job compared is not in this history.")
    return lines
