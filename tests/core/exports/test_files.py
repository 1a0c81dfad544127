"""Exporting jobs from a real History and asset store to files: formats, sizes, names, listing
sets, composites, skips, hooks, overwrite, cancel and interrupted writes."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop.core.exports import composites, files
from desktop.core.exports.composites import ListingLabel
from desktop.core.exports.files import ExportedImage, ExportOptions, export_jobs
from desktop.core.model import InvalidInput, Job, JobState, OutputKind
from tests.core.exports.library import Library, decode, photo, solid


@pytest.fixture
def lib(tmp_path: Path) -> Library:
    return Library(tmp_path / "library")


def staging_job(lib: Library, variations: int = 3, size: tuple[int, int] = (960, 720),
                given: str = "/home/ana/Listings/12 Elm St/living room.jpg",
                before: bytes | None = None) -> Job:
    before = before or photo((640, 480), seed=1, fmt="JPEG")
    return lib.job(inputs={"room": [(given, before)]},
                   outputs=[(photo(size, seed=10 + i), f"modern variation {i + 1}")
                            for i in range(variations)])


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def run(lib: Library, jobs: list[Job], folder: Path, **options: object) -> files.ExportReport:
    return export_jobs(jobs, folder, ExportOptions(**options), lib.sources())  # type: ignore[arg-type]


def test_first_output_as_png_keeps_the_providers_bytes(lib: Library, tmp_path: Path) -> None:
    job = staging_job(lib)
    report = run(lib, [job], tmp_path / "out")
    assert report.complete and len(report.written) == 1
    [written] = report.written
    assert written.path.name == "living room-fake-room_staging-0001abab-modern variation 1.png"
    stored = lib.assets.path_for(job.outputs[0].sha256, job.outputs[0].mime).read_bytes()
    assert written.path.read_bytes() == stored


def test_all_outputs_are_every_variation(lib: Library, tmp_path: Path) -> None:
    job = staging_job(lib)
    report = run(lib, [job], tmp_path / "out", all_outputs=True, template="{variation}")
    assert names(tmp_path / "out") == [f"modern variation {i}.png" for i in (1, 2, 3)]
    assert [w.position for w in report.written] == [0, 1, 2]
    for w, out in zip(report.written, job.outputs, strict=True):
        stored = decode(lib.assets.path_for(out.sha256, out.mime))
        assert np.array_equal(np.asarray(decode(w.path)), np.asarray(stored))


@pytest.mark.parametrize("fmt, pil, ext", [("jpeg", "JPEG", ".jpg"), ("webp", "WEBP", ".webp"),
                                           ("png", "PNG", ".png")])
def test_format_quality_and_longest_side(lib: Library, tmp_path: Path, fmt: str, pil: str,
                                         ext: str) -> None:
    job = staging_job(lib, variations=1, size=(1200, 800))
    low = run(lib, [job], tmp_path / "low", format=fmt, quality=20).written[0].path
    high = run(lib, [job], tmp_path / "high", format=fmt, quality=95).written[0].path
    small = run(lib, [job], tmp_path / "small", format=fmt, max_side=300).written[0].path
    small_low = run(lib, [job], tmp_path / "small-low", format=fmt, max_side=300,
                    quality=20).written[0].path
    for path in (low, high, small, small_low):
        assert path.suffix == ext and decode(path).format == pil
    assert decode(low).size == decode(high).size == (1200, 800)
    assert decode(small).size == (300, 200)
    if fmt == "png":
        assert low.read_bytes() == high.read_bytes()  # lossless: quality means nothing
    else:
        assert low.stat().st_size < 0.6 * high.stat().st_size
        assert small_low.stat().st_size < 0.8 * small.stat().st_size  # resized: quality too
        original = np.asarray(decode(photo((1200, 800), seed=10)), dtype=float)
        err_low = np.abs(np.asarray(decode(low), dtype=float) - original).mean()
        err_high = np.abs(np.asarray(decode(high), dtype=float) - original).mean()
        assert err_low > err_high


def test_failed_running_and_imageless_jobs_are_skipped_with_reasons(lib: Library,
                                                                    tmp_path: Path) -> None:
    good = staging_job(lib, variations=1)
    failed = lib.job(state=JobState.FAILED, error="The service could not read the photo.")
    running = lib.job(state=JobState.RUNNING)
    video = lib.job(outputs=[photo()])
    lib.history.save_job(video.evolve(outputs=(video.outputs[0].__class__(
        0, video.outputs[0].sha256, "video/mp4", 10, kind=OutputKind.VIDEO),)))
    video = lib.history.get(video.id)
    missing = lib.job(outputs=[photo(seed=77)])
    out = missing.outputs[0]
    lib.assets.path_for(out.sha256, out.mime).unlink()
    assert video is not None
    report = run(lib, [good, failed, running, video, missing], tmp_path / "out")
    assert [w.job_id for w in report.written] == [good.id]
    reasons = {s.job_id: s.reason for s in report.skipped}
    assert reasons[failed.id] == "it failed: The service could not read the photo."
    assert reasons[running.id].startswith("it has not finished (running)")
    assert reasons[video.id] == "it has no image output (it made video)."
    assert "missing from Restyle's asset store" in reasons[missing.id]
    assert not report.complete
    assert report.to_dict()["skipped"][0]["output"] is None


def test_listing_set_original_first_then_the_labelled_staged_photo(lib: Library,
                                                                   tmp_path: Path) -> None:
    before = photo((640, 480), seed=3, fmt="JPEG")
    job = staging_job(lib, variations=2, before=before)
    label = ListingLabel(url="https://listings.example/12-elm/original.jpg", qr=True)
    folder = tmp_path / "listing"
    report = run(lib, [job], folder, listing=True, all_outputs=True, format="jpeg",
                 quality=90, label=label)
    assert report.complete
    listed = names(folder)
    assert len(listed) == 4
    for i in range(0, 4, 2):  # sorted, each original comes right before its staged photo
        assert listed[i].endswith("-1-original.jpg") and listed[i + 1].endswith("-2-staged.jpg")
        assert listed[i].removesuffix("-1-original.jpg") == listed[i + 1].removesuffix(
            "-2-staged.jpg")
    assert [w.kind for w in report.written] == ["original", "listing"] * 2
    for w in report.written[::2]:  # the unaltered original: its very bytes and pixels
        assert w.path.read_bytes() == before
        assert np.array_equal(np.asarray(decode(w.path)), np.asarray(decode(before)))
    staged = decode(report.written[1].path)
    output = decode(photo((960, 720), seed=10))
    box = composites.label_box(label.checked(), staged.size)
    diff = np.abs(np.asarray(staged.crop(box), dtype=int) - np.asarray(output.crop(box),
                                                                         dtype=int))
    assert (diff.sum(axis=2) > 60).mean() > 0.5  # the label covers its box
    away = (box[2] + 20, 20, box[2] + 120, 120)
    assert np.abs(np.asarray(staged.crop(away), dtype=int)
                  - np.asarray(output.crop(away), dtype=int)).mean() < 15  # JPEG noise only
    import zxingcpp

    assert [r.text for r in zxingcpp.read_barcodes(staged)] == [label.url]


def test_listing_label_is_drawn_after_the_resize(lib: Library, tmp_path: Path) -> None:
    import zxingcpp

    job = staging_job(lib, variations=1, size=(2400, 1600))
    url = "https://listings.example/12-elm/original.jpg"
    label = ListingLabel(url=url, qr=True, link=False)
    report = run(lib, [job], tmp_path / "out", listing=True, max_side=300, format="png",
                 label=label)
    staged = decode(report.written[1].path)
    assert staged.size == (300, 200)
    # Drawn at 2400 px and shrunk eight times, the type would be 5 px and the code unreadable:
    # drawn at 300 px, the type keeps its readable minimum and the code scans.
    [code] = zxingcpp.read_barcodes(staged)
    assert code.text == url
    box = composites.label_box(label.checked(), staged.size)
    inset = (box[3] - box[1]) // 2
    rows = np.flatnonzero((np.asarray(staged.convert("L").crop(
        (code.position.top_right.x + inset, box[1], box[2] - 4, box[3]))) > 155).any(axis=1))
    assert rows[-1] - rows[0] + 1 >= 0.8 * composites.MIN_TEXT_PX


def test_listing_without_a_stored_original_is_skipped(lib: Library, tmp_path: Path) -> None:
    job = lib.job(outputs=[photo()])  # the provider worked from its own copy
    report = run(lib, [job], tmp_path / "out", listing=True)
    assert report.written == [] and "has no original photo stored" in report.skipped[0].reason


def test_split_composite_with_caption(lib: Library, tmp_path: Path) -> None:
    job = lib.job(inputs={"image": [("before.png", solid((200, 30, 30), (300, 200)))]},
                  outputs=[solid((30, 30, 200), (900, 600))])
    report = run(lib, [job], tmp_path / "out", composite="split", split_at=0.25, caption=True,
                 format="webp", quality=90)
    img = decode(report.written[0].path).convert("RGB")
    band = composites.caption_band_height((900, 600))
    assert img.size == (900, 600 + band) and report.written[0].kind == "composite"
    r, _g, b = img.getpixel((100, 300))
    assert r > 150 and b < 80  # before, left of the cut at 225
    r, _g, b = img.getpixel((600, 300))
    assert b > 150 and r < 80  # after
    grey = np.asarray(img.convert("L").crop((0, 600, 900, 600 + band)))
    assert (grey < 100).sum() > 200  # the caption's text


def test_side_by_side_and_caption_stay_within_the_longest_side(lib: Library,
                                                               tmp_path: Path) -> None:
    job = lib.job(inputs={"image": [("b.png", photo((400, 600), seed=2))]},
                  outputs=[photo((800, 1200), seed=3)])
    side = run(lib, [job], tmp_path / "side", composite="side", caption=True, max_side=500)
    assert max(decode(side.written[0].path).size) <= 500
    tall = run(lib, [job], tmp_path / "tall", caption=True, max_side=500)
    size = decode(tall.written[0].path).size
    assert max(size) == 500 and size[1] == 500  # the band fits in, the picture made room


def test_composite_without_a_before_is_skipped(lib: Library, tmp_path: Path) -> None:
    job = lib.job(outputs=[photo()])
    report = run(lib, [job], tmp_path / "out", composite="side")
    assert report.written == [] and "has no before image stored" in report.skipped[0].reason


@pytest.mark.parametrize("options, message", [
    ({"format": "gif"}, "png, jpeg, webp"),
    ({"quality": 0}, "between 1 and 100"),
    ({"max_side": 10}, "between 64 and 65535"),
    ({"template": "../{input}"}, "may not use '..'"),
    ({"template": "/etc/{input}"}, "absolute"),
    ({"template": "{nope}"}, "unknown field"),
    ({"composite": "grid"}, "none, side, split"),
    ({"split_at": 2.0}, "between 0 and 1"),
    ({"listing": True, "composite": "side"}, "not both"),
    ({"listing": True, "caption": True}, "caption off"),
    ({"listing": True, "label": ListingLabel(qr=True)}, "needs the address"),
])
def test_options_that_cannot_work_write_nothing(lib: Library, tmp_path: Path,
                                                options: dict[str, object], message: str
                                                ) -> None:
    job = staging_job(lib, variations=1)
    with pytest.raises(InvalidInput, match=message):
        run(lib, [job], tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("given, template", [
    ("../../evil.png", "{input}"),
    ("../../evil.png", "{input}/{input}"),
    ("/etc/passwd", "{input}"),
    ("CON", "{input}"),
    ("a:b*?.png", "{input}"),
    ("x" * 300 + ".png", "{input}-{job}"),
    ("...", "{input}"),
    ("/tmp/--help.png", "{input}"),
])
def test_hostile_input_names_stay_in_the_folder(lib: Library, tmp_path: Path, given: str,
                                                template: str) -> None:
    job = staging_job(lib, variations=1, given=given)
    folder = tmp_path / "box" / "out"
    report = run(lib, [job], folder, template=template)
    [written] = report.written
    assert written.path.resolve().is_relative_to(folder.resolve())
    assert written.path.exists() and decode(written.path).size == (960, 720)
    everything = {p for p in (tmp_path / "box").rglob("*")}
    assert all(p.resolve().is_relative_to(folder.resolve()) for p in everything if p != folder)
    name = written.path.name
    assert len(name.encode()) <= 255 and not name.startswith(("-", "."))
    assert name.split(".")[0].upper() not in ("CON", "PRN", "AUX", "NUL")


def test_never_overwrites_unless_asked(lib: Library, tmp_path: Path) -> None:
    job = staging_job(lib, variations=1)
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "room.png").write_bytes(b"the user's own file")
    first = run(lib, [job], folder, template="room")
    assert first.written[0].path.name == "room (2).png"
    assert (folder / "room.png").read_bytes() == b"the user's own file"
    replaced = run(lib, [job], folder, template="room", overwrite=True)
    assert replaced.written[0].path == folder / "room.png"
    assert decode(folder / "room.png").size == (960, 720)
    assert names(folder) == ["room (2).png", "room.png"]


def test_a_name_taken_while_writing_is_not_overwritten(lib: Library, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    job = staging_job(lib, variations=1)
    real_publish = files.publish
    raced: list[Path] = []

    def publish(path: Path, data: bytes, *, overwrite: bool) -> None:
        if not raced:  # another program creates the very name between check and write
            raced.append(path)
            path.write_bytes(b"another program's file")
        real_publish(path, data, overwrite=overwrite)

    monkeypatch.setattr(files, "publish", publish)
    report = run(lib, [job], tmp_path / "out", template="room")
    assert raced[0].read_bytes() == b"another program's file"
    assert report.written[0].path.name == "room (2).png"
    assert names(tmp_path / "out") == ["room (2).png", "room.png"]


def test_names_are_unique_within_one_run_and_count(lib: Library, tmp_path: Path) -> None:
    jobs = [staging_job(lib, variations=2) for _ in range(2)]
    report = run(lib, jobs, tmp_path / "out", all_outputs=True, template="{provider}")
    assert [w.path.name for w in report.written] == [
        "fake.png", "fake (2).png", "fake (3).png", "fake (4).png"]
    counted = run(lib, jobs, tmp_path / "n", all_outputs=True, template="{n}-{variation}")
    assert [w.path.name for w in counted.written] == [
        "001-modern variation 1.png", "002-modern variation 2.png",
        "003-modern variation 1.png", "004-modern variation 2.png"]


def test_template_subfolders(lib: Library, tmp_path: Path) -> None:
    job = staging_job(lib, variations=1)
    report = run(lib, [job], tmp_path / "out", template="{provider}/{task}/{input}")
    assert report.written[0].path == tmp_path / "out" / "fake" / "room_staging" / (
        "living room.png")


def test_cancel_between_files_leaves_only_complete_files(lib: Library, tmp_path: Path) -> None:
    job = staging_job(lib, variations=5)
    seen: list[tuple[int, int, str]] = []
    folder = tmp_path / "out"

    def cancelled() -> bool:
        return len(seen) >= 2

    report = export_jobs([job], folder, ExportOptions(all_outputs=True, format="jpeg"),
                         lib.sources(), progress=lambda *a: seen.append(a),
                         cancelled=cancelled)
    assert report.cancelled and not report.complete and len(report.written) == 2
    assert [s[:2] for s in seen] == [(1, 5), (2, 5)]
    assert names(folder) == sorted(w.path.name for w in report.written)  # no temporary files
    for w in report.written:
        assert decode(w.path).size == (960, 720)


def test_an_interrupted_write_leaves_no_file_at_all(lib: Library, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    job = staging_job(lib, variations=3)
    real_fsync = os.fsync
    calls = []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl+C while the second file is on its way to disk
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    folder = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run(lib, [job], folder, all_outputs=True, format="webp")
    [only] = list(folder.iterdir())
    assert decode(only).size == (960, 720)


def test_a_full_disk_stops_the_run_with_a_sentence(lib: Library, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    job = staging_job(lib, variations=3)
    real_fsync = os.fsync
    calls = []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) >= 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    folder = tmp_path / "out"
    report = run(lib, [job], folder, all_outputs=True)
    assert len(report.written) == 1 and report.stopped is not None
    assert "No space left on device" in report.stopped and "after 1 files" in report.stopped
    assert names(folder) == [report.written[0].path.name]


def test_stamp_and_extra_files_hooks(lib: Library, tmp_path: Path) -> None:
    job = staging_job(lib, variations=2)
    stamped: list[tuple[str, str, int]] = []
    seen: list[ExportedImage] = []

    def stamp(data: bytes, fmt: str, stamped_job: Job, position: int) -> bytes:
        stamped.append((fmt, stamped_job.id, position))
        img = decode(data)
        buf = io.BytesIO()
        img.save(buf, "PNG", pnginfo=_info(f"{stamped_job.id}:{position}"))
        return buf.getvalue()

    def extra(image: ExportedImage) -> dict[str, bytes]:
        seen.append(image)
        return {".json": hashlib.sha256(image.data).hexdigest().encode()}

    folder = tmp_path / "out"
    report = export_jobs([job], folder, ExportOptions(all_outputs=True, listing=True),
                         lib.sources(), stamp=stamp, extra_files=extra)
    assert stamped == [("png", job.id, 0), ("png", job.id, 1)]  # never the original
    assert [i.kind for i in seen] == ["original", "listing"] * 2
    for w in report.written:
        [sidecar] = w.extra
        assert sidecar.name == w.path.name + ".json"
        assert sidecar.read_bytes() == hashlib.sha256(w.path.read_bytes()).hexdigest().encode()
        if w.kind == "listing":
            assert Image.open(w.path).text["restyle"] == f"{job.id}:{w.position}"
    assert len(names(folder)) == 8
    with pytest.raises(ValueError, match="suffix"):
        export_jobs([job], tmp_path / "bad", ExportOptions(), lib.sources(),
                    extra_files=lambda image: {"/../../x": b""})


def test_ratings_and_batches_reach_the_names(lib: Library, tmp_path: Path) -> None:
    from desktop.core.reviews import Review, Verdict

    job = staging_job(lib, variations=2)
    ratings = {(job.id, 0): [Review(job.id, 0, "ana", Verdict.PASS, 4)],
               (job.id, 1): [Review(job.id, 1, "ana", Verdict.FAIL, 1)]}
    sources = lib.sources(ratings=ratings, batches={job.id: "Spring/listings"})
    report = export_jobs([job], tmp_path / "out",
                         ExportOptions(all_outputs=True, template="{batch}-{rating}"), sources)
    assert [w.path.name for w in report.written] == [
        "Spring_listings-pass-4star.png", "Spring_listings-fail-1star.png"]


def _info(text: str) -> object:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("restyle", text)
    return info


def test_out_of_memory_and_a_link_out_of_the_folder_skip_that_output(
        lib: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    job = lib.job(inputs={"image": [("b.png", photo(seed=4))]}, outputs=[photo(seed=5)])
    other = lib.job(inputs={"image": [("c.png", photo(seed=6))]}, outputs=[photo(seed=7)])
    calls: list[int] = []
    real = composites.side_by_side

    def side_by_side(before: Image.Image, after: Image.Image) -> Image.Image:
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError
        return real(before, after)

    monkeypatch.setattr(files.composites, "side_by_side", side_by_side)
    report = run(lib, [job, other], tmp_path / "out", composite="side")
    assert [w.job_id for w in report.written] == [other.id]
    assert report.skipped[0].job_id == job.id
    assert report.skipped[0].reason.startswith("there is not enough memory to make it")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    folder = tmp_path / "linked"
    folder.mkdir()
    os.symlink(outside, folder / "fake")
    report = run(lib, [job], folder, template="{provider}/{input}")
    assert report.written == [] and "would be written outside" in report.skipped[0].reason
    assert list(outside.iterdir()) == []
