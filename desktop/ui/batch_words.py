"""Batches in plain words: the plan's headline, costs, what the budget keeps out and why, what
cannot run, a batch's progress and the state of one cell. Pure functions, no Qt, so the
dialog, the panel, the grid and their tests agree on every sentence."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from desktop.core.batch_runner import BatchProgress
from desktop.core.batches import BatchItem, BatchState, ItemState, Matrix, Plan
from desktop.core.humanize import human_duration
from desktop.core.model import Job, JobState
from desktop.core.sources import file_name, is_http_url, url_name

#: What one job of a task is called: singular and plural.
TASK_NOUNS: dict[str, tuple[str, str]] = {
    "tryon": ("try-on", "try-ons"),
    "staging": ("staging", "stagings"),
    "recolor": ("recolour", "recolours"),
    "upscale": ("upscale", "upscales"),
    "background_removal": ("background removal", "background removals"),
    "reframe": ("reframe", "reframes"),
}

#: What the rows are, by the input role that makes them.
ROW_NOUNS: dict[str, tuple[str, str]] = {
    "person": ("person", "people"),
    "room": ("room", "rooms"),
    "image": ("image", "images"),
}


def plural(count: int, nouns: tuple[str, str]) -> str:
    return f"{count} {nouns[0] if count == 1 else nouns[1]}"


def source_name(source: str) -> str:
    """A short name for an input: the file name without its folder, or a URL's last part."""
    return url_name(source) if is_http_url(source) else file_name(source)


def stem(source: str) -> str:
    return os.path.splitext(source_name(source))[0] or source_name(source)


