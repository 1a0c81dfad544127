"""VistoureAI v3: twelve single tools and saved multi-node workflows behind one run endpoint.

The service (document "VistoureAI API v3") takes `POST /api/v3/run` with `type` `node` (a tool)
or `workflow` (a saved DAG), a `target` and an `input` object whose image fields are public
URLs or base64 strings; it answers `{"id", "error"}`. `GET /api/v3/status/{run_id}` reports an
`overall_status`, the named `outputs` map and per-node states. `GET /api/v3/workflows` lists the
saved workflows and `GET /api/v3/workflow/{name}` gives a workflow's input manifest
(`mandatory`, `optional` with types and defaults, `linked`), which `workflow_task()` turns into
a TaskSpec so a form can be built at run time. Auth is the `X-API-KEY` header.

The run endpoint has no idempotency key and there is no run list, so a submit is never repeated
after an unknown outcome and cannot be reconciled (the shared ApiClient only repeats a POST on
429/503). A 402 `InsufficientTokens` is final: the tokens are checked before anything runs.

Where the document is silent the choices are named in the code (ASSUMPTIONS below): the image
field names of tools other than try-on, statuses besides `succeeded`, error bodies, and the
shape of a node run's outputs.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self, Unpack
from urllib.parse import quote

import httpx

from desktop.core.imaging import sniff_mime
from desktop.core.model import (
    ErrorCode,
    InputRole,
    InvalidInput,
    OutputKind,
    ParamSpec,
    ParamType,
    TaskSpec,
)
from desktop.providers.base import (
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
    TaskVariant,
)
from desktop.providers.http import ApiClient, Auth, clip
from desktop.providers.remote import ClientOptions, RemoteProvider

log = logging.getLogger("restyle.providers.vistoure")

RUN_PATH = "/api/v3/run"
STATUS_PATH = "/api/v3/status/{run_id}"
WORKFLOWS_PATH = "/api/v3/workflows"
WORKFLOW_PATH = "/api/v3/workflow/{name}"

#: The documented tools, in the document's order.
TOOLS: tuple[str, ...] = (
    "virtual_tryon", "virtual_tryon_pro", "virtual_tryon_pro_fit", "virtual_model", "fabric",
    "sketch_to_dress", "upscale", "multipose", "video", "background_removal", "reframe",
    "product_shoot",
)
TRYON_TOOLS: tuple[str, ...] = ("virtual_tryon", "virtual_tryon_pro", "virtual_tryon_pro_fit")

#: The document names the per-tool parameters only by example ("prompt, aspect ratio, gender,
#: upscale factor"); they are passed through untouched (free-form). Image fields it names:
#: `model_image` and `garment_image`. The others are ASSUMPTIONS, listed in the README.
_FREE_FORM_NOTE = (
    "VistoureAI does not publish this tool's settings: add any under Advanced, Extra "
    "parameters (restyle-cli: --param KEY=VALUE); they are sent as given."
)

_PERSON = InputRole("person", "Person", 1, 1,
                    help="The person (model) photo, sent as `model_image` (a public URL is "
                         "passed on as is; a file goes as base64).")
_GARMENT = InputRole("garment", "Garment", 1, 1,
                     help="The garment photo, sent as `garment_image`.")
_IMAGE = InputRole("image", "Image", 1, 1, help="The picture to work on, sent as `image`.")


@dataclass(frozen=True)
class ToolSpec:
    """One documented tool: the task id it is offered under and where each input role goes."""

    tool: str
    task: str
    title: str
    #: role -> the `input` field that carries it.
    fields: Mapping[str, str]
    inputs: tuple[InputRole, ...]
    output_kind: OutputKind = OutputKind.IMAGE


TOOL_SPECS: tuple[ToolSpec, ...] = (
    ToolSpec("virtual_tryon", "tryon", "Virtual try-on",
             {"person": "model_image", "garment": "garment_image"}, (_PERSON, _GARMENT)),
    ToolSpec("virtual_model", "virtual_model", "Virtual model", {"garment": "garment_image"},
             (InputRole("garment", "Garment", 0, 1,
                        help="Optional garment the generated model wears (`garment_image`)."),)),
    ToolSpec("fabric", "fabric", "Fabric", {"garment": "garment_image", "image": "fabric_image"},
             (_GARMENT, InputRole("image", "Fabric", 1, 1,
                                  help="The fabric swatch, sent as `fabric_image`."))),
    ToolSpec("sketch_to_dress", "sketch_to_dress", "Sketch to dress", {"image": "sketch_image"},
             (InputRole("image", "Sketch", 1, 1, help="The sketch, sent as `sketch_image`."),)),
    ToolSpec("upscale", "upscale", "Upscale", {"image": "image"}, (_IMAGE,)),
    ToolSpec("multipose", "multipose", "Multipose", {"person": "model_image"}, (_PERSON,)),
    ToolSpec("video", "video", "Video", {"image": "image"}, (_IMAGE,), OutputKind.VIDEO),
    ToolSpec("background_removal", "background_removal", "Remove background", {"image": "image"},
             (_IMAGE,)),
    ToolSpec("reframe", "reframe", "Reframe", {"image": "image"}, (_IMAGE,)),
    ToolSpec("product_shoot", "product_shoot", "Product shoot", {"image": "product_image"},
             (InputRole("image", "Product", 1, 1,
                        help="The product photo, sent as `product_image`."),)),
)
_BY_TASK = {s.task: s for s in TOOL_SPECS}

WORKFLOW_TASK = "workflow"
MAX_WORKFLOW_IMAGES = 8


def _tool_task(spec: ToolSpec) -> TaskSpec:
    params: tuple[ParamSpec, ...] = ()
    if spec.task == "tryon":
        params = (ParamSpec("tool", ParamType.CHOICE, title="Model",
                            default="virtual_tryon", choices=TRYON_TOOLS,
                            choice_titles=(("virtual_tryon", "Standard"),
                                           ("virtual_tryon_pro", "Pro"),
                                           ("virtual_tryon_pro_fit", "Pro, true fit")),
                            help="Which of VistoureAI's try-on models runs the job."),)
    return TaskSpec(id=spec.task, title=spec.title, inputs=spec.inputs, params=params,
                    note=_FREE_FORM_NOTE, output_kind=spec.output_kind, free_form_params=True)


_WORKFLOW_BASE = TaskSpec(
    id=WORKFLOW_TASK,
    title="Saved workflow",
    inputs=(
        InputRole("person", "Person", 0, 1, help="An image for the workflow's image inputs."),
        InputRole("garment", "Garments", 0, 3, help="Images for the workflow's image inputs."),
        InputRole("image", "Images", 0, MAX_WORKFLOW_IMAGES,
                  help="Images for the workflow's image inputs."),
    ),
    params=(ParamSpec("workflow", ParamType.STRING, title="Workflow", required=True,
                      help="The saved workflow's name (see `list_workflows`)."),),
    note=("Parameters are the workflow's `node.param` inputs (see its manifest). An image input "
          "is given by its own name (`--input Node.param=FILE`, or `--param Node.param=FILE`: "
          "the file is read and checked like any input, never sent as text); images given as "
          "person, garment or image fill the remaining image inputs in manifest order, and a "
          "parameter value `@garment` or `@image:2` names one of them; a public URL or base64 "
          "works too."),
    free_form_params=True,
    # A workflow's image inputs are roles named after its own inputs: `check` knows them.
    free_form_inputs=True,
)

TASKS: tuple[TaskSpec, ...] = (*(_tool_task(s) for s in TOOL_SPECS), _WORKFLOW_BASE)

#: `overall_status` / node `status` values. Only `succeeded` is documented; the others are
#: ASSUMPTIONS (the usual words of job queues).
_STATES: dict[str, RemoteState] = {
    "pending": RemoteState.QUEUED, "queued": RemoteState.QUEUED, "created": RemoteState.QUEUED,
    "waiting": RemoteState.QUEUED,
    "running": RemoteState.RUNNING, "processing": RemoteState.RUNNING,
    "in_progress": RemoteState.RUNNING, "started": RemoteState.RUNNING,
    "succeeded": RemoteState.SUCCEEDED, "success": RemoteState.SUCCEEDED,
    "completed": RemoteState.SUCCEEDED,
    "failed": RemoteState.FAILED, "error": RemoteState.FAILED,
    "cancelled": RemoteState.CANCELLED, "canceled": RemoteState.CANCELLED,
}

_VIDEO_EXT = re.compile(r"\.(mp4|mov|webm|m4v|mkv)$", re.IGNORECASE)
_VIDEO_MIME = {"mp4": "video/mp4", "m4v": "video/mp4", "mov": "video/quicktime",
               "webm": "video/webm", "mkv": "video/x-matroska"}
_NUMBER = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d+")
_MANIFEST_ENTRY = re.compile(
    r"^\s*<?\s*type\s*:\s*(?P<type>[^,>]+?)\s*,\s*default\s*value\s*:\s*(?P<default>.*?)\s*>?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_REF = re.compile(r"^@(?P<role>person|garment|image)(?::(?P<n>\d+))?$")
INSUFFICIENT_TOKENS = "InsufficientTokens"


# -- the workflow manifest ----------------------------------------------------------------------
@dataclass(frozen=True)
class ManifestInput:
    """One entry of a workflow's `inputs` manifest."""

    name: str
    group: Literal["mandatory", "optional", "linked"]
    type: str
    default: Any
    raw: str

    @property
    def is_image(self) -> bool:
        return self.type in ("image", "img", "image_url", "file")


