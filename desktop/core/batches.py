"""Batches: a matrix of jobs (inputs x variants x providers), its cost plan and budget.

Pure data and functions; the BatchStore keeps batches in the history and the BatchRunner
(batch_runner.py) feeds their jobs to the engine.

A matrix has rows and columns, as the results grid shows them:

- rows are the "before" images: person photos (try-on), rooms (staging), images (the rest);
- columns are a variant (a garment or a group of 1-3 garments; a set of parameters such as a
  style and a room type) times a provider.

Each cell is one job. Parameters given with several values ("style=modern,scandinavian")
make an axis: every combination is a variant.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from desktop.core.model import InvalidInput, JobSpec

#: The input role that makes the rows, by task family; other roles make the columns.
PRIMARY_ROLES = ("person", "room", "image")


class BatchState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    FINISHED = "finished"


class ItemState(StrEnum):
    #: Not sent yet: the runner sends it when a slot is free and the batch runs.
    PENDING = "pending"
    #: A job exists for it (its state is the job's).
    STARTED = "started"
    #: Not sent: it would have gone over the budget (or its price is unknown under a budget).
    OVER_BUDGET = "over_budget"
    #: Not sent: its inputs or parameters were refused (the note says why).
    REFUSED = "refused"
    #: Not sent: the batch was cancelled first.
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Variant:
    """A column's recipe: extra inputs (garments) and parameters, with a title."""

    title: str
    inputs: Mapping[str, Sequence[str]] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "inputs": {k: list(v) for k, v in self.inputs.items()},
                "params": dict(self.params)}


