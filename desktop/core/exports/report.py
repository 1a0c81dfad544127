"""Reports on a selection of jobs, written where the user chooses: one self-contained HTML
file (report_html) or CSV (report_csv, plus `<name>-providers.csv` when there are reviews or
votes). The format follows the file's extension."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop.core.assets import AssetStore
from desktop.core.exports.report_csv import providers_csv, report_csv
from desktop.core.exports.report_data import build_report
from desktop.core.exports.report_html import report_html
from desktop.core.files import atomic_write
from desktop.core.model import InvalidInput, Job
from desktop.core.sources import shown
from desktop.core.store import History
from desktop.core.store.reviews import ReviewStore

FORMATS = {".html": "html", ".htm": "html", ".csv": "csv"}


@dataclass(frozen=True)
class ReportWritten:
    format: str
    files: tuple[Path, ...]
    jobs: int
    providers: bool


def report_format(path: Path) -> str:
    """"html" or "csv" from the file's extension; InvalidInput for any other."""
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise InvalidInput(f"{shown(path.name, 80)}: a report is written as HTML or CSV; give "
                           "a file name ending in .html or .csv.")
    return found


def providers_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}-providers.csv")


def write_report(jobs: Sequence[Job], history: History, assets: AssetStore,
                 reviews: ReviewStore, path: Path) -> ReportWritten:
    """Write the report of these jobs at `path`, as its extension says (blocking). CSV gets
    `<name>-providers.csv` beside it when there are reviews or votes. Files are written
    atomically; InvalidInput when they cannot be."""
    kind = report_format(path)
    if not jobs:
        raise InvalidInput("No jobs to report on: the selection is empty.")
    report = build_report(jobs, reviews)
    files: dict[Path, str] = {}
    if kind == "html":
        files[path] = report_html(report, history, assets)
    else:
        files[path] = report_csv(report)
        if report.rankings is not None:
            files[providers_path(path)] = providers_csv(report.rankings)
    for target, text in files.items():
        try:
            atomic_write(target, text.encode("utf-8"))
        except OSError as exc:
            raise InvalidInput(f"Could not save {shown(target.name, 80)} in "
                               f"{shown(str(target.parent))}: {exc.strerror or exc}. Choose "
                               "another folder.") from None
    return ReportWritten(format=kind, files=tuple(files), jobs=len(report.entries),
                         providers=report.rankings is not None)
