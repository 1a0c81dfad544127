"""Job bundles: written from a real history, imported into a fresh one, and hostile bundles
refused with a sentence and nothing written."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from desktop.core.exports import bundle_import as bundle_module
from desktop.core.exports import safe_zip
from desktop.core.exports.bundle import import_bundle, write_bundle
from desktop.core.exports.safe_zip import ZipCaps
from desktop.core.model import ErrorCode, InvalidInput, Job, JobSpec, JobState
from desktop.core.store.imports import add_imported
from tests.core.exports.support import Place, Sample, sample


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    result = sample(tmp_path_factory.mktemp("bundles"))
    yield result
    result.place.close()


@pytest.fixture
def fresh(tmp_path: Path, history_target: Path | str) -> Iterator[Place]:
    """The machine a bundle is imported on: a desk (SQLite), then a team (PostgreSQL)."""
    place = Place.at(tmp_path / "machine-b", history_target)
    yield place
    place.close()


def bundle_of(made: Sample, jobs: Job | list[Job], path: Path) -> Path:
    p = made.place
    write_bundle(jobs, p.history, p.assets, p.reviews, path)
    return path


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rezip(path: Path, files: dict[str, bytes], *, fix_manifest: bool = True,
          infos: dict[str, zipfile.ZipInfo] | None = None) -> Path:
    """Write `files` as a zip; with `fix_manifest`, the manifest lists them with their real
    hashes (a forger who knows the format)."""
    files = dict(files)
    if fix_manifest:
        manifest = json.loads(files["manifest.json"])
        manifest["members"] = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                               for n, d in files.items() if n != "manifest.json"}
        files["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr((infos or {}).get(name) or name, data)
    return path


def png(size: tuple[int, int] = (32, 32), mode: str = "RGB", colour: Any = (9, 9, 9)) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, colour).save(buf, "PNG")
    return buf.getvalue()


def nothing_written(place: Place) -> None:
    assert place.history.count() == 0
    assert place.reviews.all() == [] and place.reviews.votes() == []
    assert place.asset_files() == []


# -- the round trip ----------------------------------------------------------------------------
def test_a_bundle_holds_the_job_its_files_and_reviews_and_imports_as_it_was(
        made: Sample, fresh: Place, tmp_path: Path) -> None:
    job = made.tryons[0]
    path = bundle_of(made, job, tmp_path / "look.zip")
    files = members(path)
    assert sorted(files) == ["inputs/garment/red dress.png", "inputs/person/ana.png",
                             "job.json", "manifest.json", "outputs/1.png", "reviews.json"]
    manifest = json.loads(files["manifest.json"])
    assert (manifest["format"], manifest["version"]) == ("restyle-bundle", 1)
    assert manifest["jobs"] == [{"id": job.id, "job": "job.json"}]
    for name, data in files.items():
        if name != "manifest.json":
            assert manifest["members"][name]["sha256"] == hashlib.sha256(data).hexdigest()
    source = made.place
    assert files["outputs/1.png"] == source.assets.read(source.history.asset(
        job.outputs[0].sha256))  # type: ignore[arg-type]

    result = import_bundle(path, fresh.history, fresh.assets, fresh.reviews)
    assert result.imported == [job.id] and result.already_present == [] and not result.renamed
    assert result.reviews == 2 and result.assets_added == 3
    # Its votes compare it with jobs this history does not have.
    assert result.votes == 0 and result.votes_skipped == 2
    got = fresh.history.get(job.id)
    assert got is not None
    for name in ("id", "provider", "task", "state", "created_at", "updated_at", "started_at",
                 "finished_at", "submitted_at", "cost_credits", "remote_id", "attempts", "note",
                 "inputs", "outputs", "error", "favorite"):
        assert getattr(got, name) == getattr(job, name), name
    assert got.spec.params == job.spec.params
    assert (got.owner, got.lease_until) == (None, None)
    for o in got.outputs:
        assert fresh.assets.read(fresh.history.asset(o.sha256)) == source.assets.read(  # type: ignore[arg-type]
            source.history.asset(o.sha256))  # type: ignore[arg-type]
    # Its inputs point at their copies here: re-run and reuse read them from there.
    for role, sources in got.spec.inputs.items():
        [sha] = got.inputs[role]
        assert sources == [str(fresh.assets.path_for(sha, "image/png"))]
        assert Path(sources[0]).read_bytes() == source.assets.read(source.history.asset(sha))  # type: ignore[arg-type]
    key = lambda r: (r.reviewer, r.position)  # noqa: E731
    assert sorted(fresh.reviews.for_jobs([job.id]), key=key) == sorted(
        source.reviews.for_jobs([job.id]), key=key)


def test_several_jobs_travel_with_their_votes(made: Sample, fresh: Place,
                                              tmp_path: Path) -> None:
    chosen = [*made.tryons, made.echo]
    path = bundle_of(made, chosen, tmp_path / "batch.zip")
    files = members(path)
    for job in chosen:
        assert f"jobs/{job.id}/job.json" in files and f"jobs/{job.id}/outputs/1.png" in files
    # Ana's photo, used by two try-ons, is stored once; the second job names that member.
    first, second = (json.loads(files[f"jobs/{j.id}/job.json"]) for j in made.tryons[:2])
    stored = f"jobs/{made.tryons[0].id}/inputs/person/ana.png"
    assert first["inputs"]["person"][0]["member"] == stored
    assert second["inputs"]["person"][0]["member"] == stored
    assert not any(n.startswith(f"jobs/{made.tryons[1].id}/inputs/person") for n in files)
    result = import_bundle(path, fresh.history, fresh.assets, fresh.reviews)
    assert sorted(result.imported) == sorted(j.id for j in chosen)
    assert result.votes == 3 and result.votes_skipped == 0 and result.reviews == 4
    assert sorted((v.left_job, v.right_job, v.outcome) for v in fresh.reviews.votes()) == sorted(
        (v.left_job, v.right_job, v.outcome) for v in made.place.reviews.votes())
    # The same person photo is stored once however many jobs use it.
    assert result.assets_added == len({s for j in chosen for shas in j.inputs.values()
                                       for s in shas} | {o.sha256 for j in chosen
                                                        for o in j.outputs})


def test_job_json_leaves_out_the_machine_and_its_secrets(made: Sample, tmp_path: Path) -> None:
    path = bundle_of(made, made.linked, tmp_path / "linked.zip")
    files = members(path)
    text = files["job.json"].decode()
    data = json.loads(text)
    for secret in ("pw@", "abc123", "s3cret", "zzz", "k-123456", "/sources/", str(tmp_path)):
        assert secret not in text, secret
    assert "owner" not in data and "lease_until" not in data and "cancel_requested" not in data
    [entry] = data["inputs"]["image"]
    assert entry["source"] == ("https://[REDACTED]@cdn.example/a/photo.jpg?sig=[REDACTED]&w=1")
    assert entry["name"] == "photo.png" and entry["member"] == "inputs/image/photo.png"
    assert data["remote_data"] == {"status_url": "https://api.example/jobs/7?"
                                                 "X-Amz-Signature=[REDACTED]",
                                   "api_key": "[REDACTED]"}
    # Local inputs keep their file name only.
    tryon = json.loads(members(bundle_of(made, made.tryons[0], tmp_path / "t.zip"))["job.json"])
    assert [e["source"] for e in tryon["inputs"]["person"]] == ["ana.png"]


def test_a_job_that_had_not_ended_is_imported_as_failed_and_never_followed(
        made: Sample, fresh: Place, tmp_path: Path) -> None:
    running = made.tryons[1].evolve(id="running000000000000000000000000", state=JobState.RUNNING,
                                    remote_data={"status_url": "/jobs/1"}, progress=0.4,
                                    finished_at=None, owner="restyle-cli run on studio")
    files = members(bundle_of(made, made.tryons[1], tmp_path / "r.zip"))
    data = json.loads(files["job.json"])
    data.update(id=running.id, state="running", remote_data={"status_url": "/jobs/1"},
                progress=0.4, finished_at=None)
    files["job.json"] = json.dumps(data).encode()
    files["reviews.json"] = b'{"reviews": [], "votes": []}'
    result = import_bundle(rezip(tmp_path / "running.zip", files), fresh.history, fresh.assets,
                           fresh.reviews)
    assert result.unfinished == [running.id]
    got = fresh.history.get(running.id)
    assert got is not None and got.state == JobState.FAILED
    assert got.error is not None and got.error.code == ErrorCode.RESULT_UNAVAILABLE
    assert "still running on the machine that sent it" in got.error.message
    assert "never sent again" in got.error.message
    assert got.remote_data == {} and got.owner is None and got.outputs  # its result is kept
    assert fresh.history.unfinished() == []  # nothing for an engine to resume or resubmit


def test_an_id_taken_by_another_job_gets_a_new_id(made: Sample, fresh: Place,
                                                  tmp_path: Path) -> None:
    job = made.tryons[0]
    other = made.upscale.evolve(id=job.id, inputs={}, outputs=(),
                                spec=JobSpec("local", "upscale"))
    fresh.history.save_job(other)
    result = import_bundle(bundle_of(made, job, tmp_path / "b.zip"), fresh.history,
                           fresh.assets, fresh.reviews)
    new_id = result.renamed[job.id]
    assert result.imported == [new_id] and new_id != job.id
    assert fresh.history.get(job.id).task == "upscale"  # type: ignore[union-attr]
    assert fresh.history.get(new_id).task == "tryon"  # type: ignore[union-attr]
    assert {r.job_id for r in fresh.reviews.all()} == {new_id}


# -- refusals ----------------------------------------------------------------------------------
def test_importing_the_same_bundle_twice_changes_nothing(made: Sample, fresh: Place,
                                                         tmp_path: Path) -> None:
    path = bundle_of(made, made.tryons[0], tmp_path / "b.zip")
    import_bundle(path, fresh.history, fresh.assets, fresh.reviews)
    before = (fresh.asset_files(), fresh.reviews.all(), fresh.history.list())
    with pytest.raises(InvalidInput) as refused:
        import_bundle(path, fresh.history, fresh.assets, fresh.reviews)
    assert str(refused.value) == (f"b.zip cannot be imported: its job {made.tryons[0].id} "
                                  "(local/tryon) is already in your history; nothing was "
                                  "changed.")
    assert (fresh.asset_files(), fresh.reviews.all(), fresh.history.list()) == before


def _edit_job(key: str, value: Any) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    def edit(files: dict[str, bytes]) -> dict[str, bytes]:
        data = json.loads(files["job.json"])
        target: Any = data
        *path, last = key.split(".")
        for part in path:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value
        files["job.json"] = json.dumps(data).encode()
        return files
    return edit


def _replace(name: str, data: bytes) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    def edit(files: dict[str, bytes]) -> dict[str, bytes]:
        files[name] = data
        return files
    return edit


def _add(name: str, data: bytes) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    return _replace(name, data)


HOSTILE: list[tuple[str, Callable[[dict[str, bytes]], dict[str, bytes]], bool, str]] = [
    ("climbing member", _add("../evil.png", png()), True,
     "the member ../evil.png climbs out of the bundle with '..'"),
    ("climbing deeper", _add("inputs/person/../../../evil.png", png()), True,
     "climbs out of the bundle with '..'"),
    ("absolute member", _add("/tmp/evil.png", png()), True,
     "the member /tmp/evil.png has an absolute path"),
    ("drive letter", _add("C:/evil.png", png()), True, "has an absolute path"),
    ("backslashes", _add("inputs\\..\\evil.png", png()), True, "contains a backslash"),
    ("member not in the manifest", _add("outputs/9.png", png()), False,
     "it holds outputs/9.png, which its manifest does not list"),
    ("changed after it was made", _replace("outputs/1.png", png((64, 64))), False,
     "the content of outputs/1.png does not match the SHA-256 in its manifest"),
    ("an output that is no image", _replace("outputs/1.png", b"<html>gotcha</html>"), True,
     "result 1 is not an image Restyle accepts: outputs/1.png could not be read as an image: "
     "it is a web page (HTML)"),
    ("an input that is no image", _replace("inputs/person/ana.png", b"MZ\x90\x00binary"), True,
     "the person input ana.png is not an image Restyle accepts: inputs/person/ana.png is not "
     "an image Restyle can read"),
    ("a truncated input", _replace("inputs/person/ana.png", png((64, 64))[:-40]), True,
     "inputs/person/ana.png is truncated or damaged"),
    ("a decompression bomb input", _replace("inputs/person/ana.png",
                                            png((9000, 9000), "1", 0)), True,
     "inputs/person/ana.png has 81 megapixels (9000x9000), more than the 64-megapixel limit"),
    ("a decompression bomb result", _replace("outputs/1.png", png((17000, 17000), "1", 0)),
     True, "outputs/1.png has 289 megapixels (17000x17000), more than the 270-megapixel limit"),
    ("a climbing input name", _edit_job("inputs.person.0.name", "../../escape.png"), True,
     "the name ../../escape.png is not a plain file name"),
    ("an input member outside the zip", _edit_job("inputs.person.0.member",
                                                  "../../etc/passwd"), True,
     "names the file ../../etc/passwd, which the bundle's manifest does not list"),
    ("an unknown state", _edit_job("state", "exploded"), True, "unknown state exploded"),
    ("a job id that is a path", _edit_job("id", "../../x"), True, "is not an id Restyle makes"),
    ("no manifest", lambda f: {k: v for k, v in f.items() if k != "manifest.json"}, False,
     "it has no manifest.json, so it is not a Restyle bundle"),
    ("a newer format", lambda f: _replace("manifest.json", json.dumps(
        {**json.loads(f["manifest.json"]), "version": 99}).encode())(f), False,
     "it was made by a newer Restyle (bundle format 99"),
    ("NaN in the parameters", _replace("job.json", json.dumps(
        {"id": "x"}).encode().replace(b"}", b', "p": NaN}')), True, "NaN"),
]


@pytest.mark.parametrize(("case", "edit", "fix", "needle"), HOSTILE,
                         ids=[h[0] for h in HOSTILE])
def test_hostile_bundles_are_refused_and_nothing_is_written(
        made: Sample, fresh: Place, tmp_path: Path, case: str,
        edit: Callable[[dict[str, bytes]], dict[str, bytes]], fix: bool, needle: str) -> None:
    files = members(bundle_of(made, made.tryons[0], tmp_path / "good.zip"))
    path = rezip(tmp_path / "bad.zip", edit(files), fix_manifest=fix)
    with pytest.raises(InvalidInput) as refused:
        import_bundle(path, fresh.history, fresh.assets, fresh.reviews)
    message = str(refused.value)
    assert message.startswith("bad.zip cannot be imported: ") and needle in message, message
    assert message.endswith(".") and "Traceback" not in message
    nothing_written(fresh)


def test_a_symbolic_link_member_is_refused(made: Sample, fresh: Place, tmp_path: Path) -> None:
    files = members(bundle_of(made, made.tryons[0], tmp_path / "good.zip"))
    link = zipfile.ZipInfo("outputs/1.png")
    link.create_system = 3
    link.external_attr = 0o120777 << 16
    path = rezip(tmp_path / "bad.zip", {**files, "outputs/1.png": b"/etc/passwd"},
                 infos={"outputs/1.png": link})
    with pytest.raises(InvalidInput, match=r"the member outputs/1\.png is a symbolic link"):
        import_bundle(path, fresh.history, fresh.assets, fresh.reviews)
    nothing_written(fresh)


def test_a_zip_bomb_is_refused_before_it_is_inflated(made: Sample, fresh: Place,
                                                     tmp_path: Path) -> None:
    files = members(bundle_of(made, made.tryons[0], tmp_path / "good.zip"))
    path = rezip(tmp_path / "bomb.zip", {**files, "outputs/2.png": bytes(64 * 1024 * 1024)})
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(InvalidInput, match=r"inflates from .* to 67.1 MB, far more than any "
                                           r"image does \(a zip bomb\)"):
        import_bundle(path, fresh.history, fresh.assets, fresh.reviews)
    nothing_written(fresh)


def test_too_many_members_and_not_a_zip_are_refused(
        made: Sample, fresh: Place, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = bundle_of(made, made.tryons[0], tmp_path / "good.zip")
    with pytest.raises(InvalidInput, match="it has 6 members, more than the 5 a bundle may"):
        import_bundle(path, fresh.history, fresh.assets, fresh.reviews,
                      caps=ZipCaps(max_members=5))
    # Counted from the zip's end record, before its directory is read into memory.
    with monkeypatch.context() as patch:
        patch.setattr(safe_zip.zipfile, "ZipFile", lambda *a, **k: pytest.fail("opened"))
        with pytest.raises(InvalidInput, match="it has 6 members"):
            import_bundle(path, fresh.history, fresh.assets, fresh.reviews,
                          caps=ZipCaps(max_members=5))
    assert safe_zip.member_count(path) == 6
    text = tmp_path / "notes.zip"
    text.write_text("just text")
    with pytest.raises(InvalidInput) as refused:
        import_bundle(text, fresh.history, fresh.assets, fresh.reviews)
    assert str(refused.value) == ("notes.zip cannot be imported: it is not a zip file. Choose a "
                                  "Restyle bundle: a .zip made with Export bundle or "
                                  "`restyle-cli export --bundle`.")
    with pytest.raises(InvalidInput, match="it is not a regular file"):
        import_bundle(tmp_path, fresh.history, fresh.assets, fresh.reviews)
    nothing_written(fresh)


def test_a_failure_while_storing_leaves_no_orphan_files(
        made: Sample, fresh: Place, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = bundle_of(made, made.tryons[0], tmp_path / "b.zip")
    seen: list[int] = []

    def failing(history: Any, *args: Any, **kwargs: Any) -> None:
        seen.append(len(fresh.asset_files()))  # the files were written by then
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(bundle_module, "add_imported", failing)
    with pytest.raises(sqlite3.OperationalError):
        import_bundle(path, fresh.history, fresh.assets, fresh.reviews)
    assert seen == [3]
    nothing_written(fresh)


def test_a_job_stored_meanwhile_by_another_process_is_not_overwritten(
        made: Sample, fresh: Place, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    job = made.tryons[0]
    path = bundle_of(made, job, tmp_path / "b.zip")
    meanwhile = made.upscale.evolve(id=job.id, inputs={}, outputs=())

    def racing(history: Any, jobs: Any, *args: Any) -> None:
        history.save_job(meanwhile)
        add_imported(history, jobs, *args)

    monkeypatch.setattr(bundle_module, "add_imported", racing)
    with pytest.raises(InvalidInput, match=f"job {job.id} was added to your history while the "
                                           "bundle was being checked; import it again"):
        import_bundle(path, fresh.history, fresh.assets, fresh.reviews)
    assert [j.task for j in fresh.history.list()] == ["upscale"]
    assert fresh.asset_files() == [] and fresh.reviews.all() == []
