"""Reports of a real history: the CSV parsed with the csv module, the HTML checked for every
job, decodable thumbnails and no reference to anything outside the file."""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from desktop.core.exports.report import write_report
from desktop.core.exports.report_csv import CSV_COLUMNS, PROVIDER_COLUMNS, safe_cell
from desktop.core.model import InvalidInput
from tests.core.exports.support import FORMULA_NOTE, FORMULA_REVIEWER, Sample, sample


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    result = sample(tmp_path_factory.mktemp("reports"))
    yield result
    result.place.close()


def write(made: Sample, path: Path, jobs: list | None = None) -> list[Path]:  # type: ignore[type-arg]
    p = made.place
    return list(write_report(jobs if jobs is not None else made.jobs, p.history, p.assets,
                             p.reviews, path).files)


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        assert reader.fieldnames is not None
        fields = list(reader.fieldnames)
    assert fields in (list(CSV_COLUMNS), list(PROVIDER_COLUMNS))
    return rows


def test_csv_has_a_row_per_output_and_every_job(made: Sample, tmp_path: Path) -> None:
    files = write(made, tmp_path / "report.csv")
    assert files == [tmp_path / "report.csv", tmp_path / "report-providers.csv"]
    rows = read_csv(files[0])
    assert {r["job_id"] for r in rows} == {j.id for j in made.jobs}
    assert len(rows) == sum(max(1, len(j.outputs)) for j in made.jobs)
    first = next(r for r in rows if r["job_id"] == made.tryons[0].id)
    assert (first["provider"], first["task"], first["state"], first["output"]) == (
        "local", "tryon", "succeeded", "1")
    assert first["inputs"] == "garment: red dress.png; person: ana.png"
    assert first["parameters"] == '{"scale": 1.0, "shadow": true}'
    assert (first["reviewers"], first["verdicts"], first["stars"], first["tags"],
            first["notes"]) == ("ana; ben", "pass; fail", "5; 2", "artifacts; pose changed",
                                "crisp; stiff")
    out = made.tryons[0].outputs[0]
    assert (first["output_sha256"], first["output_size"], first["output_mime"]) == (
        out.sha256, f"{out.width}x{out.height}", "image/png")
    assert float(first["duration_s"]) == made.tryons[0].duration_ms / 1000  # type: ignore[operator]
    echo = next(r for r in rows if r["job_id"] == made.echo.id)
    assert (echo["job_credits"], echo["output_credits"]) == ("1.0", "1.0")
    linked = next(r for r in rows if r["job_id"] == made.linked.id)
    assert linked["output"] == "" and linked["state"] == "failed"
    assert linked["error"].startswith("job_failed: Upstream said no")
    assert "pw@" not in linked["inputs"] and "abc123" not in linked["inputs"]


def test_csv_cells_cannot_run_as_formulas(made: Sample, tmp_path: Path) -> None:
    [path, providers] = write(made, tmp_path / "report.csv")
    rows = read_csv(path)
    ben = next(r for r in rows if r["job_id"] == made.tryons[2].id)
    assert ben["notes"] == "'" + FORMULA_NOTE
    assert ben["reviewers"] == "'" + FORMULA_REVIEWER
    assert ben["tags"] == "'-cropped"
    for table in (rows, read_csv(providers)):
        for row in table:
            for value in row.values():
                assert not value.lstrip().startswith(("=", "+", "-", "@")), value
                assert not value.startswith(("\t", "\r")), value
    assert safe_cell(" =1+1") == "' =1+1" and safe_cell("\t=x") == "'\t=x"
    assert safe_cell(-3.5) == -3.5 and safe_cell("ok") == "ok"


def test_the_provider_summary_comes_with_reviews_only(made: Sample, tmp_path: Path) -> None:
    [_, providers] = write(made, tmp_path / "r.csv")
    rows = read_csv(providers)
    overall = {r["provider"]: r for r in rows if r["task"] == "all"}
    assert set(overall) == {"local", "fake"}
    assert (overall["fake"]["votes"], overall["fake"]["wins"]) == ("2", "1")
    assert overall["local"]["reviews"] == "4"
    assert any(r["provider"] == "local" and r["task"] == "tryon" for r in rows)
    # No review and no vote: no summary, and no second file.
    files = write(made, tmp_path / "plain.csv", [made.upscale])
    assert files == [tmp_path / "plain.csv"]
    assert not (tmp_path / "plain-providers.csv").exists()


def thumbnails(html: str) -> list[Image.Image]:
    images = []
    for mime, data in re.findall(r'<img src="data:(image/(?:png|jpeg));base64,([^"]+)"', html):
        img = Image.open(io.BytesIO(base64.b64decode(data, validate=True)))
        img.load()
        assert img.format == {"image/png": "PNG", "image/jpeg": "JPEG"}[mime]
        images.append(img)
    return images


def test_html_holds_every_job_with_thumbnails_and_nothing_from_outside(
        made: Sample, tmp_path: Path) -> None:
    [path] = write(made, tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    for job in made.jobs:
        assert f'id="job-{job.id}"' in html and f'href="#job-{job.id}"' in html
    pictures = thumbnails(html)
    inputs = sum(len(shas) for j in made.jobs for shas in j.inputs.values())
    outputs = sum(len(j.outputs) for j in made.jobs)
    assert len(pictures) == inputs + outputs
    assert all(max(p.size) <= 360 for p in pictures)
    assert any(max(p.size) == 360 for p in pictures)  # results, downscaled
    # No reference to anything outside the file, of any kind (data: payloads left out of the
    # search: base64 could spell anything).
    bare = re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "data:", html)
    attributes = r"""\b(src|href|srcset|action|data|poster|background)\s*=\s*["']?([^"'\s>]*)"""
    found = re.findall(attributes, bare, re.IGNORECASE)
    assert len(found) >= len(pictures) + len(made.jobs)
    for attr, value in found:
        assert value.startswith(("data:", "#")), (attr, value)
    lowered = bare.lower()
    for bad in ("http://", "https://", "@import", "<script", "<link", "<iframe", "<object",
                "<embed", "//cdn", "@font-face"):
        assert bad not in lowered, bad
    assert all(m.startswith("data:") for m in re.findall(r"url\(\s*['\"]?([^)'\"]*)", bare))
    assert "default-src 'none'" in html  # and the browser is told to load nothing
    # Texts are escaped: a note is shown, never run; the signed URL shows masked.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "https&#58;//[REDACTED]@cdn.example/a/photo.jpg?sig=[REDACTED]" in html.replace(
        "&amp;", "&")
    assert "abc123" not in html and "s3cret" not in html
    # Readable printed: print rules, and a job is never split across pages.
    assert "@media print" in html and "@page" in html and "break-inside: avoid" in html
    # The provider summary, with both providers.
    assert "<h2>Providers</h2>" in html
    assert "<td>fake</td>" in html and "<td>local</td>" in html


def test_reports_refuse_other_formats_and_an_empty_selection(made: Sample,
                                                              tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="a report is written as HTML or CSV"):
        write(made, tmp_path / "report.pdf")
    with pytest.raises(InvalidInput, match="the selection is empty"):
        write(made, tmp_path / "report.csv", [])
    assert list(tmp_path.iterdir()) == []