@dataclass(frozen=True)
class Matrix:
    task: str
    providers: tuple[str, ...]
    role: str
    rows: tuple[str, ...]
    variants: tuple[Variant, ...]
    params: Mapping[str, Any] = field(default_factory=dict)
    #: Parameters for one provider only (the window's form of each ticked provider): they
    #: beat `params`, a variant's parameters beat them.
    provider_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def columns(self) -> list[tuple[Variant, str]]:
        """The grid's columns after the before image: each variant with each provider."""
        return [(v, p) for v in self.variants for p in self.providers]

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "providers": list(self.providers), "role": self.role,
                "rows": list(self.rows), "variants": [v.to_dict() for v in self.variants],
                "params": dict(self.params),
                "provider_params": {p: dict(v) for p, v in self.provider_params.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Matrix:
        return cls(
            task=str(data.get("task", "")), providers=tuple(data.get("providers") or ()),
            role=str(data.get("role", "image")), rows=tuple(data.get("rows") or ()),
            variants=tuple(Variant(str(v.get("title", "")), dict(v.get("inputs") or {}),
                                   dict(v.get("params") or {}))
                           for v in data.get("variants") or ()),
            params=dict(data.get("params") or {}),
            provider_params={str(p): dict(v or {})
                             for p, v in (data.get("provider_params") or {}).items()},
        )


@dataclass(frozen=True)
class BatchItem:
    """One cell of the matrix: the job to run, and what became of it."""

    position: int
    row: int
    col: int
    provider: str
    spec: JobSpec
    expected_credits: float | None = None
    state: ItemState = ItemState.PENDING
    job_id: str | None = None
    attempts: int = 0
    note: str = ""

    def evolve(self, **changes: Any) -> BatchItem:
        return replace(self, **changes)


@dataclass(frozen=True)
class Batch:
    id: str
    name: str
    task: str
    state: BatchState
    matrix: Matrix
    budget_credits: float | None
    created_at: float
    updated_at: float


# -- expansion -------------------------------------------------------------------------------
def param_axes(raw: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the parameters' values, in order: {"style": ["a", "b"],
    "room_type": ["living"]} gives [{style: a, room_type: living}, {style: b, ...}]."""
    names = list(raw)
    values = [list(raw[n]) or [None] for n in names]
    return [{n: v for n, v in zip(names, combo, strict=True) if v is not None}
            for combo in itertools.product(*values)] or [{}]


def split_values(text: str) -> list[str]:
    """A command-line value that may be a comma list ("modern, scandinavian"); JSON values
    (starting with [ or {) and empty parts are not split."""
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        return [text]
    return [part.strip() for part in text.split(",") if part.strip()] or [text]


def garment_groups(garments: Sequence[str], size: int) -> list[tuple[str, ...]]:
    """Garments in groups of `size` (1-3), in the order given; the last group may be
    smaller."""
    if not 1 <= size <= 3:
        raise InvalidInput(f"Garments are grouped 1 to 3 per job (got {size}).")
    return [tuple(garments[i:i + size]) for i in range(0, len(garments), size)]


def variant_title(inputs: Mapping[str, Sequence[str]], params: Mapping[str, Any],
                  name_of: Callable[[str], str]) -> str:
    parts = [" + ".join(name_of(s) for s in sources) for sources in inputs.values() if sources]
    parts += [f"{k}={_short(v)}" for k, v in params.items()]
    return ", ".join(parts) or "as set"


def expand(matrix: Matrix, *, deadline_s: float | None = None) -> list[BatchItem]:
    """The matrix's cells as items, row by row (each row: every variant with every provider).
    Nothing is checked here: the plan and the runner's preparation do that."""
    items: list[BatchItem] = []
    for r, source in enumerate(matrix.rows):
        for c, (variant, provider) in enumerate(matrix.columns()):
            inputs: dict[str, list[str]] = {matrix.role: [source]}
            for role, sources in variant.inputs.items():
                inputs[role] = list(sources)
            params = {**matrix.params, **matrix.provider_params.get(provider, {}),
                      **variant.params}
            spec = JobSpec(provider=provider, task=matrix.task, inputs=inputs, params=params,
                           deadline_s=deadline_s)
            items.append(BatchItem(position=len(items), row=r, col=c, provider=provider,
                                   spec=spec))
    return items


# -- cost plan and budget --------------------------------------------------------------------
@dataclass(frozen=True)
class ProviderPlan:
    provider: str
    jobs: int
    #: Credits of the jobs whose price is known; `unpriced` jobs have no published price.
    credits: float
    unpriced: int
    #: Money, where settings give a price per credit for this provider.
    money: float | None


@dataclass(frozen=True)
class Plan:
    providers: tuple[ProviderPlan, ...]
    jobs: int
    credits: float
    unpriced: int
    money: float | None
    #: Items the budget keeps from being sent, and items refused before sending.
    over_budget: int
    refused: int
    budget_credits: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs, "credits": self.credits, "unpriced_jobs": self.unpriced,
            "money": self.money, "over_budget": self.over_budget, "refused": self.refused,
            "budget_credits": self.budget_credits,
            "providers": [{"provider": p.provider, "jobs": p.jobs, "credits": p.credits,
                           "unpriced_jobs": p.unpriced, "money": p.money}
                          for p in self.providers],
        }


def priced(items: Iterable[BatchItem], estimate: Callable[[BatchItem], float | None]
           ) -> list[BatchItem]:
    """Items with their expected credits filled in where the provider publishes a price."""
    return [item.evolve(expected_credits=estimate(item)) for item in items]


def apply_budget(items: Sequence[BatchItem], budget: float | None,
                 spent: float = 0.0) -> list[BatchItem]:
    """Mark the pending items the budget cannot pay for, in order: the batch never goes over
    it. Under a budget, an item without a published price is not sent either (nobody can
    promise what it costs)."""
    if budget is None:
        return list(items)
    total = spent
    result: list[BatchItem] = []
    for item in items:
        if item.state != ItemState.PENDING:
            result.append(item)
            continue
        cost = item.expected_credits
        if cost is None:
            result.append(item.evolve(state=ItemState.OVER_BUDGET, note=(
                f"Not sent: {item.provider} publishes no price, so it cannot be kept within "
                f"the budget of {_num(budget)} credits.")))
        elif total + cost > budget + 1e-9:
            result.append(item.evolve(state=ItemState.OVER_BUDGET, note=(
                f"Not sent: it would cost {_num(cost)} credits, over the budget of "
                f"{_num(budget)} ({_num(total)} already planned).")))
        else:
            total += cost
            result.append(item)
    return result


def make_plan(items: Sequence[BatchItem], *, prices: Mapping[str, float] | None = None,
              budget: float | None = None) -> Plan:
    """Jobs, credits and money per provider for the items that will be sent."""
    prices = prices or {}
    rows: list[ProviderPlan] = []
    sending = [i for i in items if i.state in (ItemState.PENDING, ItemState.STARTED)]
    for provider in dict.fromkeys(i.provider for i in items):
        mine = [i for i in sending if i.provider == provider]
        credits = sum(i.expected_credits or 0.0 for i in mine)
        unpriced = sum(1 for i in mine if i.expected_credits is None)
        price = prices.get(provider)
        money = credits * price if price is not None and not unpriced else None
        rows.append(ProviderPlan(provider, len(mine), credits, unpriced, money))
    moneys = [r.money for r in rows if r.jobs]
    return Plan(
        providers=tuple(rows), jobs=len(sending), credits=sum(r.credits for r in rows),
        unpriced=sum(r.unpriced for r in rows),
        money=sum(m for m in moneys if m is not None) if moneys and None not in moneys
        else None,
        over_budget=sum(1 for i in items if i.state == ItemState.OVER_BUDGET),
        refused=sum(1 for i in items if i.state == ItemState.REFUSED),
        budget_credits=budget,
    )


def _num(value: float) -> str:
    return f"{value:g}"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 24 else text[:23] + "…"
