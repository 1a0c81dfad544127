"""Staging jobs with real photo-sized PNGs in a home's asset store, for the export window
tests and screenshots: a room photo (a gradient) and its staged variations (flat colours with
a band), large enough to carry the listing label."""

from __future__ import annotations

import io
import time

from PIL import Image, ImageDraw

from desktop.core.model import Job, JobSpec, JobState, Output
from desktop.services import Services

SIZE = (480, 360)


def room_png(size: tuple[int, int] = SIZE) -> bytes:
    """A light 'room': a vertical grey gradient with a darker floor."""
    img = Image.new("RGB", size, (230, 230, 226))
    draw = ImageDraw.Draw(img)
    for y in range(size[1]):
        shade = 235 - y * 60 // size[1]
        draw.line([(0, y), (size[0], y)], fill=(shade, shade, shade - 4))
    draw.rectangle((0, size[1] * 3 // 4, size[0], size[1]), fill=(170, 150, 120))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def staged_png(colour: tuple[int, int, int], size: tuple[int, int] = SIZE) -> bytes:
    """A 'staged' photo: flat `colour`, a sofa-like band across the middle."""
    img = Image.new("RGB", size, colour)
    ImageDraw.Draw(img).rectangle((size[0] // 5, size[1] // 2, size[0] * 4 // 5,
                                   size[1] * 3 // 4), fill=(90, 70, 60))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


COLOURS = ((214, 226, 236), (236, 224, 204), (212, 232, 214), (232, 212, 222))


def store_staging(services: Services, job_id: str, *, outputs: int = 3, room: str = "room-1",
                  when: float | None = None, provider: str = "virtualstaging",
                  state: JobState = JobState.SUCCEEDED) -> Job:
    """A finished staging job: the room photo as its input, `outputs` staged variations."""
    now = when if when is not None else time.time()
    photo = services.assets.put(room_png(), "image/png", width=SIZE[0], height=SIZE[1])
    stored = []
    outs = []
    for i in range(outputs if state == JobState.SUCCEEDED else 0):
        asset = services.assets.put(staged_png(COLOURS[i % len(COLOURS)]), "image/png",
                                    width=SIZE[0], height=SIZE[1])
        stored.append(asset)
        outs.append(Output(i, asset.sha256, asset.mime, asset.size, SIZE[0], SIZE[1]))
    spec = JobSpec(provider, "staging", {"room": [f"/photos/{room}.png"]}, {"style": "modern"})
    job = Job(job_id, spec, state, now, now, started_at=now - 20, finished_at=now,
              cost_credits=1.0, inputs={"room": [photo.sha256]}, outputs=tuple(outs))
    services.history.save_job(job, assets=[photo, *stored])
    return job
