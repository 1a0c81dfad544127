"""Reviews of outputs and blind A/B votes: plain data, and the default defect tags.

A review is one person's verdict on one output of a job (pass or fail, 1-5 stars, defect tags,
a note); several people may review the same output, each keeps their own. A vote is one
person's blind comparison of two outputs made from the same inputs by two providers.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from desktop.core.model import InvalidInput


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"


class VoteOutcome(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    TIE = "tie"
    BAD = "bad"  # both bad


@dataclass(frozen=True)
class Review:
    job_id: str
    position: int
    reviewer: str
    verdict: Verdict | None = None
    stars: int | None = None
    tags: tuple[str, ...] = ()
    note: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0

    def __post_init__(self) -> None:
        if self.stars is not None and not 1 <= self.stars <= 5:
            raise InvalidInput(f"Stars go from 1 to 5 (got {self.stars}).")
        if not self.reviewer.strip():
            raise InvalidInput("A review needs the reviewer's name.")

    @property
    def empty(self) -> bool:
        return self.verdict is None and self.stars is None and not self.tags and not self.note

    def to_dict(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "output": self.position, "reviewer": self.reviewer,
                "verdict": str(self.verdict) if self.verdict else None, "stars": self.stars,
                "tags": list(self.tags), "note": self.note, "created_at": self.created_at,
                "updated_at": self.updated_at}


@dataclass(frozen=True)
class Vote:
    id: str
    left_job: str
    left_position: int
    right_job: str
    right_position: int
    outcome: VoteOutcome
    reviewer: str
    created_at: float
    #: Filled in when read from the history (the jobs' providers and task).
    left_provider: str = ""
    right_provider: str = ""
    task: str = ""


#: Defect tags offered per task family; settings.json `review.tags.<family>` replaces a list.
DEFAULT_TAGS: dict[str, tuple[str, ...]] = {
    "tryon": ("garment wrong", "garment detail lost", "logo/text garbled", "identity changed",
              "pose changed", "hands or face broken", "body shape changed", "artifacts"),
    "staging": ("structure changed", "furniture floating", "wrong scale/perspective",
                "lighting mismatch", "window or view altered", "clutter left", "artifacts"),
    "other": ("artifacts", "colour off", "cropped"),
}


def tag_family(task: str) -> str:
    """Which default tag list a task uses: try-on tools, staging tools, everything else."""
    lowered = task.lower()
    if "tryon" in lowered or "try_on" in lowered:
        return "tryon"
    if "staging" in lowered or lowered in ("day_to_dusk", "furniture_removal", "enhancement"):
        return "staging"
    return "other"


def tags_for(task: str, configured: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The defect tags offered for `task`: the settings' list for its family, else the
    default."""
    family = tag_family(task)
    chosen = (configured or {}).get(family)
    if isinstance(chosen, (list, tuple)):
        tags = tuple(str(t).strip() for t in chosen if str(t).strip())
        if tags:
            return tags
    return DEFAULT_TAGS[family]


def default_reviewer() -> str:
    """The reviewer's name when settings give none: the operating system's user name."""
    try:
        return getpass.getuser() or "reviewer"
    except (OSError, KeyError, ImportError):
        return os.environ.get("USER") or os.environ.get("USERNAME") or "reviewer"


@dataclass(frozen=True)
class ReviewSettings:
    """settings.json `review`: who reviews, and the tag lists per task family."""

    reviewer: str = field(default_factory=default_reviewer)
    tags: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> ReviewSettings:
        if not isinstance(data, dict):
            return cls()
        name = str(data.get("reviewer") or "").strip()
        raw_tags = data.get("tags") if isinstance(data.get("tags"), dict) else {}
        tags = {k: tuple(str(t) for t in v) for k, v in raw_tags.items()
                if k in DEFAULT_TAGS and isinstance(v, (list, tuple))}
        return cls(reviewer=name or default_reviewer(), tags=tags)

    def to_dict(self) -> dict[str, Any]:
        return {"reviewer": self.reviewer, "tags": {k: list(v) for k, v in self.tags.items()}}

    def tags_for(self, task: str) -> tuple[str, ...]:
        return tags_for(task, self.tags)
