"""vtryon Recolor API: change garment colours in an image a multipose task already generated.

The service (document "Recolor API") takes no image: a recolour task names a finished base pose
task (`pose_image_generation_id`) and its model task (`models_image_generation_task_id`), a list
of `color_changes` (`target` garment name, `color` as hex or a colour name) and an
`image_quality` of `2k` or `4k`. `POST /v4/models/multipose-image-recolor/` answers with the new
task's `id`; `GET /v2/models/multipose-tasks/{id}/` is polled until `completed` (with a
`result_url`) or `failed`. Recolour tasks are listed page by page on the create path and
deleted on the task path. The "before" image is the base pose task's own result, read through
the same task endpoint (`before_image`).

Auth is an `x-api-key` header. The document shows no host for the API (only a CDN for results),
so the base URL is a required setting. There is no cancel, no account endpoint and no
idempotency key: a submit is never repeated after an unknown outcome, and since the list shows
only id, status and result it cannot tell our task from another, so there is no reconcile.

Where the document is silent (error bodies, what a failed task carries, the list's `previous`)
the choices are written next to the code that makes them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Unpack

from desktop.core.model import ErrorCode, InvalidInput, ParamSpec, ParamType, TaskSpec
from desktop.core.provider_tools import BaseTask, BaseTaskList, RecolorTask, RecolorTaskPage
from desktop.providers.base import (
    InputLimits,
    PreparedInput,
    PreparedJob,
    ProviderError,
    RemoteOutput,
    RemoteRef,
    RemoteState,
    RemoteStatus,
    ResultSink,
)
from desktop.providers.http import ApiClient, Auth, clip, default_extract_error
from desktop.providers.remote import ClientOptions, RemoteProvider

log = logging.getLogger("restyle.providers.vtryon")

RECOLOR_PATH = "/v4/models/multipose-image-recolor/"
TASK_PATH = "/v2/models/multipose-tasks/{task_id}/"
API_KEY_HEADER = "x-api-key"
TITLE = "vtryon"
QUALITIES = ("2k", "4k")
#: Not in the document: a cap on list page sizes so one call stays small (DRF's usual bound).
MAX_PAGE_SIZE = 100
#: The picker the window offers for the base pose task parameter.
BASE_TASK_CHOOSER = "vtryon.base_task"
#: Base tasks read at once when the picker's list is built.
BASE_TASK_READS = 4

TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        id="recolor",
        title="Recolour garments",
        inputs=(),
        params=(
            ParamSpec("pose_image_generation_id", ParamType.INTEGER, "Base pose task",
                      minimum=1, required=True, chooser=BASE_TASK_CHOOSER,
                      help="The finished pose task whose picture is recoloured (shown as the "
                           "before image); Choose… lists them with pictures."),
            ParamSpec("models_image_generation_task_id", ParamType.INTEGER, "Base model task",
                      minimum=1, required=True,
                      help="The vtryon model task that pose was made from."),
            ParamSpec("color_changes", ParamType.JSON, "Colour changes", required=True,
                      help="Each garment to recolour, by name, with its new colour.",
                      rows=(
                          ParamSpec("target", ParamType.STRING, "Garment", required=True,
                                    placeholder="e.g. blouse",
                                    help="The garment to recolour, by name (e.g. blouse, "
                                         "lehenga, trousers)."),
                          ParamSpec("color", ParamType.COLOR, "Colour", required=True,
                                    help="The new colour: #RRGGBB or a colour name (e.g. "
                                         "royal blue)."),
                      )),
            ParamSpec("image_quality", ParamType.CHOICE, "Image quality", default="2k",
                      choices=QUALITIES, choice_titles=(("2k", "2K"), ("4k", "4K")),
                      help="The recoloured picture's resolution."),
        ),
        note="vtryon recolours an image it generated earlier: give the base pose and model "
             "task IDs; no image is uploaded.",
    ),
)

#: Statuses of the task endpoint. `queued`/`pending` wait in line, `processing` runs.
_WAITING = {"queued": RemoteState.QUEUED, "pending": RemoteState.QUEUED,
            "processing": RemoteState.RUNNING}
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
#: A colour name as the document's example writes one ("royal blue"): words, no digits or
#: brackets, so "rgb(0,0,255)" and a hex colour without its '#' are not taken for names.
_NAME = re.compile(r"[A-Za-z]+(?:[ '-][A-Za-z]+)*")
_BARE_HEX = re.compile(r"(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def extract_error(status: int, body: Any, text: str) -> tuple[str | None, str | None]:
    """The usual shapes first; then Django REST framework field errors
    (`{"image_quality": ["\\"8k\\" is not a valid choice."]}`), which the document's trailing
    slashes and `count`/`next`/`results` pages suggest, as "field: message"."""
    code, message = default_extract_error(status, body, text)
    if message is None and isinstance(body, Mapping):
        for name, value in body.items():
            found = value[0] if isinstance(value, list) and value else value
            if isinstance(found, str) and found.strip():
                return code, f"{name}: {found.strip()}"
    return code, message


def check_color_changes(value: Any) -> list[dict[str, str]]:
    """The `color_changes` list as sent: each item a target and a colour, both non-empty.

    A colour starting with '#' must be a 3- or 6-digit hex colour; any other text must be a
    colour name made of words (the document: "hex or name"), so CSS functions such as
    "rgb(0,0,255)" and a hex colour without its '#' are refused rather than sent as a name.
    Raises ProviderError(INVALID_INPUT)."""
    def bad(why: str) -> ProviderError:
        return ProviderError(ErrorCode.INVALID_INPUT, f"Parameter 'color_changes' {why}")

    if not isinstance(value, list) or not value:
        raise bad('must be a non-empty list like [{"target": "blouse", "color": "royal '
                  'blue"}].')
    changes: list[dict[str, str]] = []
    for number, item in enumerate(value, 1):
        if not isinstance(item, Mapping):
            raise bad(f"item {number} must be an object with 'target' and 'color'.")
        unknown = sorted(set(item) - {"target", "color"})
        if unknown:
            raise bad(f"item {number} has unknown field(s): {', '.join(map(str, unknown))} "
                      "(only 'target' and 'color').")
        target, color = item.get("target"), item.get("color")
        if not isinstance(target, str) or not target.strip():
            raise bad(f"item {number} needs a 'target' (the garment name, e.g. 'blouse').")
        if not isinstance(color, str) or not color.strip():
            raise bad(f"item {number} needs a 'color' (hex like #1f4e9c or a name).")
        color = color.strip()
        if color.startswith("#") and not _HEX.fullmatch(color):
            raise bad(f"item {number} has the colour {clip(color, 20)!r}, which is not a hex "
                      "colour (#rgb or #rrggbb).")
        if not color.startswith("#") and (_BARE_HEX.fullmatch(color)
                                          or not _NAME.fullmatch(color)):
            hint = f"#{color}" if _BARE_HEX.fullmatch(color) else "#1f4e9c"
            raise bad(f"item {number} has the colour {clip(color, 30)!r}; {TITLE} takes a hex "
                      f"colour such as {hint} or a colour name such as 'royal blue'.")
        changes.append({"target": target.strip(), "color": color})
    return changes


@dataclass(frozen=True)
class RecolorPage:
    """One page of `GET /v4/models/multipose-image-recolor/`."""

    count: int
    page: int
    page_size: int
    results: tuple[dict[str, Any], ...]
    next: str | None = None
    previous: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        return self.next is not None


class VtryonProvider(RemoteProvider):
    """vtryon Recolor API (`x-api-key`; the base URL is a required setting)."""

    id = "vtryon"
    title = "vtryon"
    needs_key = True
    needs_base_url = True  # the document names no API host
    default_base_url = None
    poll_interval = 3.0  # the document: "poll ... every 3-5 seconds"
    limits = InputLimits()  # the task uploads no image
    supports_cancel = False  # no cancel endpoint
    supports_account = False  # no account endpoint
    supports_reconcile = False  # the list cannot tell which task a lost submit created
    accepts_urls = False

    def __init__(self, base_url: str | None = None,
                 key_source: Callable[[], str | None] = lambda: None,
                 **options: Unpack[ClientOptions]) -> None:
        self.client = ApiClient(
            self.id, self.title, base_url,
            auth=Auth.api_key_header(key_source, header=API_KEY_HEADER),
            extract_error=extract_error, **options,
        )

    @property
    def tasks(self) -> tuple[TaskSpec, ...]:
        return TASKS

    # -- submit ------------------------------------------------------------------------------
    def request_body(self, job: PreparedJob) -> dict[str, Any]:
        """The JSON body of the create call, after every check that needs no network."""
        task = self.task(job.task)
        if task is None:
            raise ProviderError(
                ErrorCode.INVALID_INPUT,
                f"{self.title} has no task '{job.task}' (it has: "
                f"{', '.join(t.id for t in TASKS)}).",
            )
        # Again here: a resumed job's params come back from storage, and callers may skip the
        # engine's check.
        params = task.validate({role: [i.sha256 for i in items]
                                for role, items in job.inputs.items()}, job.params)
        return {
            "pose_image_generation_id": params["pose_image_generation_id"],
            "models_image_generation_task_id": params["models_image_generation_task_id"],
            "color_changes": check_color_changes(params["color_changes"]),
            "image_quality": params.get("image_quality") or "2k",
        }

    async def check(self, task: TaskSpec, params: dict[str, Any],
                    inputs: dict[str, list[PreparedInput]]) -> None:
        """The colour changes as the service takes them, and a base pose task that exists and
        is completed (read with a GET: a recolour of a missing or unfinished task is refused
        with a 400). A read that fails for another reason (network, key) is left to submit."""
        try:
            check_color_changes(params.get("color_changes"))
        except ProviderError as exc:
            raise InvalidInput(exc.message) from None
        pose = params.get("pose_image_generation_id")
        if pose is None:
            return
        try:
            body = await self.task_status(pose)
        except ProviderError as exc:
            if exc.code == ErrorCode.NOT_FOUND:
                raise InvalidInput(
                    f"Parameter 'pose_image_generation_id': {self.title} has no task {pose}; "
                    "give the ID of a finished multipose (pose) task.") from None
            log.info("Could not look up base pose task %s before submitting: %s", pose,
                     exc.message)
            return
        state = str(body.get("status") or "").strip().lower()
        if state in _WAITING:
            raise InvalidInput(
                f"Parameter 'pose_image_generation_id': the base pose task {pose} is still "
                f"{state}; recolour it once it is completed.")
        if state == "failed":
            raise InvalidInput(
                f"Parameter 'pose_image_generation_id': the base pose task {pose} failed, so "
                "there is no image to recolour; choose a completed pose task.")

    async def submit(self, job: PreparedJob) -> RemoteRef:
        body = self.request_body(job)
        # No idempotency key exists: ApiClient does not repeat the POST after an unknown
        # outcome (only 429/503, which prove nothing was created, are retried).
        answer = await self.client.post_json(RECOLOR_PATH, body)
        task_id = _id(answer.get("id")) if isinstance(answer, Mapping) else None
        if task_id is None:
            raise ProviderError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"{self.title} accepted the recolour task but its answer had no task id, so it "
                f"cannot be followed. It may still run: look at the recolour task list before "
                "submitting it again.",
                unknown_outcome=True,
            )
        data = {"pose_image_generation_id": body["pose_image_generation_id"]}
        return RemoteRef(task_id, data=data)

    # -- poll --------------------------------------------------------------------------------
    async def task_status(self, task_id: str | int) -> dict[str, Any]:
        """The raw document of any multipose task (recolour or base pose), 404 explained."""
        try:
            body = await self.client.get_json(TASK_PATH.format(task_id=task_id))
        except ProviderError as exc:
            if exc.http_status == 404:
                raise exc.rephrased(
                    ErrorCode.NOT_FOUND,
                    f"{self.title} has no task {task_id} (HTTP 404); it may have been deleted, "
                    "or the base URL points at another server.",
                ) from None
            raise
        return self.client.expect_object(body, f"a status for task {task_id}")

    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        body = await self.task_status(ref.remote_id)
        state = str(body.get("status") or "").strip().lower()
        if state in _WAITING:
            return RemoteStatus(_WAITING[state], message=f"vtryon: {state}")
        if state == "completed":
            url = _text(body.get("result_url"))
            if url is None:
                return RemoteStatus(RemoteState.FAILED, error=ProviderError(
                    ErrorCode.RESULT_UNAVAILABLE,
                    f"{self.title} marked task {ref.remote_id} completed but gave no "
                    "result_url; run it again.",
                ))
            output = RemoteOutput(url=url, label="Recoloured",
                                  extra={"task_id": ref.remote_id})
            return RemoteStatus(RemoteState.SUCCEEDED, progress=1.0, outputs=(output,))
        if state == "failed":
            return RemoteStatus(RemoteState.FAILED, error=task_error(ref.remote_id, body))
        raise ProviderError(
            ErrorCode.PROVIDER_UNAVAILABLE,
            f"{self.title} reported an unknown status {clip(state or 'none', 40)!r} for task "
            f"{ref.remote_id}; checking again.",
        )

    async def fetch_into(self, output: RemoteOutput, sink: ResultSink) -> None:
        if not output.url:
            raise ProviderError(ErrorCode.RESULT_UNAVAILABLE,
                                f"{self.title} gave no result to download; run the task again.")
        await self.client.download_into(output.url, sink)

    # -- the before image --------------------------------------------------------------------
    async def before_image(self, pose_image_generation_id: str | int) -> bytes:
        """The base pose task's own result (what a recolour starts from), downloaded.

        Read through the same task endpoint as any recolour task; a base task that is not
        completed, failed or has no result is explained rather than returned."""
        body = await self.task_status(pose_image_generation_id)
        state = str(body.get("status") or "").strip().lower()
        url = _text(body.get("result_url"))
        if state != "completed" or url is None:
            if state == "failed":
                why = "failed"
            elif state in _WAITING:
                why = f"is still {state}"
            else:
                why = "has no result image"
            raise ProviderError(
                ErrorCode.RESULT_UNAVAILABLE,
                f"The base pose task {pose_image_generation_id} {why}, so there is no before "
                "image to show.",
            )
        data, _media = await self.client.download(url)
        return data

    async def reference_image(self, task: str, params: dict[str, Any]) -> bytes | None:
        pose = params.get("pose_image_generation_id")
        if task != "recolor" or pose is None:
            return None
        return await self.before_image(pose)

    # -- list and delete ---------------------------------------------------------------------
    async def list_tasks(self, page: int = 1, page_size: int = 10) -> RecolorPage:
        """One page of recolour tasks (`page` from 1; `page_size` 1..MAX_PAGE_SIZE)."""
        if page < 1:
            raise ProviderError(ErrorCode.INVALID_INPUT, f"The page must be 1 or more "
                                f"(got {page}).")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ProviderError(ErrorCode.INVALID_INPUT, f"The page size must be 1 to "
                                f"{MAX_PAGE_SIZE} (got {page_size}).")
        body = await self.client.get_json(RECOLOR_PATH,
                                          params={"page": page, "page_size": page_size})
        results = body.get("results") if isinstance(body, Mapping) else None
        if not isinstance(results, list):
            raise ProviderError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"{self.title} sent a task list without results; try again later.",
            )
        assert isinstance(body, Mapping)
        count = body.get("count")
        return RecolorPage(
            count=count if isinstance(count, int) else len(results), page=page,
            page_size=page_size,
            results=tuple(dict(r) for r in results if isinstance(r, Mapping)),
            next=_text(body.get("next")), previous=_text(body.get("previous")),
            raw=dict(body),
        )

    # -- tools: recolour tasks and their base tasks (desktop/core/provider_tools) ------------
    async def recolor_tasks(self, page: int = 1, page_size: int = 20) -> RecolorTaskPage:
        """One page of the account's recolour tasks, newest first as the service lists them."""
        raw = await self.list_tasks(page, page_size)
        return RecolorTaskPage(items=tuple(_recolor_task(r) for r in raw.results),
                               count=raw.count, page=raw.page, page_size=raw.page_size,
                               has_next=raw.has_next)

    async def base_task(self, pose_id: int) -> BaseTask:
        """A pose task by its number, read through the task endpoint (NOT_FOUND explained)."""
        body = await self.task_status(pose_id)
        return BaseTask(pose_id=int(pose_id),
                        model_task_id=_int(body.get("models_image_generation_task_id")),
                        status=str(body.get("status") or "").strip().lower(),
                        result_url=_text(body.get("result_url")),
                        created_at=_text(body.get("created_at")))

    async def base_tasks(self, *, pages: int = 5, page_size: int = 50) -> BaseTaskList:
        """The base pose tasks the account's recolour tasks started from (the most recently
        recoloured first, as the list is newest first), each
        read for its status and picture. The document lists recolour tasks with id, status and
        result only: where the service also returns the request's fields (as Django REST
        framework serializers do), they name the base tasks; recolours that do not are
        counted in `unnamed`. A base task the service no longer has is left out."""
        pairs: dict[int, dict[int | None, int]] = {}
        read = unnamed = 0
        for number in range(1, max(1, pages) + 1):
            page = await self.recolor_tasks(number, page_size)
            for task in page.items:
                read += 1
                if task.pose_id is None:
                    unnamed += 1
                    continue
                models = pairs.setdefault(task.pose_id, {})
                models[task.model_task_id] = models.get(task.model_task_id, 0) + 1
            if not page.has_next:
                break
        gate = asyncio.Semaphore(BASE_TASK_READS)

        async def one(pose_id: int) -> BaseTask | None:
            async with gate:
                try:
                    found = await self.base_task(pose_id)
                except ProviderError as exc:
                    if exc.code == ErrorCode.NOT_FOUND:
                        return None
                    raise
            models = pairs[pose_id]
            named = [m for m in models if m is not None]
            model = found.model_task_id or (named[0] if len(named) == 1 else None)
            return replace(found, model_task_id=model, recolours=sum(models.values()))

        found = await asyncio.gather(*(one(p) for p in pairs))
        return BaseTaskList(tuple(t for t in found if t is not None), read, unnamed)

    async def download(self, url: str) -> bytes:
        """A picture the service links to (a task's result), under the download rules."""
        data, _media = await self.client.download(url)
        return data

    async def delete(self, task_id: str | int | RemoteRef) -> str:
        """Permanently delete a recolour task; returns the service's confirmation."""
        remote_id = task_id.remote_id if isinstance(task_id, RemoteRef) else task_id
        try:
            body = await self.client.delete(TASK_PATH.format(task_id=remote_id))
        except ProviderError as exc:
            if exc.http_status == 404:
                raise exc.rephrased(
                    ErrorCode.NOT_FOUND,
                    f"{self.title} has no task {remote_id} to delete (HTTP 404); it may "
                    "already be gone.",
                ) from None
            raise
        detail = _text(body.get("detail")) if isinstance(body, Mapping) else None
        return detail or "Deleted."



