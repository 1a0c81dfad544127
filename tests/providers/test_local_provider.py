"""The offline provider through its async contract: submit -> poll -> fetch, errors, specs."""

from __future__ import annotations

import asyncio
import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from desktop.core import imaging
from desktop.core.assets import AssetStore
from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.engine.collecting import verify_and_store
from desktop.core.limits import Limits
from desktop.core.model import ErrorCode, InvalidInput, JobSpec, JobState, ParamType
from desktop.core.store import History
from desktop.providers.base import (
    PreparedInput,
    PreparedJob,
    ProviderError,
    RemoteOutput,
    RemoteRef,
    RemoteState,
)
from desktop.providers.local import TASKS, LocalProvider, ops
from tests.refusals import refused_before_storing


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def prepared(role: str, img: Image.Image, name: str = "input.png") -> PreparedInput:
    data = png(img)
    return PreparedInput(role=role, data=data, mime="image/png", width=img.width,
                         height=img.height, sha256=hashlib.sha256(data).hexdigest(),
                         filename=name)


def disc() -> Image.Image:
    img = Image.new("RGB", (120, 90), (240, 240, 240))
    ImageDraw.Draw(img).ellipse((30, 15, 90, 75), fill=(200, 30, 40))
    return img


def job(task: str, params: dict[str, Any], **inputs: Image.Image) -> PreparedJob:
    return PreparedJob(job_id="job-1", task=task,
                       inputs={role: [prepared(role, img)] for role, img in inputs.items()},
                       params=params)


async def run_job(provider: LocalProvider, pjob: PreparedJob) -> tuple[RemoteRef, Image.Image]:
    ref = await provider.submit(pjob)
    status = await provider.poll(ref)
    assert status.state == RemoteState.SUCCEEDED and status.state.terminal
    assert len(status.outputs) == 1 and status.outputs[0].mime == "image/png"
    data = await provider.fetch(status.outputs[0])
    assert imaging.sniff_mime(data) == "image/png"
    img = Image.open(io.BytesIO(data))
    img.load()
    return ref, img


def test_provider_describes_itself_as_data() -> None:
    provider = LocalProvider()
    assert provider.id == "local" and provider.title == "Local (offline)"
    assert not provider.needs_key and not provider.needs_base_url
    assert provider.supports_cancel and provider.resubmit_safe
    assert provider.poll_interval == 0.05
    assert provider.limits.max_side == 4096 and provider.limits.min_side == 16
    assert provider.limits.max_bytes == 50 * 1024 * 1024
    assert provider.limits.formats == ("image/png", "image/jpeg")
    assert [t.id for t in provider.tasks] == [
        "background_removal", "recolor", "upscale", "reframe", "tryon"]
    assert provider.tasks is TASKS
    tryon = provider.task("tryon")
    assert tryon is not None and tryon.note == "Local preview (no AI)"
    assert [(r.role, r.min_count, r.max_count) for r in tryon.inputs] == [
        ("person", 1, 1), ("garment", 1, 1)]
    for task in provider.tasks:
        assert task.title
        for param in task.params:
            assert param.title and param.help, (task.id, param.name)
    recolor = provider.task("recolor")
    assert recolor is not None
    color = recolor.param("color")
    assert color is not None and color.required and color.type == ParamType.COLOR


def test_defaults_are_filled_in() -> None:
    provider = LocalProvider()
    spec = provider.task("background_removal")
    assert spec is not None
    assert spec.validate({"image": ["x"]}, {}) == {"tolerance": 40.0, "feather": 2.0}
    reframe = provider.task("reframe")
    assert reframe is not None
    assert reframe.validate({"image": ["x"]}, {}) == {"ratio": "1:1", "fill": "blur"}
    upscale = provider.task("upscale")
    assert upscale is not None
    assert upscale.validate({"image": ["x"]}, {"factor": "4"}) == {"factor": 4}


@pytest.mark.parametrize(("task", "params", "message"), [
    ("upscale", {"factor": 3}, "must be one of: 2, 4"),
    ("recolor", {"color": "blurple"}, "not a hex colour"),
    ("recolor", {}, "needs the parameter 'color'"),
    ("recolor", {"color": "red", "seed": "1,2,3"}, "point"),
    ("background_removal", {"tolerance": 300}, "at most 255"),
    ("background_removal", {"feather": -1}, "at least 0"),
    ("reframe", {"ratio": "5:7"}, "must be one of"),
    ("reframe", {"fill": "stretch"}, "must be one of"),
    ("tryon", {"scale": 2}, "at most 1.5"),
    ("tryon", {"shadow": "maybe"}, "true or false"),
])
def test_validate_rejects_bad_params(task: str, params: dict[str, Any], message: str) -> None:
    spec = LocalProvider().task(task)
    assert spec is not None
    roles = {r.role: ["x"] for r in spec.inputs}
    with pytest.raises(InvalidInput, match=message):
        spec.validate(roles, params)


def test_validate_rejects_missing_inputs() -> None:
    spec = LocalProvider().task("tryon")
    assert spec is not None
    with pytest.raises(InvalidInput, match="needs 1 garment image"):
        spec.validate({"person": ["p"]}, {})


