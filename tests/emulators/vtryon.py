"""An emulator of the vtryon Recolor API: recolour tasks on top of seeded multipose tasks.

Endpoints (as documented): `POST /v4/models/multipose-image-recolor/` (JSON body, 200 with
`id`, `status: queued`, `created_at`), `GET /v4/models/multipose-image-recolor/` (`page`,
`page_size`; `count`, `next`, `results`), `GET /v2/models/multipose-tasks/{id}/` (`queued` ->
`processing` -> `completed` with `result_url` | `failed`) and
`DELETE /v2/models/multipose-tasks/{id}/` (`{"detail": "Deleted successfully"}`). Auth is the
`x-api-key` header.

A recolour task needs a finished base pose task and its model task. The API has no endpoint to
create those here, so the emulator is seeded: the constructor makes one (`seeded_pose_id`,
`seeded_model_task_id`) unless `seed=False`, and `seed_pose_task()` makes more. The seeded
ids are fixed (`SEED_POSE_ID` 936, `SEED_MODEL_TASK_ID` 901). Base tasks are
served by the same task endpoint, which is where the "before" image comes from.

The document gives no error bodies; the emulator answers the way Django REST framework does
(`{"detail": ...}` and `{"field": ["message"]}`), which its paths and pages suggest.
"""

from __future__ import annotations

import io
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from PIL import Image, ImageDraw
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.emulators.kit import Emulator, derive_image

QUALITIES = ("2k", "4k")
MAX_PAGE_SIZE = 100
#: The base tasks every emulator starts with (936 is the document's example pose id), so a
#: person can run `restyle-cli run --task recolor` against `python -m tests.emulators` at once.
SEED_POSE_ID = 936
SEED_MODEL_TASK_ID = 901


