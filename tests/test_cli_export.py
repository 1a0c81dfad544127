"""restyle-cli export: jobs by id, prefix or filter (a batch), formats, templates, composites,
listing sets, skips, usage errors, the JSON summary, exit codes and Ctrl+C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from desktop.core.model import JobState
from tests.core.exports.library import Library, decode, photo
from tests.support import with_default_sigint
from tests.test_cli import ROOT, make_image, run_cli


def local_job(capsys: pytest.CaptureFixture[str], src: Path, *params: str,
              task: str = "upscale") -> dict[str, Any]:
    argv = ["run", "--provider", "local", "--task", task, "--image", str(src), "--json"]
    for p in params:
        argv += ["--param", p]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    return dict(json.loads(out))


def export(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run_cli(capsys, "export", *argv, "--json")
    return code, (json.loads(out) if out.strip() else {}), err


def library(home: Path) -> Library:
    """The CLI's own history and asset store, for jobs the local provider cannot make."""
    return Library(home / "data")


def test_export_by_prefix_with_format_size_and_json(home: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    src = make_image(tmp_path / "kitchen.png", (300, 200))
    job = local_job(capsys, src, "factor=4")
    out_dir = tmp_path / "out"
    code, data, err = export(capsys, job["id"][:6], "--out", str(out_dir), "--format", "jpg",
                             "--quality", "70", "--max-side", "600")
    assert code == 0, err
    [written] = data["written"]
    path = Path(written["path"])
    assert path.parent == out_dir and path.name == f"kitchen-local-upscale-{job['id'][:8]}-1.jpg"
    assert (written["job_id"], written["output"], written["kind"]) == (job["id"], 1, "output")
    img = decode(path)
    assert img.format == "JPEG" and img.size == (600, 400)
    assert data["skipped"] == [] and data["cancelled"] is False and data["stopped"] is None
    assert f"[1/1] Wrote {path.name}" in err  # progress on stderr, JSON alone on stdout


def test_text_output_and_settings_defaults(home: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text(json.dumps(
        {"general": {"export_format": "webp", "export_quality": 50}}), encoding="utf-8")
    job = local_job(capsys, make_image(tmp_path / "a.png"), "factor=2")
    code, out, err = run_cli(capsys, "export", job["id"], "--out", str(tmp_path / "o"),
                             "--name", "{task}-{date}")
    assert code == 0, err
    assert out.startswith("Wrote 1 file to ")
    [path] = (tmp_path / "o").iterdir()
    assert path.suffix == ".webp" and decode(path).format == "WEBP"
    assert path.stem == f"upscale-{time.strftime('%Y-%m-%d')}"


def test_a_batch_by_filter_into_template_subfolders(home: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    shots = tmp_path / "shots"
    shots.mkdir()
    for name in ("hall.png", "bath.png"):
        make_image(shots / name, (160, 120))
    code, out, err = run_cli(capsys, "batch", "--provider", "local", "--task", "upscale",
                             "--image", str(shots), "--param", "factor=2,4", "--yes", "--json",
                             "--name", "Spring listings")
    assert code == 0, err
    batch = json.loads(out)["id"]
    local_job(capsys, make_image(tmp_path / "other.png"), "factor=2")  # not in the batch
    code, data, err = export(capsys, "--batch", batch[:6], "--out", str(tmp_path / "out"),
                             "--name", "{batch}/{n}-{input}")
    assert code == 0, err
    paths = [Path(w["path"]) for w in data["written"]]
    assert len(paths) == 4
    assert {p.parent for p in paths} == {tmp_path / "out" / "Spring listings"}
    assert [p.name[:4] for p in paths] == ["001-", "002-", "003-", "004-"]
    history = library(home).history
    made = [history.get(w["job_id"]) for w in data["written"]]
    assert [j.id for j in made] == [j.id for j in sorted(  # {n} counts oldest first
        made, key=lambda j: (j.created_at, j.id))]  # type: ignore[union-attr]
    assert sorted(p.name[4:] for p in paths) == ["bath.png", "bath.png", "hall.png", "hall.png"]


def test_listing_set_from_the_cli(home: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    job = local_job(capsys, make_image(tmp_path / "lounge.png", (400, 300)), "factor=2")
    url = "https://listings.example/lounge/original"
    code, data, err = export(capsys, job["id"], "--out", str(tmp_path / "out"), "--listing",
                             "--qr", "--original-url", url, "--label", "Virtuell möbliert",
                             "--label-corner", "top-right", "--label-size", "6")
    assert code == 0, err
    original, staged = (Path(w["path"]) for w in data["written"])
    assert [w["kind"] for w in data["written"]] == ["original", "listing"]
    assert sorted([original.name, staged.name]) == [original.name, staged.name]
    lib = library(home)
    stored = lib.history.get(job["id"])
    assert stored is not None
    asset = lib.history.asset(stored.inputs["image"][0])
    assert asset is not None
    assert original.read_bytes() == lib.assets.read(asset)  # the unaltered original
    staged_img = decode(staged)
    assert [r.text for r in zxingcpp.read_barcodes(staged_img)] == [url]
    result = decode(Path(job["outputs"][0]["path"])).convert("RGB")
    corner = np.asarray(staged_img.convert("RGB"), dtype=int)[:60, -200:]
    assert np.abs(corner - np.asarray(result, dtype=int)[:60, -200:]).mean() > 20


def test_composites_from_the_cli(home: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    job = local_job(capsys, make_image(tmp_path / "p.png", (300, 200)), "factor=2")
    code, data, err = export(capsys, job["id"], "--out", str(tmp_path / "out"), "--composite",
                             "split", "--split-at", "0.3", "--caption", "--format", "png")
    assert code == 0, err
    img = decode(Path(data["written"][0]["path"]))
    assert img.width == 600 and img.height > 400  # the caption band below
    code, data, err = export(capsys, job["id"], "--out", str(tmp_path / "out"), "--composite",
                             "side")
    assert code == 0 and decode(Path(data["written"][0]["path"])).width > 600


def test_skipped_jobs_exit_1_and_say_why(home: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    good = local_job(capsys, make_image(tmp_path / "g.png"), "factor=2")
    failed = library(home).job(provider="local", task="upscale", state=JobState.FAILED,
                               error="The photo could not be read.")
    code, data, err = export(capsys, good["id"], failed.id, "--out", str(tmp_path / "out"))
    assert code == 1
    assert len(data["written"]) == 1
    assert data["skipped"] == [{"job_id": failed.id, "output": None,
                                "reason": "it failed: The photo could not be read."}]
    assert f"Skipped job {failed.id[:12]}: it failed" in err
    code, out, _ = run_cli(capsys, "export", failed.id, "--out", str(tmp_path / "o2"))
    assert code == 1 and "Wrote 0 files" in out and "it failed" in out


def test_no_overwrite_unless_asked(home: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    job = local_job(capsys, make_image(tmp_path / "a.png"), "factor=2")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "mine.png").write_bytes(b"keep me")
    code, data, _ = export(capsys, job["id"], "--out", str(out_dir), "--name", "mine")
    assert code == 0 and Path(data["written"][0]["path"]).name == "mine (2).png"
    assert (out_dir / "mine.png").read_bytes() == b"keep me"
    code, data, _ = export(capsys, job["id"], "--out", str(out_dir), "--name", "mine",
                           "--overwrite")
    assert code == 0 and Path(data["written"][0]["path"]) == out_dir / "mine.png"
    assert Image.open(out_dir / "mine.png").format == "PNG"


@pytest.mark.parametrize("argv, message", [
    (["--name", "{colour}"], "unknown field '{colour}'; known fields: {input}"),
    (["--name", "../../{input}"], "may not use '..'"),
    (["--name", "/etc/{input}"], "absolute path"),
    (["--split-at", "0.3"], "--split-at only applies to --composite split"),
    (["--qr", "--original-url", "https://x.example"], "only apply to a listing set"),
    (["--label", "Staged"], "--label only apply to a listing set"),
    (["--listing", "--qr"], "needs the address"),
    (["--listing", "--original-url", "ftp://x.example/a"], "https://"),
    (["--listing", "--no-link", "--original-url", "https://x.example"], "add --qr"),
    (["--listing", "--composite", "side"], "not both"),
    (["--listing", "--caption"], "caption off"),
    (["--state", "succeeded"], "not both"),
])
def test_usage_errors_exit_2_and_write_nothing(home: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               argv: list[str], message: str) -> None:
    job = local_job(capsys, make_image(tmp_path / "a.png"), "factor=2")
    code, out, err = run_cli(capsys, "export", job["id"], "--out", str(tmp_path / "out"), *argv)
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert out == "" and not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv, message", [
    (["--quality", "0"], "between 1 and 100"),
    (["--max-side", "big"], "not a number of pixels"),
    (["--format", "gif"], "not png, jpeg or webp"),
    (["--composite", "grid"], "invalid choice"),
    (["--split-at", "1.5", "--composite", "split"], "between 0 and 1"),
    (["--label-size", "50", "--listing"], "between 1 and 20 percent"),
])
def test_bad_values_exit_2(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           argv: list[str], message: str) -> None:
    code, _, err = run_cli(capsys, "export", "abcd", "--out", str(tmp_path / "out"), *argv)
    assert code == 2 and message in err


def test_which_jobs_must_be_said(home: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "export", "--out", str(tmp_path / "out"))
    assert code == 2 and "Say which jobs to export" in err
    code, _, err = run_cli(capsys, "export", "nosuchjob", "--out", str(tmp_path / "out"))
    assert code == 2 and "No job 'nosuchjob' in history" in err
    code, out, _ = run_cli(capsys, "export", "--task", "upscale", "--out", str(tmp_path / "o"))
    assert code == 0 and "No jobs match" in out
    blocker = tmp_path / "file"
    blocker.write_text("x")
    job = local_job(capsys, make_image(tmp_path / "a.png"), "factor=2")
    code, _, err = run_cli(capsys, "export", job["id"], "--out", str(blocker))
    assert code == 2 and "is a file, not a folder" in err


def test_ctrl_c_stops_between_files_and_leaves_only_whole_ones(home: Path,
                                                                tmp_path: Path) -> None:
    lib = library(home)
    job = lib.job(provider="local", task="upscale",
                  inputs={"image": [("big.png", photo((400, 300), seed=1))]},
                  outputs=[photo((2400, 1800), seed=20 + i, fmt="JPEG") for i in range(8)])
    out_dir = tmp_path / "out"
    env = {**os.environ, "RESTYLE_HOME": str(home), "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "desktop.cli", "export", job.id, "--all-outputs", "--out",
            str(out_dir), "--format", "webp", "--quality", "90", "--json"]
    proc = subprocess.Popen(with_default_sigint(argv), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if out_dir.is_dir() and any(p.suffix == ".webp" for p in out_dir.iterdir()):
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    data = json.loads(out)
    written = [Path(w["path"]) for w in data["written"]]
    assert 1 <= len(written) < 8 and data["cancelled"] is True
    assert sorted(out_dir.iterdir()) == sorted(written)  # nothing else: no half or temp file
    for path in written:
        assert decode(path).size == (2400, 1800)
    assert "Interrupted" in err and "Traceback" not in err