@dataclass(frozen=True)
class WorkflowManifest:
    name: str
    inputs: tuple[ManifestInput, ...]
    outputs: Mapping[str, str]
    sample_payload: Mapping[str, Any]

    def get(self, name: str) -> ManifestInput | None:
        return next((i for i in self.inputs if i.name == name), None)

    def group(self, group: str) -> list[ManifestInput]:
        return [i for i in self.inputs if i.group == group]


def parse_manifest_value(text: Any) -> tuple[str, Any]:
    """(type, default) from `"<type:str , default value : 'tops (upper-body)'>"`.

    The document shows only this form; anything else is kept as an untyped string whose default
    is unknown (None). A default is read as null, a quoted string, true/false, a number, or the
    bare text.
    """
    if not isinstance(text, str):
        return "str", text
    match = _MANIFEST_ENTRY.match(text)
    if match is None:
        return "str", None
    kind = match["type"].strip().lower()
    raw = match["default"].strip()
    return kind, _literal(raw)


def _literal(raw: str) -> Any:
    if raw.lower() in ("null", "none", ""):
        return None
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    if raw.lower() == "true":
        return True
    if raw.lower() == "false":
        return False
    if _INT.fullmatch(raw):
        return int(raw)
    if _NUMBER.fullmatch(raw):
        return float(raw)
    return raw


