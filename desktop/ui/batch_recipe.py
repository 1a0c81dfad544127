"""What the New batch dialog builds a matrix from, and how: no Qt, so tests can check the
matrix a set of choices gives without a dialog.

- The rows are the images of the task's first "primary" role (person for try-on, room for
  staging, image for the rest).
- Garments (try-on) make columns in groups of 1-3 per job; other roles the task takes (a
  fabric, a reference) go into every job as the window holds them.
- Every parameter common to the ticked providers can take several values: every combination
  is a variant, so the columns are garment groups x parameter sets (x providers).
- Each provider keeps its own form's values for the parameters that do not vary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from desktop.core.batches import (
    PRIMARY_ROLES,
    Matrix,
    Variant,
    garment_groups,
    param_axes,
    split_values,
    variant_title,
)
from desktop.core.model import InvalidInput, ParamSpec, ParamType, TaskSpec
from desktop.ui.batch_words import MatrixShape, name_of

#: Parameter types that can take several values in a batch. A point ("x,y") and JSON hold
#: commas of their own: they keep the form's value.
AXIS_TYPES = (ParamType.CHOICE, ParamType.BOOLEAN, ParamType.INTEGER, ParamType.NUMBER,
              ParamType.STRING, ParamType.COLOR)

GARMENT = "garment"


def primary_role(tasks: Iterable[TaskSpec]) -> str:
    """The role whose images make the rows: the first of person, room, image the tasks
    take."""
    roles = {slot.role for task in tasks for slot in task.inputs if slot.max_count > 0}
    return next((r for r in PRIMARY_ROLES if r in roles), "image")


def input_roles(tasks: Iterable[TaskSpec]) -> list[str]:
    """Every role the tasks take, in their order."""
    found: dict[str, None] = {}
    for task in tasks:
        for slot in task.inputs:
            if slot.max_count > 0:
                found.setdefault(slot.role)
    return list(found)


def max_garments(tasks: Iterable[TaskSpec]) -> int:
    """How many garments one job may take on every provider (0: the task takes none)."""
    counts = [slot.max_count for task in tasks for slot in task.inputs if slot.role == GARMENT]
    return min(counts) if counts else 0


def axis_params(tasks: Sequence[TaskSpec], hidden: Iterable[str] = ()) -> list[ParamSpec]:
    """The parameters that can vary: those every task has, of a type that can take several
    values; a choice offers the values every task accepts."""
    if not tasks:
        return []
    skip = set(hidden)
    found = []
    for spec in tasks[0].params:
        if spec.name in skip or spec.type not in AXIS_TYPES:
            continue
        others = [t.param(spec.name) for t in tasks[1:]]
        if any(o is None or o.type != spec.type for o in others):
            continue
        if spec.type == ParamType.CHOICE:
            choices = tuple(c for c in spec.choices
                            if all(c in o.choices for o in others if o is not None))
            if not choices:
                continue
            spec = _with_choices(spec, choices)
        found.append(spec)
    return found


def _with_choices(spec: ParamSpec, choices: tuple[Any, ...]) -> ParamSpec:
    from dataclasses import replace

    return replace(spec, choices=choices)


def parse_values(spec: ParamSpec, text: str) -> list[Any]:
    """A comma list typed for a parameter ('0.8, 1, 1.2') as typed values; [] for an empty
    text. InvalidInput names the value that is wrong."""
    if not text.strip():
        return []
    values = []
    for part in split_values(text):
        value = spec.coerce(part)
        if value not in values:
            values.append(value)
    return values


@dataclass
class Recipe:
    """The dialog's choices."""

    task: str
    providers: tuple[str, ...]
    role: str
    rows: tuple[str, ...]
    garments: tuple[str, ...] = ()
    per_job: int = 1
    #: Other roles' images, the same in every job (as the window's panes hold them).
    fixed_inputs: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: Parameter name -> the values it takes (only those with values; one value is allowed).
    axes: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    #: Parameter titles for the headline.
    axis_titles: Mapping[str, str] = field(default_factory=dict)
    #: Parameters whose values are words of a list (a style): a column shows the word alone.
    axis_choices: Mapping[str, bool] = field(default_factory=dict)
    #: Each provider's own form values.
    provider_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def problems(self, *, takes_garments: bool) -> list[str]:
        """What stops a batch from being planned, as sentences."""
        found = []
        if not self.providers:
            found.append("Tick at least one provider.")
        if not self.rows:
            noun = {"person": "person photos", "room": "room photos"}.get(self.role, "images")
            found.append(f"Add {noun}: each one makes a row of the batch.")
        if takes_garments and not self.garments:
            found.append("Add garments: each one (or each group) makes a column.")
        return found

    def variants(self) -> list[Variant]:
        groups: list[tuple[str, ...]] = (garment_groups(list(self.garments), self.per_job)
                                         if self.garments else [()])
        sets = param_axes({name: list(values) for name, values in self.axes.items()
                           if values})
        fixed = {role: list(sources) for role, sources in self.fixed_inputs.items()
                 if sources and role not in (self.role, GARMENT)}
        variants = []
        for group in groups:
            for params in sets:
                inputs: dict[str, list[str]] = dict(fixed)
                if group:
                    inputs[GARMENT] = list(group)
                shown = {GARMENT: list(group)} if group else {}
                varying = {k: v for k, v in params.items() if len(self.axes.get(k, ())) > 1}
                title = variant_title(shown, {}, name_of)
                words = [_value_words(k, v, self.axis_choices.get(k, False))
                         for k, v in varying.items()]
                title = ", ".join(([title] if shown else []) + words) or "as in the form"
                variants.append(Variant(title, inputs, params))
        return variants

    def matrix(self) -> Matrix:
        return Matrix(task=self.task, providers=tuple(self.providers), role=self.role,
                      rows=tuple(self.rows), variants=tuple(self.variants()),
                      provider_params={p: dict(self.provider_params.get(p, {}))
                                       for p in self.providers})

    def shape(self) -> MatrixShape:
        axes = tuple((self.axis_titles.get(name, name), len(values))
                     for name, values in self.axes.items() if len(values) > 1)
        return MatrixShape(garments=len(self.garments), per_job=self.per_job, axes=axes)


def _value_words(name: str, value: Any, choice: bool) -> str:
    """How one varying value names a column: 'scandinavian' for a word from a list,
    'scale=0.8' otherwise."""
    if choice and isinstance(value, str):
        return value
    if isinstance(value, bool):
        return f"{name}={'yes' if value else 'no'}"
    return f"{name}={value}"


def check_axes(specs: Sequence[ParamSpec], texts: Mapping[str, str]) -> tuple[
        dict[str, list[Any]], dict[str, str]]:
    """Typed values per parameter from comma lists, and a sentence per parameter whose list
    is wrong."""
    values: dict[str, list[Any]] = {}
    errors: dict[str, str] = {}
    by_name = {s.name: s for s in specs}
    for name, text in texts.items():
        spec = by_name.get(name)
        if spec is None:
            continue
        try:
            found = parse_values(spec, text)
        except InvalidInput as exc:
            errors[name] = str(exc)
            continue
        if found:
            values[name] = found
    return values, errors

