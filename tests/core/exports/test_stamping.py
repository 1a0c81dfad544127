"""core/exports/stamping.py: the provenance hooks on a real export run: metadata in every
image made from an output (read back), none in a listing set's original, the sidecar beside
each image but the original, the stored job's facts for a copy narrowed to one output, and a
C2PA manifest naming the original photo as the parent."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from desktop.core.exports import c2pa_signing, provenance
from desktop.core.exports.c2pa_signing import C2paSigner
from desktop.core.exports.files import ExportOptions, export_jobs
from desktop.core.exports.stamping import Stamping
from desktop.core.model import InvalidInput
from tests.core.exports.certs import Pki
from tests.core.exports.library import Library, photo


@pytest.fixture
def lib(tmp_path: Path) -> Library:
    return Library(tmp_path / "lib")


def reader(lib: Library):  # type: ignore[no-untyped-def]
    def read(sha: str) -> tuple[str, bytes] | None:
        asset = lib.history.asset(sha)
        return (sha[:12], lib.assets.read(asset)) if asset is not None else None

    return read


def test_listing_set_metadata_and_sidecars(lib: Library, tmp_path: Path) -> None:
    room = photo((320, 240), seed=3)
    job = lib.job(provider="virtualstaging", task="staging",
                  inputs={"room": [("/home/ann/Listing/den.png", room)]},
                  outputs=[photo((320, 240), seed=4), photo((320, 240), seed=5)])
    hooks = Stamping(jobs={job.id: job}, provider_titles={"virtualstaging": "Virtual Staging"},
                     task_titles={"staging": "Room staging"}, sidecar=True)
    out = tmp_path / "out"
    report = export_jobs([job], out, ExportOptions(listing=True, all_outputs=True),
                         lib.sources(), stamp=hooks.stamp, extra_files=hooks.extra_files)
    assert report.complete
    kinds = [(w.kind, w.position, [p.name for p in w.extra]) for w in report.written]
    assert [k[:2] for k in kinds] == [("original", 0), ("listing", 0), ("original", 1),
                                      ("listing", 1)]
    for written in report.written:
        data = written.path.read_bytes()
        if written.kind == "original":
            assert data == room and written.extra == ()  # the user's photo as it was
            continue
        facts = provenance.read_back(data)["facts"]
        assert facts["output_position"] == written.position and facts["output_count"] == 2
        assert facts["provider_title"] == "Virtual Staging"
        assert facts["digital_source_type"] == \
            provenance.COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA
        [sidecar] = written.extra
        assert sidecar.name == written.path.name + ".json"
        side = json.loads(sidecar.read_text(encoding="utf-8"))
        assert side["output_position"] == written.position
        assert side["inputs"] == {"room": ["den.png"]}  # no folder of this machine
        assert "/home/ann" not in sidecar.read_text(encoding="utf-8")


def test_a_copy_narrowed_to_one_output_keeps_the_stored_jobs_facts(lib: Library,
                                                                   tmp_path: Path) -> None:
    job = lib.job(inputs={"image": [("a.png", photo(seed=1))]},
                  outputs=[photo(seed=2), photo(seed=3), photo(seed=4)])
    narrowed = dataclasses.replace(job, outputs=(job.outputs[2],))
    hooks = Stamping(jobs={job.id: job}, offline=frozenset({"fake"}))
    report = export_jobs([narrowed], tmp_path / "o", ExportOptions(format="jpeg"),
                         lib.sources(), stamp=hooks.stamp, extra_files=hooks.extra_files)
    [written] = report.written
    facts = provenance.read_back(written.path.read_bytes())["facts"]
    assert (facts["output_position"], facts["output_count"]) == (2, 3)
    assert facts["digital_source_type"] is None  # an offline provider's pixel operations
    assert written.extra == ()  # no sidecar unless asked


def test_c2pa_signs_with_the_original_as_parent(lib: Library, tmp_path: Path) -> None:
    pki = Pki.make(tmp_path / "pki")
    chain, key, _ = pki.issue("studio")
    person = photo(seed=7)
    job = lib.job(provider="fitinview", task="tryon",
                  inputs={"person": [("me.png", person)], "garment": [("coat.png", photo(
                      (200, 200), seed=8))]},
                  outputs=[photo(seed=9)])
    hooks = Stamping(jobs={job.id: job}, signer=C2paSigner.from_files(chain, key),
                     read_input=reader(lib))
    report = export_jobs([job], tmp_path / "o", ExportOptions(format="webp"), lib.sources(),
                         stamp=hooks.stamp)
    [written] = report.written
    found = c2pa_signing.verify(written.path.read_bytes(), "webp",
                                trust_anchors_pem=pki.root_pem)
    assert found.trusted, found.message
    assert set(found.ingredients) == {("me.png", "parentOf"), ("coat.png", "componentOf")}
    assert found.digital_source_type == provenance.COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA


def test_an_input_gone_from_the_store_skips_that_output_with_a_sentence(
        lib: Library, tmp_path: Path) -> None:
    pki = Pki.make(tmp_path / "pki")
    chain, key, _ = pki.issue("studio")
    job = lib.job(inputs={"room": [("den.png", photo(seed=1))]}, outputs=[photo(seed=2)])
    hooks = Stamping(jobs={job.id: job}, signer=C2paSigner.from_files(chain, key),
                     read_input=lambda _sha: None)
    report = export_jobs([job], tmp_path / "o", ExportOptions(), lib.sources(),
                         stamp=hooks.stamp)
    assert report.written == []
    [skip] = report.skipped
    assert skip.reason.startswith(f"The room photo of job {job.id[:8]} is no longer in ")
    with pytest.raises(InvalidInput):
        hooks.stamp(b"", "png", job, 0)