def parse_manifest(body: Mapping[str, Any], name: str) -> WorkflowManifest:
    inputs_obj = body.get("inputs") if isinstance(body.get("inputs"), Mapping) else {}
    assert isinstance(inputs_obj, Mapping)
    items: list[ManifestInput] = []
    for group in ("mandatory", "optional", "linked"):
        entries = inputs_obj.get(group)
        if not isinstance(entries, Mapping):
            continue
        for key, value in entries.items():
            kind, default = parse_manifest_value(value)
            items.append(ManifestInput(str(key), group, kind, default,  # type: ignore[arg-type]
                                       value if isinstance(value, str) else repr(value)))
    outputs = body.get("outputs") if isinstance(body.get("outputs"), Mapping) else {}
    sample = body.get("sample_payload") if isinstance(body.get("sample_payload"), Mapping) else {}
    return WorkflowManifest(str(body.get("name") or name), tuple(items),
                            dict(outputs or {}), dict(sample or {}))


_TYPE_MAP: dict[str, ParamType] = {
    "str": ParamType.STRING, "string": ParamType.STRING, "text": ParamType.STRING,
    "int": ParamType.INTEGER, "integer": ParamType.INTEGER,
    "float": ParamType.NUMBER, "number": ParamType.NUMBER, "double": ParamType.NUMBER,
    "bool": ParamType.BOOLEAN, "boolean": ParamType.BOOLEAN,
    "list": ParamType.JSON, "dict": ParamType.JSON, "json": ParamType.JSON,
    "object": ParamType.JSON, "array": ParamType.JSON,
}


def manifest_param(entry: ManifestInput) -> ParamSpec:
    """A ParamSpec for one mandatory or optional manifest entry."""
    node, _, key = entry.name.rpartition(".")
    title = f"{key} ({node})" if node else entry.name
    if entry.is_image:
        return ParamSpec(entry.name, ParamType.STRING, title=title,
                         required=False,  # images may also come from input roles
                         help=f"{entry.group.capitalize()} image: a public URL, base64, or "
                              "@person / @garment[:n] / @image[:n] for an input image.")
    ptype = _TYPE_MAP.get(entry.type, ParamType.STRING)
    default = entry.default
    if default is not None:
        try:
            default = ParamSpec(entry.name, ptype).coerce(default)
        except InvalidInput:
            ptype, default = ParamType.STRING, str(default)
    help_text = f"{entry.group.capitalize()} {entry.type} input of the workflow"
    if entry.group == "optional":
        help_text += "; unset means the canvas value"
        if default is not None:
            help_text += f" ({default!r})"
    return ParamSpec(entry.name, ptype, title=title, default=default,
                     required=entry.group == "mandatory", help=help_text + ".")


def input_title(name: str, *, with_node: bool = True) -> str:
    """A workflow input's name for people: 'User_Garment.garment_image' -> 'Garment image
    (User Garment)', or 'Garment image' without the node; a user-defined variable
    'my_garment' -> 'My garment'."""
    node, _, key = name.rpartition(".")
    words = _words(key) or name
    title = words[:1].upper() + words[1:]
    return f"{title} ({_words(node)})" if node and with_node else title


def _words(text: str) -> str:
    return " ".join(w for w in re.split(r"[_\s]+", text.strip()) if w)


def input_titles(manifest: WorkflowManifest) -> dict[str, str]:
    """The pane title of each settable image input: its parameter's words ("Garment image"),
    with the node's name only where two nodes share the parameter ("Image (Upscale)")."""
    entries = image_inputs(manifest)
    keys = [e.name.rpartition(".")[2] for e in entries]
    return {e.name: input_title(e.name, with_node=keys.count(key) > 1)
            for e, key in zip(entries, keys, strict=True)}


def workflow_input_role(entry: ManifestInput, title: str) -> InputRole:
    """The input pane of one of a workflow's image inputs: named after the input, required
    when the workflow lists it as mandatory, one image."""
    mandatory = entry.group == "mandatory"
    help_text = (f"{'Mandatory' if mandatory else 'Optional'} image input `{entry.name}` of the "
                 "workflow; sent as base64 (a public URL as it is).")
    if not mandatory:
        help_text += " Leave it empty for the workflow's own default."
    return InputRole(entry.name, title, 1 if mandatory else 0, 1, help=help_text)


def image_inputs(manifest: WorkflowManifest) -> list[ManifestInput]:
    """The image inputs a run may set (linked ones are the orchestrator's), mandatory first."""
    found = [e for e in manifest.inputs if e.is_image and e.group != "linked"]
    return sorted(found, key=lambda e: e.group != "mandatory")


#: Every `input` field that carries an image, across the tools.
IMAGE_FIELDS: frozenset[str] = frozenset(f for s in TOOL_SPECS for f in s.fields.values())