def test_background_removal_end_to_end() -> None:
    provider = LocalProvider()

    async def main() -> tuple[RemoteRef, Image.Image]:
        return await run_job(provider, job("background_removal", {}, image=disc()))

    ref, out = asyncio.run(main())
    assert ref.remote_id.startswith("local-") and len(ref.remote_id) == len("local-") + 32
    assert out.mode == "RGBA" and out.size == (120, 90)
    assert out.getpixel((0, 0))[3] == 0 and out.getpixel((60, 45)) == (200, 30, 40, 255)


def test_each_task_runs_through_the_provider() -> None:
    provider = LocalProvider()
    person = Image.new("RGB", (200, 400), (235, 235, 235))
    draw = ImageDraw.Draw(person)
    draw.ellipse((80, 20, 120, 70), fill=(190, 150, 120))
    draw.rectangle((50, 80, 150, 240), fill=(190, 150, 120))
    garment = Image.new("RGB", (100, 100), (250, 250, 250))
    ImageDraw.Draw(garment).rectangle((20, 20, 80, 90), fill=(20, 90, 200))

    async def main() -> dict[str, Image.Image]:
        results = {}
        for name, pjob in {
            "recolor": job("recolor", {"color": "#0000ff", "seed": [0.5, 0.5]}, image=disc()),
            "upscale": job("upscale", {"factor": 2}, image=disc()),
            "reframe": job("reframe", {"ratio": "9:16", "fill": "mirror"}, image=disc()),
            "tryon": job("tryon", {"scale": 1.0}, person=person, garment=garment),
        }.items():
            results[name] = (await run_job(provider, pjob))[1]
        return results

    results = asyncio.run(main())
    assert results["recolor"].getpixel((60, 45)) == (0, 0, 255)
    assert results["recolor"].getpixel((2, 2)) == (240, 240, 240)
    assert results["upscale"].size == (240, 180)
    assert results["reframe"].size == (126, 224)
    tryon = np.asarray(results["tryon"].convert("RGB")).astype(int)
    assert results["tryon"].size == (200, 400)
    assert ((tryon[100:200, 60:140, 2] > 150) & (tryon[100:200, 60:140, 0] < 60)).mean() > 0.8


def test_poll_after_fetch_and_unknown_ids_are_not_found() -> None:
    provider = LocalProvider()

    async def main() -> None:
        ref = await provider.submit(job("upscale", {}, image=disc()))
        first = await provider.poll(ref)
        again = await provider.poll(ref)  # polling is repeatable until the result is fetched
        assert again.outputs[0].data == first.outputs[0].data
        await provider.fetch(first.outputs[0])
        with pytest.raises(ProviderError) as err:
            await provider.poll(ref)  # fetched results are not kept in memory
        assert err.value.code == ErrorCode.NOT_FOUND
        with pytest.raises(ProviderError) as err:
            await provider.poll(RemoteRef("local-" + "0" * 32))
        assert err.value.code == ErrorCode.NOT_FOUND
        assert err.value.message == (
            "This offline job was interrupted when Restyle closed; its inputs are kept, "
            "run it again."
        )
        with pytest.raises(ProviderError) as err:
            await provider.fetch(RemoteOutput(extra={"remote_id": "local-gone"}))
        assert err.value.code == ErrorCode.RESULT_UNAVAILABLE

    asyncio.run(main())


def test_cancel_forgets_the_result() -> None:
    provider = LocalProvider()

    async def main() -> None:
        ref = await provider.submit(job("reframe", {"ratio": "16:9"}, image=disc()))
        await provider.cancel(ref)
        with pytest.raises(ProviderError) as err:
            await provider.poll(ref)
        assert err.value.code == ErrorCode.NOT_FOUND

    asyncio.run(main())


def test_user_errors_surface_as_invalid_input() -> None:
    provider = LocalProvider()
    huge = Image.new("RGB", (4100, 20), (1, 2, 3))

    async def submit(pjob: PreparedJob) -> RemoteRef:
        return await provider.submit(pjob)

    with pytest.raises(InvalidInput, match="crop the image first"):
        asyncio.run(submit(job("upscale", {"factor": 4}, image=huge)))
    with pytest.raises(InvalidInput, match="outside the 120x90 image"):
        asyncio.run(submit(job("recolor", {"color": "red", "seed": "500,500"}, image=disc())))
    with pytest.raises(InvalidInput, match="must be one of"):
        asyncio.run(submit(job("upscale", {"factor": 3}, image=disc())))
    broken = PreparedInput(role="image", data=b"not an image", mime="image/png", width=1,
                           height=1, sha256="0" * 64, filename="broken.png")
    with pytest.raises(InvalidInput, match=r"^broken\.png is not an image"):
        asyncio.run(submit(PreparedJob("j", "upscale", {"image": [broken]}, {})))
    with pytest.raises(ProviderError) as err:
        asyncio.run(submit(job("staging", {}, image=disc())))
    assert err.value.code == ErrorCode.INVALID_INPUT


