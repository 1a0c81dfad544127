"""Plain words for what Restyle shows about a job: parameter values by their names ("Living
room" rather than `living`), a one-line summary of the settings a job ran with, a job's own
line (the provider's words, never the task's description), and human names for its outputs
("Staged, variation 2", "Try-on result").

The names are made when they are shown, from what is stored: the providers' own output labels
stay in the history, in export file names and in `restyle-cli`'s JSON as they are, and jobs
stored by an older Restyle read the same way as new ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from desktop.core.model import Job, Output, OutputKind, ParamSpec, ParamType, TaskSpec

#: What a task's result is called when its provider names it only by a field name
#: (`result_image`) or its own name ("FitInView try-on").
RESULT_NAMES: dict[str, str] = {
    "tryon": "Try-on result",
    "staging": "Staged",
    "recolor": "Recoloured",
    "upscale": "Upscaled",
    "background_removal": "Background removed",
    "reframe": "Reframed",
    "video": "Video",
    "virtual_model": "Generated model",
    "fabric": "Fabric applied",
    "sketch_to_dress": "Dress from the sketch",
    "multipose": "New pose",
    "product_shoot": "Product shot",
}

#: Virtual Staging AI's variation kinds (the first word of its labels) as results.
_STAGING_KINDS: dict[str, str] = {
    "staging": "Staged",
    "day-to-dusk": "Dusk",
    "enhancement": "Enhanced",
    "removal": "Furniture removed",
    "variation": "Staged",
}
_STAGING_LABEL = re.compile(r"^(?P<kind>[a-z-]+) variation (?P<n>\d+)$")
_TRYON_LABEL = re.compile(r"^(?:[A-Za-z]+ )?try-on(?P<rest>\s*\(.*\))?$", re.IGNORECASE)
#: A field or node name rather than words: `result_image`, `Vton_Node`, `output`.
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[_.][A-Za-z0-9]+)*$")
_SUMMARY_TEXT_CHARS = 40

#: How a view finds the description of a job's task: (provider id, task id) -> TaskSpec.
TaskLookup = Callable[[str, str], TaskSpec | None]


def no_tasks(_provider: str, _task: str) -> TaskSpec | None:
    """A TaskLookup that knows no task (a view used on its own shows names as stored)."""
    return None


def readable(name: str) -> str:
    """A field name made readable: "result_image" -> "Result image"."""
    text = re.sub(r"[_.]+", " ", name).strip()
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    return text[:1].upper() + text[1:].lower() if text else name


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _clip(text: str, limit: int = _SUMMARY_TEXT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def value_text(spec: ParamSpec, value: Any) -> str:
    """One parameter's value as people read it, without the parameter's name."""
    if spec.type == ParamType.CHOICE or spec.choice_titles:
        return spec.choice_title(value)
    if spec.type == ParamType.BOOLEAN:
        return "on" if value else "off"
    if spec.type == ParamType.POINT and isinstance(value, (list, tuple)) and len(value) == 2:
        return f"{_number(value[0])},{_number(value[1])}"
    if spec.type in (ParamType.INTEGER, ParamType.NUMBER):
        return _number(value)
    if spec.type == ParamType.JSON:
        if spec.rows and isinstance(value, list):
            return "; ".join(_row_text(spec, row) for row in value if isinstance(row, Mapping))
        return "set"
    return _clip(str(value))


def _row_text(spec: ParamSpec, row: Mapping[str, Any]) -> str:
    """A row of a list parameter ("blouse: royal blue")."""
    parts = [value_text(field, row[field.name]) for field in spec.rows
             if row.get(field.name) not in (None, "")]
    return ": ".join(parts[:2]) + (" " + " ".join(parts[2:]) if len(parts) > 2 else "")


def _setting_text(spec: ParamSpec, value: Any) -> str:
    """A parameter and its value for a summary; "" when it says nothing worth reading."""
    if spec.type == ParamType.BOOLEAN:
        if value:
            return spec.label
        return f"{spec.label}: off" if spec.default else ""
    shown = value_text(spec, value)
    if spec.choice_titles:
        return shown  # "Living room", "Scandinavian": the name says what it is
    if spec.type == ParamType.STRING:
        return f"{spec.label}: “{shown}”"
    if spec.type == ParamType.JSON and not spec.rows:
        return f"{spec.label}: set"
    if spec.type == ParamType.JSON:
        return f"{spec.label}: {shown}"
    return f"{spec.label} {shown}"


def param_summary(task: TaskSpec | None, params: Mapping[str, Any]) -> str:
    """The settings a job ran with, in a line: "Furnish · Living room · Scandinavian ·
    Variations 3". Parameters that do not apply (sky on a staging render) and advanced ones at
    their default are left out; without the task's description the names and values are
    shown as they are."""
    if task is None:
        return ", ".join(f"{k}={v}" for k, v in params.items())
    parts: list[str] = []
    defaults = task.defaults()
    applicable = task.applicable(params)
    for spec in task.params:
        if spec.name not in applicable or params[spec.name] is None:
            continue
        value = params[spec.name]
        if spec.advanced and (value == spec.default or value in ("", [], {})):
            continue
        text = _setting_text(spec, value)
        if text:
            parts.append(text)
    for name, value in params.items():
        if task.param(name) is None and name not in defaults:
            parts.append(f"{name}={_clip(str(value))}")
    return " · ".join(parts)


def job_line(job: Job, task: TaskSpec | None) -> str:
    """The job's own line (the provider's progress or closing words), or "" when all it has
    is the task's description, which the form shows once."""
    note = job.note.strip()
    if not note or (task is not None and note == task.note.strip()):
        return ""
    return note


def output_title(job: Job, output: Output, task: TaskSpec | None = None) -> str:
    """A human name for one of a job's outputs: "Staged, variation 2", "Dusk", "Try-on result";
    a saved workflow's named outputs keep their names; a field name (`result_image`) becomes
    the task's result ("Try-on result") or readable words."""
    label = output.label.strip()
    several = len(job.outputs) > 1
    number = output.position + 1
    if job.task == "workflow" and label:
        return label  # the workflow's author named its outputs
    staged = _STAGING_LABEL.match(label)
    if staged and job.task == "staging" and staged["kind"] in _STAGING_KINDS:
        word = _STAGING_KINDS[staged["kind"]]
        if (word == "Staged" and job.spec.params.get("type") == "removal"
                and not job.spec.params.get("configs")):
            word = "Furniture removed"
        return f"{word}, variation {staged['n']}" if several else word
    tryon = _TRYON_LABEL.match(label)
    if tryon and job.task == "tryon":
        name = RESULT_NAMES["tryon"] + (tryon["rest"] or "")
        return f"{name}, {number}" if several else name
    if not label or "_" in label or (_IDENTIFIER.match(label) and label.lower() == label):
        base = RESULT_NAMES.get(job.task)
        if base is None:
            base = f"{task.title} result" if task is not None and task.title else (
                readable(label) if label else "Result")
        if output.kind == OutputKind.VIDEO and job.task != "video":
            base = f"{base} (video)"
        return f"{base}, {number}" if several else base
    return label


__all__ = ["RESULT_NAMES", "TaskLookup", "job_line", "no_tasks", "output_title",
           "param_summary", "readable", "value_text"]
