"""Virtual Staging AI v2: renders made of variations (staging, day-to-dusk, enhancement,
furniture removal), bulk creation, furniture-mask analysis, multi-view compatibility and the
webhook secret.

A Restyle job is one render: `submit` creates it (`POST /renders`, never waiting on the server),
`poll` reads it with its variations, and every finished variation becomes its own output. The
render's and the variations' `eta` (epoch milliseconds) set the next poll.

Where the vendor's document is silent, this module assumes (and README lists):
- variation statuses: `done` is documented; `queued`/`processing`/`rendering` are treated as
  still running, `error`/`failed` as failed, `cancelled`/`canceled` as cancelled; any other
  value is treated as still running (the job's deadline bounds it);
- a failed variation explains itself in `error` (text or `{message}`) or `message`;
- config shapes beyond `staging` + `add_furniture`: day-to-dusk sends `sky`, furniture removal
  is a `staging` config with `remove_furniture: {}` and no `add_furniture`, enhancement sends
  only its type; the `config` parameter (JSON) merges any further field into the config;
- bulk bodies carry `renders` (POST /renders/bulk) and `variations` (POST
  /renders/variations/bulk) lists;
- a 403 whose message speaks of a photo limit or plan means the account is used up.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self, Unpack

from desktop.core.model import ErrorCode, InputRole, InvalidInput, ParamSpec, ParamType, TaskSpec
from desktop.core.provider_tools import (
    Compatibility,
    FurnitureAnalysis,
    RenderPage,
    RenderState,
    RenderSummary,
)
from desktop.core.redaction import register_secret
from desktop.providers.base import (
    AccountInfo,
    InputLimits,
    PreparedInput,
    PreparedJob,
    ProviderConfig,
    ProviderError,
    RemoteOutput,
    RemoteRef,
    RemoteState,
    RemoteStatus,
    ResultSink,
)
from desktop.providers.http import ApiClient, Auth, clip
from desktop.providers.remote import ClientOptions, RemoteProvider

log = logging.getLogger("restyle.providers.virtualstaging")

DEFAULT_BASE_URL = "https://api.virtualstagingai.app/v2"
PURCHASE_URL = "https://www.virtualstagingai.app/settings"

#: Room types and styles from the vendor's public pages; settings can add more
#: (`extra["room_types"]`, `extra["styles"]`) without a code change.
ROOM_TYPES: tuple[str, ...] = ("living", "bed", "kitchen", "dining", "bathroom", "home_office")
STYLES: tuple[str, ...] = ("modern", "scandinavian", "industrial", "midcentury", "luxury",
                           "farmhouse", "coastal", "standard")
SKIES: tuple[str, ...] = ("dusk", "golden", "blue")
#: Render types as sent in `config.type`; "removal" is Restyle's name for a staging config that
#: only removes furniture (the vendor's variation type for it is "removal").
RENDER_TYPES: tuple[str, ...] = ("staging", "day-to-dusk", "enhancement", "removal")
WIRE_TYPES: tuple[str, ...] = ("staging", "day-to-dusk", "enhancement")
ORDERS: tuple[str, ...] = ("asc", "desc")
#: The single-config parameters that only mean something for some render types.
APPLIES_TO: dict[str, tuple[str, ...]] = {
    "room_type": ("staging",), "style": ("staging",), "remove_furniture": ("staging", "removal"),
    "sky": ("day-to-dusk",),
}
#: Parameters that describe the single configuration, ignored when `configs` is given.
SINGLE_CONFIG_PARAMS: tuple[str, ...] = ("type", "room_type", "style", "remove_furniture", "sky",
                                         "variation_count", "config")
#: Config fields and the one wire type each belongs to.
CONFIG_FIELD_TYPES: dict[str, str] = {"add_furniture": "staging", "remove_furniture": "staging",
                                      "sky": "day-to-dusk"}

#: The answer of `POST /analyze` (the name this module used before the tools moved to core).
Analysis = FurnitureAnalysis

DONE = "done"
RUNNING_STATUSES = frozenset({"queued", "processing", "rendering", "pending", "started"})
FAILED_STATUSES = frozenset({"error", "failed"})
CANCELLED_STATUSES = frozenset({"cancelled", "canceled"})

#: `image_url` as the document describes it: an http(s) URL or a base64 data URL.
IMAGE_URL_PATTERN = re.compile(
    r"^(https?://[^\s]+|data:image/[a-zA-Z+]+;base64,[A-Za-z0-9+/=]+)$")
WEBHOOK_SECRET_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+$")
_LIMIT_WORDS = re.compile(r"photo ?limit|limit reached|upgrade|quota|no photos? left",
                          re.IGNORECASE)

#: Longest wait an eta may ask for between two polls, and the shortest.
MAX_ETA_WAIT = 60.0
MIN_ETA_WAIT = 1.0
#: Variations per page when reading a render (the documented maximum).
VARIATIONS_PAGE = 100
#: Renders read at once when a list of past renders is summarised.
SUMMARY_READS = 4


def extract_error(status: int, body: Any, text: str) -> tuple[str | None, str | None]:
    """Virtual Staging AI errors are `{message}`; there is no error code."""
    del status, text
    if isinstance(body, Mapping):
        message = body.get("message") or body.get("error")
        if isinstance(message, str) and message.strip():
            return None, message.strip()
    return None, None


@dataclass(frozen=True)
class Page:
    """One page of a documented list: `{total_count, next_cursor, items}`."""

    items: tuple[dict[str, Any], ...]
    total_count: int | None = None
    next_cursor: str | None = None

    @classmethod
    def parse(cls, body: Any, what: str) -> Page:
        if isinstance(body, list):  # tolerate a bare list
            return cls(tuple(i for i in body if isinstance(i, dict)), len(body), None)
        if not isinstance(body, Mapping) or not isinstance(body.get("items"), list):
            raise _malformed(f"{what} without an items list")
        total = body.get("total_count")
        cursor = body.get("next_cursor")
        return cls(
            items=tuple(i for i in body["items"] if isinstance(i, dict)),
            total_count=int(total) if isinstance(total, (int, float)) else None,
            next_cursor=cursor if isinstance(cursor, str) and cursor else None,
        )


def _malformed(what: str) -> ProviderError:
    return ProviderError(
        ErrorCode.PROVIDER_UNAVAILABLE,
        f"Virtual Staging AI sent an unexpected answer ({what}); try again later.",
    )


#: The names people use for the values the API takes (a value without one is made readable).
RENDER_TYPE_TITLES: tuple[tuple[str, str], ...] = (
    ("staging", "Furnish the room"), ("day-to-dusk", "Day to dusk"),
    ("enhancement", "Enhance the photo"), ("removal", "Remove the furniture"))
ROOM_TYPE_TITLES: dict[str, str] = {
    "living": "Living room", "bed": "Bedroom", "kitchen": "Kitchen", "dining": "Dining room",
    "bathroom": "Bathroom", "home_office": "Home office"}
STYLE_TITLES: dict[str, str] = {"midcentury": "Mid-century"}
SKY_TITLES: tuple[tuple[str, str], ...] = (
    ("dusk", "Dusk"), ("golden", "Golden hour"), ("blue", "Blue hour"))


def _names(values: Sequence[str], known: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Each value with its name: a known one, else the value made readable ("kids_room" ->
    "Kids room")."""
    return tuple((v, known.get(v) or v.replace("_", " ").replace("-", " ").capitalize())
                 for v in values)


