"""restyle-cli import, report and lookbook: exit codes, JSON and files, on real jobs run by
the offline provider in one RESTYLE_HOME and imported into a second one."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from desktop.core.exports.bundle import write_bundle
from desktop.services import Services
from tests.core.exports.support import garment, person
from tests.test_cli import run_cli


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run_cli(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def jobs(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Two try-ons of one person and an upscale, reviewed, in the first home."""
    ana = person(tmp_path / "ana.png", (40, 90, 160))
    made = [run_json(capsys, "run", "--provider", "local", "--task", "tryon", "--person",
                     str(ana), "--garment", str(garment(tmp_path / f"{name}.png", colour)))
            for name, colour in (("red dress", (200, 30, 40)), ("green top", (30, 150, 60)))]
    made.append(run_json(capsys, "run", "--provider", "local", "--task", "upscale", "--image",
                         str(ana)))
    code, _, err = run_cli(capsys, "review", made[0]["id"], "--fail", "--stars", "2",
                           "--note", "=SUM(A1:A9)", "--reviewer", "ana")
    assert code == 0, err
    return made


def bundle(home: Path, job_ids: list[str], path: Path) -> Path:
    services = Services.open(home)
    try:
        jobs = [services.history.get(i) for i in job_ids]
        write_bundle([j for j in jobs if j is not None], services.history, services.assets,
                     services.review_store(), path)
    finally:
        services.close()
    return path


def test_import_adds_a_bundle_to_another_home_once(
        home: Path, tmp_path: Path, jobs: list[dict[str, Any]],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = bundle(home, [j["id"] for j in jobs], tmp_path / "handover.zip")
    other = tmp_path / "other-home"
    monkeypatch.setenv("RESTYLE_HOME", str(other))
    data = run_json(capsys, "import", str(path))
    assert sorted(data["imported"]) == sorted(j["id"] for j in jobs)
    assert data["already_present"] == [] and data["reviews"] == 1 and data["unfinished"] == []
    assert sorted(j["id"] for j in data["jobs"]) == sorted(j["id"] for j in jobs)
    for job in data["jobs"]:
        [out] = job["outputs"]
        assert Path(out["path"]).is_file() and str(out["path"]).startswith(str(other))
        original = next(j for j in jobs if j["id"] == job["id"])
        assert out["sha256"] == original["outputs"][0]["sha256"]
        assert Path(out["path"]).read_bytes() == Path(original["outputs"][0]["path"]).read_bytes()
    shown = run_json(capsys, "show", jobs[0]["id"])
    assert [(r["reviewer"], r["verdict"], r["note"]) for r in shown["reviews"]] == [
        ("ana", "fail", "=SUM(A1:A9)")]

    code, out, err = run_cli(capsys, "import", str(path))
    assert code == 2 and out == ""
    assert err == ("restyle-cli: handover.zip cannot be imported: all 3 of its jobs are already "
                   "in your history; nothing was changed.\n")
    assert len(run_json(capsys, "jobs")) == 3


def test_import_refuses_what_is_not_a_bundle(home: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "photo.zip").write_bytes(b"\x89PNG\r\n\x1a\nnot a zip")
    code, out, err = run_cli(capsys, "import", str(tmp_path / "photo.zip"))
    assert (code, out) == (2, "")
    assert "photo.zip cannot be imported: it is not a zip file. Choose a Restyle bundle" in err
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("../../outside.txt", "x")
    code, _, err = run_cli(capsys, "import", str(tmp_path / "evil.zip"))
    assert code == 2 and "climbs out of the bundle with '..'" in err
    code, _, err = run_cli(capsys, "import", str(tmp_path / "missing.zip"))
    assert code == 2 and "missing.zip cannot be imported: it cannot be opened" in err
    assert run_json(capsys, "jobs") == []
    assert not (tmp_path / "outside.txt").exists() and not (home.parent / "outside.txt").exists()


def test_report_writes_html_or_csv_from_filters_or_ids(
        home: Path, tmp_path: Path, jobs: list[dict[str, Any]],
        capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "report", "--out", str(tmp_path / "all.csv"))
    assert data == {"format": "csv", "jobs": 3, "providers": True,
                    "files": [str(tmp_path / "all.csv"), str(tmp_path / "all-providers.csv")]}
    with (tmp_path / "all.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["job_id"] for r in rows) == sorted(j["id"] for j in jobs)
    assert next(r for r in rows if r["job_id"] == jobs[0]["id"])["notes"] == "'=SUM(A1:A9)"

    code, out, err = run_cli(capsys, "report", "--task", "tryon", "--out",
                             str(tmp_path / "tryons.html"))
    assert code == 0, err
    assert out == f"Report of 2 jobs written to {tmp_path / 'tryons.html'}.\n"
    html = (tmp_path / "tryons.html").read_text(encoding="utf-8")
    assert jobs[0]["id"] in html and jobs[1]["id"] in html and jobs[2]["id"] not in html

    data = run_json(capsys, "report", jobs[2]["id"][:8], "--out", str(tmp_path / "one.csv"))
    assert (data["jobs"], data["providers"]) == (1, False)

    refusals = [
        (["--out", str(tmp_path / "r.pdf")], "a report is written as HTML or CSV"),
        (["--out", str(tmp_path / "r")], "a report is written as HTML or CSV"),
        ([jobs[0]["id"], "--task", "tryon", "--out", str(tmp_path / "x.csv")],
         "Give job ids or filters, not both."),
        (["--task", "nothing", "--out", str(tmp_path / "x.csv")], "No jobs match"),
        (["ffffffff", "--out", str(tmp_path / "x.csv")], "No job 'ffffffff'"),
    ]
    for argv, needle in refusals:
        code, _, err = run_cli(capsys, "report", *argv)
        assert code == 2 and needle in err, (argv, err)
    assert not (tmp_path / "r.pdf").exists() and not (tmp_path / "x.csv").exists()


def test_lookbook_writes_a_pdf_or_png_pages(home: Path, tmp_path: Path,
                                            jobs: list[dict[str, Any]],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "lookbook", "--out", str(tmp_path / "book.pdf"))
    assert (data["pages"], data["looks"], data["persons"]) == (1, 2, [{"name": "ana",
                                                                        "pages": 1}])
    assert data["skipped"] == [{"job_id": jobs[2]["id"], "reason": "local/upscale is not a "
                                "try-on (it has no person and garment inputs)"}]
    assert (tmp_path / "book.pdf").read_bytes().startswith(b"%PDF-")
    code, out, err = run_cli(capsys, "lookbook", "--task", "tryon", "--portrait", "--out",
                             str(tmp_path / "pages"))
    assert code == 0, err
    assert out == f"Lookbook of 2 looks on 1 page written to {tmp_path / 'pages'}.\n"
    assert [p.name for p in (tmp_path / "pages").iterdir()] == ["lookbook-01.png"]
    code, _, err = run_cli(capsys, "lookbook", jobs[2]["id"], "--out", str(tmp_path / "u.pdf"))
    assert code == 2 and "None of the jobs chosen is a try-on with a result" in err
    code, _, err = run_cli(capsys, "lookbook", "--out", str(tmp_path / "page.png"))
    assert code == 2 and "a lookbook is written as a .pdf file or into a folder" in err
