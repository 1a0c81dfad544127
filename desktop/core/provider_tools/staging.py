"""Virtual staging tools: past renders, furniture analysis, multi-view compatibility, and the
sentences that say what their answers mean."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

#: Below this share of furniture a room counts as empty; above the second, mostly furnished.
EMPTY_BELOW_PERCENT = 5.0
FURNISHED_FROM_PERCENT = 25.0


class RenderState(StrEnum):
    """A render folded from its variations."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    #: Finished; some variations failed or were cancelled, the others are ready.
    PARTLY_DONE = "partly_done"
    FAILED = "failed"
    #: The service lists the render but it has no variations (yet).
    EMPTY = "empty"


_STATE_WORDS = {
    RenderState.QUEUED: "Waiting to start",
    RenderState.RUNNING: "Being made",
    RenderState.DONE: "Ready",
    RenderState.PARTLY_DONE: "Partly ready",
    RenderState.FAILED: "Failed",
    RenderState.EMPTY: "No variations",
}


@dataclass(frozen=True)
class RenderSummary:
    """One past render as a list shows it."""

    id: str
    #: Seconds since the epoch (the service sends milliseconds); None when not given.
    created_at: float | None
    state: RenderState
    total: int
    done: int
    failed: int
    #: Render types of its variations, in order of first appearance ("staging", "day-to-dusk").
    kinds: tuple[str, ...] = ()
    #: A finished variation's smaller picture (else its full one), for a thumbnail.
    thumbnail_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Without the picture link: it is a signed address that expires."""
        return {"id": self.id, "created_at": self.created_at, "state": str(self.state),
                "variations_total": self.total, "variations_done": self.done,
                "variations_failed": self.failed, "types": list(self.kinds)}


@dataclass(frozen=True)
class RenderPage:
    items: tuple[RenderSummary, ...]
    next_cursor: str | None = None
    total_count: int | None = None


@dataclass(frozen=True)
class FurnitureAnalysis:
    """The answer of a furniture-mask analysis: the mask and how much of the photo it covers."""

    id: str
    status: str
    result_url: str | None
    percentage_masked: float | None
    created_at: float | None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Compatibility:
    """Whether two photos can be staged together (multi-view staging)."""

    compatible: bool
    hard_rejected: bool
    rejection_reason: str | None


@runtime_checkable
class StagingTools(Protocol):
    """What a staging service offers besides its jobs."""

    title: str

    async def render_summaries(self, *, limit: int = 20, cursor: str | None = None
                               ) -> RenderPage:
        """One page of past renders, newest first, each with its variations counted."""
        ...

    async def analyze(self, image: str | bytes, *, webhook_url: str | None = None
                      ) -> FurnitureAnalysis:
        """A furniture mask for a photo (an http(s) URL, or the image's bytes)."""
        ...

    async def multi_view_compatibility(self, first: str | bytes, second: str | bytes
                                       ) -> Compatibility:
        ...

    async def download(self, url: str) -> bytes:
        """A picture the service links to (a mask, a variation), under the download rules."""
        ...


def render_state_words(state: RenderState) -> str:
    return _STATE_WORDS[state]


def analysis_words(analysis: FurnitureAnalysis, title: str = "The service") -> str:
    """The analysis in plain words: how furnished the room is and what to do about it."""
    status = analysis.status.strip().lower()
    if status and status not in ("done", "completed", "succeeded", "success"):
        return (f"{title} has not finished the analysis yet (it says “{analysis.status}”); "
                "try again in a moment.")
    share = analysis.percentage_masked
    if share is None:
        return (f"{title} made a furniture mask but did not say how much of the photo it "
                "covers; look at the mask.")
    shown = f"{share:.0f} %" if share >= 1 or share == 0 else "under 1 %"
    if share < EMPTY_BELOW_PERCENT:
        return (f"Almost no furniture found ({shown} of the photo): the room looks empty, "
                "ready to stage as it is.")
    if share < FURNISHED_FROM_PERCENT:
        return (f"Some furniture found ({shown} of the photo). To stage the room without it, "
                "tick “Remove furniture first” or use the removal render type.")
    return (f"Much of the room is furnished ({shown} of the photo). Remove the furniture "
            "first (“Remove furniture first”, or the removal render type) before staging it.")


def compatibility_words(result: Compatibility, title: str = "The service") -> str:
    """The verdict on two photos in plain words (the service's reason quoted)."""
    reason = (result.rejection_reason or "").strip().rstrip(".")
    said = f" {title} says: {reason}." if reason else ""
    if result.compatible:
        return "Yes: these two photos can be staged together, with matching furniture."
    if result.hard_rejected:
        return "No: these two photos cannot be staged together." + said
    return ("Possible, but the result may not be as good." + said
            + " Photos of the same room from nearby angles work best.")


def photo_kind(render_type: str) -> str:
    """Which of the plan's photo counts a render type uses (the service counts staging and
    furniture removal as staging photos, other types as image editing)."""
    return "staging" if render_type in ("staging", "removal") else "imageEditing"


def photos_sentence(count: int, render_type: str, limits: Mapping[str, Any],
                    title: str = "Virtual Staging AI") -> str:
    """The expected cost of `count` new variations, from the account's photo limits (the
    `limits` of its AccountInfo: kind -> {limit, used})."""
    noun = "variation" if count == 1 else "variations"
    each = "it counts" if count == 1 else "each counts"
    kind = photo_kind(render_type)
    words = "staging photo" if kind == "staging" else "image-editing photo"
    head = f"{count} new {noun}: {each} as one {words} of your {title} plan"
    found = limits.get(kind) or limits.get("photos")
    if isinstance(found, Mapping):
        limit, used = found.get("limit"), found.get("used")
        if isinstance(limit, (int, float)) and isinstance(used, (int, float)):
            left = max(0, int(limit - used))
            after = left - count
            if after < 0:
                return (f"{head}, but only {left} of {int(limit)} are left this period: "
                        "the service will refuse it.")
            return f"{head} ({left} of {int(limit)} left this period; {after} after this)."
    return f"{head}."