_STAGING_ONLY = (("type", ("staging",)),)


def _config_params(room_types: Sequence[str], styles: Sequence[str], max_variations: int,
                   *, count_help: str) -> tuple[ParamSpec, ...]:
    """The parameters of one configuration: what a render or new variations look like."""
    return (
        ParamSpec("type", ParamType.CHOICE, title="What to do", default="staging",
                  choices=RENDER_TYPES, choice_titles=RENDER_TYPE_TITLES,
                  help="Furnish an empty room, turn a daytime exterior into an evening "
                       "shot, enhance the photo, or remove the furniture."),
        ParamSpec("room_type", ParamType.CHOICE, title="Room", default="living",
                  choices=tuple(room_types), visible_when=_STAGING_ONLY,
                  choice_titles=_names(room_types, ROOM_TYPE_TITLES),
                  help="Which room this is, so the furniture fits it."),
        ParamSpec("style", ParamType.CHOICE, title="Furniture style", default="modern",
                  choices=tuple(styles), visible_when=_STAGING_ONLY,
                  choice_titles=_names(styles, STYLE_TITLES),
                  help="The style of the furniture put in the room."),
        ParamSpec("remove_furniture", ParamType.BOOLEAN, title="Empty the room first",
                  default=False, visible_when=_STAGING_ONLY,
                  help="Remove the furniture already in the room before furnishing it."),
        ParamSpec("sky", ParamType.CHOICE, title="Sky", default="dusk", choices=SKIES,
                  choice_titles=SKY_TITLES, visible_when=(("type", ("day-to-dusk",)),),
                  help="The evening sky: deep twilight, a warm sunset or the blue hour."),
        ParamSpec("variation_count", ParamType.INTEGER, title="Variations", default=1,
                  minimum=1, maximum=max_variations, help=count_help),
    )


_RESULT_PARAM = ParamSpec(
    "result", ParamType.CHOICE, title="Download", default="url",
    choices=("url", "optimized_url"), advanced=True,
    choice_titles=(("url", "Full quality"), ("optimized_url", "Smaller web version")),
    help="Download the full-quality result or the smaller web version.")


def _task(room_types: Sequence[str], styles: Sequence[str], max_variations: int) -> TaskSpec:
    return TaskSpec(
        id="staging",
        title="Virtual staging",
        inputs=(InputRole("room", "Room photo", 1, 1,
                          help="The room (or, for day-to-dusk, the exterior) to work on. A URL "
                               "is passed to the service as is; a file is sent as a data URL."),),
        params=(
            *_config_params(room_types, styles, max_variations,
                            count_help="How many different results to make from this photo."),
            ParamSpec("configs", ParamType.JSON, title="Several configurations (JSON)",
                      advanced=True,
                      placeholder='[{"type": "staging", "add_furniture": {"room_type": '
                                  '"living", "style": "modern"}, "variation_count": 2}]',
                      help="A list of configurations, each with its own variation count; it "
                           "replaces the settings above."),
            ParamSpec("config", ParamType.JSON, title="Extra configuration fields (JSON)",
                      advanced=True, placeholder='{"field": "value"}',
                      help="Fields merged into the configuration sent, for what this form "
                           "does not offer."),
            _RESULT_PARAM,
            ParamSpec("webhook_url", ParamType.STRING, title="Webhook URL", advanced=True,
                      placeholder="https://…",
                      help="An address the service also posts progress to; Restyle does not "
                           "need it."),
        ),
        note="AI-altered photo: where listing rules ask for it, show a 'virtually staged' "
             "notice and the original next to it.",
    )


#: The `variations` task's parameter naming its render; the window offers a picker for it.
RENDER_PARAM = "render_id"
RENDER_CHOOSER = "virtualstaging.render"


