"""An emulator of the Virtual Staging AI v2 API (renders, variations, bulk, analyze,
multi-view compatibility, webhook secret), kept in memory.

Auth is `Authorization: Api-Key <key>` exactly (case sensitive); anything else is a 401
`{message}`. Bodies are validated as documented (400 `{message}`). Variations go
queued -> processing -> done after `job_delay`, each with its own `eta` (epoch ms) and a real
image derived from the input photo and the variation id. Routes live under `prefix` ("" by
default so `python -m tests.emulators` prints a usable base URL; "/v2" mirrors the real host).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.emulators.kit import Emulator, derive_image

ROOM_TYPES = ("living", "bed", "kitchen", "dining", "bathroom", "home_office")
STYLES = ("modern", "scandinavian", "industrial", "midcentury", "luxury", "farmhouse", "coastal",
          "standard")
SKIES = ("dusk", "golden", "blue")
TYPES = ("staging", "day-to-dusk", "enhancement")
IMAGE_URL = re.compile(r"^(https?://[^\s]+|data:image/[a-zA-Z+]+;base64,[A-Za-z0-9+/=]+)$")
SECRET = re.compile(r"^[a-zA-Z0-9_-]+$")


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Variation:
    id: str
    render_id: str
    config: dict[str, Any]
    created_mono: float
    created_at: int
    fail_message: str | None = None
    result: dict[str, Any] | None = None

    @property
    def type(self) -> str:
        if self.config["type"] == "staging" and "add_furniture" not in self.config:
            return "removal"
        return str(self.config["type"])


@dataclass
class Render:
    id: str
    created_at: int
    image: bytes
    webhook_url: str | None
    variations: list[Variation] = field(default_factory=list)


class VirtualStagingEmulator(Emulator):
    """Virtual Staging AI v2 over real HTTP; see the module docstring."""

    default_key = "vsai-test-key"

    def __init__(self, *, api_key: str | None = None, job_delay: float = 0.2,
                 url_ttl: float = 300.0, prefix: str = "", photo_limit: int = 100,
                 image_editing_limit: int = 100) -> None:
        self.prefix = prefix.rstrip("/")
        self.renders: dict[str, Render] = {}
        self.photo_limit = {"staging": photo_limit, "imageEditing": image_editing_limit}
        self.photos_used = {"staging": 0, "imageEditing": 0}
        self.webhook_secret: str | None = None
        #: Messages the next variations fail with, one per variation, in order.
        self.failures: list[str] = []
        #: How far ahead of a variation's creation its `eta` lies; None: `job_delay`, the
        #: truth. A test that holds jobs with a long job_delay sets it short, or clients
        #: would wait for that eta before asking again.
        self.eta_s: float | None = None
        #: Where /analyze says the furniture is, as fractions of the photo (left, top, right,
        #: bottom): its mask is white there and black elsewhere, at the photo's size.
        self.mask_box: tuple[float, float, float, float] = (0.25, 0.5, 1.0, 1.0)
        self._ids = itertools.count(1)
        super().__init__(api_key=api_key, job_delay=job_delay, url_ttl=url_ttl)

    def routes(self) -> list[Route]:
        p = self.prefix
        return [
            Route(f"{p}/status", self.status, methods=["GET"]),
            Route(f"{p}/user", self.user, methods=["GET"]),
            Route(f"{p}/user/webhook-secret", self.webhook_secret_route,
                  methods=["POST", "DELETE"]),
            Route(f"{p}/renders", self.renders_route, methods=["GET", "POST"]),
            Route(f"{p}/renders/bulk", self.bulk_renders, methods=["POST"]),
            Route(f"{p}/renders/variations/bulk", self.bulk_variations, methods=["POST"]),
            Route(f"{p}/renders/{{render_id}}", self.get_render, methods=["GET"]),
            Route(f"{p}/renders/{{render_id}}/variations", self.add_variations,
                  methods=["POST"]),
            Route(f"{p}/renders/{{render_id}}/variations/{{variation_id}}", self.get_variation,
                  methods=["GET"]),
            Route(f"{p}/analyze", self.analyze, methods=["POST"]),
            Route(f"{p}/multi-view-compatibility", self.multi_view, methods=["POST"]),
        ]

    # -- plumbing --------------------------------------------------------------------------------
    def _new_id(self, kind: str) -> str:
        return f"{kind}_{next(self._ids):05d}"

    def fail_next(self, *messages: str) -> None:
        """The next variations created fail with these messages (one each)."""
        self.failures.extend(messages)

    async def _guarded(self, request: Request, handler: Any) -> Response:
        if request.headers.get("authorization") != f"Api-Key {self.api_key}":
            return JSONResponse({"message": "Unauthorized: missing or invalid API key."},
                                status_code=401)
        try:
            return await handler(request)
        except BadRequest as exc:
            return JSONResponse({"message": exc.message}, status_code=exc.status)

    async def _json(self, request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise BadRequest("Request body must be JSON.") from None
        if not isinstance(body, dict):
            raise BadRequest("Request body must be a JSON object.")
        return body

    async def _image(self, value: Any, field_name: str = "image_url") -> bytes:
        if not isinstance(value, str) or not IMAGE_URL.fullmatch(value):
            raise BadRequest(f"{field_name} must be an http(s) URL or a base64 data URL.")
        if value.startswith("data:"):
            try:
                return base64.b64decode(value.split(",", 1)[1], validate=True)
            except (binascii.Error, ValueError):
                raise BadRequest(f"{field_name} is not valid base64.") from None
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                answer = await client.get(value)
        except httpx.HTTPError:
            raise BadRequest(f"Could not download {field_name}.") from None
        if answer.status_code != 200:
            raise BadRequest(f"Could not download {field_name} (HTTP {answer.status_code}).")
        return answer.content

    def _config(self, config: Any, where: str) -> dict[str, Any]:
        if not isinstance(config, dict):
            raise BadRequest(f"{where} must be an object.")
        kind = config.get("type")
        if kind not in TYPES:
            raise BadRequest(f"{where}.type must be one of {', '.join(TYPES)}.")
        if kind == "staging":
            add = config.get("add_furniture")
            if add is None and config.get("remove_furniture") is None:
                raise BadRequest(f"{where} needs add_furniture or remove_furniture.")
            if add is not None:
                if not isinstance(add, dict) or add.get("room_type") not in ROOM_TYPES:
                    raise BadRequest(f"{where}.add_furniture.room_type is invalid.")
                if add.get("style") not in STYLES:
                    raise BadRequest(f"{where}.add_furniture.style is invalid.")
        if kind == "day-to-dusk" and config.get("sky", "dusk") not in SKIES:
            raise BadRequest(f"{where}.sky must be one of {', '.join(SKIES)}.")
        return config

    @staticmethod
    def _count(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BadRequest(f"{where} must be an integer of at least 1.")
        return value

    def _charge(self, configs: list[tuple[dict[str, Any], int]]) -> None:
        """403 when the period's photos are used up (the document's 'Forbidden error')."""
        need = {"staging": 0, "imageEditing": 0}
        for config, count in configs:
            need["staging" if config["type"] == "staging" else "imageEditing"] += count
        for kind, count in need.items():
            if count and self.photos_used[kind] + count > self.photo_limit[kind]:
                raise BadRequest(
                    f"Photo limit reached: {self.photos_used[kind]} of "
                    f"{self.photo_limit[kind]} {kind} photos used this period. Upgrade your "
                    "plan to continue.", status=403)
        for kind, count in need.items():
            self.photos_used[kind] += count

    def _add(self, render: Render, config: dict[str, Any], count: int) -> list[Variation]:
        made = []
        for _ in range(count):
            variation = Variation(
                id=self._new_id("var"), render_id=render.id, config=config,
                created_mono=time.monotonic(), created_at=_now_ms(),
                fail_message=self.failures.pop(0) if self.failures else None)
            render.variations.append(variation)
            made.append(variation)
        return made

    def _eta_s(self) -> float:
        return self.job_delay if self.eta_s is None else self.eta_s

    def _status(self, v: Variation) -> str:
        elapsed = time.monotonic() - v.created_mono
        if elapsed >= self.job_delay:
            return "error" if v.fail_message else "done"
        return "processing" if elapsed >= self.job_delay / 2 else "queued"

    def _variation_json(self, v: Variation) -> dict[str, Any]:
        status = self._status(v)
        body: dict[str, Any] = {
            "id": v.id, "type": v.type, "render_id": v.render_id, "created_at": v.created_at,
            "status": status, "config": v.config,
            "eta": None if status in ("done", "error")
            else v.created_at + int(self._eta_s() * 1000),
        }
        if status == "done":
            if v.result is None:
                image = derive_image([self.renders[v.render_id].image], v.id)
                v.result = {"url": self.result_url(image, "image/png"),
                            "optimized_url": self.result_url(image, "image/png"),
                            "thumbnail_url": None}
            body["result"] = v.result
        if status == "error":
            body["error"] = {"message": v.fail_message}
        return body

    def _render_json(self, render: Render, *, include: bool = False, limit: int = 20,
                     cursor: str | None = None, order: str = "asc") -> dict[str, Any]:
        pending = [v.created_at + int(self._eta_s() * 1000) for v in render.variations
                   if self._status(v) not in ("done", "error")]
        body: dict[str, Any] = {"id": render.id, "created_at": render.created_at,
                                "queued_at": render.created_at,
                                "eta": min(pending) if pending else None}
        if include:
            body["variations"] = _page([self._variation_json(v) for v in render.variations],
                                       limit, cursor, order)
        return body

    def _render(self, render_id: str) -> Render:
        render = self.renders.get(render_id)
        if render is None:
            raise BadRequest("Render not found.", status=404)
        return render

    async def _create(self, body: dict[str, Any], where: str = "") -> Render:
        has_one, has_many = "config" in body, "configs" in body
        if has_one == has_many:
            raise BadRequest(f"{where}Provide either config or configs.")
        if has_one:
            pairs = [(self._config(body["config"], f"{where}config"),
                      self._count(body.get("variation_count"), f"{where}variation_count"))]
        else:
            configs = body["configs"]
            if not isinstance(configs, list) or not configs:
                raise BadRequest(f"{where}configs must be a non-empty list.")
            pairs = [(self._config(c, f"{where}configs[{i}]"),
                      self._count(c.get("variation_count") if isinstance(c, dict) else None,
                                  f"{where}configs[{i}].variation_count"))
                     for i, c in enumerate(configs)]
        webhook = body.get("webhook_url")
        if webhook is not None and not (isinstance(webhook, str) and webhook.startswith("http")):
            raise BadRequest(f"{where}webhook_url must be a URL.")
        image = await self._image(body.get("image_url"), f"{where}image_url")
        self._charge(pairs)
        render = Render(id=self._new_id("rnd"), created_at=_now_ms(), image=image,
                        webhook_url=webhook)
        self.renders[render.id] = render
        for config, count in pairs:
            self._add(render, {k: v for k, v in config.items() if k != "variation_count"},
                      count)
        return render

    async def _wait(self, body: dict[str, Any]) -> bool:
        if body.get("wait_for_completion"):
            await asyncio.sleep(self.job_delay)
            return True
        return False

    # -- routes ----------------------------------------------------------------------------------
    async def status(self, request: Request) -> Response:
        async def handler(_: Request) -> Response:
            return Response(status_code=200)
        return await self._guarded(request, handler)

    async def user(self, request: Request) -> Response:
        async def handler(_: Request) -> Response:
            return JSONResponse({"user": {"email": "agent@example.com", "uid": "uid_1"},
                                 "photoLimit": dict(self.photo_limit),
                                 "photosUsedThisPeriod": dict(self.photos_used)})
        return await self._guarded(request, handler)

    async def webhook_secret_route(self, request: Request) -> Response:
        async def handler(req: Request) -> Response:
            if req.method == "DELETE":
                self.webhook_secret = None
                return JSONResponse({"message": "Webhook secret removed successfully"})
            secret = (await self._json(req)).get("webhook_secret")
            if not isinstance(secret, str) or not SECRET.fullmatch(secret):
                raise BadRequest("webhook_secret must match ^[a-zA-Z0-9_-]+$.")
            self.webhook_secret = secret
            return JSONResponse({"message": "Webhook secret updated successfully"})
        return await self._guarded(request, handler)

    async def renders_route(self, request: Request) -> Response:
        async def handler(req: Request) -> Response:
            if req.method == "GET":
                q = req.query_params
                limit = _int_query(q.get("limit"), 20, "limit")
                order = q.get("order", "desc")
                if order not in ("asc", "desc"):
                    raise BadRequest("order must be asc or desc.")
                items = [self._render_json(r) for r in self.renders.values()]
                return JSONResponse(_page(items, limit, q.get("cursor"), order))
            body = await self._json(req)
            render = await self._create(body)
            done = await self._wait(body)
            return JSONResponse(self._render_json(render, include=done),
                                status_code=200 if done else 202)
        return await self._guarded(request, handler)

    async def get_render(self, request: Request) -> Response:
        async def handler(req: Request) -> Response:
            render = self._render(req.path_params["render_id"])
            q = req.query_params
            include = q.get("include_variations", "false").lower() == "true"
            order = q.get("variations_order", "asc")
            if order not in ("asc", "desc"):
                raise BadRequest("variations_order must be asc or desc.")
            limit = _int_query(q.get("variations_limit"), 20, "variations_limit")
            return JSONResponse(self._render_json(render, include=include, limit=limit,
                                                  cursor=q.get("variations_cursor"),
                                                  order=order))
        return await self._guarded(request, handler)

    async def get_variation(self, request: Request) -> Response:
        async def handler(req: Request) -> Response:
            render = self._render(req.path_params["render_id"])
            vid = req.path_params["variation_id"]
            found = next((v for v in render.variations if v.id == vid), None)
            if found is None:
                raise BadRequest("Variation not found.", status=404)
            return JSONResponse(self._variation_json(found))
        return await self._guarded(request, handler)

    async def add_variations(self, request: Request) -> Response:
        async def handler(req: Request) -> Response:
            render = self._render(req.path_params["render_id"])
            body = await self._json(req)
            config = self._config(body.get("config"), "config")
            count = self._count(body.get("variation_count"), "variation_count")
            self._charge([(config, count)])
            made = self._add(render, config, count)
            done = await self._wait(body)
            items = [self._variation_json(v) for v in made]
            return JSONResponse({"total_count": len(items), "next_cursor": None,
                                 "items": items}, status_code=200 if done else 202)
        return await self._guarded(request, handler)

    async def bulk_renders(self, request: Request) -> Response:
        async def handler(req: Request) -> Response:
            body = await self._json(req)
            items = body.get("renders")
            if not isinstance(items, list) or not items:
                raise BadRequest("renders must be a non-empty list.")
            made = []
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    raise BadRequest(f"renders[{i}] must be an object.")
                item.setdefault("webhook_url", body.get("webhook_url"))
                if item["webhook_url"] is None:
                    del item["webhook_url"]
                made.append(await self._create(item, f"renders[{i}]."))
            done = await self._wait(body)
            out = [self._render_json(r, include=True) for r in made]
            return JSONResponse({"total_count": len(out), "next_cursor": None, "items": out},
                                status_code=200 if done else 202)
        return await self._guarded(request, handler)

    async def bulk_variations(self, request: Request) -> Response:
        async def handler(req: Request) -> Response:
            body = await self._json(req)
            items = body.get("variations")
            if not isinstance(items, list) or not items:
                raise BadRequest("variations must be a non-empty list.")
            checked = []
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    raise BadRequest(f"variations[{i}] must be an object.")
                render = self._render(str(item.get("render_id")))
                config = self._config(item.get("config"), f"variations[{i}].config")
                count = self._count(item.get("variation_count"),
                                    f"variations[{i}].variation_count")
                checked.append((render, config, count))
            self._charge([(c, n) for _, c, n in checked])
            made = [v for r, c, n in checked for v in self._add(r, c, n)]
            done = await self._wait(body)
            out = [self._variation_json(v) for v in made]
            return JSONResponse({"total_count": len(out), "next_cursor": None, "items": out},
                                status_code=200 if done else 202)
        return await self._guarded(request, handler)

    async def analyze(self, request: Request) -> Response:
        async def handler(req: Request) -> Response:
            body = await self._json(req)
            image = await self._image(body.get("image_url"))
            aid = self._new_id("ana")
            mask, share = furniture_mask(image, self.mask_box)
            return JSONResponse({"id": aid, "created_at": _now_ms(),
                                 "result_url": self.result_url(mask, "image/png"),
                                 "percentage_masked": share, "status": "done"})
        return await self._guarded(request, handler)

    async def multi_view(self, request: Request) -> Response:
        async def handler(req: Request) -> Response:
            body = await self._json(req)
            urls = body.get("image_urls")
            if not isinstance(urls, list) or len(urls) != 2:
                raise BadRequest("image_urls must hold exactly two images.")
            first, second = [await self._image(u, "image_urls") for u in urls]
            from io import BytesIO

            from PIL import Image
            size_a = Image.open(BytesIO(first)).size
            size_b = Image.open(BytesIO(second)).size
            if size_a == size_b:
                return JSONResponse({"compatible": True, "hard_rejected": False,
                                     "rejection_reason": None})
            return JSONResponse({"compatible": False, "hard_rejected": True,
                                 "rejection_reason": "The images have different dimensions."})
        return await self._guarded(request, handler)


def furniture_mask(photo: bytes, box: tuple[float, float, float, float]) -> tuple[bytes, float]:
    """A real furniture mask of the photo's size, as the service draws one: white where the
    furniture is (`box`, fractions of the photo), black elsewhere; and the share it covers, in
    percent."""
    from io import BytesIO

    from PIL import Image, ImageDraw

    with Image.open(BytesIO(photo)) as img:
        width, height = img.size
    left, top = round(box[0] * width), round(box[1] * height)
    right, bottom = round(box[2] * width), round(box[3] * height)
    mask = Image.new("L", (width, height), 0)
    if right > left and bottom > top:
        ImageDraw.Draw(mask).rectangle((left, top, right - 1, bottom - 1), fill=255)
    buf = BytesIO()
    mask.save(buf, "PNG")
    covered = max(0, right - left) * max(0, bottom - top)
    return buf.getvalue(), round(100 * covered / (width * height), 1)


def _int_query(raw: str | None, default: int, name: str) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer.") from None
    if not 1 <= value <= 100:
        raise BadRequest(f"{name} must be between 1 and 100.")
    return value


def _page(items: list[dict[str, Any]], limit: int, cursor: str | None, order: str
          ) -> dict[str, Any]:
    """The documented list shape; `cursor` is the id to start after."""
    ordered = sorted(items, key=lambda i: (i["created_at"], i["id"]),
                     reverse=order == "desc")
    if cursor:
        ids = [i["id"] for i in ordered]
        if cursor not in ids:
            raise BadRequest("cursor does not name an item of this list.")
        ordered = ordered[ids.index(cursor) + 1:]
    page = ordered[:limit]
    more = len(ordered) > limit
    return {"total_count": len(items), "next_cursor": page[-1]["id"] if more else None,
            "items": page}
