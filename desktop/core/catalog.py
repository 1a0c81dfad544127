"""The task catalogue the window offers: common tasks first, then providers' own tools, then
discovered variants (VistoureAI workflows), each with the providers that can run it.

Plain data built from providers' TaskSpecs, so the selector, its tests and the CLI docs agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from desktop.core.contract import Provider, TaskVariant

#: Task ids shared by several providers (docs/ARCHITECTURE.md, "Provider contract"), in the
#: order the window shows them, with their short titles.
COMMON_TASKS: tuple[tuple[str, str], ...] = (
    ("tryon", "Try-on"),
    ("staging", "Staging"),
    ("recolor", "Recolor"),
    ("upscale", "Upscale"),
    ("background_removal", "Background removal"),
    ("reframe", "Reframe"),
)

GROUP_COMMON = "common"
GROUP_TOOL = "tool"
GROUP_VARIANT = "variant"


@dataclass(frozen=True)
class CatalogEntry:
    """One line of the task selector.

    `key` is unique in the catalogue: the task id for common tasks, `provider:task` for a
    provider's own tool, `provider:task:value` for a variant. `providers` lists the provider
    ids that can run it, in registry order.
    """

    key: str
    task_id: str
    title: str
    group: str
    providers: tuple[str, ...]
    variant: TaskVariant | None = None
    #: For tools and variants: the single provider that offers them.
    owner: str | None = None


def build_catalog(providers: Mapping[str, Provider],
                  variants: Mapping[str, Iterable[TaskVariant]] | None = None
                  ) -> list[CatalogEntry]:
    """Entries for every task of every provider. A common task lists every provider offering
    it; a task only one provider has appears as that provider's tool."""
    common_ids = {task_id for task_id, _ in COMMON_TASKS}
    entries: list[CatalogEntry] = []
    for task_id, title in COMMON_TASKS:
        offering = tuple(pid for pid, p in providers.items() if p.task(task_id) is not None)
        if offering:
            entries.append(CatalogEntry(task_id, task_id, title, GROUP_COMMON, offering))
    variant_tasks = {
        (pid, v.task_id) for pid, found in (variants or {}).items() for v in found
    }
    for pid, provider in providers.items():
        for task in provider.tasks:
            if task.id in common_ids or (pid, task.id) in variant_tasks:
                continue
            entries.append(CatalogEntry(f"{pid}:{task.id}", task.id,
                                        f"{provider.title}: {task.title}", GROUP_TOOL, (pid,),
                                        owner=pid))
    for pid, found in (variants or {}).items():
        provider = providers.get(pid)
        if provider is None:
            continue
        for variant in found:
            entries.append(CatalogEntry(
                f"{pid}:{variant.task_id}:{variant.value}", variant.task_id,
                f"{provider.title} workflow: {variant.title}", GROUP_VARIANT, (pid,),
                variant=variant, owner=pid,
            ))
    return entries


def find_entry(entries: Iterable[CatalogEntry], key: str) -> CatalogEntry | None:
    return next((e for e in entries if e.key == key), None)


def entry_for(entries: Iterable[CatalogEntry], provider: str, task: str,
              params: Mapping[str, Any]) -> CatalogEntry | None:
    """The entry a job of `provider` / `task` was run from: its workflow when its parameters
    name one, else the common task, else the provider's own tool ("reuse parameters")."""
    candidates = [e for e in entries if e.task_id == task and provider in e.providers]
    for entry in candidates:
        if entry.variant is not None and params.get(entry.variant.param) == entry.variant.value:
            return entry
    return next((e for e in candidates if e.variant is None), None)