def titles_joined(titles: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(titles) <= 1:
        return "".join(titles)
    return ", ".join(titles[:-1]) + " and " + titles[-1]


def money_text(amount: float) -> str:
    return f"{amount:,.2f}"


def credits_text(amount: float) -> str:
    return f"{amount:,.6g}" if amount != int(amount) else f"{int(amount):,}"


# -- the plan --------------------------------------------------------------------------------
@dataclass(frozen=True)
class MatrixShape:
    """How the matrix's columns came about, for the headline: garments (and how many per
    job), and the parameters that take several values."""

    garments: int = 0
    per_job: int = 1
    #: Parameter titles with their number of values, for those with more than one.
    axes: tuple[tuple[str, int], ...] = ()


def headline(matrix: Matrix, shape: MatrixShape, provider_titles: Mapping[str, str]) -> str:
    """'12 try-ons: 3 people x 4 garments, on FitInView'."""
    cells = len(matrix.rows) * len(matrix.variants) * len(matrix.providers)
    nouns = TASK_NOUNS.get(matrix.task, ("job", "jobs"))
    parts = [plural(len(matrix.rows), ROW_NOUNS.get(matrix.role, ("image", "images")))]
    groups = -(-shape.garments // max(1, shape.per_job)) if shape.garments else 0
    if groups:
        if shape.per_job == 1:
            parts.append(plural(groups, ("garment", "garments")))
        else:
            parts.append(plural(groups, ("outfit", "outfits"))
                         + f" of up to {shape.per_job} garments")
    settings = 1
    for _title, count in shape.axes:
        settings *= count
    if shape.axes:
        names = " x ".join(title.lower() for title, _count in shape.axes)
        parts.append(f"{plural(settings, ('setting', 'settings'))} ({names})")
    providers = titles_joined([provider_titles.get(p, p) for p in matrix.providers])
    each = " each" if len(matrix.providers) > 1 else ""
    return f"{plural(cells, nouns)}: {' x '.join(parts)}, on {providers}{each}"


@dataclass(frozen=True)
class ProviderLine:
    """One row of the plan's cost table."""

    title: str
    jobs: int
    credits: str
    money: str


def provider_lines(plan: Plan, provider_titles: Mapping[str, str],
                   free: Iterable[str] = ()) -> list[ProviderLine]:
    free_ids = set(free)
    lines = []
    for row in plan.providers:
        title = provider_titles.get(row.provider, row.provider)
        if row.provider in free_ids:
            lines.append(ProviderLine(title, row.jobs, "free", "—"))
            continue
        if not row.jobs:
            credits = "—"
        elif row.unpriced == row.jobs:
            credits = "no published price"
        elif row.unpriced:
            credits = f"{credits_text(row.credits)} + {row.unpriced} unpriced"
        else:
            credits = credits_text(row.credits)
        money = money_text(row.money) if row.money is not None and row.jobs else "—"
        lines.append(ProviderLine(title, row.jobs, credits, money))
    return lines


def total_sentence(plan: Plan, free: Iterable[str] = ()) -> str:
    """'12 jobs to send, about 96 credits (money 11.52).'"""
    jobs = plural(plan.jobs, ("job", "jobs"))
    if not plan.jobs:
        return "Nothing to send."
    free_ids = set(free)
    paid = [r for r in plan.providers if r.jobs and r.provider not in free_ids]
    if not paid:
        return f"{jobs} to send, free: they run on this computer."
    priced = [r for r in paid if r.unpriced < r.jobs]
    if not priced:
        return (f"{jobs} to send; the cost is not known beforehand: the provider publishes "
                "no price.")
    credits = sum(r.credits for r in paid)
    text = f"{jobs} to send, about {credits_text(credits)} credits"
    unpriced = sum(r.unpriced for r in paid)
    if unpriced:
        text += f" plus {plural(unpriced, ('job', 'jobs'))} whose price is not published"
    moneys = [r.money for r in paid]
    if not unpriced and None not in moneys:
        text += f" (money {money_text(sum(m for m in moneys if m is not None))})"
    return text + "."


def _cell_name(item: BatchItem, matrix: Matrix, provider_titles: Mapping[str, str]) -> str:
    row = stem(matrix.rows[item.row]) if item.row < len(matrix.rows) else f"row {item.row + 1}"
    columns = matrix.columns()
    variant = columns[item.col][0].title if item.col < len(columns) else ""
    provider = provider_titles.get(item.provider, item.provider)
    return f"{row} × {variant} on {provider}" if variant else f"{row} on {provider}"


def budget_sentence(plan: Plan, items: Sequence[BatchItem]) -> str:
    """What the budget does: nothing, or how many jobs it keeps out and why."""
    if plan.budget_credits is None:
        return ""
    budget = credits_text(plan.budget_credits) + (" credit" if plan.budget_credits == 1
                                                  else " credits")
    out = [i for i in items if i.state == ItemState.OVER_BUDGET]
    if not out:
        return f"The budget of {budget} covers every job."
    unpriced = sum(1 for i in out if i.expected_credits is None)
    text = (f"The budget of {budget} keeps {plural(len(out), ('job', 'jobs'))} out: "
            f"{'it' if len(out) == 1 else 'they'} would go over it")
    if unpriced:
        text += (f" ({unpriced} because {'its' if unpriced == 1 else 'their'} provider "
                 "publishes no price, so nobody can promise what it costs)")
    return text + ". They are not sent."


def kept_out(items: Sequence[BatchItem], matrix: Matrix, provider_titles: Mapping[str, str],
             states: Iterable[ItemState], limit: int | None = None) -> list[str]:
    """'person-2 × jacket on FitInView' for the items in `states`, in order."""
    wanted = set(states)
    names = [_cell_name(i, matrix, provider_titles) for i in items if i.state in wanted]
    if limit is not None and len(names) > limit:
        return [*names[:limit], f"and {len(names) - limit} more"]
    return names


def refused_sentences(items: Sequence[BatchItem], provider_titles: Mapping[str, str]
                      ) -> list[str]:
    """Why cells cannot run, each reason once with how many cells and which providers."""
    reasons: dict[str, list[str]] = {}
    for item in items:
        if item.state == ItemState.REFUSED:
            reasons.setdefault(item.note or "It was refused.", []).append(item.provider)
    lines = []
    for note, providers in reasons.items():
        titles = titles_joined([provider_titles.get(p, p) for p in dict.fromkeys(providers)])
        lines.append(f"{plural(len(providers), ('job', 'jobs'))} on {titles} cannot run: "
                     f"{note}")
    return lines


# -- progress --------------------------------------------------------------------------------
STATE_WORDS: dict[BatchState, str] = {
    BatchState.RUNNING: "Running",
    BatchState.PAUSED: "Paused",
    BatchState.CANCELLED: "Cancelled",
    BatchState.FINISHED: "Finished",
}


def settled(progress: BatchProgress) -> int:
    """Cells that will not change any more by themselves."""
    return (progress.done + progress.failed + progress.over_budget + progress.refused
            + progress.cancelled)


def progress_counts(progress: BatchProgress) -> str:
    """'8 done · 1 failed · 1 needs attention · 2 running · 4 left'."""
    parts = [f"{progress.done} done", f"{progress.failed} failed",
             f"{progress.waiting} need{'s' if progress.waiting == 1 else ''} attention",
             f"{progress.running} running", f"{progress.left} left"]
    if progress.over_budget:
        parts.append(f"{progress.over_budget} over budget")
    if progress.refused:
        parts.append(f"{progress.refused} refused")
    if progress.cancelled:
        parts.append(f"{progress.cancelled} not sent")
    return " · ".join(parts)


def progress_money(progress: BatchProgress) -> str:
    """'16 credits spent · about 2 min left'."""
    parts = []
    if progress.credits_spent:
        parts.append(f"{credits_text(progress.credits_spent)} credits spent")
    if progress.eta_s is not None and progress.state == BatchState.RUNNING:
        parts.append("less than a minute left" if progress.eta_s < 60
                     else f"about {human_duration(progress.eta_s)} left")
    elif progress.state == BatchState.PAUSED and progress.running:
        parts.append(f"paused: {plural(progress.running, ('job', 'jobs'))} already sent "
                     "will finish")
    elif progress.state == BatchState.PAUSED and progress.left:
        parts.append("paused: nothing new is sent")
    return " · ".join(parts)


CANCEL_QUESTION = "Cancel this batch?"


def cancel_details(progress: BatchProgress) -> str:
    running = progress.running + progress.waiting
    text = (f"{plural(progress.left, ('job', 'jobs'))} not sent yet will never be sent.")
    if running:
        text += (f" {plural(running, ('job', 'jobs'))} the provider already accepted will "
                 "still finish and may be charged; their results are kept.")
    else:
        text += " Jobs a provider already accepted still finish and may be charged."
    return text


# -- one cell ----------------------------------------------------------------------------------
class CellKind:
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    ATTENTION = "attention"
    OVER_BUDGET = "over_budget"
    REFUSED = "refused"
    CANCELLED = "cancelled"


def cell_words(item: BatchItem, job: Job | None, batch_state: BatchState
               ) -> tuple[str, str, str]:
    """(kind, the words on the cell, the reason on hover)."""
    if item.state == ItemState.PENDING:
        if batch_state == BatchState.PAUSED:
            return CellKind.PENDING, "Paused", "Not sent yet: the batch is paused."
        return CellKind.PENDING, "Waiting", "Not sent yet: it goes when a slot is free."
    if item.state == ItemState.OVER_BUDGET:
        return CellKind.OVER_BUDGET, "Over budget", item.note
    if item.state == ItemState.REFUSED:
        return CellKind.REFUSED, "Cannot run", item.note
    if item.state == ItemState.CANCELLED:
        return CellKind.CANCELLED, "Not sent", item.note or "The batch was cancelled first."
    if job is None:
        return CellKind.RUNNING, "Starting…", "Its job is being made."
    why = job.error.message if job.error is not None else ""
    if job.state == JobState.SUCCEEDED:
        return CellKind.DONE, "", ""
    if job.state == JobState.NEEDS_ATTENTION:
        return CellKind.ATTENTION, "Needs attention", why or "Open the job in the Jobs list."
    if job.state in (JobState.FAILED, JobState.TIMED_OUT, JobState.CANCELLED):
        return CellKind.FAILED, job.state.title, why or f"The job {job.state.title.lower()}."
    percent = f" {round(job.progress * 100)} %" if job.progress else ""
    return CellKind.RUNNING, f"{job.state.title}{percent}", job.note or ""


def name_of(source: str) -> str:
    """How a garment appears in a column title."""
    return stem(source)
