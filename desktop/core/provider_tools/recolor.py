"""Recolour tools: the account's recolour tasks (list, delete) and the base pose tasks they
start from, so a person picks a base task by its picture instead of typing its number."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

COMPLETED = "completed"


@dataclass(frozen=True)
class RecolorTask:
    """One recolour task as the account's list shows it."""

    id: str
    status: str
    result_url: str | None = None
    created_at: str | None = None
    #: The base pose and model tasks it recoloured, when the list says so.
    pose_id: int | None = None
    model_task_id: int | None = None
    #: (garment, colour) pairs, when the list says so.
    colours: tuple[tuple[str, str], ...] = ()
    image_quality: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Without the result link: a signed address that may expire."""
        return {"id": self.id, "status": self.status, "created_at": self.created_at,
                "pose_image_generation_id": self.pose_id,
                "models_image_generation_task_id": self.model_task_id,
                "color_changes": [{"target": t, "color": c} for t, c in self.colours],
                "image_quality": self.image_quality, "has_result": bool(self.result_url)}


@dataclass(frozen=True)
class RecolorTaskPage:
    items: tuple[RecolorTask, ...]
    count: int
    page: int
    page_size: int
    has_next: bool


@dataclass(frozen=True)
class BaseTask:
    """A finished (or not) pose task a recolour can start from."""

    pose_id: int
    #: Its model task, when the service's answers name it; else the user types it.
    model_task_id: int | None
    status: str
    result_url: str | None = None
    created_at: str | None = None
    #: How many of the account's recolour tasks used it.
    recolours: int = 0

    @property
    def usable(self) -> bool:
        """Only a completed pose task with a picture can be recoloured."""
        return self.status == COMPLETED and bool(self.result_url)

    def status_words(self) -> str:
        if self.usable:
            return "Ready to recolour"
        if self.status == "failed":
            return "Failed: nothing to recolour"
        if self.status in ("queued", "pending", "processing"):
            return f"Still {self.status}"
        if self.status == COMPLETED:
            return "Completed, but without a picture"
        return f"Status “{self.status or 'unknown'}”"

    def to_dict(self) -> dict[str, Any]:
        return {"pose_image_generation_id": self.pose_id,
                "models_image_generation_task_id": self.model_task_id,
                "status": self.status, "created_at": self.created_at,
                "recolours": self.recolours, "usable": self.usable}


@dataclass(frozen=True)
class BaseTaskList:
    """The base tasks the account's recolour tasks name. `recolours` is how many recolour
    tasks were read; `unnamed` how many did not say which base task they used (the service's
    list is documented with id, status and result only)."""

    tasks: tuple[BaseTask, ...]
    recolours: int
    unnamed: int = 0


@runtime_checkable
class RecolorTools(Protocol):
    title: str

    async def recolor_tasks(self, page: int = 1, page_size: int = 20) -> RecolorTaskPage:
        ...

    async def base_tasks(self, *, pages: int = 5, page_size: int = 50) -> BaseTaskList:
        ...

    async def base_task(self, pose_id: int) -> BaseTask:
        """One pose task by its number (NOT_FOUND when the service has none)."""
        ...

    async def delete(self, task_id: Any) -> str:
        """Delete a recolour task for good; the service's confirmation."""
        ...

    async def download(self, url: str) -> bytes:
        ...