def task_error(task_id: str, body: Mapping[str, Any]) -> ProviderError:
    """The error of a failed task. The document only says "check the response for error
    details", so the usual fields are read (`error`, `error_message`, `detail`, `message`;
    `error_code`/`code`) and everything is JOB_FAILED with the service's words kept."""
    error = body.get("error")
    pcode = None
    detail = None
    if isinstance(error, Mapping):
        pcode = _text(error.get("code"))
        detail = _text(error.get("message")) or _text(error.get("detail"))
    elif isinstance(error, str):
        detail = _text(error)
    pcode = pcode or _text(body.get("error_code")) or _text(body.get("code"))
    for key in ("error_message", "detail", "message"):
        detail = detail or _text(body.get(key))
    sentence = f"vtryon could not recolour the image (task {task_id} failed)."
    if detail:
        sentence += f" vtryon said: {clip(detail).rstrip('.')}."
    elif pcode:
        sentence += f" (Code {clip(pcode, 64)}.)"
    else:
        sentence += " Try again, or with other colours."
    return ProviderError(ErrorCode.JOB_FAILED, sentence,
                         provider_code=clip(pcode, 64) if pcode else None)


def _recolor_task(raw: Mapping[str, Any]) -> RecolorTask:
    """A list item as plain data; the request fields are read where the service echoes them."""
    changes = raw.get("color_changes")
    colours = tuple((str(c.get("target")), str(c.get("color")))
                    for c in changes if isinstance(c, Mapping)) if isinstance(changes, list) else ()
    return RecolorTask(
        id=_id(raw.get("id")) or "?", status=str(raw.get("status") or "").strip().lower(),
        result_url=_text(raw.get("result_url")), created_at=_text(raw.get("created_at")),
        pose_id=_int(raw.get("pose_image_generation_id")),
        model_task_id=_int(raw.get("models_image_generation_task_id")),
        colours=colours, image_quality=_text(raw.get("image_quality")))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return _text(value)


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None