def test_tryon_result_carries_the_note() -> None:
    provider = LocalProvider()
    person = Image.new("RGB", (100, 200), (200, 200, 200))
    garment = Image.new("RGB", (60, 60), (255, 255, 255))
    ImageDraw.Draw(garment).rectangle((10, 10, 50, 50), fill=(0, 0, 0))

    async def main() -> str:
        ref = await provider.submit(job("tryon", {}, person=person, garment=garment))
        return (await provider.poll(ref)).message

    assert asyncio.run(main()) == "Local preview (no AI)"


def test_a_4x_upscale_over_64_megapixels_passes_result_verification(tmp_path: Path) -> None:
    # 2050 x 2050 x 4 = 8200 x 8200 (67 MP): refused by the old 64 MP check after the work was
    # done. The local upscaler allows up to ops.MAX_UPSCALE_PIXELS (100 MP), so the default
    # result limit must cover that.
    assert Limits().result_max_pixels >= ops.MAX_UPSCALE_PIXELS
    provider = LocalProvider()

    async def main() -> bytes:
        ref = await provider.submit(job("upscale", {"factor": 4},
                                        image=Image.new("RGB", (2050, 2050), (10, 120, 200))))
        status = await provider.poll(ref)
        return await provider.fetch(status.outputs[0])

    data = asyncio.run(main())
    _asset, output = verify_and_store(AssetStore(tmp_path), provider.title, 0,
                                      RemoteOutput(data=data, mime="image/png"), data)
    assert (output.width, output.height, output.mime) == (8200, 8200, "image/png")


# -- every parameter checked before a job row is written ---------------------------------------
class CountingLocal(LocalProvider):
    """The offline provider, counting the jobs it is asked to run."""

    def __init__(self) -> None:
        super().__init__()
        self.submits = 0

    async def submit(self, job: PreparedJob) -> RemoteRef:
        self.submits += 1
        return await super().submit(job)


def _transparent_centre() -> Image.Image:
    img = Image.new("RGBA", (100, 80), (0, 0, 0, 0))
    ImageDraw.Draw(img).rectangle((5, 5, 30, 30), fill=(0, 200, 0, 255))
    return img


@pytest.mark.parametrize(("task", "picture", "params", "needle"), [
    ("recolor", "disc", {"color": "blue", "seed": "500,10"},
     "The seed point (500, 10) is outside the 120x90 image"),
    ("recolor", "disc", {"color": "blue", "seed": "0.5,90"},
     "The seed point (0.5, 90) is outside the 120x90 image"),
    ("recolor", "disc", {"color": "blue", "seed": "5,5", "source_color": "#c81e28"},
     "The seed point (5, 5) is not within tolerance 40 of the source colour #c81e28"),
    ("recolor", "disc", {"color": "blue", "source_color": "lime"},
     "No pixels within tolerance 40 of lime were found"),
    ("recolor", "clear", {"color": "blue"},
     "The point (50, 40) is on a fully transparent pixel"),
    ("recolor", "clear", {"color": "blue", "seed": "90,70"},
     "The point (90, 70) is on a fully transparent pixel"),
    ("upscale", "large", {"factor": 4},
     "Upscaling 2600x2600 by 4x would make a 10400x10400 image"),
], ids=["seed_outside", "seed_outside_mixed", "seed_not_source", "source_nowhere",
        "centre_transparent", "seed_transparent", "upscale_too_large"])
def test_bad_parameters_are_refused_before_a_job_is_stored(
        tmp_path: Path, task: str, picture: str, params: dict[str, Any], needle: str) -> None:
    pictures = {"disc": disc, "clear": _transparent_centre,
                "large": lambda: Image.new("RGB", (2600, 2600), (10, 120, 200))}
    path = tmp_path / f"{picture}.png"
    path.write_bytes(png(pictures[picture]()))
    provider = CountingLocal()
    spec = JobSpec("local", task, {"image": [str(path)]}, params)
    message = refused_before_storing(tmp_path, provider, spec)
    assert needle in message, message
    assert provider.submits == 0


def test_points_and_colours_that_fit_the_image_still_run(tmp_path: Path) -> None:
    path = tmp_path / "disc.png"
    path.write_bytes(png(disc()))
    clear = tmp_path / "clear.png"
    clear.write_bytes(png(_transparent_centre()))
    specs = [
        JobSpec("local", "recolor", {"image": [str(path)]},
                {"color": "blue", "seed": "60,45", "source_color": "#c81e28"}),
        JobSpec("local", "recolor", {"image": [str(path)]},
                {"color": "blue", "source_color": "#c81e28"}),
        JobSpec("local", "recolor", {"image": [str(clear)]}, {"color": "blue", "seed": "10,10"}),
        JobSpec("local", "upscale", {"image": [str(path)]}, {"factor": 4}),
    ]
    history = History(tmp_path / "history.sqlite3")

    async def main() -> list[JobState]:
        engine = JobEngine(history, AssetStore(tmp_path / "assets"), lambda _p: LocalProvider(),
                           policy=EnginePolicy(jitter=0.0))
        try:
            return [(await engine.run(spec)).state for spec in specs]
        finally:
            await engine.aclose()

    assert asyncio.run(main()) == [JobState.SUCCEEDED] * 4
