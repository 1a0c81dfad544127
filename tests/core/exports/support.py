"""A real history for the export tests: jobs run by the offline provider through the engine
(real inputs and outputs in a real asset store), with reviews and votes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from desktop.core.assets import AssetStore
from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.model import ErrorCode, Job, JobError, JobSpec, JobState
from desktop.core.reviews import Review, Verdict
from desktop.core.store import History
from desktop.core.store.reviews import ReviewStore
from desktop.providers.base import Provider
from desktop.providers.local import LocalProvider
from tests.fakes import FakeBackend, FakeProvider


@dataclass
class Place:
    """One machine's Restyle data: its history, asset store and reviews."""

    root: Path
    history: History
    assets: AssetStore
    reviews: ReviewStore

    @classmethod
    def at(cls, root: Path, history_target: Path | str | None = None) -> Place:
        """The machine's data under `root`; its history there too, or at `history_target`
        (a PostgreSQL URL: a team's machine)."""
        history = History(history_target or root / "history.sqlite3")
        return cls(root, history, AssetStore(root / "assets"), ReviewStore(history))

    def close(self) -> None:
        self.history.close()

    def asset_files(self) -> list[Path]:
        base = self.root / "assets"
        return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []


def person(path: Path, shirt: tuple[int, int, int]) -> Path:
    """A plain figure on a light background (the offline try-on finds its torso)."""
    img = Image.new("RGB", (240, 320), (236, 236, 232))
    draw = ImageDraw.Draw(img)
    draw.ellipse((95, 30, 145, 80), fill=(205, 160, 130))
    draw.rectangle((80, 85, 160, 230), fill=shirt)
    draw.rectangle((90, 230, 150, 310), fill=(50, 50, 80))
    img.save(path)
    return path


def garment(path: Path, colour: tuple[int, int, int]) -> Path:
    img = Image.new("RGB", (200, 200), (255, 255, 255))
    ImageDraw.Draw(img).polygon([(40, 30), (160, 30), (180, 80), (150, 90), (150, 180),
                                 (50, 180), (50, 90), (20, 80)], fill=colour)
    img.save(path)
    return path


def providers(provider_id: str) -> Provider:
    """The offline provider, and the scripted fake (which bills 1 credit a job)."""
    return FakeProvider(FakeBackend()) if provider_id == "fake" else LocalProvider()


def run_specs(place: Place, specs: list[JobSpec]) -> list[Job]:
    async def main() -> list[Job]:
        engine = JobEngine(place.history, place.assets, providers,
                           policy=EnginePolicy(jitter=0.0))
        try:
            return [await engine.run(spec) for spec in specs]
        finally:
            await engine.aclose()

    jobs = asyncio.run(main())
    assert [j.state for j in jobs] == [JobState.SUCCEEDED] * len(specs)
    return jobs


@dataclass
class Sample:
    place: Place
    tryons: list[Job]  # ana in the red dress, ana in the green top, ben in the red dress
    upscale: Job
    echo: Job  # by the fake provider, which bills 1 credit
    linked: Job  # failed; its input was given as a signed URL with credentials
    failed_tryon: Job  # a try-on that ended without a result

    @property
    def jobs(self) -> list[Job]:
        return [*self.tryons, self.upscale, self.echo, self.linked, self.failed_tryon]


#: A note and a reviewer name a spreadsheet would run as formulas.
FORMULA_NOTE = '=HYPERLINK("http://evil.example/x","click")'
FORMULA_REVIEWER = "@ops"


def sample(tmp: Path) -> Sample:
    """Try-ons of two people, an upscale, a job of another provider, a failed job whose
    input was a signed URL, a try-on without a result; reviews by three people and votes."""
    src = tmp / "sources"
    src.mkdir(parents=True, exist_ok=True)
    ana = person(src / "ana.png", (40, 90, 160))
    ben = person(src / "ben.png", (150, 60, 50))
    red = garment(src / "red dress.png", (200, 30, 40))
    green = garment(src / "green-top.png", (30, 150, 60))
    place = Place.at(tmp / "machine-a")
    tryons = run_specs(place, [
        JobSpec("local", "tryon", {"person": [str(ana)], "garment": [str(red)]}),
        JobSpec("local", "tryon", {"person": [str(ana)], "garment": [str(green)]},
                {"scale": 1.2}),
        JobSpec("local", "tryon", {"person": [str(ben)], "garment": [str(red)]}),
    ])
    upscale, echo = run_specs(place, [
        JobSpec("local", "upscale", {"image": [str(ana)]}, {"factor": 2}),
        JobSpec("fake", "echo", {"image": [str(ben)]}, {"strength": 0.7}),
    ])
    # Stored as a tool could store them (the engine masks URLs before it stores a job).
    linked = upscale.evolve(
        id="linked0000000000000000000000000", state=JobState.FAILED, outputs=(),
        created_at=upscale.created_at + 1, remote_id="https://api.example/jobs/7?token=s3cret",
        spec=JobSpec("local", "upscale",
                     {"image": ["https://ana:pw@cdn.example/a/photo.jpg?sig=abc123&w=1"]},
                     {"factor": 2}),
        remote_data={"status_url": "https://api.example/jobs/7?X-Amz-Signature=zzz",
                     "api_key": "k-123456"},
        error=JobError(ErrorCode.JOB_FAILED, "Upstream said no (see https://status.example)"))
    place.history.save_job(linked)
    failed_tryon = tryons[2].evolve(id="failedtryon00000000000000000000", outputs=(),
                                    state=JobState.FAILED, created_at=tryons[2].created_at + 1,
                                    error=JobError(ErrorCode.JOB_FAILED, "No garment found."))
    place.history.save_job(failed_tryon)
    store = place.reviews
    store.save(Review(tryons[0].id, 0, "ana", Verdict.PASS, 5, ("artifacts",), "crisp"))
    store.save(Review(tryons[0].id, 0, "ben", Verdict.FAIL, 2, ("pose changed",), "stiff"))
    store.save(Review(tryons[1].id, 0, "ana", Verdict.FAIL, 1, (), "<script>alert(1)</script>"))
    store.save(Review(tryons[2].id, 0, FORMULA_REVIEWER, Verdict.PASS, None, ("-cropped",),
                      FORMULA_NOTE))
    store.vote((tryons[0].id, 0), (echo.id, 0), "left", "ana")
    store.vote((tryons[1].id, 0), (echo.id, 0), "right", "ben")
    store.vote((tryons[0].id, 0), (tryons[1].id, 0), "tie", "ana")
    return Sample(place, tryons, upscale, echo, linked, failed_tryon)
