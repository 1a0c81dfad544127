"""An emulator of VistoureAI API v3: unified run endpoint, status with per-node states and
named outputs, workflow list and discovery, token checks, expiring result URLs.

Endpoints (as documented): `POST /api/v3/run`, `GET /api/v3/status/{run_id}`,
`GET /api/v3/workflows`, `GET /api/v3/workflow/{workflow_name}`. Auth is `X-API-KEY`.

Where the document is silent, the emulator chooses (and the adapter copes with):
- a missing or wrong key -> 401 `{"error": "Unauthorized", "detail": ...}`;
- a bad request -> 400 `{"id": null, "error": "<sentence>"}`; an unknown workflow or run -> 404;
- too few tokens -> 402 `{"id": null, "error": "InsufficientTokens", "detail": ...}`;
- statuses `pending` -> `running` -> `succeeded` | `failed` (overall and per node); the nodes
  of a run take turns, each an equal share of `job_delay`, so a poll sees the earlier nodes
  `succeeded` (with their output), one `running` and the later ones `pending`;
- a node run's status has `outputs: {"result_image": url}` and one node named after the tool;
- a `video` node's output is a real MP4 (tests/data/vistoure-clip.mp4, see the README there);
- image fields are checked to be an http(s) URL or base64 of a real image.
"""

from __future__ import annotations

import base64
import binascii
import io
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.emulators.kit import Emulator, derive_image

TOOLS = (
    "virtual_tryon", "virtual_tryon_pro", "virtual_tryon_pro_fit", "virtual_model", "fabric",
    "sketch_to_dress", "upscale", "multipose", "video", "background_removal", "reframe",
    "product_shoot",
)
#: Image fields each tool must get (the adapter's assumptions mirrored).
TOOL_IMAGES: dict[str, tuple[str, ...]] = {
    "virtual_tryon": ("model_image", "garment_image"),
    "virtual_tryon_pro": ("model_image", "garment_image"),
    "virtual_tryon_pro_fit": ("model_image", "garment_image"),
    "virtual_model": (),
    "fabric": ("garment_image", "fabric_image"),
    "sketch_to_dress": ("sketch_image",),
    "upscale": ("image",),
    "multipose": ("model_image",),
    "video": ("image",),
    "background_removal": ("image",),
    "reframe": ("image",),
    "product_shoot": ("product_image",),
}
IMAGE_FIELDS = {f for fields in TOOL_IMAGES.values() for f in fields}
#: What every `video` node produces: a real, playable two-second H.264 MP4 (12 kB).
CLIP = (Path(__file__).resolve().parents[1] / "data" / "vistoure-clip.mp4").read_bytes()
LOOKBOOK = "Lookbook Video"


@dataclass
class WfParam:
    type: str
    default: Any = None
    mandatory: bool = False
    #: "Node.param" it is piped from, for linked inputs.
    linked_from: str | None = None


@dataclass
class WfNode:
    tool: str
    params: dict[str, WfParam] = field(default_factory=dict)


@dataclass
class Workflow:
    id: int
    name: str
    nodes: dict[str, WfNode]
    outputs: dict[str, str]
    system: bool = False
    created_at: str = "2024-04-26T12:00:00"

    def manifest(self) -> dict[str, dict[str, str]]:
        groups: dict[str, dict[str, str]] = {"mandatory": {}, "optional": {}, "linked": {}}
        for node_name, node in self.nodes.items():
            for key, p in node.params.items():
                full = f"{node_name}.{key}"
                if p.linked_from:
                    groups["linked"][full] = p.linked_from
                    continue
                default = "null" if p.default is None else (
                    f"'{p.default}'" if isinstance(p.default, str) else str(p.default))
                text = f"<type:{p.type} , default value : {default}>"
                groups["mandatory" if p.mandatory else "optional"][full] = text
        return groups


