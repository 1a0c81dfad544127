"""A report as CSV: one row per output, and the provider summary as a second file.

One row per output (a job without outputs gets one row with the output columns empty),
because reviews are given per output: a row carries its output's reviews. The columns are
`CSV_COLUMNS`; lists inside a cell (inputs, reviewers, ...) are separated by "; ", and the
review columns list the reviewers in the same order ("none" where one gave no verdict,
stars, tags or note). `job_credits` repeats the job's cost on each of its rows; `output_credits` is
its share per output (sum that column for a total). Times are ISO 8601 in local time with
the offset. `output_file` is the result's name in the asset store
(`data/assets/<first two characters>/`).

The provider summary (`PROVIDER_COLUMNS`) is a second file, `<name>-providers.csv`: one table
per file keeps each CSV one rectangle that any spreadsheet or csv reader takes as it is.

Every CSV is UTF-8 with a byte order mark, so Excel reads names and notes in any script
correctly (Python's csv readers: encoding "utf-8-sig"); a text cell that starts with = + - @,
a tab or a carriage return (spaces before them included) gets a leading apostrophe, so a
spreadsheet shows it as text instead of running it as a formula.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from desktop.core.assets import extension_for
from desktop.core.exports.report_data import Report, local_iso
from desktop.core.rankings import ProviderRanking, Rankings, ReviewStats

CSV_COLUMNS = (
    "job_id", "created", "provider", "task", "state", "error", "parameters", "inputs",
    "input_sha256", "output", "output_kind", "output_mime", "output_size", "output_bytes",
    "output_file", "output_sha256", "output_label", "reviews", "reviewers", "verdicts",
    "stars", "tags", "notes", "duration_s", "job_credits", "output_credits", "remote_id",
)
PROVIDER_COLUMNS = (
    "provider", "task", "strength", "strength_low", "strength_high", "votes", "wins",
    "losses", "ties", "both_bad", "win_rate", "outputs_reviewed", "reviews", "pass_rate",
    "pass_rate_low", "pass_rate_high", "mean_stars", "median_duration_s",
    "credits_per_passed_output", "top_defects",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as it is: text starting like a formula gets an apostrophe
    (numbers are written as numbers)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if isinstance(value, str) and value.lstrip().startswith(_FORMULA_START[:4]):
        return "'" + value
    return value


def _table(columns: Sequence[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)  # RFC 4180: CRLF, quotes doubled, fields quoted when needed
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return "\ufeff" + buf.getvalue()


def report_csv(report: Report) -> str:
    """The jobs table, one row per output (see the module's docstring)."""
    rows: list[list[Any]] = []
    for entry in report.entries:
        job = entry.job
        duration = job.duration_ms / 1000 if job.duration_ms is not None else None
        base = [
            job.id, local_iso(job.created_at), job.provider, job.task, str(job.state),
            f"{job.error.code}: {job.error.message}" if job.error else "",
            json.dumps(job.spec.params, ensure_ascii=False, sort_keys=True, default=str),
            "; ".join(f"{i.role}: {i.name}" for i in entry.inputs),
            "; ".join(f"{i.role}: {i.sha256}" for i in entry.inputs),
        ]
        tail = [_num(duration), _num(job.cost_credits)]
        if not entry.outputs:
            rows.append([*base, *[""] * 14, *tail, "", job.remote_id or ""])
            continue
        share = (job.cost_credits / len(entry.outputs)) if job.cost_credits is not None else None
        for item in entry.outputs:
            o = item.output
            rs = item.reviews
            rows.append([
                *base, o.position + 1, str(o.kind), o.mime,
                f"{o.width}x{o.height}" if o.width and o.height else "", o.size,
                f"{o.sha256}.{extension_for(o.mime)}", o.sha256, o.label, len(rs),
                "; ".join(r.reviewer for r in rs),
                "; ".join(str(r.verdict) if r.verdict else "none" for r in rs),
                "; ".join(str(r.stars) if r.stars is not None else "none" for r in rs),
                "; ".join(", ".join(r.tags) or "none" for r in rs),
                "; ".join(r.note or "none" for r in rs),
                *tail, _num(share), job.remote_id or "",
            ])
    return _table(CSV_COLUMNS, rows)


def providers_csv(rankings: Rankings) -> str:
    """The provider summary: a row per provider (task "all"), then one per provider and
    task."""
    rows: list[list[Any]] = []
    for row in rankings.providers:
        rows.append(_provider_row(row, "all", row.review))
        for task, stats in row.by_task.items():
            rows.append(_provider_row(row, task, stats, with_votes=False))
    return _table(PROVIDER_COLUMNS, rows)


def _provider_row(row: ProviderRanking, task: str, stats: ReviewStats, *,
                  with_votes: bool = True) -> list[Any]:
    ci = row.strength_ci
    pci = stats.pass_rate_ci
    votes = ([_num(row.strength), _num(ci.low if ci else None), _num(ci.high if ci else None),
              row.votes, row.wins, row.losses, row.ties, row.both_bad, _num(row.win_rate)]
             if with_votes else [""] * 9)
    return [row.provider, task, *votes, stats.outputs_reviewed, stats.reviews,
            _num(stats.pass_rate), _num(pci.low if pci else None),
            _num(pci.high if pci else None), _num(stats.mean_stars),
            _num(stats.median_duration_s), _num(stats.credits_per_pass),
            "; ".join(f"{tag} ({count})" for tag, count in stats.top_defects)]


def _num(value: float | None) -> Any:
    if value is None:
        return ""
    return round(value, 4) if isinstance(value, float) else value
