"""vtryon's tools against its emulator, over real HTTP: recolour tasks as plain data, the base
pose tasks they name (with status and picture, pages followed, deleted ones left out, the
model task filled in), one base task by number, and a list that does not name its bases."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.core.model import ErrorCode
from desktop.core.provider_tools import RecolorTools
from desktop.providers.base import ProviderError
from tests.emulators.kit import serve
from tests.emulators.vtryon import SEED_MODEL_TASK_ID, SEED_POSE_ID, VtryonEmulator
from tests.providers.test_vtryon import job, provider
from tests.support import run


def test_recolour_tasks_and_their_base_tasks() -> None:
    emu = VtryonEmulator(job_delay=0.0)
    second_pose, second_model = emu.seed_pose_task()
    waiting_pose, _ = emu.seed_pose_task(status="processing")
    gone_pose, gone_model = emu.seed_pose_task()

    async def main() -> tuple[Any, ...]:
        p = provider(base)
        assert isinstance(p, RecolorTools)
        try:
            first = await p.submit(job(emu))
            await p.submit(job(emu, color_changes=[{"target": "skirt", "color": "#aa3300"}]))
            await p.submit(job(emu, pose_image_generation_id=second_pose,
                               models_image_generation_task_id=second_model))
            await p.submit(job(emu, pose_image_generation_id=gone_pose,
                               models_image_generation_task_id=gone_model))
            del emu.tasks[gone_pose]  # the base task was deleted since
            page = await p.recolor_tasks(1, 2)
            bases = await p.base_tasks(page_size=2)  # three pages of recolours
            single = await p.base_task(waiting_pose)
            with pytest.raises(ProviderError) as missing:
                await p.base_task(99999)
            picture = await p.download(bases.tasks[-1].result_url or "")
            return first, page, bases, single, missing.value, picture
        finally:
            await p.aclose()

    with serve(emu) as base:
        _first, page, bases, single, missing, picture = run(main())
    assert page.count == 4 and page.has_next and len(page.items) == 2
    newest = page.items[0]
    assert newest.pose_id == gone_pose and newest.model_task_id == gone_model
    assert page.items[1].colours == (("blouse", "royal blue"), ("lehenga", "#112233"))
    assert page.items[1].image_quality == "2k" and page.items[1].pose_id == second_pose
    assert [(b.pose_id, b.model_task_id, b.recolours, b.usable) for b in bases.tasks] == [
        (second_pose, second_model, 1, True), (SEED_POSE_ID, SEED_MODEL_TASK_ID, 2, True)]
    assert bases.recolours == 4 and bases.unnamed == 0
    assert picture == emu.pose_image(SEED_POSE_ID)
    assert single.pose_id == waiting_pose and single.status == "processing"
    assert not single.usable and single.status_words() == "Still processing"
    assert missing.code == ErrorCode.NOT_FOUND
    recolor_lists = emu.requests_to("GET", "/v4/models/multipose-image-recolor/")
    assert [r.query["page"] for r in recolor_lists] == ["1", "1", "2"]  # page 2 was last


def test_a_list_that_does_not_name_its_base_tasks_is_counted() -> None:
    emu = VtryonEmulator(job_delay=0.0)
    emu.echo_request = False  # only what the document shows: id, status, result

    async def main() -> Any:
        p = provider(base)
        try:
            await p.submit(job(emu))
            return await p.recolor_tasks(), await p.base_tasks()
        finally:
            await p.aclose()

    with serve(emu) as base:
        page, bases = run(main())
    assert page.items[0].pose_id is None and page.items[0].colours == ()
    assert bases.tasks == () and (bases.recolours, bases.unnamed) == (1, 1)
