"""Which input panes the files of `restyle FILE... [--role ROLE]` go to: plain data in, plain
data out, so the rules are tested without a window.

- Without a role the files follow the current task's order of roles (try-on: the first file
  is the person, the next the garment(s)); each pane takes as many as it holds and the last
  one the rest (it refuses the extra ones with its own sentence, as for a drop). Panes that are
  already full are skipped while an unfilled one is left, so opening a person and then a garment
  one after the other fills both; when every pane is full, the files replace from the first.
- With a role, the files go to the panes that take that kind of picture (a workflow's
  "Dress_Model.garment_image" takes garments), in the same way.
- When the current task takes no such picture, the one task that does is chosen: common tasks
  first, then providers' own tools; several (Recolor, Upscale, ... all take an image) or none is
  a sentence instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from desktop.ui.role_words import role_kind

#: What the sentences call each kind of picture.
_NOUNS = {"person": "person photos", "garment": "garments", "room": "room photos",
          "image": "images"}


@dataclass(frozen=True)
class Slot:
    """One visible input pane: its role, how many images it takes and holds now."""

    role: str
    capacity: int
    filled: int = 0


@dataclass(frozen=True)
class TaskChoice:
    """A task the selector offers, with the roles its providers' inputs have."""

    key: str
    title: str
    roles: tuple[str, ...]
    common: bool


def takes(role: str, kind: str) -> bool:
    """Whether a pane of `role` takes pictures of `kind` (person, garment, room, image)."""
    return role == kind or role_kind(role) == kind


def noun(kind: str) -> str:
    return _NOUNS.get(kind, f"{kind} images")


def distribute(files: Sequence[str], slots: Sequence[Slot]) -> list[tuple[str, list[str]]]:
    """(role, files) per pane, in the slots' order; see the module docstring."""
    if not files or not slots:
        return []
    open_slots = [s for s in slots if s.filled < s.capacity] or list(slots)
    plan: list[tuple[str, list[str]]] = []
    rest = list(files)
    for index, slot in enumerate(open_slots):
        if not rest:
            break
        last = index == len(open_slots) - 1
        room = slot.capacity - slot.filled if slot.filled < slot.capacity else slot.capacity
        share = rest if last else rest[:max(1, room)]
        rest = rest[len(share):]
        plan.append((slot.role, share))
    return plan


def slots_for(kind: str | None, slots: Sequence[Slot]) -> list[Slot]:
    """The slots files of `kind` go to (all of them without a kind)."""
    if kind is None:
        return list(slots)
    return [s for s in slots if takes(s.role, kind)]


def choose_task(kind: str, current_title: str, tasks: Sequence[TaskChoice]
                ) -> tuple[TaskChoice | None, str]:
    """The task to switch to for files of `kind` that the current task does not take, or
    (None, the sentence saying why none was chosen)."""
    offering = [t for t in tasks if any(takes(r, kind) for r in t.roles)]
    for group in ([t for t in offering if t.common], [t for t in offering if not t.common]):
        if len(group) == 1:
            return group[0], ""
        if group:
            titles = [t.title for t in group]
            listed = ", ".join(titles[:-1]) + f" or {titles[-1]}"
            return None, (f"{current_title} takes no {noun(kind)}; choose the task for them "
                          f"({listed}) and open the files again.")
    return None, (f"No task here takes {noun(kind)}, so the files were not opened; set up a "
                  "provider that takes them first.")
