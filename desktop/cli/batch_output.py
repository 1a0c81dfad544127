"""What the batch commands print: the plan, the grid of cells, batch objects as JSON (a public
contract), and the one-line progress on a terminal."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TextIO

from desktop.cli.matrix import source_name
from desktop.cli.output import charges, iso, job_to_json, local_time
from desktop.core.batch_runner import BatchProgress
from desktop.core.batches import Batch, BatchItem, ItemState, Matrix, Plan
from desktop.core.humanize import human_duration
from desktop.core.model import Job, JobState
from desktop.core.redaction import redact_url
from desktop.services import Services

#: How many kept-out cells the plan lists by name before it only counts them.
LISTED_CELLS = 10
#: Width of a cell in the text grid.
CELL_WIDTH = 15


def _num(value: float) -> str:
    return f"{value:g}"


def _money(value: float) -> str:
    return f"{value:,.2f}"


def cell_label(matrix: Matrix, item: BatchItem) -> str:
    """'anna.jpg x shirt.png @ fitinview': the cell's row, variant and provider."""
    row = source_name(matrix.rows[item.row]) if item.row < len(matrix.rows) else f"row {item.row}"
    columns = matrix.columns()
    variant = columns[item.col][0].title if item.col < len(columns) else f"column {item.col}"
    return f"{row} x {variant} @ {item.provider}"


def cell_status(item: BatchItem, jobs: Mapping[str, Job]) -> str:
    """What a cell shows: its job's state once it has one, else the item's state."""
    if item.state == ItemState.STARTED:
        job = jobs.get(item.job_id or "")
        return str(job.state) if job is not None else "starting"
    return str(item.state)


# -- the plan ----------------------------------------------------------------------------------
def plan_lines(matrix: Matrix, items: Sequence[BatchItem], plan: Plan,
               prices: Mapping[str, float]) -> list[str]:
    """The plan as text: the matrix's size, jobs and credits per provider and in total, money
    where a price per credit is set, and the cells the budget keeps out or that are
    refused, with why."""
    lines = [f"Batch plan: {matrix.task}, {len(matrix.rows)} {_plural(len(matrix.rows), 'row')}"
             f" x {len(matrix.variants)} {_plural(len(matrix.variants), 'variant')}"
             f" x {len(matrix.providers)} {_plural(len(matrix.providers), 'provider')}"
             f" = {len(items)} {_plural(len(items), 'cell')}"]
    for row in plan.providers:
        cost = _cost_text(row.provider, row.credits, row.unpriced, row.jobs, row.money,
                          prices.get(row.provider))
        lines.append(f"  {row.provider:<16} {_jobs(row.jobs)}  {cost}")
    lines.append(f"  {'total':<16} {_jobs(plan.jobs)}  " + _total_text(plan))
    if plan.budget_credits is not None:
        lines.append(f"  budget: {_num(plan.budget_credits)} credits")
    for state, title in ((ItemState.OVER_BUDGET, "kept out by the budget"),
                         (ItemState.REFUSED, "refused")):
        kept = [i for i in items if i.state == state]
        if not kept:
            continue
        lines.append(f"  {title}: {len(kept)} {_plural(len(kept), 'cell')}")
        for item in kept[:LISTED_CELLS]:
            lines.append(f"    {cell_label(matrix, item)}: {item.note}")
        if len(kept) > LISTED_CELLS:
            lines.append(f"    ... and {len(kept) - LISTED_CELLS} more")
    return lines


def _cost_text(provider: str, credits: float, unpriced: int, jobs: int, money: float | None,
               price: float | None) -> str:
    if not jobs:
        return "-"
    if not charges(provider):
        return "free (runs on this computer)"
    if unpriced == jobs:
        return "no published price"
    text = f"{_num(credits)} credits"
    if unpriced:
        text += f" + {unpriced} {_plural(unpriced, 'job')} with no published price"
    if money is not None and price is not None:
        text += f"  = {_money(money)} at {_num(price)} per credit"
    return text