def _variations_task(room_types: Sequence[str], styles: Sequence[str],
                     max_variations: int) -> TaskSpec:
    """More variations of a render made earlier (`POST /renders/{id}/variations`): a job of
    its own, so it is recorded, never sent twice and its results land in the history."""
    return TaskSpec(
        id="variations",
        title="More variations of a past render",
        inputs=(),
        params=(
            ParamSpec(RENDER_PARAM, ParamType.STRING, title="Render", required=True,
                      max_length=200, chooser=RENDER_CHOOSER,
                      help="The past render to add variations to (its id; Choose… lists "
                           "your renders with their pictures)."),
            *_config_params(room_types, styles, max_variations,
                            count_help="How many new variations to add; each counts as one "
                                       "photo of your plan."),
            _RESULT_PARAM,
        ),
        note="Each new variation counts as one photo of your Virtual Staging AI plan; the "
             "render's earlier variations are not downloaded again.",
    )


class VirtualStagingProvider(RemoteProvider):
    """Virtual Staging AI, API v2."""

    id = "virtualstaging"
    title = "Virtual Staging AI"
    needs_key = True
    needs_base_url = False
    default_base_url = DEFAULT_BASE_URL
    poll_interval = 3.0
    #: The document gives no size limit; these keep a data URL in a JSON body reasonable.
    limits = InputLimits(max_side=4096, max_bytes=8 * 1024 * 1024, min_side=64,
                         formats=("image/jpeg", "image/png"))
    supports_cancel = False
    supports_account = True
    supports_reconcile = False
    accepts_urls = True

    def __init__(
        self,
        base_url: str | None = DEFAULT_BASE_URL,
        key_source: Callable[[], str | None] = lambda: None,
        *,
        clock: Callable[[], float] = time.time,
        room_types: Sequence[str] = (),
        styles: Sequence[str] = (),
        max_variations: int = 10,
        **options: Unpack[ClientOptions],
    ) -> None:
        self.client = ApiClient(
            self.id, self.title, base_url or DEFAULT_BASE_URL,
            auth=Auth(key_source, header="Authorization", scheme="Api-Key "),
            extract_error=extract_error, clock=clock, **options,
        )
        self._clock = clock
        self.max_variations = max_variations
        self.room_types = tuple(dict.fromkeys([*ROOM_TYPES, *room_types]))
        self.styles = tuple(dict.fromkeys([*STYLES, *styles]))
        self._tasks = (_task(self.room_types, self.styles, max_variations),
                       _variations_task(self.room_types, self.styles, max_variations))

    @classmethod
    def from_config(cls, config: ProviderConfig) -> Self:
        extra = config.extra or {}

        def names(key: str) -> tuple[str, ...]:
            value = extra.get(key) or ()
            if isinstance(value, str):
                value = value.split(",")
            return tuple(str(v).strip() for v in value if str(v).strip())

        try:
            max_variations = int(extra.get("max_variation_count", 10))
        except (TypeError, ValueError):
            max_variations = 10
        return cls(config.base_url or DEFAULT_BASE_URL, config.key_source,
                   room_types=names("room_types"), styles=names("styles"),
                   max_variations=max(1, max_variations), **cls.client_options(config))

    @property
    def tasks(self) -> tuple[TaskSpec, ...]:
        return self._tasks


    # -- building requests ---------------------------------------------------------------------
    def build_config(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The single `config` object for the task's parameters."""
        kind = str(params.get("type") or "staging")
        if kind not in RENDER_TYPES:
            raise InvalidInput(f"Parameter 'type' must be one of: {', '.join(RENDER_TYPES)}.")
        config: dict[str, Any]
        if kind == "staging":
            room = str(params.get("room_type") or "living")
            style = str(params.get("style") or "modern")
            if room not in self.room_types:
                raise InvalidInput(f"Room type '{room}' is not one of: "
                                   f"{', '.join(self.room_types)}.")
            if style not in self.styles:
                raise InvalidInput(f"Style '{style}' is not one of: {', '.join(self.styles)}.")
            config = {"type": "staging", "add_furniture": {"room_type": room, "style": style}}
            if params.get("remove_furniture"):
                config["remove_furniture"] = {}
        elif kind == "removal":
            config = {"type": "staging", "remove_furniture": {}}
        elif kind == "day-to-dusk":
            sky = str(params.get("sky") or "dusk")
            if sky not in SKIES:
                raise InvalidInput(f"Sky '{sky}' is not one of: {', '.join(SKIES)}.")
            config = {"type": "day-to-dusk", "sky": sky}
        else:
            config = {"type": "enhancement"}
        extra = params.get("config")
        if extra is not None:
            if not isinstance(extra, Mapping):
                raise InvalidInput("Parameter 'config' must be a JSON object.")
            config.update(extra)
            # What `config` adds or replaces must still make a configuration the service takes.
            config = self.check_config(config, "Parameter 'config'", with_count=False)
        return config

    def check_config(self, config: Any, where: str, *, with_count: bool) -> dict[str, Any]:
        """Validate one config object given as JSON (multi-config, bulk, add variations)."""
        if not isinstance(config, Mapping):
            raise InvalidInput(f"{where} must be a JSON object.")
        kind = config.get("type")
        if kind not in WIRE_TYPES:
            raise InvalidInput(f"{where}: 'type' must be one of: {', '.join(WIRE_TYPES)} "
                               f"(got {kind!r}).")
        if kind == "staging":
            add = config.get("add_furniture")
            if add is None and config.get("remove_furniture") is None:
                raise InvalidInput(f"{where}: a staging config needs add_furniture (room_type "
                                   "and style) or remove_furniture.")
            if add is not None:
                if not isinstance(add, Mapping):
                    raise InvalidInput(f"{where}: add_furniture must be an object.")
                if add.get("room_type") not in self.room_types:
                    raise InvalidInput(f"{where}: room_type must be one of: "
                                       f"{', '.join(self.room_types)}.")
                if add.get("style") not in self.styles:
                    raise InvalidInput(f"{where}: style must be one of: "
                                       f"{', '.join(self.styles)}.")
        if kind == "day-to-dusk" and config.get("sky") is not None and (
                config["sky"] not in SKIES):
            raise InvalidInput(f"{where}: sky must be one of: {', '.join(SKIES)}.")
        for name, owner in CONFIG_FIELD_TYPES.items():
            if config.get(name) is not None and kind != owner:
                raise InvalidInput(f"{where}: '{name}' does not apply to a {kind} config (only "
                                   f"to {owner}).")
        if with_count:
            _check_count(config.get("variation_count"), f"{where}: variation_count")
        return dict(config)

    def render_body(self, image_url: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The `POST /renders` body for the task's parameters (validated, nothing sent)."""
        _check_image_url(image_url, "The room photo")
        return {"image_url": image_url, **self.render_fields(params)}

    def render_fields(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Every field of the `POST /renders` body but the image, validated: what `check`
        runs before anything is stored, and `submit` again."""
        body: dict[str, Any] = {}
        configs = params.get("configs")
        if configs is not None:
            if not isinstance(configs, list) or not configs:
                raise InvalidInput("Parameter 'configs' must be a non-empty JSON list.")
            body["configs"] = [self.check_config(c, f"configs[{i}]", with_count=True)
                               for i, c in enumerate(configs)]
            total = sum(_check_count(c.get("variation_count"), "variation_count")
                        for c in body["configs"])
            if total > self.max_variations:
                raise InvalidInput(
                    f"Parameter 'configs' asks for {total} variations in all; at most "
                    f"{self.max_variations} are made from one photo (the max_variation_count "
                    "setting).")
            self._check_unused_with_configs(params)
        else:
            self._check_applies(params)
            body["config"] = self.build_config(params)
            body["variation_count"] = _check_count(params.get("variation_count", 1),
                                                   "variation_count")
        body["wait_for_completion"] = False
        webhook = params.get("webhook_url")
        if webhook:
            _check_http_url(str(webhook), "Parameter 'webhook_url'")
            body["webhook_url"] = str(webhook)
        return body

    def _default(self, name: str) -> Any:
        spec = self._tasks[0].param(name)
        return spec.default if spec is not None else None

    def _check_applies(self, params: Mapping[str, Any]) -> None:
        """A parameter set away from its default for a render type it does not affect is a
        mistake (sky on a staging render), not something to drop silently."""
        kind = str(params.get("type") or "staging")
        for name, kinds in APPLIES_TO.items():
            value, default = params.get(name), self._default(name)
            if value is not None and value != default and kind not in kinds:
                raise InvalidInput(
                    f"Parameter '{name}' applies only to type {' or '.join(kinds)} (type is "
                    f"{kind}); leave it at {default} or change the type.")

    def _check_unused_with_configs(self, params: Mapping[str, Any]) -> None:
        for name in SINGLE_CONFIG_PARAMS:
            value, default = params.get(name), self._default(name)
            if value is not None and value != default:
                raise InvalidInput(
                    f"Parameter '{name}' does not apply when 'configs' is given: each config "
                    "carries its own settings, so put it in the configs.")

    def variation_fields(self, params: Mapping[str, Any]) -> tuple[str, dict[str, Any], int]:
        """The `variations` task's render id, config and count, validated (nothing sent)."""
        render_id = _segment(str(params.get(RENDER_PARAM) or ""), "render")
        self._check_applies(params)
        config = self.build_config(params)
        count = _check_count(params.get("variation_count", 1), "variation_count")
        if count > self.max_variations:
            raise InvalidInput(f"At most {self.max_variations} variations are added at once (the "
                               "max_variation_count setting).")
        return render_id, config, count

    # -- the job contract ----------------------------------------------------------------------
    async def check(self, task: TaskSpec, params: dict[str, Any],
                    inputs: dict[str, list[PreparedInput]]) -> None:
        if task.id == "variations":
            render_id, _config, _count = self.variation_fields(params)
            await self._check_render_exists(render_id)
            return
        self.render_fields(params)
        for item in inputs.get("room", []):
            if item.source_url:
                _check_image_url(item.source_url, "The room photo's URL")

    async def _check_render_exists(self, render_id: str) -> None:
        """A GET before anything is stored: a render that is not the account's is refused with
        a sentence; a read that fails otherwise (network, key) is left to submit."""
        try:
            await self.get_render(render_id)
        except ProviderError as exc:
            if exc.code == ErrorCode.NOT_FOUND:
                raise InvalidInput(
                    f"{self.title} has no render '{clip(render_id, 60)}' on this account; "
                    "choose one of your past renders.") from None
            log.info("Could not look up render %s before submitting: %s", render_id,
                     exc.message)

    async def submit(self, job: PreparedJob) -> RemoteRef:
        task = self.task(job.task)
        if task is None:
            raise ProviderError(ErrorCode.INVALID_INPUT,
                                f"{self.title} has no task '{job.task}' (it has: "
                                f"{', '.join(t.id for t in self.tasks)}).")
        params = task.validate({r: [i.sha256 for i in items] for r, items in job.inputs.items()},
                               job.params)
        if task.id == "variations":
            return await self._submit_variations(params)
        room = job.first("room")
        image_url = room.source_url or room.data_uri()
        try:
            body = self.render_body(image_url, params)
        except InvalidInput as exc:
            raise ProviderError(ErrorCode.INVALID_INPUT, str(exc)) from None
        render = await self.create_render(body)
        return RemoteRef(str(render["id"]), data={"result": params.get("result", "url")})

    async def _submit_variations(self, params: Mapping[str, Any]) -> RemoteRef:
        """Add variations to a render. The render's variations are read first, so the job
        follows only the new ones, also when the answer does not list them."""
        try:
            render_id, config, count = self.variation_fields(params)
        except InvalidInput as exc:
            raise ProviderError(ErrorCode.INVALID_INPUT, str(exc)) from None
        _render, before = await self.render_with_variations(render_id)
        answer = await self.add_variations(render_id, config, variation_count=count)
        data: dict[str, Any] = {"result": params.get("result", "url"), "added": True}
        made = []
        try:
            made = [str(i["id"]) for i in Page.parse(answer, "a variation list").items
                    if i.get("id")]
        except ProviderError:
            log.info("The answer to adding variations to %s listed none; following the new "
                     "ones by what the render had before", render_id)
        if made:
            data["variations"] = made
        else:
            data["before"] = [str(v.get("id")) for v in before if v.get("id")]
        return RemoteRef(render_id, data=data)

    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        render, variations = await self.render_with_variations(ref.remote_id)
        if ref.data.get("added"):
            variations = self._added(variations, ref.data)
        return self.status_of(render, variations, result=str(ref.data.get("result") or "url"))

    @staticmethod
    def _added(variations: Sequence[dict[str, Any]], data: Mapping[str, Any]
               ) -> list[dict[str, Any]]:
        """The variations one `variations` job made: by their ids, else those the render did
        not have before."""
        wanted = data.get("variations")
        if isinstance(wanted, list) and wanted:
            ids = {str(i) for i in wanted}
            return [v for v in variations if str(v.get("id")) in ids]
        before = {str(i) for i in data.get("before") or ()}
        return [v for v in variations if str(v.get("id")) not in before]

    async def render_summaries(self, *, limit: int = 20, cursor: str | None = None
                               ) -> RenderPage:
        """One page of past renders, newest first, each read with its variations (a few at a
        time) so the list can say how far each got and show a picture of it."""
        page = await self.list_renders(limit=limit, cursor=cursor)
        gate = asyncio.Semaphore(SUMMARY_READS)

        async def one(item: Mapping[str, Any]) -> RenderSummary | None:
            async with gate:
                try:
                    render, variations = await self.render_with_variations(str(item["id"]))
                except ProviderError as exc:
                    if exc.code == ErrorCode.NOT_FOUND:  # deleted between the two calls
                        return None
                    raise
            return self.summary_of(render, variations)

        found = await asyncio.gather(*(one(i) for i in page.items if i.get("id")))
        return RenderPage(tuple(s for s in found if s is not None), page.next_cursor,
                          page.total_count)

    def summary_of(self, render: Mapping[str, Any], variations: Sequence[Mapping[str, Any]]
                   ) -> RenderSummary:
        """A render and its variations as a list line (pure)."""
        statuses = [str(v.get("status") or "").lower() for v in variations]
        done = [v for v, s in zip(variations, statuses, strict=True) if s == DONE]
        failed = sum(1 for s in statuses if s in FAILED_STATUSES or s in CANCELLED_STATUSES)
        total = len(variations)
        if total == 0:
            state = RenderState.EMPTY
        elif len(done) + failed < total:
            state = (RenderState.QUEUED if all(s == "queued" for s in statuses)
                     else RenderState.RUNNING)
        elif not done:
            state = RenderState.FAILED
        else:
            state = RenderState.PARTLY_DONE if failed else RenderState.DONE
        kinds: list[str] = []
        for v in variations:
            config = v.get("config")
            kind = v.get("type") or (config.get("type") if isinstance(config, Mapping) else None)
            if isinstance(kind, str) and kind and kind not in kinds:
                kinds.append(kind)
        thumb = None
        for v in done:
            res = v.get("result")
            if isinstance(res, Mapping):
                url = res.get("optimized_url") or res.get("url")
                if isinstance(url, str) and url:
                    thumb = url
                    break
        created = render.get("created_at")
        return RenderSummary(
            id=str(render.get("id")),
            created_at=float(created) / 1000.0 if isinstance(created, (int, float))
            and not isinstance(created, bool) else None,
            state=state, total=total, done=len(done), failed=failed, kinds=tuple(kinds),
            thumbnail_url=thumb)

    def status_of(self, render: Mapping[str, Any], variations: Sequence[Mapping[str, Any]], *,
                  result: str = "url") -> RemoteStatus:
        """Fold a render and its variations into one status (pure: easy to test)."""
        total = len(variations)
        if total == 0:
            return RemoteStatus(RemoteState.QUEUED, progress=0.0,
                                poll_after=self._eta_wait([render.get("eta")]),
                                message="Queued at Virtual Staging AI.")
        statuses = [str(v.get("status") or "").lower() for v in variations]
        done = [v for v, s in zip(variations, statuses, strict=True) if s == DONE]
        failed = [v for v, s in zip(variations, statuses, strict=True) if s in FAILED_STATUSES]
        cancelled = [v for v, s in zip(variations, statuses, strict=True)
                     if s in CANCELLED_STATUSES]
        finished = len(done) + len(failed) + len(cancelled)
        progress = finished / total
        if finished < total:
            pending_etas = [v.get("eta") for v, s in zip(variations, statuses, strict=True)
                            if s not in (DONE, *FAILED_STATUSES, *CANCELLED_STATUSES)]
            state = (RemoteState.QUEUED if all(s == "queued" for s in statuses)
                     else RemoteState.RUNNING)
            return RemoteStatus(state, progress=progress,
                                poll_after=self._eta_wait([*pending_etas, render.get("eta")]),
                                message=f"{len(done)} of {total} variations ready.")
        if not done:
            if cancelled and not failed:
                return RemoteStatus(RemoteState.CANCELLED, progress=1.0,
                                    message="Virtual Staging AI cancelled every variation.")
            return RemoteStatus(RemoteState.FAILED, progress=1.0,
                                error=self._variation_error(failed[0], total))
        outputs = tuple(self._output(v, i, result) for i, v in enumerate(done))
        message = ""
        if failed or cancelled:
            reason = _variation_reason(failed[0]) if failed else "cancelled"
            message = (f"{len(failed) + len(cancelled)} of {total} variations did not finish "
                       f"({reason}); the other {len(done)} were downloaded.")
        return RemoteStatus(RemoteState.SUCCEEDED, progress=1.0, outputs=outputs,
                            message=message)

    def _output(self, variation: Mapping[str, Any], index: int, result: str) -> RemoteOutput:
        res = variation.get("result")
        if not isinstance(res, Mapping):
            raise _malformed("a finished variation without a result")
        url = res.get(result) or res.get("url")
        if not isinstance(url, str) or not url:
            raise _malformed("a finished variation without a result URL")
        kind = variation.get("type") or (variation.get("config") or {}).get("type") or "variation"
        return RemoteOutput(
            url=url, label=f"{kind} variation {index + 1}",
            extra={"render_id": variation.get("render_id"), "variation_id": variation.get("id")},
        )

    def _variation_error(self, variation: Mapping[str, Any], total: int) -> ProviderError:
        reason = _variation_reason(variation)
        code = (ErrorCode.INSUFFICIENT_CREDITS if _LIMIT_WORDS.search(reason)
                else ErrorCode.JOB_FAILED)
        what = "The variation" if total == 1 else f"All {total} variations"
        return ProviderError(code, f"{what} failed at {self.title}: {reason}",
                             provider_code=clip(str(variation.get("status") or "error"), 64))

    def _eta_wait(self, etas: Sequence[Any]) -> float | None:
        """Seconds until the earliest future eta (epoch ms), bounded; None without one."""
        now_ms = self._clock() * 1000.0
        future = [float(e) for e in etas
                  if isinstance(e, (int, float)) and not isinstance(e, bool) and e > now_ms]
        if not future:
            return None
        wait = (min(future) - now_ms) / 1000.0
        return max(MIN_ETA_WAIT, min(MAX_ETA_WAIT, wait))

    async def fetch_into(self, output: RemoteOutput, sink: ResultSink) -> None:
        if output.data is not None:
            await self.deliver(sink, output.data)
            return
        if not output.url:
            raise ProviderError(ErrorCode.RESULT_UNAVAILABLE,
                                f"{self.title} gave no link for this result.")
        await self.client.download_into(output.url, sink)
        if not sink.size:
            raise ProviderError(ErrorCode.RESULT_UNAVAILABLE,
                                f"The result from {self.title} was empty; run the job again.")

    async def account(self) -> AccountInfo:
        user = await self.user()
        limit = user.get("photoLimit")
        used = user.get("photosUsedThisPeriod")
        limits: dict[str, Any] = {}
        credits: float | None = None
        if isinstance(limit, Mapping):
            for kind, value in limit.items():
                used_value = used.get(kind) if isinstance(used, Mapping) else None
                limits[kind] = {"limit": value, "used": used_value}
            staging = limits.get("staging")
            if staging and isinstance(staging["limit"], (int, float)) and isinstance(
                    staging["used"], (int, float)):
                credits = float(staging["limit"] - staging["used"])
        elif isinstance(limit, (int, float)):
            limits["photos"] = {"limit": limit, "used": used}
            if isinstance(used, (int, float)):
                credits = float(limit - used)
        person = user.get("user") if isinstance(user.get("user"), Mapping) else {}
        details = {k: person[k] for k in ("email", "uid") if k in person}
        parts = [f"{k}: {v['used']} of {v['limit']} photos used this period"
                 for k, v in limits.items()]
        return AccountInfo(provider=self.id, credits=credits, limits=limits, details=details,
                           purchase_url=PURCHASE_URL,
                           message="; ".join(parts) or "No usage limits reported.")

    # -- the rest of the API ---------------------------------------------------------------------
    async def api_status(self) -> bool:
        """`GET /status`: True when the API answers 200 (errors raise ProviderError)."""
        await self.client.request("GET", "/status", expect_json=False)
        return True

    async def user(self) -> dict[str, Any]:
        """`GET /user`: the user with `photoLimit` and `photosUsedThisPeriod`."""
        body = await self.client.get_json("/user")
        if not isinstance(body, dict):
            raise _malformed("a user that is not an object")
        return body

    async def list_renders(self, *, limit: int = 20, cursor: str | None = None,
                           order: str = "desc") -> Page:
        """`GET /renders`: one page of renders, newest first unless `order="asc"`."""
        if not 1 <= int(limit) <= 100:
            raise InvalidInput("limit must be between 1 and 100.")
        if order not in ORDERS:
            raise InvalidInput("order must be asc or desc.")
        query: dict[str, Any] = {"limit": int(limit), "order": order}
        if cursor:
            query["cursor"] = cursor
        return Page.parse(await self.client.get_json("/renders", params=query), "a render list")

    async def get_render(self, render_id: str, *, include_variations: bool = False,
                         variations_limit: int = 20, variations_cursor: str | None = None,
                         variations_order: str = "asc") -> dict[str, Any]:
        """`GET /renders/{id}`, optionally with one page of its variations."""
        if not 1 <= int(variations_limit) <= 100:
            raise InvalidInput("variations_limit must be between 1 and 100.")
        if variations_order not in ORDERS:
            raise InvalidInput("variations_order must be asc or desc.")
        query: dict[str, Any] = {"include_variations": str(include_variations).lower()}
        if include_variations:
            query["variations_limit"] = int(variations_limit)
            query["variations_order"] = variations_order
            if variations_cursor:
                query["variations_cursor"] = variations_cursor
        body = await self.client.get_json(f"/renders/{_segment(render_id)}", params=query)
        if not isinstance(body, dict) or "id" not in body:
            raise _malformed("a render without an id")
        return body

    async def render_with_variations(self, render_id: str
                                     ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A render and every one of its variations (following `next_cursor`)."""
        render = await self.get_render(render_id, include_variations=True,
                                       variations_limit=VARIATIONS_PAGE)
        variations: list[dict[str, Any]] = []
        page = Page.parse(render.get("variations") or {"items": []}, "a variation list")
        variations.extend(page.items)
        seen = {page.next_cursor}
        while page.next_cursor:
            more = await self.get_render(render_id, include_variations=True,
                                         variations_limit=VARIATIONS_PAGE,
                                         variations_cursor=page.next_cursor)
            page = Page.parse(more.get("variations") or {"items": []}, "a variation list")
            variations.extend(page.items)
            if page.next_cursor in seen:
                break  # a server that repeats a cursor must not loop us forever
            seen.add(page.next_cursor)
        return render, variations

    async def get_variation(self, render_id: str, variation_id: str) -> dict[str, Any]:
        """`GET /renders/{render_id}/variations/{variation_id}`."""
        body = await self.client.get_json(
            f"/renders/{_segment(render_id)}/variations/{_segment(variation_id)}")
        if not isinstance(body, dict) or "status" not in body:
            raise _malformed("a variation without a status")
        return body

    async def create_render(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """`POST /renders` with a body from `render_body` (or built by the caller).

        Not retried after an unknown outcome: the API has no idempotency key, so a second POST
        could make (and bill) a second render.
        """
        try:
            render = await self.client.post_json("/renders", dict(body))
        except ProviderError as exc:
            raise _limit_error(exc) from None
        if not isinstance(render, dict) or not render.get("id"):
            raise ProviderError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"{self.title} accepted the render but sent no id; look at your renders there "
                "before running it again.", unknown_outcome=True)
        return render

    async def add_variations(self, render_id: str, config: Mapping[str, Any], *,
                             variation_count: int = 1, wait_for_completion: bool = False
                             ) -> Any:
        """`POST /renders/{id}/variations`: more variations of an existing render."""
        body = {"config": self.check_config(config, "config", with_count=False),
                "variation_count": _check_count(variation_count, "variation_count"),
                "wait_for_completion": bool(wait_for_completion)}
        try:
            return await self.client.post_json(f"/renders/{_segment(render_id)}/variations",
                                               body)
        except ProviderError as exc:
            raise _limit_error(exc) from None

    async def bulk_renders(self, renders: Sequence[Mapping[str, Any]], *,
                           webhook_url: str | None = None, wait_for_completion: bool = False
                           ) -> Any:
        """`POST /renders/bulk`: several renders at once; each item is a render body
        (`image_url` plus `config` and `variation_count`, or `configs`)."""
        if not renders:
            raise InvalidInput("Bulk renders need at least one render.")
        items: list[dict[str, Any]] = []
        for i, item in enumerate(renders):
            where = f"renders[{i}]"
            if not isinstance(item, Mapping):
                raise InvalidInput(f"{where} must be an object.")
            _check_image_url(str(item.get("image_url") or ""), f"{where}.image_url")
            out = dict(item)
            if "configs" in item:
                if not isinstance(item["configs"], list) or not item["configs"]:
                    raise InvalidInput(f"{where}.configs must be a non-empty list.")
                out["configs"] = [self.check_config(c, f"{where}.configs[{j}]", with_count=True)
                                  for j, c in enumerate(item["configs"])]
            else:
                out["config"] = self.check_config(item.get("config"), f"{where}.config",
                                                  with_count=False)
                out["variation_count"] = _check_count(item.get("variation_count", 1),
                                                      f"{where}.variation_count")
            items.append(out)
        body: dict[str, Any] = {"renders": items,
                                "wait_for_completion": bool(wait_for_completion)}
        if webhook_url:
            _check_http_url(webhook_url, "webhook_url")
            body["webhook_url"] = webhook_url
        try:
            return await self.client.post_json("/renders/bulk", body)
        except ProviderError as exc:
            raise _limit_error(exc) from None

    async def bulk_variations(self, variations: Sequence[Mapping[str, Any]], *,
                              wait_for_completion: bool = False) -> Any:
        """`POST /renders/variations/bulk`: items of `{render_id, config, variation_count}`."""
        if not variations:
            raise InvalidInput("Bulk variations need at least one item.")
        items = []
        for i, item in enumerate(variations):
            where = f"variations[{i}]"
            if not isinstance(item, Mapping) or not str(item.get("render_id") or "").strip():
                raise InvalidInput(f"{where} needs a render_id.")
            items.append({
                "render_id": str(item["render_id"]),
                "config": self.check_config(item.get("config"), f"{where}.config",
                                            with_count=False),
                "variation_count": _check_count(item.get("variation_count", 1),
                                                f"{where}.variation_count"),
            })
        body = {"variations": items, "wait_for_completion": bool(wait_for_completion)}
        try:
            return await self.client.post_json("/renders/variations/bulk", body)
        except ProviderError as exc:
            raise _limit_error(exc) from None

    async def analyze(self, image: str | bytes, *, webhook_url: str | None = None
                      ) -> FurnitureAnalysis:
        """`POST /analyze`: a furniture mask for an image (URL, data URL or bytes)."""
        body: dict[str, Any] = {"image_url": _image_arg(image, "image")}
        if webhook_url:
            _check_http_url(webhook_url, "webhook_url")
            body["webhook_url"] = webhook_url
        answer = await self.client.post_json("/analyze", body)
        if not isinstance(answer, dict) or not answer.get("id"):
            raise _malformed("an analysis without an id")
        pct = answer.get("percentage_masked")
        created = answer.get("created_at")
        return FurnitureAnalysis(
            id=str(answer["id"]), status=str(answer.get("status") or ""),
            result_url=answer.get("result_url") or None,
            percentage_masked=float(pct) if isinstance(pct, (int, float)) else None,
            created_at=float(created) if isinstance(created, (int, float)) else None,
            raw=answer,
        )

    async def download(self, url: str) -> bytes:
        """Download a result or mask URL under the house policy (expired -> RESULT_UNAVAILABLE)."""
        return await self.fetch(RemoteOutput(url=url))

    async def multi_view_compatibility(self, first: str | bytes, second: str | bytes
                                       ) -> Compatibility:
        """`POST /multi-view-compatibility`: can these two photos be staged together?"""
        body = {"image_urls": [_image_arg(first, "first image"),
                               _image_arg(second, "second image")]}
        answer = await self.client.post_json("/multi-view-compatibility", body)
        if not isinstance(answer, dict) or not isinstance(answer.get("compatible"), bool):
            raise _malformed("a compatibility answer without 'compatible'")
        reason = answer.get("rejection_reason")
        return Compatibility(compatible=answer["compatible"],
                             hard_rejected=bool(answer.get("hard_rejected")),
                             rejection_reason=reason if isinstance(reason, str) else None)

    async def set_webhook_secret(self, secret: str) -> str:
        """`POST /user/webhook-secret`. The secret is registered for redaction first, so it
        never reaches a log line or an error message."""
        if not secret or not WEBHOOK_SECRET_PATTERN.fullmatch(secret):
            raise InvalidInput("The webhook secret must be letters, digits, '_' or '-' "
                               "(at least one character).")
        register_secret(secret)
        answer = await self.client.post_json("/user/webhook-secret",
                                             {"webhook_secret": secret})
        return _message(answer, "Webhook secret updated.")

    async def remove_webhook_secret(self) -> str:
        """`DELETE /user/webhook-secret`."""
        answer = await self.client.delete("/user/webhook-secret")
        return _message(answer, "Webhook secret removed.")


# -- helpers ---------------------------------------------------------------------------------
def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            raise InvalidInput(f"{name} must be a whole number (got {value!r}).") from None
    if value < 1:
        raise InvalidInput(f"{name} must be at least 1 (got {value}).")
    return value


def _check_image_url(value: str, what: str) -> str:
    if not IMAGE_URL_PATTERN.fullmatch(value):
        raise InvalidInput(f"{what} must be an http(s) URL or a base64 data URL of an image.")
    return value


def _check_http_url(value: str, what: str) -> None:
    if not re.fullmatch(r"https?://[^\s]+", value):
        raise InvalidInput(f"{what} must be an http(s) URL (got {value[:60]!r}).")


def _image_arg(image: str | bytes, what: str) -> str:
    if isinstance(image, bytes):
        mime = "image/png" if image.startswith(b"\x89PNG") else (
            "image/jpeg" if image.startswith(b"\xff\xd8") else (
                "image/webp" if image[8:12] == b"WEBP" else None))
        if mime is None:
            raise InvalidInput(f"The {what} is not a PNG, JPEG or WebP image.")
        image = f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"
    return _check_image_url(image, f"The {what}")


def _segment(value: str, what: str = "") -> str:
    text = str(value).strip()
    if not text or not re.fullmatch(r"[A-Za-z0-9_.~-]+", text):
        name = f"{what} id" if what else "id"
        raise InvalidInput(f"{clip(str(value), 60)!r} is not a valid {name}." if text
                           else f"Give a {name}.")
    return text


def _variation_reason(variation: Mapping[str, Any]) -> str:
    for key in ("error", "error_message", "message", "reason"):
        value = variation.get(key)
        if isinstance(value, Mapping):
            value = value.get("message")
        if isinstance(value, str) and value.strip():
            return clip(value).rstrip(".")
    return "no reason given"


def _message(answer: Any, default: str) -> str:
    """The service's own confirmation, redacted and capped (it may echo what it was sent)."""
    if isinstance(answer, Mapping) and isinstance(answer.get("message"), str):
        return clip(answer["message"]) or default
    return default


def _limit_error(exc: ProviderError) -> ProviderError:
    """A 403 on a create that talks of the photo limit is an empty account, not a missing
    permission: say so, and keep the provider's message."""
    said = exc.message.split(" The key may", 1)[0]
    if exc.code == ErrorCode.FORBIDDEN and _LIMIT_WORDS.search(said):
        detail = said.split("(", 1)[-1].rsplit(")", 1)[0]
        return exc.rephrased(
            ErrorCode.INSUFFICIENT_CREDITS,
            f"Virtual Staging AI says the account has used its photos for this period ({detail})."
            " Upgrade the plan or wait for the next period, then try again.",
        )
    return exc
