"""restyle-cli export's provenance and bundle options: metadata in every export, --sidecar,
--c2pa with the certificate and key of Settings > Export (exit 3 and a sentence when they are
not set up or unusable), --bundle (a bundle `restyle-cli import` takes on another machine)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from desktop.core.exports import c2pa_signing, provenance
from tests.core.exports.certs import Pki
from tests.test_cli import make_image, run_cli


def local_job(capsys: pytest.CaptureFixture[str], src: Path) -> dict[str, Any]:
    code, out, err = run_cli(capsys, "run", "--provider", "local", "--task", "upscale",
                             "--image", str(src), "--param", "factor=2", "--json")
    assert code == 0, err
    return dict(json.loads(out))


def settings_with(home: Path, general: dict[str, Any]) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "settings.json").write_text(json.dumps({"general": general}),
                                                   encoding="utf-8")


def test_every_export_carries_what_made_it_and_sidecar_adds_the_json(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job = local_job(capsys, make_image(tmp_path / "porch.png", (200, 150)))
    out = tmp_path / "out"
    code, stdout, err = run_cli(capsys, "export", job["id"], "--out", str(out), "--sidecar",
                                "--format", "jpeg", "--json")
    assert code == 0, err
    [written] = json.loads(stdout)["written"]
    image = Path(written["path"])
    assert [Path(p).name for p in written["extra"]] == [image.name + ".json"]
    facts = provenance.read_back(image.read_bytes())["facts"]
    assert facts["job_id"] == job["id"] and facts["provider_id"] == "local"
    assert facts["digital_source_type"] is None  # the offline provider: no AI
    sidecar = json.loads((out / (image.name + ".json")).read_text(encoding="utf-8"))
    assert sidecar["job_id"] == job["id"] and sidecar["task_id"] == "upscale"
    assert str(tmp_path) not in json.dumps(sidecar)  # no local path leaves the machine
    # Without --sidecar: the metadata is still there, no JSON beside it.
    code, stdout, err = run_cli(capsys, "export", job["id"], "--out", str(tmp_path / "o2"),
                                "--json")
    assert code == 0, err
    [written] = json.loads(stdout)["written"]
    assert written["extra"] == []
    assert provenance.read_back(Path(written["path"]).read_bytes())["facts"]["job_id"] == \
        job["id"]


def test_c2pa_without_a_certificate_is_a_configuration_problem(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job = local_job(capsys, make_image(tmp_path / "a.png"))
    out = tmp_path / "out"
    code, _out, err = run_cli(capsys, "export", job["id"], "--out", str(out), "--c2pa")
    assert code == 3
    assert "C2PA signing is off: no certificate and private key are set up. Choose your PEM " \
           "certificate chain and key in Settings > Export." in err
    assert "Traceback" not in err
    assert not out.exists() or list(out.iterdir()) == []
    # A self-signed certificate is refused the same way, naming the file.
    pki = Pki.make(tmp_path / "pki")
    _chain, key, _ = pki.issue("me")
    settings_with(home, {"c2pa_cert_chain": str(tmp_path / "pki" / "root.pem"),
                         "c2pa_private_key": str(key)})
    code, _stdout, err = run_cli(capsys, "export", job["id"], "--out", str(out), "--c2pa")
    assert code == 3
    assert "root.pem could not be read: it is self-signed" in err


def test_c2pa_signs_with_the_settings_certificate(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pki = Pki.make(tmp_path / "pki")
    chain, key, _ = pki.issue("studio")
    job = local_job(capsys, make_image(tmp_path / "hall.png", (160, 120)))
    settings_with(home, {"c2pa_cert_chain": str(chain), "c2pa_private_key": str(key)})
    code, stdout, err = run_cli(capsys, "export", job["id"], "--out", str(tmp_path / "o"),
                                "--c2pa", "--json")
    assert code == 0, err
    [written] = json.loads(stdout)["written"]
    report = c2pa_signing.verify(Path(written["path"]).read_bytes(), "png",
                                 trust_anchors_pem=pki.root_pem)
    assert report.signature_valid and report.trusted, report.message
    assert report.facts is not None and report.facts["job_id"] == job["id"]
    assert ("hall.png", "parentOf") in report.ingredients
    assert str(key) not in stdout + err  # the key's path is never printed


def test_bundle_saves_the_jobs_for_import_elsewhere(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = local_job(capsys, make_image(tmp_path / "one.png"))
    second = local_job(capsys, make_image(tmp_path / "two.png"))
    out = tmp_path / "out"
    code, stdout, err = run_cli(capsys, "export", first["id"], second["id"], "--out", str(out),
                                "--bundle", "--json")
    assert code == 0, err
    bundle = Path(json.loads(stdout)["bundle"])
    assert bundle.parent == out and bundle.name.startswith("restyle-2-jobs-")
    with zipfile.ZipFile(bundle) as zf:
        assert f"jobs/{first['id']}/job.json" in zf.namelist()
    # The same again does not overwrite it.
    code, stdout, err = run_cli(capsys, "export", first["id"], second["id"], "--out", str(out),
                                "--bundle", "--json")
    assert code == 0, err
    assert Path(json.loads(stdout)["bundle"]).name == bundle.stem + " (2).zip"
    # Another machine's history takes it.
    other = tmp_path / "other-home"
    monkeypatch.setenv("RESTYLE_HOME", str(other))
    code, stdout, err = run_cli(capsys, "import", str(bundle), "--json")
    assert code == 0, err
    assert sorted(json.loads(stdout)["imported"]) == sorted([first["id"], second["id"]])