def default_workflows() -> dict[str, Workflow]:
    studio = Workflow(
        1, "Professional Studio Portrait",
        nodes={
            "Model_Gen": WfNode("virtual_model", {
                "gender": WfParam("str", "female"), "prompt": WfParam("str", "studio")}),
            "User_Garment": WfNode("virtual_tryon", {
                "garment_image": WfParam("image", mandatory=True),
                "model_image": WfParam("image", linked_from="Model_Gen.result_image"),
                "category": WfParam("str", "tops (upper-body)")}),
            "Upscale": WfNode("upscale", {
                "image": WfParam("image", linked_from="User_Garment.result_image"),
                "upscale_factor": WfParam("int", 2)}),
        },
        outputs={"result_tryon": "Upscale.result_image"}, system=True)
    own = Workflow(
        12, "My Custom Model Workflow",
        nodes={
            "Vton_Node": WfNode("virtual_tryon", {
                "model_image": WfParam("image", mandatory=True),
                "garment_image": WfParam("image", mandatory=True),
                "strength": WfParam("float", 0.8)}),
            "Clip": WfNode("video", {
                "image": WfParam("image", linked_from="Vton_Node.result_image"),
                "seconds": WfParam("int", 4)}),
        },
        outputs={"result_tryon": "Vton_Node.result_image", "result_video": "Clip.result_image"})
    # Mandatory and optional images, four nodes in a row, a photo and a video out.
    lookbook = Workflow(
        14, LOOKBOOK,
        nodes={
            "Dress_Model": WfNode("virtual_tryon", {
                "model_image": WfParam("image", mandatory=True),
                "garment_image": WfParam("image", mandatory=True),
                "category": WfParam("str", "tops (upper-body)")}),
            "Backdrop": WfNode("product_shoot", {
                "image": WfParam("image", linked_from="Dress_Model.result_image"),
                "background_image": WfParam("image"),
                "prompt": WfParam("str", "soft daylight studio")}),
            "Upscale": WfNode("upscale", {
                "image": WfParam("image", linked_from="Backdrop.result_image"),
                "upscale_factor": WfParam("int", 2)}),
            "Clip": WfNode("video", {
                "image": WfParam("image", linked_from="Upscale.result_image"),
                "seconds": WfParam("int", 4)}),
        },
        outputs={"lookbook_photo": "Upscale.result_image", "lookbook_video": "Clip.result_image"})
    return {w.name: w for w in (studio, own, lookbook)}


@dataclass
class Run:
    id: str
    created: float
    kind: str
    target: str
    nodes: dict[str, str]  # node name -> tool
    outputs: dict[str, str]  # output name -> "Node.param"
    images: list[bytes]
    fail: tuple[str, Any] | None = None  # (node, error)
    urls: dict[str, str] = field(default_factory=dict)  # node -> result URL
    node_ids: dict[str, str] = field(default_factory=dict)


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"id": None, "error": message, **extra}, status_code=status)