def _total_text(plan: Plan) -> str:
    unpriced = sum(row.unpriced for row in plan.providers if charges(row.provider))
    if not plan.credits and not unpriced:
        return "free" if plan.jobs else "-"
    text = f"{_num(plan.credits)} credits"
    if unpriced:
        text += f" + {unpriced} {_plural(unpriced, 'job')} with no published price"
    money = total_money(plan)
    if money is not None:
        text += f"  = {_money(money)}"
    return text


def total_money(plan: Plan) -> float | None:
    """The plan's money: known when every paying provider with jobs has a price per credit
    (and all its jobs a price); providers that run on this computer cost nothing."""
    paying = [row for row in plan.providers if row.jobs and charges(row.provider)]
    if not paying or any(row.money is None for row in paying):
        return None
    return sum(row.money or 0.0 for row in paying)


def plan_json(matrix: Matrix, items: Sequence[BatchItem], plan: Plan) -> dict[str, Any]:
    """Plan.to_dict() plus the cells kept out (over budget, refused) with their reasons."""
    return {**plan.to_dict(), "money": total_money(plan), "cells": len(items),
            "kept_out": [{"position": i.position, "row": i.row, "col": i.col,
                          "provider": i.provider, "state": str(i.state),
                          "cell": cell_label(matrix, i), "note": i.note}
                         for i in items if i.state in (ItemState.OVER_BUDGET, ItemState.REFUSED)]}


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def _jobs(n: int) -> str:
    return f"{n:>5} {_plural(n, 'job'):<4}"


# -- batch objects -------------------------------------------------------------------------------
def batch_json(batch: Batch, progress: BatchProgress) -> dict[str, Any]:
    """A batch as `batches --json` lists it."""
    return {
        "id": batch.id,
        "name": batch.name,
        "task": batch.task,
        "state": str(batch.state),
        "providers": list(batch.matrix.providers),
        "rows": len(batch.matrix.rows),
        "columns": len(batch.matrix.columns()),
        "budget_credits": batch.budget_credits,
        "created_at": iso(batch.created_at),
        "updated_at": iso(batch.updated_at),
        "progress": progress.to_dict(),
    }


def item_json(services: Services, matrix: Matrix, item: BatchItem,
              jobs: Mapping[str, Job]) -> dict[str, Any]:
    """One cell: where it is, what it is, its state and its job object (or null)."""
    job = jobs.get(item.job_id or "") if item.state == ItemState.STARTED else None
    columns = matrix.columns()
    return {
        "position": item.position,
        "row": item.row,
        "col": item.col,
        "provider": item.provider,
        "source": redact_url(matrix.rows[item.row]) if item.row < len(matrix.rows) else None,
        "variant": columns[item.col][0].title if item.col < len(columns) else None,
        "state": str(item.state),
        "status": cell_status(item, jobs),
        "note": item.note,
        "attempts": item.attempts,
        "expected_credits": item.expected_credits,
        "job_id": item.job_id,
        "job": job_to_json(services, job) if job is not None else None,
    }


def full_batch_json(services: Services, batch: Batch, progress: BatchProgress,
                    items: Sequence[BatchItem], jobs: Mapping[str, Job],
                    plan: Plan) -> dict[str, Any]:
    """`batch`, `batch show` and the other batch commands with --json: the batch, its plan,
    its grid's rows and columns, and every cell with its job."""
    matrix = batch.matrix
    return {
        **batch_json(batch, progress),
        "plan": plan_json(matrix, items, plan),
        "row_sources": [redact_url(s) for s in matrix.rows],
        "column_titles": [{"variant": v.title, "provider": p} for v, p in matrix.columns()],
        "items": [item_json(services, matrix, i, jobs) for i in items],
    }


