"""The emulator kit itself: recording, faults over real sockets, expiring results, images."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import httpx
import pytest
from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.emulators.kit import ERROR_PAGE, Emulator, Fault, derive_image, serve, serve_ports
from tests.fakes import png_bytes


class Echo(Emulator):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.created: list[int] = []

    def routes(self) -> list[Route]:
        return [Route("/echo", self.echo, methods=["POST", "GET"])]

    async def echo(self, request: Request) -> JSONResponse:
        body = await request.body()
        if request.method == "POST":
            self.created.append(len(body))  # what a paid job would be
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


def test_faults_after_the_service_acted() -> None:
    """`after`: the POST is handled (the job exists) and only then is the answer replaced,
    cut or delayed; without it the service never sees the request."""
    emu = Echo()
    emu.inject(Fault("status", method="POST", path="/echo", status=500, after=True),
               Fault("drop", method="POST", path="/echo", after=True),
               Fault("malformed_json", method="POST", path="/echo", after=True),
               Fault("status", method="POST", path="/echo", status=500),
               Fault("slow", method="POST", path="/echo", delay=0.3, after=True))
    with serve(emu) as base, httpx.Client(base_url=base) as client:
        assert client.post("/echo", content=b"a").status_code == 500
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/echo", content=b"bb")
        broken = client.post("/echo", content=b"ccc")
        assert broken.status_code == 200
        with pytest.raises(ValueError):
            broken.json()
        assert client.post("/echo", content=b"dddd").status_code == 500
        assert emu.created == [1, 2, 3]  # the plain 500 never reached the service
        started = time.monotonic()
        late = client.post("/echo", content=b"eeeee")
        assert late.json()["size"] == 5 and time.monotonic() - started >= 0.3
    assert emu.created == [1, 2, 3, 5]


def test_page_and_short_bodies_look_fine_to_http() -> None:
    """`page`: a 200 HTML page; `short`: half the body with a Content-Length that matches, so
    only a check of the file itself can tell."""
    emu = Echo()
    with serve(emu) as base, httpx.Client(base_url=base) as client:
        url = client.get("/echo").json()["url"]
        emu.inject(Fault("page", path="/results/"), Fault("short", path="/results/"))
        page = client.get(url)
        assert page.status_code == 200 and page.content == ERROR_PAGE
        assert page.headers["content-type"].startswith("text/html")
        cut = client.get(url)
        whole = png_bytes()
        assert cut.status_code == 200 and cut.content == whole[: len(whole) // 2]
        assert cut.headers["content-length"] == str(len(whole) // 2)
        assert client.get(url).content == whole


def test_links_live_again_when_the_ttl_is_raised_but_not_after_expire_all() -> None:
    emu = Echo(url_ttl=0.0)
    with serve(emu) as base, httpx.Client(base_url=base) as client:
        url = client.get("/echo").json()["url"]
        assert client.get(url).status_code == 403
        emu.results.ttl = 60.0
        assert client.get(url).status_code == 200
        emu.results.expire_all()
        assert client.get(url).status_code == 403


def test_ports_times_and_requests_in_flight() -> None:
    """One emulator on several ports: each request says which port it came to and when it
    arrived; wait_idle returns once a slow answer has been given."""
    emu = Echo()
    emu.inject(Fault("slow", method="POST", path="/echo", delay=0.4))
    with serve_ports(emu, 2) as (first, second):
        assert emu.public_url == first and first != second
        emu.inject(Fault("status", method="GET", status=418, host=second.removeprefix("http://")))
        with httpx.Client() as client:
            assert client.get(f"{first}/echo").status_code == 200  # not this port's fault
            assert client.get(f"{second}/echo").status_code == 418
            sender = threading.Thread(target=client.post, args=(f"{second}/echo",),
                                      kwargs={"content": b"x"})
            sender.start()
            deadline = time.monotonic() + 5
            while emu.in_flight == 0 and time.monotonic() < deadline:
                time.sleep(0.005)
            assert emu.in_flight == 1 and emu.created == []
            emu.wait_idle()
            assert emu.in_flight == 0 and emu.created == [1]
            sender.join()
    hosts = [r.host for r in emu.requests]
    assert hosts == [first.removeprefix("http://"), *[second.removeprefix("http://")] * 2]
    times = [r.at for r in emu.requests]
    assert times == sorted(times) and times[0] > 0
