"""restyle-cli batch, batches and batch show|pause|resume|cancel|retry: the plan, the
confirmation, inputs from folders and globs, parameter axes, the budget, exit codes, JSON, and
a batch carried across processes without a second submit."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.core.batches import BatchState, ItemState
from desktop.core.model import JobState
from desktop.core.store import History
from desktop.core.store.batches import BatchStore
from tests.emulators.fitinview import FitInViewEmulator
from tests.emulators.kit import serve
from tests.support import with_default_sigint
from tests.test_cli import ROOT, make_image, run_cli

TRYON_POST = "/api/v1/tryon"


class Terminal(io.StringIO):
    """Standard input that is an interactive terminal, with the answers typed in advance."""

    def isatty(self) -> bool:
        return True


def write_settings(home: Path, data: dict[str, Any]) -> None:
    folder = home / "config"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.json").write_text(json.dumps(data), encoding="utf-8")


def stored(home: Path) -> tuple[History, BatchStore]:
    history = History(home / "data" / "history.sqlite3")
    return history, BatchStore(history)


def photos(folder: Path, names: list[str], size: tuple[int, int] = (120, 90)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [make_image(folder / name, size, (30 + 40 * i, 90, 200 - 30 * i))
            for i, name in enumerate(names)]


@pytest.fixture
def fitinview(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FitInViewEmulator]:
    """The FitInView emulator over real HTTP, its URL and key in the environment, polled
    quickly, at most 2 jobs at a time; a credit costs 0.05 in money."""
    emu = FitInViewEmulator(job_delay=0.2)
    write_settings(home, {"providers": {"fitinview": {"poll_interval": 0.05, "concurrency": 2,
                                                      "price_per_credit": 0.05}}})
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", emu.api_key)
        yield emu


def tryon_inputs(tmp_path: Path, people: int, garments: int) -> list[str]:
    photos(tmp_path / "people", [f"person{i}.png" for i in range(people)], (96, 128))
    photos(tmp_path / "garments", [f"garment{i}.png" for i in range(garments)], (64, 64))
    return ["--person", str(tmp_path / "people"), "--garment", str(tmp_path / "garments")]


# -- inputs, axes, a run to the end ------------------------------------------------------------
def test_folders_globs_and_axes_make_the_matrix_and_a_run_ends_with_json(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shots = tmp_path / "shots"
    photos(shots, ["b.png", "a.png"])
    (shots / "notes.txt").write_text("not an image")
    (shots / "sub").mkdir()
    photos(tmp_path / "more", ["x1.png", "x2.png", "y1.png"])
    code, out, err = run_cli(
        capsys, "batch", "--provider", "local", "--task", "upscale",
        "--image", str(shots), "--image", str(tmp_path / "more" / "x*.png"),
        "--param", "factor=2,4", "--yes", "--json", "--name", "Sweep")
    assert code == 0, err
    data = json.loads(out)
    # Folder images by name (the text file and the sub-folder left out), then the glob's.
    assert [Path(s).name for s in data["row_sources"]] == ["a.png", "b.png", "x1.png", "x2.png"]
    assert [c["variant"] for c in data["column_titles"]] == ["factor=2", "factor=4"]
    assert (data["name"], data["state"], data["rows"], data["columns"]) == (
        "Sweep", "finished", 4, 2)
    assert data["progress"]["done"] == 8 and data["progress"]["failed"] == 0
    assert len(data["items"]) == 8
    made = {(Path(i["job"]["inputs"]["image"][0]).name, i["job"]["params"]["factor"])
            for i in data["items"]}
    assert made == {(n, f) for n in ("a.png", "b.png", "x1.png", "x2.png") for f in (2, 4)}
    assert all(i["status"] == "succeeded" and i["job"]["status"] == "succeeded"
               for i in data["items"])
    assert "Batch plan: upscale, 4 rows x 2 variants x 1 provider = 8 cells" in err
    # The batch's jobs in history, found by a prefix of its id.
    code, out, _ = run_cli(capsys, "jobs", "--batch", data["id"][:6], "--json")
    assert code == 0 and len(json.loads(out)) == 8


def test_a_repeated_key_makes_an_axis_and_text_values_keep_their_commas(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [src] = photos(tmp_path, ["p.png"])
    code, out, err = run_cli(
        capsys, "batch", "--provider", "local", "--task", "recolor", "--image", str(src),
        "--param", "color=red", "--param", "color=blue", "--param", "seed=60,45",
        "--yes", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [c["variant"] for c in data["column_titles"]] == ["color=red", "color=blue"]
    # A point keeps its comma: one value, not an axis.
    assert [i["job"]["params"]["seed"] for i in data["items"]] == [[60, 45], [60, 45]]
    assert sorted(i["job"]["params"]["color"] for i in data["items"]) == ["blue", "red"]


def test_refused_cells_are_in_the_plan_with_their_reason_and_the_others_run(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [src] = photos(tmp_path, ["p.png"])
    code, out, err = run_cli(
        capsys, "batch", "--provider", "local", "--task", "upscale", "--image", str(src),
        "--param", "factor=2,3", "--yes")
    assert code == 1, err  # a refused cell is not a success
    assert "refused: 1 cell" in out and "p.png x factor=3 @ local:" in out
    assert "succeeded" in out and "Not sent: 1 refused." in out


def test_nothing_to_send_and_usage_errors_exit_2_and_store_nothing(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no pictures here")
    [src] = photos(tmp_path, ["p.png"])
    cases = [
        (["--task", "upscale", "--image", str(tmp_path / "nothing*.png")], "matches no image"),
        (["--task", "upscale", "--image", str(empty)], "no image files"),
        (["--task", "upscale", "--image", str(tmp_path / "gone.png")], "does not exist"),
        (["--task", "upscale"], "needs images to work on"),
        (["--task", "upscale", "--image", str(src), "--param", "factor=3"], "Nothing to send"),
        (["--task", "upscale", "--image", str(src), "--garments-per-job", "2"], "--garment"),
        (["--task", "upscale", "--image", str(src), "--param", "factor"], "KEY=VALUE"),
        (["--task", "upscale", "--image", str(src), "--budget", "0"], "--budget"),
        (["--image", str(src)], "--task"),
    ]
    for argv, needle in cases:
        code, _, err = run_cli(capsys, "batch", "--provider", "local", *argv, "--yes")
        assert code == 2, (argv, err)
        assert needle in err, (needle, err)
    for argv, needle in ((["batch", "show", "ffffffff"], "No batch 'ffffffff'"),
                         (["batch", "resume", "fff"], "at least 4 characters"),
                         (["batch"], "needs --provider"),
                         (["batch", "--provider", "local", "show", "ffffffff"],
                          "--provider describe a new batch")):
        code, _, err = run_cli(capsys, *argv)
        assert code == 2 and needle in err, (argv, err)
    history, batches = stored(home)
    assert history.list() == [] and batches.list() == []


# -- the plan and its confirmation -----------------------------------------------------------
def test_without_yes_on_a_pipe_the_plan_is_printed_and_nothing_is_stored_or_sent(
        home: Path, tmp_path: Path, fitinview: FitInViewEmulator,
        capsys: pytest.CaptureFixture[str]) -> None:
    inputs = tryon_inputs(tmp_path, 2, 1)
    code, out, err = run_cli(capsys, "batch", "--provider", "fitinview", "--provider", "local",
                             "--task", "tryon", *inputs)
    assert code == 2
    assert "Batch plan: tryon, 2 rows x 1 variant x 2 providers = 4 cells" in out
    lines = out.splitlines()
    assert any(line.split()[:4] == ["fitinview", "2", "jobs", "16"]
               and "0.80 at 0.05 per credit" in line for line in lines), out
    assert any(line.split()[:3] == ["local", "2", "jobs"] and "free" in line
               for line in lines), out
    assert any(line.split()[:4] == ["total", "4", "jobs", "16"] and "0.80" in line
               for line in lines), out
    assert "confirm the plan above with --yes" in err and "Nothing was stored" in err
    history, batches = stored(home)
    assert history.list() == [] and batches.list() == []
    assert fitinview.requests_to("POST", TRYON_POST) == []
    # --json: the plan as JSON on stdout, still nothing sent.
    code, out, _ = run_cli(capsys, "batch", "--provider", "fitinview", "--task", "tryon",
                           *inputs, "--json")
    data = json.loads(out)
    assert code == 2 and data["id"] is None
    assert (data["plan"]["jobs"], data["plan"]["credits"], data["plan"]["money"]) == (
        2, 16.0, pytest.approx(0.8))
    assert fitinview.requests_to("POST", TRYON_POST) == []


def test_on_a_terminal_the_plan_asks_and_only_yes_sends(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from desktop import cli

    [src] = photos(tmp_path, ["p.png"])
    argv = ["batch", "--provider", "local", "--task", "upscale", "--image", str(src),
            "--param", "factor=2,4"]
    code = cli.main(argv, stdin=Terminal("n\n"))
    out, err = capsys.readouterr()
    assert code == 1 and "Send 2 jobs? [y/N]" in err and "Not sent" in err
    history, batches = stored(home)
    assert history.list() == [] and batches.list() == []
    code = cli.main(argv, stdin=Terminal("y\n"))
    out, err = capsys.readouterr()
    assert "Batch plan: upscale" in out
    assert code == 0, err
    assert len(history.list()) == 2 and len(batches.list()) == 1


# -- the budget ---------------------------------------------------------------------------------
def test_the_budget_keeps_cells_out_and_says_why(
        home: Path, tmp_path: Path, fitinview: FitInViewEmulator,
        capsys: pytest.CaptureFixture[str]) -> None:
    inputs = tryon_inputs(tmp_path, 2, 3)  # 6 cells of 8 credits
    code, out, err = run_cli(capsys, "batch", "--provider", "fitinview", "--task", "tryon",
                             *inputs, "--budget", "20", "--yes", "--json")
    assert code == 1, err  # cells kept out: not everything was done
    data = json.loads(out)
    assert "kept out by the budget: 4 cells" in err
    assert "over the budget of 20" in err
    assert data["progress"]["done"] == 2 and data["progress"]["over_budget"] == 4
    assert data["progress"]["credits_spent"] == 16
    assert data["budget_credits"] == 20
    kept = [i for i in data["items"] if i["state"] == "over_budget"]
    assert len(kept) == 4 and all("budget of 20" in i["note"] and i["job"] is None
                                  for i in kept)
    assert len(fitinview.requests_to("POST", TRYON_POST)) == 2


def test_garments_grouped_per_job_and_a_provider_that_takes_fewer_refuses(
        home: Path, tmp_path: Path, fitinview: FitInViewEmulator,
        capsys: pytest.CaptureFixture[str]) -> None:
    inputs = tryon_inputs(tmp_path, 1, 3)
    code, out, err = run_cli(capsys, "batch", "--provider", "fitinview", "--provider", "local",
                             "--task", "tryon", *inputs, "--garments-per-job", "2", "--yes",
                             "--json")
    data = json.loads(out)
    assert [c["variant"] for c in data["column_titles"]] == [
        "garment0.png + garment1.png", "garment0.png + garment1.png",
        "garment2.png", "garment2.png"]
    refused = [i for i in data["items"] if i["state"] == "refused"]
    assert [(i["provider"], i["variant"]) for i in refused] == [
        ("local", "garment0.png + garment1.png")]
    assert "at most 1 garment image" in refused[0]["note"]
    posts = fitinview.requests_to("POST", TRYON_POST)
    assert sorted(len(p.json()["garment_images_b64"]) for p in posts) == [1, 2]
    assert code == 1, err


# -- missing keys -------------------------------------------------------------------------------
def test_every_provider_is_checked_before_anything_is_stored(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = tryon_inputs(tmp_path, 1, 1)
    code, _, err = run_cli(capsys, "batch", "--provider", "local", "--provider", "fitinview",
                           "--task", "tryon", *inputs, "--yes")
    assert code == 3 and "No API key for FitInView" in err
    history, batches = stored(home)
    assert history.list() == [] and batches.list() == []
    code, _, err = run_cli(capsys, "batch", "--provider", "nosuch", "--task", "tryon", *inputs,
                           "--yes")
    assert code == 2 and "no provider 'nosuch'" in err


# -- across processes ---------------------------------------------------------------------------
def test_no_wait_pause_and_resume_in_later_invocations_never_submit_twice(
        home: Path, tmp_path: Path, fitinview: FitInViewEmulator,
        capsys: pytest.CaptureFixture[str]) -> None:
    fitinview.job_delay = 1.0
    inputs = tryon_inputs(tmp_path, 2, 2)  # 4 cells, 2 at a time
    code, out, err = run_cli(capsys, "batch", "--provider", "fitinview", "--task", "tryon",
                             *inputs, "--yes", "--no-wait")
    assert code == 0, err
    assert "restyle-cli batch resume" in out
    _, batches = stored(home)
    [batch] = batches.list()
    first = [i for i in batches.items(batch.id) if i.state == ItemState.STARTED]
    assert len(first) == 2 and len(fitinview.requests_to("POST", TRYON_POST)) == 2
    history, _ = stored(home)
    remote = {i.job_id: history.get(i.job_id).remote_id for i in first}  # type: ignore
    assert all(remote.values())

    code, out, _ = run_cli(capsys, "batch", "pause", batch.id[:8])
    assert code == 0 and "paused" in out
    assert batches.get(batch.id).state == BatchState.PAUSED  # type: ignore[union-attr]
    code, out, _ = run_cli(capsys, "batches", "--json")
    [listed] = json.loads(out)
    assert (listed["id"], listed["state"], listed["progress"]["left"]) == (batch.id, "paused", 2)

    fitinview.job_delay = 0.2
    code, out, err = run_cli(capsys, "batch", "resume", batch.id[:8], "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["state"] == "finished" and data["progress"]["done"] == 4
    posts = fitinview.requests_to("POST", TRYON_POST)
    assert len(posts) == 4  # the two accepted jobs were collected, not sent again
    assert len({p.headers["idempotency-key"] for p in posts}) == 4
    by_job = {i["job_id"]: i["job"]["remote_id"] for i in data["items"]}
    assert all(by_job[job_id] == rid for job_id, rid in remote.items())


def test_ctrl_c_pauses_the_batch_and_resume_finishes_it_without_a_second_submit(
        home: Path, tmp_path: Path, fitinview: FitInViewEmulator,
        capsys: pytest.CaptureFixture[str]) -> None:
    fitinview.job_delay = 60.0  # the first jobs keep running at the provider
    inputs = tryon_inputs(tmp_path, 2, 2)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "desktop.cli", "batch", "--provider", "fitinview", "--task",
            "tryon", *inputs, "--yes"]
    proc = subprocess.Popen(with_default_sigint(argv), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if len(fitinview.requests_to("POST", TRYON_POST)) >= 2:
                break
            time.sleep(0.05)
        time.sleep(0.5)  # the answers recorded
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "is paused; nothing new is sent" in err and "restyle-cli batch resume" in err
    assert "Traceback" not in err
    history, batches = stored(home)
    [batch] = batches.list()
    assert batch.state == BatchState.PAUSED
    items = batches.items(batch.id)
    started = [i for i in items if i.state == ItemState.STARTED]
    assert len(started) == 2 and sum(i.state == ItemState.PENDING for i in items) == 2
    for item in started:
        job = history.get(item.job_id)  # type: ignore[arg-type]
        assert job is not None and job.remote_id and job.state == JobState.RUNNING
    assert len(fitinview.requests_to("POST", TRYON_POST)) == 2

    fitinview.job_delay = 0.1
    for job in fitinview.jobs.values():
        job.created -= 120  # the accepted jobs are done at the provider now
    code, out, err = run_cli(capsys, "batch", "resume", batch.id, "--json")
    assert code == 0, err
    assert json.loads(out)["progress"]["done"] == 4
    assert len(fitinview.requests_to("POST", TRYON_POST)) == 4


# -- failures and retry -------------------------------------------------------------------------
def test_failed_cells_exit_1_and_retry_sends_only_them_again(
        home: Path, tmp_path: Path, fitinview: FitInViewEmulator,
        capsys: pytest.CaptureFixture[str]) -> None:
    write_settings(home, {"providers": {"fitinview": {"poll_interval": 0.05,
                                                      "concurrency": 1}}})
    inputs = tryon_inputs(tmp_path, 1, 3)
    fitinview.fail_next("no_person_detected")
    code, out, err = run_cli(capsys, "batch", "--provider", "fitinview", "--task", "tryon",
                             *inputs, "--yes")
    assert code == 1, err
    assert "1 failed" in out and "restyle-cli batch retry" in out
    assert "No person could be found" in out  # the grid's notes say why
    _, batches = stored(home)
    [batch] = batches.list()
    code, out, err = run_cli(capsys, "batch", "retry", batch.id[:10], "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["progress"]["done"] == 3 and data["progress"]["failed"] == 0
    assert "Sending 1 failed cell" in err
    assert len(fitinview.requests_to("POST", TRYON_POST)) == 4  # 3 + the failed one
    code, out, _ = run_cli(capsys, "batch", "retry", batch.id[:10])
    assert code == 0 and "No failed cells" in out
    assert len(fitinview.requests_to("POST", TRYON_POST)) == 4


def test_show_grid_cancel_and_batches_listing(
        home: Path, tmp_path: Path, fitinview: FitInViewEmulator,
        capsys: pytest.CaptureFixture[str]) -> None:
    fitinview.job_delay = 1.0
    inputs = tryon_inputs(tmp_path, 2, 2)
    code, _, err = run_cli(capsys, "batch", "--provider", "fitinview", "--task", "tryon",
                           *inputs, "--yes", "--no-wait", "--name", "Client looks")
    assert code == 0, err
    _, batches = stored(home)
    [batch] = batches.list()
    code, out, _ = run_cli(capsys, "batch", "cancel", batch.id[:8])
    assert code == 0 and "2 cells will not be sent" in out
    code, out, _ = run_cli(capsys, "batch", "show", batch.id[:8])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"Batch {batch.id}") and "cancelled" in lines[0]
    grid = {line.split()[0]: line.split()[1:] for line in lines
            if line.strip().startswith("person")}
    assert sorted(grid) == ["person0.png", "person1.png"]
    assert sorted(grid["person0.png"] + grid["person1.png"]) == [
        "cancelled", "cancelled", "running", "running"]
    assert "C1    garment0.png @ fitinview" in out
    code, out, _ = run_cli(capsys, "batch", "cancel", batch.id[:8])
    assert code == 1 and "already been cancelled" in out
    code, out, _ = run_cli(capsys, "batches")
    assert batch.id[:12] in out and "Client looks" in out and "cancelled" in out
    fitinview.job_delay = 0.1
    code, out, err = run_cli(capsys, "batch", "resume", batch.id[:8], "--json")
    data = json.loads(out)
    assert code == 1 and "nothing new is sent" in err  # the cancelled cells count
    assert data["progress"]["done"] == 2 and data["progress"]["cancelled"] == 2
    assert len(fitinview.requests_to("POST", TRYON_POST)) == 2


def test_the_progress_line_shows_done_failed_running_left_credits_and_time_left() -> None:
    import asyncio

    from desktop.cli.batch_output import BatchProgressLine
    from desktop.core.batch_runner import BatchProgress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    progress = BatchProgress(state=BatchState.RUNNING, total=10, done=3, failed=1, waiting=0,
                             running=2, left=4, over_budget=0, refused=0, cancelled=0,
                             credits_spent=24.0, eta_s=125.0)

    async def read() -> BatchProgress:
        return progress

    async def main(stream: io.StringIO) -> None:
        line = BatchProgressLine(stream, read)
        line.start()
        await asyncio.sleep(0.2)
        line.stop()

    tty = Tty()
    asyncio.run(main(tty))
    drawn = tty.getvalue()
    assert ("3 done, 1 failed, 2 running, 4 left; 24 credits spent; about 2 min 5 s left"
            in drawn)
    assert drawn.endswith("\r\033[K")  # the line is cleared when the batch ends
    piped = io.StringIO()  # not a terminal: nothing drawn
    asyncio.run(main(piped))
    assert piped.getvalue() == ""