class VistoureEmulator(Emulator):
    """VistoureAI over real HTTP. Knobs for tests:

    - `tokens`: None for unlimited, else each node costs `node_cost`; too few -> 402;
    - `fail_next(node=None, error=...)`: the next run fails (in `node`, default its last) with
      that node `error` (a string or an object);
    - `workflows`: name -> Workflow (two are preset);
    - `fetch_timeout`: seconds to fetch an image given as a URL elsewhere.
    """

    default_key = "vistoure-test-key"

    def __init__(self, *, api_key: str | None = None, job_delay: float = 0.2,
                 url_ttl: float = 300.0, tokens: int | None = None, node_cost: int = 1) -> None:
        super().__init__(api_key=api_key, job_delay=job_delay, url_ttl=url_ttl)
        self.tokens = tokens
        self.node_cost = node_cost
        self.workflows = default_workflows()
        self.runs: dict[str, Run] = {}
        self.warnings: list[str] = []
        self.fetch_timeout = 5.0
        self._failures: list[tuple[str | None, Any]] = []

    def routes(self) -> list[Route]:
        return [
            Route("/api/v3/run", self.run, methods=["POST"]),
            Route("/api/v3/status/{run_id}", self.status, methods=["GET"]),
            Route("/api/v3/workflows", self.list_workflows, methods=["GET"]),
            Route("/api/v3/workflow/{name}", self.workflow, methods=["GET"]),
        ]

    def fail_next(self, node: str | None = None, error: Any = "Generation failed") -> None:
        self._failures.append((node, error))

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("x-api-key") == self.api_key

    @staticmethod
    def _unauthorised() -> JSONResponse:
        return JSONResponse({"error": "Unauthorized", "detail": "Invalid or missing X-API-KEY."},
                            status_code=401)

    # -- images ------------------------------------------------------------------------------
    async def _image(self, name: str, value: Any) -> bytes | str:
        """The bytes of an image field, or a sentence saying why it is unusable."""
        if not isinstance(value, str) or not value.strip():
            return f"'{name}' must be a public URL or a base64 string."
        text = value.strip()
        if text.startswith(("http://", "https://")):
            own = f"{self.public_url}/results/"
            if text.startswith(own):
                item = self.results.get(text[len(own):])
                if item is None:
                    return f"Could not fetch '{name}' from {text}."
                data = item[0]
            else:
                try:
                    async with httpx.AsyncClient(timeout=self.fetch_timeout) as client:
                        response = await client.get(text)
                        response.raise_for_status()
                except httpx.HTTPError:
                    return f"Could not fetch '{name}' from {text}."
                data = response.content
        else:
            if text.startswith("data:"):
                text = text.partition(",")[2]
            try:
                data = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                return f"'{name}' is neither a public URL nor valid base64."
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.verify()
        except Exception:
            return f"'{name}' is not a valid image."
        return data

    # -- endpoints ---------------------------------------------------------------------------
    async def run(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return self._unauthorised()
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "Request body must be JSON.")
        if not isinstance(body, dict):
            return _error(400, "Request body must be a JSON object.")
        kind, target, given = body.get("type"), body.get("target"), body.get("input")
        if kind not in ("node", "workflow"):
            return _error(400, "'type' is required and must be 'node' or 'workflow'.")
        if not isinstance(target, str) or not target:
            return _error(400, "'target' is required.")
        if not isinstance(given, dict):
            return _error(400, "'input' is required and must be an object.")
        images: list[bytes] = []
        if kind == "node":
            if target not in TOOLS:
                return _error(400, f"Unknown tool '{target}'. Available tools: "
                                   + ", ".join(TOOLS) + ".")
            for name in TOOL_IMAGES[target]:
                if name not in given:
                    return _error(400, f"Missing mandatory parameter '{name}' for {target}.")
            for name, value in given.items():
                if name in IMAGE_FIELDS:
                    found = await self._image(name, value)
                    if isinstance(found, str):
                        return _error(400, found)
                    images.append(found)
            nodes, outputs = {target: target}, {"result_image": f"{target}.result_image"}
        else:
            workflow = self.workflows.get(target)
            if workflow is None:
                return _error(404, f"Workflow '{target}' not found.")
            manifest = workflow.manifest()
            for name in given:
                if name in manifest["linked"]:
                    self.warnings.append(f"ignored linked override {name}")
                elif name not in manifest["mandatory"] and name not in manifest["optional"]:
                    return _error(400, f"Unknown input '{name}' for workflow '{target}'.")
            missing = [n for n in manifest["mandatory"] if n not in given]
            if missing:
                return _error(400, "Missing mandatory inputs: " + ", ".join(missing) + ".")
            for name, value in given.items():
                if "<type:image " in (manifest["mandatory"].get(name)
                                      or manifest["optional"].get(name) or ""):
                    found = await self._image(name, value)
                    if isinstance(found, str):
                        return _error(400, found)
                    images.append(found)
            nodes = {n: node.tool for n, node in workflow.nodes.items()}
            outputs = dict(workflow.outputs)
        cost = self.node_cost * len(nodes)
        if self.tokens is not None:
            if self.tokens < cost:
                return _error(402, "InsufficientTokens",
                              detail=f"This run needs {cost} tokens; {self.tokens} left.")
            self.tokens -= cost
        if not images:
            images = [derive_image([_blank()], target)]
        run_id = "wr_" + secrets.token_hex(8)
        run = Run(run_id, time.monotonic(), kind, target, nodes, outputs, images)
        run.node_ids = {n: f"gen_{t}_{secrets.token_hex(3)}" for n, t in nodes.items()}
        if self._failures:
            node, error = self._failures.pop(0)
            run.fail = (node or list(nodes)[-1], error)
        self.runs[run_id] = run
        return JSONResponse({"id": run_id, "error": None})

    async def status(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return self._unauthorised()
        run = self.runs.get(request.path_params["run_id"])
        if run is None:
            return JSONResponse({"error": "Run not found."}, status_code=404)
        elapsed = time.monotonic() - run.created
        finished = self.ready(run.created)
        names = list(run.nodes)
        share = self.job_delay / len(names)
        nodes: dict[str, Any] = {}
        failed = False
        for index, name in enumerate(names):
            tool = run.nodes[name]
            node: dict[str, Any] = {"id": run.node_ids[name], "status": "pending", "output": [],
                                    "error": None, "model_name": tool}
            starts = share * index + (share / 2 if index == 0 else 0.0)
            if failed:
                pass  # nothing after a failed node runs
            elif finished or elapsed >= share * (index + 1):
                if run.fail is not None and run.fail[0] == name:
                    node["status"], node["error"] = "failed", run.fail[1]
                    failed = True
                else:
                    node["status"] = "succeeded"
                    node["output"] = [self._node_url(run, name, tool)]
            elif elapsed >= starts:
                node["status"] = "running"
            nodes[name] = node
        states = [n["status"] for n in nodes.values()]
        if failed:
            overall = "failed"
        elif all(state == "succeeded" for state in states):
            overall = "succeeded"
        elif all(state == "pending" for state in states):
            overall = "pending"
        else:
            overall = "running"
        outputs: dict[str, str] = {}
        if overall == "succeeded":
            for label, source in run.outputs.items():
                node_name = source.partition(".")[0]
                if node_name in run.urls:
                    outputs[label] = run.urls[node_name]
        return JSONResponse({"workflow_run_id": run.id, "overall_status": overall,
                             "outputs": outputs, "nodes": nodes})

    def _node_url(self, run: Run, name: str, tool: str) -> str:
        if name not in run.urls:  # signed once, like a stored object's link
            image = derive_image(run.images, f"{run.id}:{name}")
            if tool == "video":
                run.urls[name] = self.result_url(CLIP, "video/mp4")
            else:
                run.urls[name] = self.result_url(image, "image/png")
        return run.urls[name]

    async def list_workflows(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return self._unauthorised()
        return JSONResponse([{"id": w.id, "name": w.name, "system_workflow": w.system,
                              "created_at": w.created_at} for w in self.workflows.values()])

    async def workflow(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return self._unauthorised()
        workflow = self.workflows.get(request.path_params["name"])
        if workflow is None:
            return JSONResponse({"error": "Workflow not found."}, status_code=404)
        manifest = workflow.manifest()
        return JSONResponse({
            "name": workflow.name,
            "outputs": workflow.outputs,
            "workflow": {n: {"model_name": node.tool,
                             "params": {k: p.default for k, p in node.params.items()}}
                         for n, node in workflow.nodes.items()},
            "sample_payload": {"type": "workflow", "target": workflow.name,
                               "input": {k: "<image>" for k in manifest["mandatory"]}},
            "inputs": manifest,
        })


def expected_output(run_id: str, node: str, images: list[bytes], *, video: bool = False
                    ) -> bytes:
    """What the emulator serves for `node` of run `run_id` (for assertions)."""
    return CLIP if video else derive_image(images, f"{run_id}:{node}")


def _blank() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 200, 200)).save(buf, "PNG")
    return buf.getvalue()
