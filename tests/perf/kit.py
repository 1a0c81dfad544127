"""What the benchmarks share: the row every benchmark returns, photo-like pictures and filled
histories built once and cached in a temporary folder, percentiles and memory readings.

Cached files live in `$TMPDIR/restyle-perf-cache/` and are keyed by their parameters (and, for
histories, by the source of the store package, so a schema change builds them afresh).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import struct
import tempfile
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Row:
    """One figure of the table.

    `ratio` is measured / baseline (both in `unit`). `goal_ratio` is the largest ratio that
    meets the goal (None: the goal is not a ratio); `goal_max` and `goal_min` are absolute
    limits on `measured`. `--check` looks at `goal_ratio` only: wall times on a shared machine
    are too noisy to block anything, a ratio to a baseline measured in the same run is not.
    """

    figure: str
    goal: str
    goal_ratio: float | None
    measured: float
    baseline: float | None
    unit: str
    goal_max: float | None = None
    goal_min: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline <= 0:
            return None
        return self.measured / self.baseline

    def ratio_met(self) -> bool | None:
        """True/False when the row has a ratio goal it can be judged on, else None."""
        if self.goal_ratio is None:
            return None
        ratio = self.ratio
        if ratio is None:
            return False  # a goal that cannot be judged is not met
        return ratio <= self.goal_ratio

    def verdict(self) -> str:
        """"met", "not met", or "-" for a row without a goal."""
        checks: list[bool] = []
        met = self.ratio_met()
        if met is not None:
            checks.append(met)
        if self.goal_max is not None:
            checks.append(self.measured <= self.goal_max)
        if self.goal_min is not None:
            checks.append(self.measured >= self.goal_min)
        if not checks:
            return "-"
        return "met" if all(checks) else "not met"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "verdict": self.verdict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Row:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


# ------------------------------------------------------------------ numbers


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(np.ceil(q / 100 * len(ordered))) - 1))
    return ordered[rank]


def rss_mb(pid: int | None = None) -> float:
    """Resident set size of a process (this one by default), in MB."""
    with open(f"/proc/{pid or os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def hwm_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


# ------------------------------------------------------------------ cached inputs


def cache_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / "restyle-perf-cache"
    folder.mkdir(exist_ok=True)
    return folder


def photo_like(width: int, height: int, seed: int = 1) -> Image.Image:
    """Smooth noise over gradients with fine grain: no flat areas, detail at every scale, so
    it compresses (PNG, JPEG) and decodes like a photo rather than like a flat colour."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (height // 40 + 2, width // 40 + 2, 3),
                                          dtype=np.uint8), "RGB")
    smooth = np.asarray(coarse.resize((width, height), Image.Resampling.BICUBIC), np.uint8)
    ramp = np.linspace(0, 90, width, dtype=np.uint8)[None, :, None]
    grain = rng.integers(0, 24, (height, width, 1), dtype=np.uint8)
    return Image.fromarray(smooth // 2 + ramp + grain, "RGB")


def noisy(width: int, height: int, seed: int = 2) -> Image.Image:
    """Sensor noise over a photo: JPEG can hardly compress it (a high-ISO shot)."""
    base = np.asarray(photo_like(width, height, seed), np.int16)
    rng = np.random.default_rng(seed)
    grain = rng.integers(-40, 41, base.shape, dtype=np.int16)
    return Image.fromarray(np.clip(base + grain, 0, 255).astype(np.uint8), "RGB")


def cached_image(name: str, width: int, height: int, fmt: str, *, kind: str = "photo",
                 **options: Any) -> Path:
    """A photo-like (or noisy) picture encoded once and kept in the cache folder."""
    tag = "-".join(f"{k}{v}" for k, v in sorted(options.items()))
    path = cache_dir() / f"{name}-{kind}-{width}x{height}-{tag}.{fmt.lower()}"
    if not path.exists():
        image = photo_like(width, height) if kind == "photo" else noisy(width, height)
        partial = path.with_suffix(".part")
        image.save(partial, fmt, **options)
        os.replace(partial, path)
    return path


def tagged_png(data: bytes, label: str) -> bytes:
    """The same PNG with a tEXt chunk naming `label` before IEND: distinct bytes (a distinct
    asset, hash and file) for the price of a copy, with the same pixels and decode cost."""
    if not data.startswith(b"\x89PNG") or data[-12:-8] != b"\x00\x00\x00\x00":
        raise ValueError("not a PNG ending in IEND")
    body = b"tEXt" + b"Comment\x00" + label.encode()
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    return data[:-12] + chunk + data[-12:]


def _store_source_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "desktop" / "core" / "store").glob("*.py")):
        digest.update(path.read_bytes())
    for path in (ROOT / "desktop" / "core" / "model.py", ROOT / "desktop" / "core" / "assets.py"):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def history_jobs(count: int, now: float | None = None) -> Any:
    """`count` varied jobs, oldest first (ids and specs like a real history's)."""
    from desktop.core.model import Job, JobSpec, JobState

    now = time.time() if now is None else now
    for i in range(count):
        yield Job(
            id=f"{i:032x}",
            spec=JobSpec(("local", "fitinview", "vtryon")[i % 3],
                         ("recolor", "tryon", "staging")[(i // 3) % 3],
                         {"image": [f"/photos/shoot-{i % 97}/img{i}.jpg"]},
                         {"color": f"#{i % 255:02x}3344"}),
            state=JobState.FAILED if i % 7 == 0 else JobState.SUCCEEDED,
            created_at=now - (count - i) * 30, updated_at=now)


def filled_home(count: int, dest: Path, *, with_outputs: int = 40) -> Path:
    """A Restyle home folder at `dest` whose history holds `count` jobs, the newest
    `with_outputs` of them with a real 1024 x 768 PNG output each. Built once through
    History.save_job (the app's own writes) and copied from the cache afterwards."""
    from desktop.config import resolve_paths
    from desktop.core.assets import AssetStore
    from desktop.core.model import Output
    from desktop.core.store import History

    key = f"home-{count}-{with_outputs}-{_store_source_digest()}"
    cached = cache_dir() / key
    if not cached.exists():
        building = cache_dir() / (key + ".part")
        shutil.rmtree(building, ignore_errors=True)
        paths = resolve_paths(building)
        paths.ensure()
        history = History(paths.database)
        assets = AssetStore(paths.assets_dir)
        now = time.time()
        for i, job in enumerate(history_jobs(count, now)):
            stored = []
            if i >= count - with_outputs:
                buf = io.BytesIO()
                Image.new("RGB", (1024, 768), ((i * 37) % 256, (i * 91) % 256, 140)).save(
                    buf, "PNG")
                asset = assets.put(buf.getvalue(), "image/png", width=1024, height=768)
                stored = [asset]
                job = job.evolve(outputs=(Output(0, asset.sha256, asset.mime, asset.size,
                                                 1024, 768),))
            history.save_job(job, assets=stored)
        history.close()
        os.replace(building, cached)
    shutil.copytree(cached, dest, dirs_exist_ok=True)
    return dest


def qt_platform() -> str:
    """The Qt platform for benchmark processes: offscreen (unless another was chosen) with a
    1920 x 1080 screen, so the window lays out as on a desktop monitor (Qt's offscreen default
    of 800 x 600 is a short screen: History would be a tab hidden behind Jobs)."""
    chosen = os.environ.get("QT_QPA_PLATFORM", "offscreen")
    if chosen != "offscreen":
        return chosen
    config = cache_dir() / "screen-1920x1080.json"
    if not config.exists():
        config.write_text('{"screens": [{"name": "bench", "x": 0, "y": 0, "width": 1920, '
                          '"height": 1080, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}')
    return f"offscreen:configfile={config}"