# -- text ------------------------------------------------------------------------------------------
def progress_text(progress: BatchProgress) -> str:
    """'3 done, 1 failed, 2 running, 4 left; 24 credits spent; about 2 min left'."""
    parts = [f"{progress.done} done", f"{progress.failed} failed"]
    if progress.waiting:
        parts.append(f"{progress.waiting} need attention")
    parts += [f"{progress.running} running", f"{progress.left} left"]
    text = ", ".join(parts) + f"; {_num(progress.credits_spent)} credits spent"
    if progress.eta_s is not None:
        text += f"; about {human_duration(progress.eta_s)} left"
    return text


def summary_lines(batch: Batch, progress: BatchProgress) -> list[str]:
    lines = [f"Batch {batch.id[:12]} \"{batch.name}\" {progress.state}: {progress_text(progress)}."]
    kept = []
    if progress.over_budget:
        kept.append(f"{progress.over_budget} kept out by the budget")
    if progress.refused:
        kept.append(f"{progress.refused} refused")
    if progress.cancelled:
        kept.append(f"{progress.cancelled} cancelled before they were sent")
    if kept:
        lines.append("Not sent: " + ", ".join(kept) + ".")
    return lines


def grid_lines(batch: Batch, items: Sequence[BatchItem], jobs: Mapping[str, Job]) -> list[str]:
    """The cells as a grid: a row per before image, a column per variant and provider, each
    cell's state; then the columns' meaning, and the reasons of cells that were not sent or
    did not succeed."""
    matrix = batch.matrix
    columns = matrix.columns()
    by_cell = {(i.row, i.col): i for i in items}
    names = [source_name(s) for s in matrix.rows]
    width = min(28, max([len(n) for n in names] + [3]))
    lines = [f"Batch {batch.id}  \"{batch.name}\"  {batch.task}  {batch.state}",
             f"  created {local_time(batch.created_at)}"
             + (f", budget {_num(batch.budget_credits)} credits"
                if batch.budget_credits is not None else "")]
    header = f"  {'':<{width}}  " + "".join(f"{f'C{c + 1}':<{CELL_WIDTH}}"
                                          for c in range(len(columns)))
    lines.append(header.rstrip())
    for r, name in enumerate(names):
        cells = []
        for c in range(len(columns)):
            item = by_cell.get((r, c))
            cells.append(f"{(cell_status(item, jobs) if item else '-'):<{CELL_WIDTH}}")
        lines.append(f"  {name[:width]:<{width}}  " + "".join(cells).rstrip())
    lines.append("  columns:")
    for c, (variant, provider) in enumerate(columns):
        lines.append(f"    C{c + 1:<4} {variant.title} @ {provider}")
    notes = []
    for item in items:
        job = jobs.get(item.job_id or "") if item.state == ItemState.STARTED else None
        label = f"R{item.row + 1} C{item.col + 1}"
        if job is not None and job.error is not None and job.state != JobState.SUCCEEDED:
            notes.append(f"    {label} job {job.id[:12]}: {job.error.message}")
        elif item.state in (ItemState.OVER_BUDGET, ItemState.REFUSED) and item.note:
            notes.append(f"    {label}: {item.note}")
    if notes:
        lines.append("  notes:")
        lines.extend(notes)
    return lines


class BatchProgressLine:
    """One line on an interactive terminal while a batch runs: done, failed, running, left,
    credits spent and time left, redrawn every half second from the history."""

    def __init__(self, stream: TextIO,
                 read: Callable[[], Awaitable[BatchProgress]]) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.read = read
        self.started = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            try:
                progress = await self.read()
            except Exception:  # a busy history: draw next time
                progress = None
            if progress is not None and self.enabled:
                elapsed = human_duration(time.monotonic() - self.started)
                line = f"batch {progress.state}  {elapsed}  {progress_text(progress)}"
                self.stream.write("\r\033[K" + line[:120])
                self.stream.flush()
            await asyncio.sleep(0.5)

    def start(self) -> None:
        if self.enabled:
            self._task = asyncio.ensure_future(self._tick())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.enabled = False