def tool_payload(task_id: str, params: Mapping[str, Any],
                 inputs: Mapping[str, list[PreparedInput]]) -> tuple[str, dict[str, Any]]:
    """(tool, input) of a tool run; input images stay PreparedInputs (encoded by the
    provider). Raises InvalidInput for a tool that is not this task's, an image given both as
    an input and as a parameter, or an image parameter that is neither a URL nor base64."""
    spec = _BY_TASK[task_id]
    values = dict(params)
    tool = str(values.pop("tool", spec.tool))
    if tool not in TOOLS:
        raise InvalidInput(f"Parameter 'tool' must be one of VistoureAI's tools: "
                           f"{', '.join(TOOLS)} (got {clip(tool, 40)!r}).")
    allowed = TRYON_TOOLS if task_id == "tryon" else (spec.tool,)
    if tool not in allowed:
        other = "tryon" if tool in TRYON_TOOLS else next(
            (s.task for s in TOOL_SPECS if s.tool == tool), tool)
        raise InvalidInput(f"Parameter 'tool' of task '{task_id}' can only be "
                           f"{' or '.join(allowed)}: its inputs are sent as that tool's; run "
                           f"task '{other}' for {tool}.")
    payload: dict[str, Any] = {}
    for name, value in values.items():
        if name in IMAGE_FIELDS:
            _check_image_text(name, value)
        payload[name] = _free_form(value)
    for role, field in spec.fields.items():
        items = inputs.get(role) or []
        if not items:
            continue
        if field in payload:
            raise InvalidInput(
                f"The {role} image goes in '{field}'; do not also give '{field}' as a "
                "parameter.")
        payload[field] = items[0]
    return tool, payload


GENERIC_ROLES: tuple[str, ...] = ("person", "garment", "image")


def workflow_payload(manifest: WorkflowManifest, params: Mapping[str, Any],
                     inputs: Mapping[str, list[PreparedInput]]) -> dict[str, Any]:
    """The `input` of a workflow run, checked against its manifest: known, settable inputs of
    the right type; images by the workflow's own input names (roles), by reference, or in
    manifest order; every mandatory input set. Input images stay PreparedInputs. Raises
    InvalidInput."""
    name = _workflow_name(params)
    payload: dict[str, Any] = {}
    for role, items in inputs.items():
        if role in GENERIC_ROLES or not items:
            continue
        entry = manifest.get(role)
        if entry is not None and entry.group == "linked":
            raise InvalidInput(_linked(role))
        if entry is None or not entry.is_image:
            known = ", ".join(e.name for e in image_inputs(manifest)) or "none"
            raise InvalidInput(f"Workflow {name!r} has no image input '{clip(role, 80)}' (its "
                               f"image inputs: {known}).")
        if len(items) > 1:
            raise InvalidInput(f"Workflow input '{role}' takes one image (got {len(items)}).")
        payload[role] = items[0]
    used: set[tuple[str, int]] = set()
    for key, raw in params.items():
        if key == "workflow":
            continue
        entry = manifest.get(key)
        if entry is None:
            known = ", ".join(e.name for e in manifest.inputs if e.group != "linked")
            raise InvalidInput(f"Workflow {name!r} has no input '{key}' (it has: "
                               f"{known or 'none'}).")
        if entry.group == "linked":
            raise InvalidInput(_linked(key))
        if entry.is_image:
            if key in payload:
                raise InvalidInput(f"Workflow input '{key}' was given twice, as an input image "
                                   "and as a parameter; give it once.")
            payload[key] = _image_value(inputs, key, raw, used)
        else:
            payload[key] = manifest_param(entry).coerce(raw)
    leftovers = [item for role in GENERIC_ROLES
                 for n, item in enumerate(inputs.get(role) or []) if (role, n) not in used]
    open_slots = [e for e in manifest.group("mandatory") if e.is_image
                  and e.name not in payload]
    open_slots += [e for e in manifest.group("optional") if e.is_image
                   and e.name not in payload]
    if len(leftovers) > len(open_slots):
        raise InvalidInput(
            f"Workflow {name!r} has {len(open_slots)} image input(s) left to fill but "
            f"{len(leftovers)} image(s) were given.")
    for item, slot in zip(leftovers, open_slots, strict=False):
        payload[slot.name] = item
    missing = [e for e in manifest.group("mandatory") if e.name not in payload]
    if missing:
        sentence = f"Workflow {name!r} needs: {', '.join(e.name for e in missing)}."
        images = [e.name for e in missing if e.is_image]
        if images:
            sentence += (f" Give an image as --input {images[0]}=FILE in restyle-cli, or in "
                         f"its pane ({input_titles(manifest)[images[0]]}) in the window.")
        raise InvalidInput(sentence)
    return payload


def _linked(key: str) -> str:
    return (f"Workflow input '{key}' is linked to an upstream node and cannot be set through "
            "the API; unlink it in the VistoureAI workflow editor first.")


def _workflow_name(params: Mapping[str, Any]) -> str:
    name = str(params.get("workflow") or "").strip()
    if not name:
        raise InvalidInput("Task 'workflow' needs the parameter 'workflow' (its name).")
    return name


