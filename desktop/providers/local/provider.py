"""The offline provider: real pixel operations on this computer, no key, no network.

It follows the same submit -> poll -> fetch contract as the remote services so the engine, the
CLI and the window treat it the same way. `submit` does the work (in a worker thread) and keeps
the PNG result in memory under a new remote id until it is fetched or cancelled. A job it does
not know (Restyle was closed in between) is reported as NOT_FOUND; because running it again
costs nothing, the provider is marked `resubmit_safe` and the engine simply resubmits.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image

from desktop.core import imaging
from desktop.core.model import ErrorCode, InputRole, ParamSpec, ParamType, TaskSpec
from desktop.providers.base import (
    InputLimits,
    PreparedInput,
    PreparedJob,
    Provider,
    ProviderError,
    RemoteOutput,
    RemoteRef,
    RemoteState,
    RemoteStatus,
)
from desktop.providers.local import ops
from desktop.providers.local.workers import run_operation, warm_up

_IMAGE = InputRole("image", "Image", help="The picture to work on.")

_TOLERANCE_HELP = (
    "How different a colour may be and still count as the same (0 = only the exact colour, "
    "255 = any colour)."
)
_RATIO_TITLES: tuple[tuple[str, str], ...] = (
    ("1:1", "1:1 (square)"), ("4:5", "4:5 (portrait)"), ("3:4", "3:4 (portrait)"),
    ("2:3", "2:3 (portrait)"), ("16:9", "16:9 (wide)"), ("9:16", "9:16 (tall)"))

TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        id="background_removal",
        title="Remove background",
        inputs=(_IMAGE,),
        params=(
            ParamSpec("tolerance", ParamType.NUMBER, title="Tolerance", default=40.0,
                      minimum=0, maximum=255,
                      help="How close to the border's colour a pixel must be to become "
                           "transparent (0 = exact, 255 = anything)."),
            ParamSpec("feather", ParamType.NUMBER, title="Soft edge", default=2.0,
                      minimum=0, maximum=50,
                      help="Width in pixels of the soft edge between subject and background."),
        ),
        note="Works best on a plain, evenly lit background.",
    ),
    TaskSpec(
        id="recolor",
        title="Recolour",
        inputs=(_IMAGE,),
        params=(
            ParamSpec("color", ParamType.COLOR, title="New colour", required=True,
                      help="The colour to apply, #RRGGBB or a name; shading is kept."),
            ParamSpec("seed", ParamType.POINT, title="Point in the region",
                      placeholder="x,y (e.g. 0.5,0.4 for the middle); empty: the centre",
                      help="A point in the area to recolour, in pixels or as fractions of the "
                           "width and height."),
            ParamSpec("source_color", ParamType.COLOR, title="Colour to replace",
                      help="Recolour the pixels close to this colour instead (only around the "
                           "point when one is given)."),
            ParamSpec("tolerance", ParamType.NUMBER, title="Tolerance", default=40.0,
                      minimum=0, maximum=255, help=_TOLERANCE_HELP),
        ),
    ),
    TaskSpec(
        id="upscale",
        title="Upscale",
        inputs=(_IMAGE,),
        params=(
            ParamSpec("factor", ParamType.CHOICE, title="Enlarge", default=2, choices=(2, 4),
                      choice_titles=((2, "2× larger"), (4, "4× larger")),
                      help="Twice or four times the width and height; sharpened a little, no "
                           "detail is invented."),
        ),
    ),
    TaskSpec(
        id="reframe",
        title="Reframe",
        inputs=(_IMAGE,),
        params=(
            ParamSpec("ratio", ParamType.CHOICE, title="Aspect ratio", default="1:1",
                      choices=tuple(ops.RATIOS), choice_titles=_RATIO_TITLES,
                      help="The new width:height; the canvas grows, nothing is cropped."),
            ParamSpec("fill", ParamType.CHOICE, title="Fill", default="blur",
                      choices=ops.FILLS,
                      choice_titles=(("blur", "Blurred copy"), ("mirror", "Mirrored edges")),
                      help="How the new margins are filled."),
        ),
    ),
    TaskSpec(
        id="tryon",
        title="Try-on layout preview",
        inputs=(
            InputRole("person", "Person", 1, 1, help="A photo of the person, facing the camera."),
            InputRole("garment", "Garment", 1, 1,
                      help="The garment on a plain background (a flat lay or product shot)."),
        ),
        params=(
            ParamSpec("scale", ParamType.NUMBER, title="Garment scale", default=1.0,
                      minimum=0.5, maximum=1.5,
                      help="Garment width relative to the estimated torso width."),
            ParamSpec("shadow", ParamType.BOOLEAN, title="Drop shadow", default=True,
                      help="Draw a soft shadow under the garment."),
        ),
        note=ops.PREVIEW_CAPTION,
    ),
)

_LABELS = {
    "background_removal": "Background removed",
    "recolor": "Recoloured",
    "upscale": "Upscaled",
    "reframe": "Reframed",
    "tryon": ops.PREVIEW_CAPTION,
}


@dataclass(frozen=True)
class _Result:
    data: bytes
    label: str
    note: str


def _open(item: PreparedInput) -> Image.Image:
    return imaging.open_image(item.data, item.filename)


def _optional_text(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _run(task_id: str, inputs: dict[str, list[PreparedInput]], params: dict[str, Any]) -> bytes:
    """Decode, run the operation and encode the result as PNG. Runs in a worker process."""
    operations: dict[str, Callable[[], Image.Image]] = {
        "background_removal": lambda: ops.remove_background(
            _open(inputs["image"][0]), tolerance=float(params["tolerance"]),
            feather=float(params["feather"])),
        "recolor": lambda: ops.recolor(
            _open(inputs["image"][0]), color=str(params["color"]),
            seed=_point(params.get("seed")),
            source_color=_optional_text(params.get("source_color")),
            tolerance=float(params["tolerance"])),
        "upscale": lambda: ops.upscale(_open(inputs["image"][0]), factor=int(params["factor"])),
        "reframe": lambda: ops.reframe(
            _open(inputs["image"][0]), ratio=str(params["ratio"]), fill=str(params["fill"])),
        "tryon": lambda: ops.tryon_preview(
            _open(inputs["person"][0]), _open(inputs["garment"][0]),
            scale=float(params["scale"]), shadow=bool(params["shadow"])),
    }
    result = operations[task_id]()
    # PNG always: the result is stored once and must not lose anything to compression. zlib
    # level 3 encodes a 12-megapixel photo about three times faster than the default 6.
    return imaging.encode(result, "image/png", compress_level=3)


def _check_recolor(item: PreparedInput, params: dict[str, Any]) -> None:
    """Decode the image and look at the pixels the recolour starts from (in a worker thread)."""
    ops.check_recolor(_open(item), seed=_point(params.get("seed")),
                      source_color=_optional_text(params.get("source_color")),
                      tolerance=float(params["tolerance"]))


def _point(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    x, y = value  # validated by ParamSpec: a pair of non-negative numbers
    return (float(x), float(y))


class LocalProvider(Provider):
    """Offline operations on this computer; the default provider."""

    id = "local"
    title = "Local (offline)"
    needs_key = False
    needs_base_url = False
    poll_interval = 0.05
    limits = InputLimits(
        max_side=4096, max_bytes=50 * 1024 * 1024, min_side=16, formats=("image/png", "image/jpeg")
    )
    supports_cancel = True
    resubmit_safe = True

    def __init__(self) -> None:
        # Only touched from the event loop thread (the work itself runs in a worker thread).
        self._results: dict[str, _Result] = {}

    @property
    def tasks(self) -> tuple[TaskSpec, ...]:
        return TASKS

    async def check(self, task: TaskSpec, params: dict[str, Any],
                    inputs: dict[str, list[PreparedInput]]) -> None:
        """What an operation would refuse about its parameters and this image: an upscale
        beyond Restyle's size limit, a recolour point outside the image, on a clear pixel or
        not on the source colour, a source colour found nowhere."""
        if task.id == "upscale":
            item = inputs["image"][0]
            ops.upscale_size(item.width, item.height, int(params["factor"]))
        elif task.id == "recolor":
            item = inputs["image"][0]
            seed = _point(params.get("seed"))
            if seed is not None:  # from the sizes alone, before decoding anything
                ops.seed_pixel(seed, item.width, item.height)
            await asyncio.to_thread(_check_recolor, item, params)

    async def submit(self, job: PreparedJob) -> RemoteRef:
        task = self.task(job.task)
        if task is None:
            known = ", ".join(t.id for t in TASKS)
            raise ProviderError(
                ErrorCode.INVALID_INPUT,
                f"{self.title} has no task '{job.task}' (it has: {known}).",
            )
        # Validate again: a resumed job's params come back from JSON (a point as a list).
        params = task.validate(
            {role: [i.sha256 for i in items] for role, items in job.inputs.items()}, job.params
        )
        data = await run_operation(_run, task.id, job.inputs, params)
        remote_id = "local-" + uuid.uuid4().hex
        self._results[remote_id] = _Result(data=data, label=_LABELS[task.id], note=task.note)
        return RemoteRef(remote_id, data={"task": task.id})

    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        result = self._results.get(ref.remote_id)
        if result is None:
            raise ProviderError(
                ErrorCode.NOT_FOUND,
                "This offline job was interrupted when Restyle closed; its inputs are kept, "
                "run it again.",
            )
        output = RemoteOutput(data=result.data, mime="image/png", label=result.label,
                              extra={"remote_id": ref.remote_id})
        return RemoteStatus(RemoteState.SUCCEEDED, progress=1.0, outputs=(output,),
                            message=result.note)

    async def fetch(self, output: RemoteOutput) -> bytes:
        """Return the result's bytes and forget them: the engine stores them at once."""
        remote_id = output.extra.get("remote_id")
        stored = self._results.pop(remote_id, None) if isinstance(remote_id, str) else None
        data = output.data if output.data is not None else (stored.data if stored else None)
        if data is None:
            raise ProviderError(
                ErrorCode.RESULT_UNAVAILABLE,
                "This offline result is no longer in memory; run the job again.",
            )
        return data

    async def warm_up(self) -> None:
        await warm_up()

    async def cancel(self, ref: RemoteRef) -> None:
        self._results.pop(ref.remote_id, None)