@dataclass
class Task:
    id: int
    kind: str  # "pose" (seeded base task) or "recolor"
    created: float
    created_at: str
    image: bytes | None = None  # a pose task's result; a recolour task's once derived
    request: dict[str, Any] = field(default_factory=dict)
    status: str | None = None  # a fixed status (seeded tasks); None: follow the clock
    fail_message: str | None = None
    fail_code: str | None = None
    result_url: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def pose_picture(label: str, size: tuple[int, int] = (96, 128)) -> bytes:
    """A stand-in for a generated pose image: a figure in a blouse and a skirt."""
    img = Image.new("RGB", size, (235, 228, 220))
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.ellipse((w * 0.4, h * 0.05, w * 0.6, h * 0.2), fill=(200, 160, 130))
    draw.rectangle((w * 0.3, h * 0.2, w * 0.7, h * 0.5), fill=(180, 40, 60))
    draw.polygon([(w * 0.3, h * 0.5), (w * 0.7, h * 0.5), (w * 0.85, h * 0.95),
                  (w * 0.15, h * 0.95)], fill=(30, 120, 70))
    draw.text((2, 2), label[:20], fill=(0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _detail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def _field(name: str, message: str) -> JSONResponse:
    return JSONResponse({name: [message]}, status_code=400)


class VtryonEmulator(Emulator):
    """vtryon Recolor over real HTTP. Knobs for tests:

    - `seed_pose_task(...)`: another base pose task (finished unless `status` says otherwise);
      returns its id; the constructor seeds one as `seeded_pose_id` / `seeded_model_task_id`;
    - `credits`: None for unlimited, else each accepted task costs one; at 0 -> 402;
    - `waiting_status`: the status before `processing` (`queued` as documented, or `pending`);
    - `fail_next(message, code=None)`: the next accepted task fails with that message;
    - `omit_result_url`: completed tasks carry no `result_url`;
    - `echo_request`: answers about a recolour task repeat its request fields (the base task
      ids, colour changes, quality), as a Django REST framework serializer does; False gives
      only what the document shows (id, status, created_at, result_url).
    """

    default_key = "vtryon-test-key"

    def __init__(self, *, api_key: str | None = None, job_delay: float = 0.2,
                 url_ttl: float = 300.0, credits: int | None = None, seed: bool = True,
                 waiting_status: str = "queued") -> None:
        super().__init__(api_key=api_key, job_delay=job_delay, url_ttl=url_ttl)
        self.credits = credits
        self.waiting_status = waiting_status
        self.omit_result_url = False
        self.echo_request = True
        self.tasks: dict[int, Task] = {}
        self.model_tasks: dict[int, int] = {}  # model task id -> its pose task id
        self._ids = itertools.count(501)
        self._model_ids = itertools.count(901)
        self._failures: list[tuple[str, str | None]] = []
        self.seeded_pose_id = 0
        self.seeded_model_task_id = 0
        if seed:
            self.seeded_pose_id, self.seeded_model_task_id = self.seed_pose_task(
                task_id=SEED_POSE_ID)

    def routes(self) -> list[Route]:
        return [
            Route("/v4/models/multipose-image-recolor/", self.create, methods=["POST"]),
            Route("/v4/models/multipose-image-recolor/", self.list_tasks, methods=["GET"]),
            Route("/v2/models/multipose-tasks/{task_id}/", self.get_task, methods=["GET"]),
            Route("/v2/models/multipose-tasks/{task_id}/", self.delete_task,
                  methods=["DELETE"]),
        ]

    # -- knobs -------------------------------------------------------------------------------
    def seed_pose_task(self, image: bytes | None = None, *, status: str = "completed",
                       task_id: int | None = None) -> tuple[int, int]:
        """A base multipose task (and the model task behind it): (pose id, model task id).

        `status` other than `completed` makes a base task that cannot be recoloured."""
        pose_id = task_id if task_id is not None else self._next_id()
        model_id = next(self._model_ids)
        self.tasks[pose_id] = Task(pose_id, "pose", time.monotonic(), _now(),
                                   image=image or pose_picture(f"pose {pose_id}"),
                                   status=status)
        self.model_tasks[model_id] = pose_id
        return pose_id, model_id

    def pose_image(self, pose_id: int) -> bytes:
        image = self.tasks[pose_id].image
        assert image is not None
        return image

    def expected_result(self, task_id: int | str) -> bytes:
        """The image a recolour task produces: its base image, tinted by the task."""
        task = self.tasks[int(task_id)]
        base = self.pose_image(task.request["pose_image_generation_id"])
        return derive_image([base], self._label(task))

    def fail_next(self, message: str, code: str | None = None) -> None:
        self._failures.append((message, code))

    # -- auth --------------------------------------------------------------------------------
    def _authorized(self, request: Request) -> bool:
        return request.headers.get("x-api-key", "") == self.api_key

    def _unauthorized(self, request: Request) -> JSONResponse:
        if "x-api-key" not in request.headers:
            return _detail(401, "Authentication credentials were not provided.")
        return _detail(401, "Invalid API key.")

    # -- endpoints ---------------------------------------------------------------------------
    async def create(self, request: Request) -> JSONResponse:
        if not self._authorized(request):
            return self._unauthorized(request)
        try:
            body = await request.json()
        except ValueError:
            return _detail(400, "JSON parse error.")
        if not isinstance(body, dict):
            return _detail(400, "Invalid data. Expected a dictionary.")
        for name in ("pose_image_generation_id", "models_image_generation_task_id",
                     "color_changes"):
            if name not in body or body[name] in (None, "", []):
                return _field(name, "This field is required.")
        pose_id = body["pose_image_generation_id"]
        model_id = body["models_image_generation_task_id"]
        for name, value in (("pose_image_generation_id", pose_id),
                            ("models_image_generation_task_id", model_id)):
            if not isinstance(value, int) or isinstance(value, bool):
                return _field(name, "A valid integer is required.")
        pose = self.tasks.get(pose_id)
        if pose is None or pose.kind != "pose":
            return _field("pose_image_generation_id",
                          f'Invalid pk "{pose_id}" - object does not exist.')
        if self.model_tasks.get(model_id) is None:
            return _field("models_image_generation_task_id",
                          f'Invalid pk "{model_id}" - object does not exist.')
        if self.model_tasks[model_id] != pose_id:
            return _field("models_image_generation_task_id",
                          "The pose task does not belong to this model task.")
        if pose.status != "completed":
            return _field("pose_image_generation_id", "The base pose task is not completed.")
        changes = body["color_changes"]
        if not isinstance(changes, list) or not all(
                isinstance(c, dict) and isinstance(c.get("target"), str) and c["target"].strip()
                and isinstance(c.get("color"), str) and c["color"].strip() for c in changes):
            return _field("color_changes",
                          "Each item needs a non-empty 'target' and 'color'.")
        quality = body.get("image_quality", "2k")
        if quality not in QUALITIES:
            return _field("image_quality", f'"{quality}" is not a valid choice.')
        if self.credits is not None:
            if self.credits <= 0:
                return _detail(402, "Insufficient credits.")
            self.credits -= 1
        task = Task(self._next_id(), "recolor", time.monotonic(), _now(),
                    request={"pose_image_generation_id": pose_id,
                             "models_image_generation_task_id": model_id,
                             "color_changes": changes, "image_quality": quality})
        if self._failures:
            task.fail_message, task.fail_code = self._failures.pop(0)
        self.tasks[task.id] = task
        # Made now from the base image, so the result outlives a base task deleted later.
        task.image = self.expected_result(task.id)
        return JSONResponse({"id": task.id, "status": "queued", "created_at": task.created_at})

    async def list_tasks(self, request: Request) -> JSONResponse:
        if not self._authorized(request):
            return self._unauthorized(request)
        try:
            page = int(request.query_params.get("page", "1"))
            size = min(int(request.query_params.get("page_size", "10")), MAX_PAGE_SIZE)
        except ValueError:
            return _detail(404, "Invalid page.")
        if page < 1 or size < 1:
            return _detail(404, "Invalid page.")
        items = sorted((t for t in self.tasks.values() if t.kind == "recolor"),
                       key=lambda t: t.id, reverse=True)
        start = (page - 1) * size
        if start >= len(items) and page != 1:
            return _detail(404, "Invalid page.")
        chunk = items[start:start + size]
        base = f"{self.public_url}/v4/models/multipose-image-recolor/"
        more = start + size < len(items)
        return JSONResponse({
            "count": len(items),
            "next": f"{base}?page={page + 1}&page_size={size}" if more else None,
            "previous": f"{base}?page={page - 1}&page_size={size}" if page > 1 else None,
            "results": [self._view(t) for t in chunk],
        })

    async def get_task(self, request: Request) -> JSONResponse:
        if not self._authorized(request):
            return self._unauthorized(request)
        task = self._find(request)
        if task is None:
            return _detail(404, "Not found.")
        return JSONResponse(self._view(task))

    async def delete_task(self, request: Request) -> JSONResponse:
        if not self._authorized(request):
            return self._unauthorized(request)
        task = self._find(request)
        if task is None:
            return _detail(404, "Not found.")
        del self.tasks[task.id]
        return JSONResponse({"detail": "Deleted successfully"})

    # -- helpers -----------------------------------------------------------------------------
    def _next_id(self) -> int:
        """A fresh task id (never one a seeded task was given explicitly)."""
        task_id = next(self._ids)
        while task_id in self.tasks:
            task_id = next(self._ids)
        return task_id

    def _find(self, request: Request) -> Task | None:
        try:
            return self.tasks.get(int(request.path_params["task_id"]))
        except ValueError:
            return None

    @staticmethod
    def _label(task: Task) -> str:
        colours = ",".join(c["color"] for c in task.request["color_changes"])
        return f"recolor {task.id} {colours} {task.request['image_quality']}"

    def _status(self, task: Task) -> str:
        if task.status is not None:
            return task.status
        elapsed = time.monotonic() - task.created
        if elapsed < self.job_delay / 2:
            return self.waiting_status
        if elapsed < self.job_delay:
            return "processing"
        return "failed" if task.fail_message is not None else "completed"

    def _view(self, task: Task) -> dict[str, Any]:
        status = self._status(task)
        view: dict[str, Any] = {"id": task.id, "status": status, "created_at": task.created_at}
        if task.kind == "recolor" and self.echo_request:
            view.update(task.request)
        if status == "failed" and task.fail_message is not None:
            view["error"] = task.fail_message
            if task.fail_code is not None:
                view["error_code"] = task.fail_code
        if status == "completed" and not self.omit_result_url:
            if task.image is None:
                task.image = self.expected_result(task.id)
            if task.result_url is None:  # signed once, like a stored object's link
                task.result_url = self.result_url(task.image, "image/png")
            view["result_url"] = task.result_url
        return view