def _image_value(inputs: Mapping[str, list[PreparedInput]], key: str, raw: Any,
                 used: set[tuple[str, int]]) -> str | PreparedInput:
    """A workflow image input: a reference to an input image (@garment:2), or a URL or base64
    given as text."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput(f"Workflow input '{key}' is an image: give a public URL, base64, "
                           "or @person / @garment[:n] / @image[:n].")
    text = raw.strip()
    ref = _REF.match(text)
    if ref is None:
        _check_image_text(key, text)
        return text
    role = ref["role"]
    n = int(ref["n"] or 1) - 1
    items = inputs.get(role) or []
    if not 0 <= n < len(items):
        raise InvalidInput(f"Workflow input '{key}' names {text}, but {len(items)} {role} "
                           "image(s) were given.")
    used.add((role, n))
    return items[n]


def _check_image_text(key: str, value: Any) -> None:
    """An image given as text must be what the service fetches or decodes: an http(s) URL or
    base64 (a data: URI too) of an image."""
    text = value.strip() if isinstance(value, str) else ""
    if text.startswith(("http://", "https://")) and not any(c.isspace() for c in text):
        return
    data = b""
    if text:
        try:
            data = base64.b64decode(text.partition(",")[2] if text.startswith("data:") else text,
                                    validate=True)
        except (binascii.Error, ValueError):
            data = b""
    if not (sniff_mime(data) or "").startswith("image/"):
        raise InvalidInput(f"Parameter '{key}' is an image: give a public http(s) URL or base64 "
                           f"of an image, or a file as an input image (got "
                           f"{clip(str(value), 40)!r}).")


class VistoureProvider(RemoteProvider):
    """VistoureAI API v3 (X-API-KEY header; the base URL is a required setting)."""

    id = "vistoure"
    title = "VistoureAI"
    needs_key = True
    needs_base_url = True  # the document shows paths only, no host
    default_base_url = None
    poll_interval = 3.0  # the document: "poll every 3-5s"
    # The document gives no limits; conservative ASSUMPTIONS (base64 travels inside JSON).
    limits = InputLimits(max_side=4096, max_bytes=10 * 1024 * 1024, min_side=64,
                         formats=("image/jpeg", "image/png"))
    supports_cancel = False
    supports_account = False
    supports_reconcile = False  # no run list to find a run after an unknown outcome
    accepts_urls = True

    def __init__(
        self,
        base_url: str | None = None,
        key_source: Callable[[], str | None] = lambda: None,
        *,
        image_encoding: Literal["base64", "data_uri"] = "base64",
        **options: Unpack[ClientOptions],
    ) -> None:
        if image_encoding not in ("base64", "data_uri"):
            raise ValueError("image_encoding must be 'base64' or 'data_uri'")
        self.image_encoding = image_encoding
        self.client = ApiClient(
            self.id, self.title, base_url, auth=Auth.api_key_header(key_source, "X-API-KEY"),
            **options,
        )
        self._manifests: dict[str, WorkflowManifest] = {}

    @classmethod
    def from_config(cls, config: ProviderConfig) -> Self:
        encoding = config.extra.get("image_encoding", "base64")
        if encoding not in ("base64", "data_uri"):
            encoding = "base64"
        return cls(config.base_url, config.key_source, image_encoding=encoding,
                   **cls.client_options(config))

    @property
    def tasks(self) -> tuple[TaskSpec, ...]:
        return TASKS

    # -- workflows ---------------------------------------------------------------------------
    async def list_workflows(self) -> list[dict[str, Any]]:
        """The saved workflows and system templates (`GET /api/v3/workflows`)."""
        body = await self.client.get_json(WORKFLOWS_PATH)
        if not isinstance(body, list):
            raise ProviderError(ErrorCode.PROVIDER_UNAVAILABLE,
                                f"{self.title} sent a workflow list that is not a JSON list; "
                                "try again later.")
        return [dict(w) for w in body if isinstance(w, Mapping)]

    async def workflow_info(self, name: str) -> dict[str, Any]:
        """The raw discovery document of one workflow (`GET /api/v3/workflow/{name}`)."""
        if not name.strip():
            raise InvalidInput("Name the workflow to look up.")
        try:
            body = await self.client.get_json(WORKFLOW_PATH.format(name=quote(name, safe="")))
        except ProviderError as exc:
            if exc.http_status == 404:
                raise exc.rephrased(
                    ErrorCode.NOT_FOUND,
                    f"{self.title} has no workflow named {name!r} (HTTP 404); check the name "
                    "in the workflow list.",
                ) from None
            raise
        if not isinstance(body, Mapping):
            raise ProviderError(ErrorCode.PROVIDER_UNAVAILABLE,
                                f"{self.title} described workflow {name!r} with something that "
                                "is not a JSON object; try again later.")
        return dict(body)

    async def workflow_manifest(self, name: str, *, refresh: bool = False) -> WorkflowManifest:
        """The parsed input manifest of a workflow (fetched once, then cached)."""
        if refresh or name not in self._manifests:
            self._manifests[name] = parse_manifest(await self.workflow_info(name), name)
        return self._manifests[name]

    async def workflow_task(self, name: str, *, refresh: bool = False) -> TaskSpec:
        """The `workflow` task for one saved workflow, built from its manifest: each image
        input an input of its own, named after it (required when mandatory); the other
        mandatory inputs required parameters, optional ones with their canvas defaults;
        linked ones left out (the orchestrator sets them). Run it with task `workflow` and
        `workflow=<name>`."""
        manifest = await self.workflow_manifest(name, refresh=refresh)
        params = [ParamSpec("workflow", ParamType.CHOICE, title="Workflow", default=name,
                            choices=(name,), required=True)]
        params += [manifest_param(e) for e in manifest.inputs
                   if e.group != "linked" and not e.is_image]
        linked = [e.name for e in manifest.group("linked")]
        titles = input_titles(manifest)
        note = f"Workflow {manifest.name!r}"
        if manifest.outputs:
            note += "; outputs: " + ", ".join(manifest.outputs)
        if linked:
            note += "; set by upstream nodes: " + ", ".join(linked)
        return TaskSpec(
            id=WORKFLOW_TASK, title=f"Workflow: {manifest.name}",
            inputs=tuple(workflow_input_role(e, titles[e.name]) for e in image_inputs(manifest)),
            params=tuple(params), note=note + ".",
        )

    async def image_params(self, task: TaskSpec, params: Mapping[str, Any]) -> dict[str, str]:
        """A tool's image fields given as parameters (`model_image` is the person input); a
        workflow's image inputs given as parameters, each its own input. The manifest is read
        for a workflow: an unknown one is refused here; when it cannot be read for another
        reason, nothing is moved and `submit` reports the reason."""
        if task.id == WORKFLOW_TASK:
            name = str(params.get("workflow") or "").strip()
            if not name:
                return {}
            try:
                manifest = await self.workflow_manifest(name)
            except ProviderError as exc:
                if exc.code == ErrorCode.NOT_FOUND:
                    raise InvalidInput(f"Parameter 'workflow': {exc.message}") from None
                log.info("Could not read the manifest of workflow %r: %s", name, exc.message)
                return {}
            settable = {e.name for e in image_inputs(manifest)}
            # `@garment:2` names an input image: it stays a parameter (workflow_payload).
            return {key: key for key, value in params.items()
                    if key in settable and not _REF.match(str(value).strip())}
        spec = _BY_TASK.get(task.id)
        if spec is None:
            return {}
        by_field = {field: role for role, field in spec.fields.items()}
        return {key: by_field[key] for key in params if key in by_field}

    async def task_variants(self) -> list[TaskVariant]:
        """Each saved workflow and system template, runnable as the `workflow` task."""
        variants = []
        for entry in await self.list_workflows():
            name = _text(entry.get("name"))
            if not name:
                continue
            kind = "template" if entry.get("system_workflow") else "workflow"
            variants.append(TaskVariant(WORKFLOW_TASK, name, f"{name} ({kind})", "workflow"))
        return variants

    async def variant_task(self, variant: TaskVariant) -> TaskSpec:
        if variant.task_id != WORKFLOW_TASK:
            return await super().variant_task(variant)
        return await self.workflow_task(variant.value)

    # -- submit ------------------------------------------------------------------------------
    async def submit(self, job: PreparedJob) -> RemoteRef:
        kind, target, payload_input, labels = await self.build_run(job)
        body = {"type": kind, "target": target, "input": payload_input}
        # No idempotency key exists for /run: ApiClient will not repeat the POST after an
        # unknown outcome (read timeout, dropped connection, 500/502/504).
        try:
            answer = await self.client.post_json(RUN_PATH, body)
        except ProviderError as exc:
            raise _credits(exc) from None
        run_id = _text(answer.get("id")) if isinstance(answer, Mapping) else None
        error = answer.get("error") if isinstance(answer, Mapping) else None
        if error:
            raise _run_refused(self.title, error)
        if run_id is None:
            raise ProviderError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"{self.title} accepted the run but its answer had no run id, so it cannot be "
                f"followed. It may still run and use tokens: look at your {self.title} account "
                "before submitting it again.", unknown_outcome=True,
            )
        data: dict[str, Any] = {"type": kind, "target": target}
        if labels:
            data["outputs"] = labels
        return RemoteRef(run_id, data=data)

    async def build_run(self, job: PreparedJob
                        ) -> tuple[str, str, dict[str, Any], dict[str, str]]:
        """(type, target, input, output labels) of a job, after every check that needs no POST.
        A workflow's manifest is fetched (GET) to check its inputs."""
        task = self.task(job.task)
        if task is None:
            raise ProviderError(
                ErrorCode.INVALID_INPUT,
                f"{self.title} has no task '{job.task}' (it has: "
                f"{', '.join(t.id for t in TASKS)}).",
            )
        # Counts and params again: a resumed job's spec comes back from storage.
        params = task.validate({r: [i.sha256 for i in items] for r, items in job.inputs.items()},
                               job.params)
        for role, items in job.inputs.items():
            for item in items:
                self._check_image(role, item)
        if job.task == WORKFLOW_TASK:
            manifest = await self.workflow_manifest(_workflow_name(params))
            payload = workflow_payload(manifest, params, job.inputs)
            return "workflow", manifest.name, self._encoded(payload), dict(manifest.outputs)
        tool, payload = tool_payload(job.task, params, job.inputs)
        return "node", tool, self._encoded(payload), {}

    async def check(self, task: TaskSpec, params: dict[str, Any],
                    inputs: dict[str, list[PreparedInput]]) -> None:
        """A tool run's tool and image fields; a workflow's inputs against its manifest, read
        with a GET (an unknown workflow is refused here). When the manifest cannot be read for
        another reason (network, key), submit reads it again and reports that."""
        if task.id != WORKFLOW_TASK:
            tool_payload(task.id, params, inputs)
            return
        name = _workflow_name(params)
        try:
            manifest = await self.workflow_manifest(name)
        except ProviderError as exc:
            if exc.code == ErrorCode.NOT_FOUND:
                raise InvalidInput(f"Parameter 'workflow': {exc.message}") from None
            log.info("Could not read the manifest of workflow %r before submitting: %s", name,
                     exc.message)
            return
        workflow_payload(manifest, params, inputs)

    def _check_image(self, role: str, item: PreparedInput) -> None:
        if not item.data and not item.source_url:
            raise ProviderError(ErrorCode.INVALID_INPUT,
                                f"The {role} image is empty; choose another file.")
        if item.source_url is None and len(item.data) > self.limits.max_bytes:
            raise ProviderError(
                ErrorCode.INVALID_INPUT,
                f"The {role} image is larger than {self.title} accepts "
                f"({len(item.data)} > {self.limits.max_bytes} bytes).")

    def _encoded(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The `input` object with every input image in it encoded."""
        return {key: self._encode(value) if isinstance(value, PreparedInput) else value
                for key, value in payload.items()}

    def _encode(self, item: PreparedInput) -> str:
        """A public URL as given (the service fetches it), otherwise base64 of the bytes."""
        if item.source_url:
            return item.source_url
        return item.data_uri() if self.image_encoding == "data_uri" else item.base64()

    # -- poll --------------------------------------------------------------------------------
    async def status(self, run_id: str) -> dict[str, Any]:
        """The raw status document of a run (`GET /api/v3/status/{run_id}`)."""
        try:
            body = await self.client.get_json(STATUS_PATH.format(run_id=quote(run_id, safe="")))
        except ProviderError as exc:
            if exc.http_status == 404:
                raise exc.rephrased(
                    ErrorCode.NOT_FOUND,
                    f"{self.title} has no run {run_id} (HTTP 404); outputs are kept for 3 days, "
                    "or the base URL points at another server.",
                ) from None
            raise
        return self.client.expect_object(body, f"a status for run {run_id}")

    async def poll(self, ref: RemoteRef) -> RemoteStatus:
        body = await self.status(ref.remote_id)
        word = str(body.get("overall_status") or "").strip().lower()
        state = _STATES.get(word)
        nodes = body.get("nodes") if isinstance(body.get("nodes"), Mapping) else {}
        assert isinstance(nodes, Mapping)
        progress, summary = _node_progress(nodes)
        if state is None:
            raise ProviderError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"{self.title} reported an unknown status {clip(word or 'none', 40)!r} for run "
                f"{ref.remote_id}; checking again.",
            )
        if state in (RemoteState.QUEUED, RemoteState.RUNNING):
            return RemoteStatus(state, progress=progress, message=summary)
        if state == RemoteState.CANCELLED:
            return RemoteStatus(state, message=f"{self.title} cancelled the run.")
        if state == RemoteState.FAILED:
            return RemoteStatus(state, error=run_error(body), message=summary)
        outputs = self._outputs(ref, body, nodes)
        if not outputs:
            return RemoteStatus(RemoteState.FAILED, error=ProviderError(
                ErrorCode.RESULT_UNAVAILABLE,
                f"{self.title} marked run {ref.remote_id} succeeded but listed no output; run "
                "it again."))
        return RemoteStatus(RemoteState.SUCCEEDED, progress=1.0, outputs=tuple(outputs),
                            message=summary)

    def _outputs(self, ref: RemoteRef, body: Mapping[str, Any], nodes: Mapping[str, Any]
                 ) -> list[RemoteOutput]:
        """Every named output (a URL or a list of URLs), else every node's `output` list."""
        video_nodes = {name for name, node in nodes.items() if isinstance(node, Mapping)
                       and str(node.get("model_name") or "") == "video"}
        sources = ref.data.get("outputs") if isinstance(ref.data.get("outputs"), Mapping) else {}
        assert isinstance(sources, Mapping)
        named = body.get("outputs") if isinstance(body.get("outputs"), Mapping) else {}
        assert isinstance(named, Mapping)
        found: list[tuple[str, str, bool]] = []
        for label, value in named.items():
            source_node = str(sources.get(label) or "").partition(".")[0]
            is_video = (source_node in video_nodes
                        or (ref.data.get("type") == "node" and ref.data.get("target") == "video"))
            for url in _urls(value):
                found.append((str(label), url, is_video))
        if not found:
            for name, node in nodes.items():
                if isinstance(node, Mapping) and _STATES.get(
                        str(node.get("status") or "").lower()) == RemoteState.SUCCEEDED:
                    for url in _urls(node.get("output")):
                        found.append((str(name), url, name in video_nodes))
        outputs = []
        seen: set[str] = set()
        for label, url, is_video in found:
            if url in seen:
                continue
            seen.add(url)
            ext = _VIDEO_EXT.search(httpx.URL(url).path) if url.startswith("http") else None
            video = is_video or ext is not None
            mime = (_VIDEO_MIME.get(ext[1].lower(), "video/mp4") if ext else "video/mp4"
                    ) if video else None
            outputs.append(RemoteOutput(
                url=url, kind=OutputKind.VIDEO if video else OutputKind.IMAGE, mime=mime,
                label=label, extra={"run_id": ref.remote_id}))
        return outputs

    async def fetch_into(self, output: RemoteOutput, sink: ResultSink) -> None:
        if output.data:
            await self.deliver(sink, output.data)
            return
        if not output.url:
            raise ProviderError(ErrorCode.RESULT_UNAVAILABLE,
                                f"{self.title} gave no result to download; run the job again.")
        await self.client.download_into(output.url, sink)



# -- helpers ------------------------------------------------------------------------------------
def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _urls(value: Any) -> list[str]:
    if isinstance(value, str) and value.strip():
        return [value.strip()]
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def _free_form(value: Any) -> Any:
    """A free-form value from the command line: numbers and true/false become JSON values
    (the API is JSON; "2" for an upscale factor would otherwise go as text)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _INT.fullmatch(text) and not (len(text.lstrip("+-")) > 1 and text.lstrip("+-")[0] == "0"):
        return int(text)
    if _NUMBER.fullmatch(text) and "." in text:
        return float(text)
    return value


#: What a node of each tool is doing, for the progress line ("Node 3 of 5: upscaling").
_TOOL_WORDS: dict[str, str] = {
    "virtual_tryon": "trying on", "virtual_tryon_pro": "trying on",
    "virtual_tryon_pro_fit": "trying on", "virtual_model": "generating a model",
    "fabric": "applying the fabric", "sketch_to_dress": "turning the sketch into a dress",
    "upscale": "upscaling", "multipose": "posing", "video": "making the video",
    "background_removal": "removing the background", "reframe": "reframing",
    "product_shoot": "shooting the product",
}


def _node_progress(nodes: Mapping[str, Any]) -> tuple[float | None, str]:
    """The share of the run done and a plain line saying where it is.

    A node that succeeded counts whole, one that runs half: three nodes of five done and the
    fourth running is 0.7 and "Node 4 of 5: upscaling". Nodes running side by side are named
    together; a single tool run says only what it does ("Trying on")."""
    states: list[tuple[str, RemoteState | None, str]] = []
    for name, node in nodes.items():
        if isinstance(node, Mapping):
            states.append((str(name), _STATES.get(str(node.get("status") or "").lower()),
                           str(node.get("model_name") or "")))
    if not states:
        return None, ""
    total = len(states)
    done = sum(1 for _, state, _ in states if state == RemoteState.SUCCEEDED)
    running = [(name, tool) for name, state, tool in states if state == RemoteState.RUNNING]
    tools = [tool for _, _, tool in states]

    def doing(name: str, tool: str) -> str:
        word = _TOOL_WORDS.get(tool) or _words(name)
        # Two nodes of one tool: the node's name tells them apart.
        return f"{word} ({clip(_words(name), 40)})" if tools.count(tool) > 1 else word

    if running:
        words = ", ".join(doing(name, tool) for name, tool in running[:3])
        if len(running) > 3:
            words += f" and {len(running) - 3} more"
        if total == 1:
            line = words[:1].upper() + words[1:]
        elif len(running) == 1:
            line = f"Node {done + 1} of {total}: {words}"
        else:
            line = f"Nodes {done + 1}–{done + len(running)} of {total}: {words}"
    elif done == total:
        line = "Done" if total == 1 else f"All {total} nodes done"
    elif done == 0:
        line = "Waiting to start" + ("" if total == 1 else f" ({total} nodes)")
    else:
        line = f"{done} of {total} nodes done; waiting for the next"
    return (done + 0.5 * len(running)) / total, clip(line)


def _error_parts(error: Any) -> tuple[str | None, str | None]:
    """(code, message) from an `error` field: a word ("InsufficientTokens"), a sentence, or an
    object with code/type and message/detail."""
    if isinstance(error, Mapping):
        code = _text(error.get("code")) or _text(error.get("type"))
        message = _text(error.get("message")) or _text(error.get("detail"))
        return code, message
    text = _text(error)
    if text is None:
        return None, None
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_.:-]{1,63}", text):
        return text, None
    return None, text


def _is_credits(code: str | None, message: str | None) -> bool:
    blob = " ".join(p for p in (code, message) if p).lower()
    return "insufficienttokens" in blob or "insufficient tokens" in blob


def _credits(exc: ProviderError) -> ProviderError:
    """Any answer naming InsufficientTokens is the out-of-credits case, whatever its status."""
    if exc.code != ErrorCode.INSUFFICIENT_CREDITS and _is_credits(exc.provider_code, exc.message):
        return exc.rephrased(
            ErrorCode.INSUFFICIENT_CREDITS,
            f"VistoureAI says the account has too few tokens for this run ({exc.message}) Top "
            "up the account, then try again.",
        )
    return exc


def _run_refused(title: str, error: Any) -> ProviderError:
    code, message = _error_parts(error)
    said = clip(message or code or "no reason given")
    code = clip(code, 64) if code else None
    if _is_credits(code, message):
        return ProviderError(ErrorCode.INSUFFICIENT_CREDITS,
                             f"{title} says the account has too few tokens for this run "
                             f"({said}). Top up the account, then try again.",
                             provider_code=code or INSUFFICIENT_TOKENS)
    return ProviderError(ErrorCode.INVALID_INPUT, f"{title} refused the run: {said}.",
                         provider_code=code)


def run_error(body: Mapping[str, Any]) -> ProviderError:
    """The error of a failed run: which node failed and what VistoureAI said."""
    nodes = body.get("nodes") if isinstance(body.get("nodes"), Mapping) else {}
    assert isinstance(nodes, Mapping)
    failed = [(str(name), node) for name, node in nodes.items() if isinstance(node, Mapping)
              and _STATES.get(str(node.get("status") or "").lower()) == RemoteState.FAILED]
    code, message = _error_parts(body.get("error"))
    where = ""
    if failed:
        name, node = failed[0]
        ncode, nmessage = _error_parts(node.get("error"))
        code, message = code or ncode, message or nmessage
        tool = _text(node.get("model_name"))
        where = f" in node {clip(name, 60)}" + (f" ({clip(tool, 60)})" if tool else "")
    if _is_credits(code, message):
        return ProviderError(
            ErrorCode.INSUFFICIENT_CREDITS,
            f"VistoureAI stopped the run{where}: the account has too few tokens. Top up the "
            "account, then try again.",
            provider_code=clip(code, 64) if code else INSUFFICIENT_TOKENS)
    sentence = f"VistoureAI reported that the run failed{where}"
    if code:
        sentence += f" (code {clip(code, 64)})"
    sentence += "."
    if message:
        sentence += f" VistoureAI said: {clip(message).rstrip('.')}."
    return ProviderError(ErrorCode.JOB_FAILED, sentence,
                         provider_code=clip(code, 64) if code else None)
