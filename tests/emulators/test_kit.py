"""The emulator kit itself: recording, faults over real sockets, expiring results, images."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.emulators.kit import Emulator, Fault, derive_image, serve
from tests.fakes import png_bytes


class Echo(Emulator):
    def routes(self) -> list[Route]:
        return [Route("/echo", self.echo, methods=["POST", "GET"])]

    async def echo(self, request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse({"size": len(body), "url": self.result_url(png_bytes(), "image/png")})


def test_requests_are_recorded_and_faults_scripted() -> None:
    emu = Echo(url_ttl=60)
    emu.inject(Fault("status", method="POST", path="/echo", status=429,
                     body={"message": "slow down"}, headers={"Retry-After": "3"}),
               Fault("html", path="/echo"), Fault("malformed_json", path="/echo"))
    with serve(emu) as base, httpx.Client(base_url=base) as client:
        first = client.post("/echo", content=b"abc", headers={"X-API-KEY": "k1"})
        assert first.status_code == 429 and first.headers["retry-after"] == "3"
        assert first.json() == {"message": "slow down"}
        second = client.get("/echo")
        assert second.status_code == 502 and "Bad Gateway" in second.text
        third = client.get("/echo")
        assert third.status_code == 200
        with pytest.raises(ValueError):
            third.json()
        ok = client.post("/echo?x=1", content=b"hello")
        assert ok.json()["size"] == 5
    assert [r.method for r in emu.requests] == ["POST", "GET", "GET", "POST"]
    assert emu.requests[0].headers["x-api-key"] == "k1" and emu.requests[0].body == b"abc"
    assert emu.requests[3].query == {"x": "1"}
    assert emu.faults == []


def test_drop_slow_and_truncate_over_real_sockets() -> None:
    emu = Echo()
    emu.inject(Fault("drop", path="/echo"), Fault("slow", path="/echo", delay=1.0),
               Fault("truncate", path="/results"))
    with serve(emu) as base, httpx.Client(base_url=base) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/echo", content=b"x")
        with pytest.raises(httpx.ReadTimeout):
            client.get("/echo", timeout=httpx.Timeout(5, read=0.2))
        url = client.get("/echo").json()["url"]
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(url)
        assert client.get(url).content == png_bytes()  # the fault fired once


def test_result_urls_expire() -> None:
    emu = Echo(url_ttl=60)
    with serve(emu) as base, httpx.Client(base_url=base) as client:
        url = client.get("/echo").json()["url"]
        assert url.startswith(base)
        assert client.get(url).status_code == 200
        emu.results.expire_all()
        gone = client.get(url)
        assert gone.status_code == 403 and b"expired" in gone.content


def test_derived_images_are_real_and_differ_per_label() -> None:
    person = png_bytes((200, 150, 120), (120, 160))
    garment = png_bytes((20, 160, 60), (80, 80))
    a = derive_image([person, garment], "job-a")
    b = derive_image([person, garment], "job-b")
    assert a != b
    img = Image.open(io.BytesIO(a))
    assert img.size == (120, 160) and img.format == "PNG"
    centre = img.convert("RGB").getpixel((60, 80))
    assert centre[1] > centre[0]  # the green garment is over the middle
