"""restyle-cli's provider tools against the emulators over real HTTP: `vsai renders |
variations | analyze | compatibility | bulk`, `vtryon tasks | bases | delete`, `fitinview jobs |
import`; their JSON and exit codes (0 ok, 1 remote failure, 2 usage or invalid input, 3 key,
auth, credits or configuration)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from desktop import cli
from tests.emulators.fitinview import FitInViewEmulator
from tests.emulators.kit import Fault, serve
from tests.emulators.virtualstaging import VirtualStagingEmulator
from tests.emulators.vtryon import VtryonEmulator
from tests.providers.test_fitinview import job as fitinview_job
from tests.providers.test_fitinview import provider as fitinview_provider
from tests.support import run


@dataclass
class Emulators:
    vsai: VirtualStagingEmulator
    vtryon: VtryonEmulator
    fitinview: FitInViewEmulator
    bases: dict[str, str]


@pytest.fixture
def emulators(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulators]:
    vsai = VirtualStagingEmulator(job_delay=0.1)
    vtryon = VtryonEmulator(job_delay=0.0)
    fiv = FitInViewEmulator(job_delay=0.0)
    with ExitStack() as stack:
        bases = {}
        for pid, emu in (("VIRTUALSTAGING", vsai), ("VTRYON", vtryon), ("FITINVIEW", fiv)):
            bases[pid] = stack.enter_context(serve(emu))
            monkeypatch.setenv(f"RESTYLE_{pid}_BASE_URL", bases[pid])
            monkeypatch.setenv(f"RESTYLE_{pid}_API_KEY", emu.api_key)
        yield Emulators(vsai, vtryon, fiv, bases)


@pytest.fixture(autouse=True)
def _logger_levels() -> Iterator[None]:
    """cli.main sets the `desktop` and `restyle` logger levels; put them back."""
    loggers = [logging.getLogger(name) for name in ("desktop", "restyle")]
    levels = [logger.level for logger in loggers]
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def cli_run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv), stdin=io.StringIO(""))
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code, out, err = cli_run(capsys, *argv, "--json")
    return code, json.loads(out) if out.strip() else None, err


def picture(path: Path, size: tuple[int, int] = (320, 240),
            color: tuple[int, int, int] = (180, 170, 150)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return path


def jobs_in_history(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    code, listed, _ = cli_json(capsys, "jobs", "--limit", "100")
    assert code == 0
    return listed  # type: ignore[no-any-return]


def test_vsai_renders_and_more_variations(emulators: Emulators, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    room = picture(tmp_path / "room.png")
    code, _out, err = cli_run(capsys, "run", "--provider", "virtualstaging", "--task",
                              "staging", "--room", str(room), "--param", "variation_count=2")
    assert code == 0, err
    code, listed, _ = cli_json(capsys, "vsai", "renders")
    assert code == 0
    [render] = listed["renders"]
    assert render["state"] == "done" and render["variations_done"] == 2
    assert render["types"] == ["staging"] and "thumbnail_url" not in render  # signed links
    render_id = render["id"]
    before = len(jobs_in_history(capsys))

    # Paid: without a terminal to ask and without --yes, nothing is sent or stored.
    code, _out, err = cli_run(capsys, "vsai", "variations", render_id, "--param",
                             "variation_count=2")
    assert code == 2 and "confirm with --yes" in err and "Nothing was sent" in err
    assert ("2 new variations: each counts as one staging photo of your Virtual Staging AI "
            "plan (98 of 100 left this period; 96 after this).") in err
    assert emulators.vsai.requests_to("POST", f"/renders/{render_id}/variations") == []
    assert len(jobs_in_history(capsys)) == before

    code, data, err = cli_json(capsys, "vsai", "variations", render_id, "--param",
                               "variation_count=2", "--param", "style=luxury", "--yes")
    assert code == 0, err
    assert data["task"] == "variations" and data["status"] == "succeeded"
    assert data["remote_id"] == render_id and len(data["outputs"]) == 2
    assert data["params"]["render_id"] == render_id and data["imported"] is False
    posts = emulators.vsai.requests_to("POST", f"/renders/{render_id}/variations")
    assert len(posts) == 1 and posts[0].json()["config"]["add_furniture"]["style"] == "luxury"
    assert len(jobs_in_history(capsys)) == before + 1

    code, _out, err = cli_run(capsys, "vsai", "variations", "rnd_99999", "--yes")
    assert code == 2 and "has no render 'rnd_99999'" in err
    code, _out, err = cli_run(capsys, "vsai", "variations", render_id, "--param",
                              "render_id=other", "--yes")
    assert code == 2 and "Give the render once" in err
    code, _out, err = cli_run(capsys, "vsai", "renders", "--limit", "0")
    assert code == 2


def test_vsai_analyze_and_compatibility(emulators: Emulators, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    room = picture(tmp_path / "room.png")
    other = picture(tmp_path / "other.png", (200, 300), (90, 90, 90))
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    code, data, err = cli_json(capsys, "vsai", "analyze", str(room), "--mask-out",
                               str(blocker / "room-mask.png"))
    assert code == 2 and "a-file" in err  # checked before the analysis is asked for
    assert emulators.vsai.requests_to("POST", "/analyze") == []
    code, data, err = cli_json(capsys, "vsai", "analyze", str(room), "--mask-out",
                               str(tmp_path / "masks" / "room-mask"))
    assert code == 0, err
    assert data["percentage_masked"] == 37.5 and data["status"] == "done"
    assert data["verdict"].startswith("Much of the room is furnished (38 % of the photo)")
    with Image.open(data["mask"]) as mask:
        assert mask.size == (320, 240) and data["mask"].endswith("room-mask.png")
    sent = emulators.vsai.requests_to("POST", "/analyze")[-1].json()
    assert sent["image_url"].startswith("data:image/png;base64,")

    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    analyses = len(emulators.vsai.requests_to("POST", "/analyze"))
    code, _out, err = cli_run(capsys, "vsai", "analyze", str(text))
    assert code == 2 and "notes.jpg" in err
    assert len(emulators.vsai.requests_to("POST", "/analyze")) == analyses  # nothing sent

    code, data, _ = cli_json(capsys, "vsai", "compatibility", str(room), str(room))
    assert code == 0 and data["compatible"] is True and data["verdict"].startswith("Yes")
    code, data, _ = cli_json(capsys, "vsai", "compatibility", str(room), str(other))
    assert code == 0 and data["compatible"] is False and data["hard_rejected"] is True
    assert data["verdict"] == ("No: these two photos cannot be staged together. Virtual "
                               "Staging AI says: The images have different dimensions.")
    code, out, _ = cli_run(capsys, "vsai", "compatibility", str(room), str(other))
    assert out.startswith("No: these two photos cannot be staged together.")


def test_vsai_bulk_is_a_batch_over_a_folder(emulators: Emulators, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "listing"
    for i in range(3):
        picture(folder / f"room-{i}.png", color=(150 + 20 * i, 160, 150))
    (folder / "readme.txt").write_text("not a photo")
    code, _out, err = cli_run(capsys, "vsai", "bulk", str(folder))
    assert code == 2 and "--yes" in err
    assert emulators.vsai.requests_to("POST", "/renders") == []
    code, data, err = cli_json(capsys, "vsai", "bulk", str(folder), "--param",
                               "style=scandinavian", "--yes", "--name", "Listing 12")
    assert code == 0, err
    assert data["name"] == "Listing 12" and data["task"] == "staging"
    assert data["providers"] == ["virtualstaging"] and len(data["items"]) == 3
    assert {i["status"] for i in data["items"]} == {"succeeded"}
    posts = emulators.vsai.requests_to("POST", "/renders")
    assert len(posts) == 3
    assert {p.json()["config"]["add_furniture"]["style"] for p in posts} == {"scandinavian"}


def test_vtryon_tasks_bases_and_delete(emulators: Emulators,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    emu = emulators.vtryon
    for colour in ("royal blue", "#aa3300"):
        changes = json.dumps([{"target": "blouse", "color": colour}])
        code, _out, err = cli_run(capsys, "run", "--provider", "vtryon", "--task", "recolor",
                                  "--param", "pose_image_generation_id=936", "--param",
                                  "models_image_generation_task_id=901", "--param",
                                  f"color_changes={changes}")
        assert code == 0, err
    code, data, _ = cli_json(capsys, "vtryon", "tasks", "--page-size", "1")
    assert code == 0 and data["count"] == 2 and data["has_next"] is True
    [newest] = data["tasks"]
    assert newest["color_changes"] == [{"target": "blouse", "color": "#aa3300"}]
    assert newest["pose_image_generation_id"] == 936 and "result_url" not in newest
    code, data, _ = cli_json(capsys, "vtryon", "bases")
    assert code == 0 and data["bases"] == [{
        "pose_image_generation_id": 936, "models_image_generation_task_id": 901,
        "status": "completed", "created_at": data["bases"][0]["created_at"], "recolours": 2,
        "usable": True}]
    code, _out, err = cli_run(capsys, "vtryon", "tasks", "--page", "9")
    assert code == 2 and "no page 9" in err

    # A base pose task is never deleted: every recolour of it would lose its base.
    code, _out, err = cli_run(capsys, "vtryon", "delete", "936", "--yes")
    assert code == 2 and "not on this account's recolour list" in err and 936 in emu.tasks
    task_id = newest["id"]
    code, _out, err = cli_run(capsys, "vtryon", "delete", task_id)
    assert code == 2 and "Nothing was deleted" in err and int(task_id) in emu.tasks
    code, data, _ = cli_json(capsys, "vtryon", "delete", task_id, "--yes")
    assert code == 0 and data == {"deleted": [{"id": task_id, "deleted": True,
                                               "message": "Deleted successfully"}]}
    assert int(task_id) not in emu.tasks
    assert len(emu.requests_to("DELETE", "/v2/models/multipose-tasks/")) == 1
    code, _out, err = cli_run(capsys, "vtryon", "delete", "x1")
    assert code == 2 and "not a vtryon task number" in err


def test_fitinview_jobs_and_import(emulators: Emulators, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    emu = emulators.fitinview
    person, garment = picture(tmp_path / "p.png"), picture(tmp_path / "g.png", (90, 90))
    code, ours, err = cli_json(capsys, "run", "--provider", "fitinview", "--task", "tryon",
                               "--person", str(person), "--garment", str(garment))
    assert code == 0, err

    async def elsewhere() -> str:
        p = fitinview_provider(emulators.bases["FITINVIEW"])
        try:
            return (await p.submit(fitinview_job("another-machine"))).remote_id
        finally:
            await p.aclose()

    foreign = run(elsewhere())
    code, data, _ = cli_json(capsys, "fitinview", "jobs")
    assert code == 0
    listed = {j["remote_id"]: j for j in data["jobs"]}
    assert listed[ours["remote_id"]]["in_history"] == ours["id"]
    assert listed[foreign]["in_history"] is None and listed[foreign]["cost_credits"] == 8
    code, out, _ = cli_run(capsys, "fitinview", "jobs")
    assert "1 not in history" in out

    code, data, err = cli_json(capsys, "fitinview", "import", "--all")
    assert code == 0, err
    [imported] = data["imported"]
    assert imported["remote_id"] == foreign and imported["imported"] is True
    assert imported["status"] == "succeeded" and len(imported["outputs"]) == 1
    assert imported["note"] == "Imported from FitInView's job list."
    assert Path(imported["outputs"][0]["path"]).read_bytes() == emu.jobs[foreign].result
    assert data["already_in_history"] == [{"remote_id": ours["remote_id"],
                                           "job_id": ours["id"]}]
    code, data, _ = cli_json(capsys, "fitinview", "import", foreign)
    assert code == 0 and data["imported"] == []
    assert len(jobs_in_history(capsys)) == 2
    assert len(emu.requests_to("POST", "/api/v1/tryon")) == 2  # Restyle's and the foreign one

    code, _out, err = cli_run(capsys, "fitinview", "import", "job_nope")
    assert code == 2 and "has no job job_nope" in err
    code, _out, err = cli_run(capsys, "fitinview", "import")
    assert code == 2 and "or --all" in err
    code, _out, err = cli_run(capsys, "fitinview", "import", foreign, "--status", "failed")
    assert code == 2


def test_setup_and_remote_failures_have_their_exit_codes(emulators: Emulators,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    monkeypatch.delenv("RESTYLE_VIRTUALSTAGING_API_KEY")
    code, _out, err = cli_run(capsys, "vsai", "renders")
    assert code == 3 and "No API key for Virtual Staging AI" in err
    monkeypatch.setenv("RESTYLE_VIRTUALSTAGING_API_KEY", "wrong-key")
    code, _out, err = cli_run(capsys, "vsai", "renders")
    assert code == 3
    monkeypatch.delenv("RESTYLE_VTRYON_BASE_URL")
    code, _out, err = cli_run(capsys, "vtryon", "tasks")
    assert code == 3 and "needs a base URL" in err
    emulators.fitinview.inject(Fault("status", "GET", "/api/v1/tryon", status=500, times=20))
    code, _out, err = cli_run(capsys, "fitinview", "jobs")
    assert code == 1 and err.startswith("restyle-cli: ") and "Traceback" not in err
    emulators.vtryon.inject(Fault("status", "GET", "/v4/", status=503, times=20))
    code, _out, err = cli_run(capsys, "vtryon", "bases", "--base-url",
                              emulators.bases["VTRYON"])
    assert code == 1 and "Traceback" not in err
