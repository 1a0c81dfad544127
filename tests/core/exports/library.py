"""Real jobs for the export tests: images put in a real asset store and jobs saved in a real
History, as the engine leaves them."""

from __future__ import annotations

import io
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from desktop.core.assets import AssetStore
from desktop.core.exports.files import ExportSources
from desktop.core.model import Asset, ErrorCode, Job, JobError, JobSpec, JobState, Output
from desktop.core.store import History


def photo_image(size: tuple[int, int] = (320, 240), seed: int = 1) -> Image.Image:
    """A photo-like picture: smooth gradients with some noise (so lossy formats show
    quality)."""
    width, height = size
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    base = rng.uniform(40, 200, (1, 1, 3)).astype(np.float32)
    pixels = base + 60 * np.sin(6 * x + seed) + 50 * np.cos(5 * y + 2 * seed)
    pixels += rng.standard_normal((height, width, 3), dtype=np.float32) * 12
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def photo(size: tuple[int, int] = (320, 240), seed: int = 1, fmt: str = "PNG",
          quality: int = 95) -> bytes:
    """`photo_image` encoded."""
    img = photo_image(size, seed)
    buf = io.BytesIO()
    img.save(buf, fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return buf.getvalue()


def solid(color: tuple[int, int, int], size: tuple[int, int], fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt)
    return buf.getvalue()


def decode(data_or_path: bytes | Path) -> Image.Image:
    data = data_or_path.read_bytes() if isinstance(data_or_path, Path) else data_or_path
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


_MIMES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


@dataclass
class Library:
    """A History and an AssetStore in a folder, and a counter for job ids and times."""

    root: Path

    def __post_init__(self) -> None:
        self.history = History(self.root / "history.sqlite3")
        self.assets = AssetStore(self.root / "assets")
        self._count = 0

    def put(self, data: bytes) -> Asset:
        img = decode(data)
        return self.assets.put(data, _MIMES[str(img.format)], width=img.width,
                               height=img.height)

    def job(self, *, provider: str = "fake", task: str = "room_staging",
            inputs: dict[str, Sequence[tuple[str, bytes]]] | None = None,
            outputs: Sequence[bytes | tuple[bytes, str]] = (),
            state: JobState = JobState.SUCCEEDED, job_id: str | None = None,
            created_at: float | None = None, error: str | None = None) -> Job:
        """A stored job: `inputs` role -> [(the name the user gave, bytes)], `outputs` bytes
        or (bytes, label)."""
        self._count += 1
        stored: list[Asset] = []
        spec_inputs: dict[str, list[str]] = {}
        job_inputs: dict[str, list[str]] = {}
        for role, items in (inputs or {}).items():
            for given, data in items:
                asset = self.put(data)
                stored.append(asset)
                spec_inputs.setdefault(role, []).append(given)
                job_inputs.setdefault(role, []).append(asset.sha256)
        outs: list[Output] = []
        for position, item in enumerate(outputs):
            data, label = item if isinstance(item, tuple) else (item, "")
            asset = self.put(data)
            stored.append(asset)
            outs.append(Output(position, asset.sha256, asset.mime, asset.size, asset.width,
                               asset.height, label=label))
        when = created_at if created_at is not None else time.time() - 1000 + self._count
        job = Job(job_id or f"{self._count:04d}" + "ab" * 14, JobSpec(provider, task, spec_inputs),
                  state, when, when, finished_at=when + 5, inputs=job_inputs,
                  outputs=tuple(outs),
                  error=JobError(ErrorCode.JOB_FAILED, error) if error else None)
        self.history.save_job(job, assets=stored)
        saved = self.history.get(job.id)
        assert saved is not None
        return saved

    def sources(self, **facts: object) -> ExportSources:
        return ExportSources(self.assets, self.history.asset, **facts)  # type: ignore[arg-type]
