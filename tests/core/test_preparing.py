"""The Preparer's handling of hostile sources: every source classified before any is read,
URL downloads bounded in time and size whatever the loader does, and a refused spec leaves no
read or download running."""

from __future__ import annotations

import asyncio
import functools
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from desktop.core.engine.preparing import Preparer
from desktop.core.limits import Limits
from desktop.core.model import InvalidInput, JobSpec
from desktop.providers.local import LocalProvider


async def to_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(buf, "PNG")
    return buf.getvalue()


def tryon(person: str, garment: str) -> JobSpec:
    return JobSpec(provider="local", task="tryon",
                   inputs={"person": [person], "garment": [garment]})


def test_a_refused_input_cancels_the_others() -> None:
    events: list[str] = []

    async def load(url: str) -> bytes:
        if "fails" in url:
            await asyncio.sleep(0.05)
            raise InvalidInput("Could not download the person: HTTP 404 Not Found.")
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            events.append("slow download cancelled")
            raise
        return png()

    async def body() -> None:
        preparer = Preparer(to_thread, load)
        with pytest.raises(InvalidInput, match="HTTP 404"):
            await preparer.prepare(LocalProvider(), tryon("https://x.test/fails.png",
                                                          "https://x.test/slow.png"))
        assert events == ["slow download cancelled"]  # before prepare() returned

    asyncio.run(body())


def test_sources_are_classified_before_anything_is_downloaded() -> None:
    calls: list[str] = []

    async def load(url: str) -> bytes:
        calls.append(url)
        return png()

    with pytest.raises(InvalidInput, match="is a ftp: address"):
        asyncio.run(Preparer(to_thread, load).prepare(
            LocalProvider(), tryon("https://x.test/ok.png", "ftp://x.test/shirt.png")))
    assert calls == []


def test_a_loader_without_limits_is_bounded_by_the_preparer() -> None:
    async def drip(url: str) -> bytes:
        await asyncio.sleep(30)
        return b""

    async def big(url: str) -> bytes:
        return b"\x00" * 2048

    limits = Limits(url_input_timeout_s=0.2, url_input_max_bytes=1000)
    with pytest.raises(InvalidInput) as info:
        asyncio.run(Preparer(to_thread, drip, limits).prepare_input(
            LocalProvider(), "image", "https://x.test/drip.png"))
    assert str(info.value).startswith(
        "Could not download https://x.test/drip.png: it took longer than 200 ms "
        "(limits.url_input_timeout_s in settings.json)")
    with pytest.raises(InvalidInput) as info:
        asyncio.run(Preparer(to_thread, big, limits).prepare_input(
            LocalProvider(), "image", "https://x.test/big.png"))
    assert str(info.value) == ("big.png is 2.0 KB, larger than the 1.0 KB Restyle downloads "
                               "for one image (limits.url_input_max_bytes in settings.json).")


def test_limits_come_from_the_argument_or_the_loader(tmp_path: Path) -> None:
    class Loader:
        limits = Limits(input_max_bytes=10)

        async def __call__(self, url: str) -> bytes:
            return b""

    assert Preparer(to_thread, Loader()).limits.input_max_bytes == 10
    assert Preparer(to_thread, Loader(), Limits(input_max_bytes=5)).limits.input_max_bytes == 5
    assert Preparer(to_thread, None).limits == Limits()
    photo = tmp_path / "p.png"
    photo.write_bytes(png())
    with pytest.raises(InvalidInput, match="larger than the 10 bytes"):
        asyncio.run(Preparer(to_thread, Loader()).prepare_input(
            LocalProvider(), "image", str(photo)))


def test_stored_paths_are_absolute_with_links_resolved(tmp_path: Path) -> None:
    photo = tmp_path / "p.png"
    photo.write_bytes(png())
    link = tmp_path / "link.png"
    link.symlink_to(photo)
    spec = JobSpec(provider="local", task="upscale", inputs={"image": [str(link)]})
    prepared = asyncio.run(Preparer(to_thread, None).prepare(LocalProvider(), spec))
    assert prepared.spec.inputs == {"image": [str(photo)]}
