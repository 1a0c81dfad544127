"""restyle-cli: commands, JSON fields and exit codes (a public contract)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar, Self

import keyring
import pytest
from PIL import Image

from desktop import cli
from desktop.core.model import ErrorCode
from desktop.providers import registry
from desktop.providers.base import ProviderConfig, ProviderError, RemoteState, RemoteStatus
from tests.conftest import MemoryKeyring
from tests.fakes import FakeBackend, FakeProvider
from tests.support import with_default_sigint

ROOT = Path(__file__).resolve().parents[1]


def make_image(path: Path, size: tuple[int, int] = (120, 90), color: tuple[int, ...] = (
        30, 90, 200)) -> Path:
    img = Image.new("RGB", size, (245, 245, 245))
    img.paste(Image.new("RGB", (size[0] // 2, size[1] // 2), color[:3]),
              (size[0] // 4, size[1] // 4))
    img.save(path)
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str = ""
            ) -> tuple[int, str, str]:
    code = cli.main(list(argv), stdin=io.StringIO(stdin))
    out, err = capsys.readouterr()
    return code, out, err


class KeyedFake(FakeProvider):
    id = "keyedfake"
    title = "Keyed Fake"
    needs_key = True
    needs_base_url = True
    supports_account = True
    configs: ClassVar[list[ProviderConfig]] = []

    @classmethod
    def from_config(cls, config: ProviderConfig) -> Self:
        cls.configs.append(config)
        return cls()


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> FakeBackend:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING),
                                  RemoteStatus(RemoteState.SUCCEEDED)])
    monkeypatch.setattr(KeyedFake, "backend", backend)
    monkeypatch.setattr(KeyedFake, "configs", [])
    monkeypatch.setitem(registry.PROVIDER_CLASSES, "keyedfake", KeyedFake)
    return backend


@pytest.mark.parametrize(("task", "params", "check"), [
    ("recolor", ["color=red", "seed=60,45"], None),
    ("background_removal", [], "RGBA"),
    ("upscale", ["factor=2"], (240, 180)),
    ("reframe", ["ratio=1:1"], (120, 120)),
])
def test_run_each_local_task_json(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  task: str, params: list[str], check: Any) -> None:
    src = make_image(tmp_path / "photo.png")
    argv = ["run", "--provider", "local", "--task", task, "--image", str(src), "--json"]
    for p in params:
        argv += ["--param", p]
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0, out
    data = json.loads(out)
    assert set(data) >= {"id", "provider", "task", "status", "remote_id", "outputs", "error",
                         "cost_credits", "duration_ms"}
    assert (data["provider"], data["task"], data["status"], data["error"]) == (
        "local", task, "succeeded", None)
    assert isinstance(data["duration_ms"], int) and data["cost_credits"] is None
    [output] = data["outputs"]
    path = Path(output["path"])
    assert home.resolve() in path.parents  # without --out, the asset store
    with Image.open(path) as img:
        assert (img.width, img.height) == (output["width"], output["height"])
        if check == "RGBA":
            assert img.mode == "RGBA" and img.getpixel((0, 0))[3] == 0
        elif isinstance(check, tuple):
            assert img.size == check
        elif task == "recolor":
            r, g, b = img.convert("RGB").getpixel((60, 45))
            assert r > 150 and g < 100 and b < 100  # the blue square is now red
            assert img.convert("RGB").getpixel((2, 2)) == (245, 245, 245)


def test_run_tryon_with_out_dir(home: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    person = make_image(tmp_path / "person.png", (200, 300), (180, 140, 120))
    garment = make_image(tmp_path / "shirt.png", (150, 150), (20, 160, 60))
    out_dir = tmp_path / "results"
    code, out, _ = run_cli(capsys, "run", "--provider", "local", "--task", "tryon", "--person",
                           str(person), "--garment", str(garment), "--out", str(out_dir),
                           "--json")
    assert code == 0
    data = json.loads(out)
    path = Path(data["outputs"][0]["path"])
    assert path.parent == out_dir and path.exists()
    assert data["note"] == "Local preview (no AI)"
    assert data["outputs"][0]["label"] == "Local preview (no AI)"
    code, out, _ = run_cli(capsys, "run", "--provider", "local", "--task", "tryon", "--person",
                           str(person), "--garment", str(garment))
    assert code == 0 and "Local preview (no AI)" in out


def test_bad_inputs_exit_2_and_store_nothing(home: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes.png"
    text.write_text("just some text, not a picture")
    code, _, err = run_cli(capsys, "run", "--provider", "local", "--task", "upscale", "--image",
                           str(text))
    assert code == 2 and "notes.png" in err
    src = make_image(tmp_path / "ok.png")
    for argv, needle in [
        (["--task", "upscale", "--image", str(src), "--param", "factor=3"], "factor"),
        (["--task", "teleport", "--image", str(src)], "no task 'teleport'"),
        (["--task", "tryon", "--person", str(src)], "garment"),
        (["--task", "recolor", "--image", str(src), "--param", "color=blurple"], "blurple"),
        (["--task", "upscale", "--image", str(src), "--param", "noequals"], "KEY=VALUE"),
        (["--task", "upscale", "--image", str(src), "--param", "factor={bad"], "JSON"),
        (["--task", "upscale", "--image", str(tmp_path / "missing.jpg")], "does not exist"),
    ]:
        code, _, err = run_cli(capsys, "run", "--provider", "local", *argv)
        assert code == 2, (argv, err)
        assert needle in err, (needle, err)
    code, _, err = run_cli(capsys, "run", "--provider", "nosuch", "--task", "x")
    assert code == 2 and "no provider 'nosuch'" in err
    code, _, err = run_cli(capsys, "run", "--provider", "local")  # argparse usage error
    assert code == 2 and "--task" in err
    code, out, _ = run_cli(capsys, "jobs", "--json")
    assert json.loads(out) == []
    assets = home / "data" / "assets"
    assert not assets.exists() or not any(p.is_file() for p in assets.rglob("*"))


def test_jobs_show_in_a_new_process(home: Path, tmp_path: Path) -> None:
    src = make_image(tmp_path / "p.png")
    env = {**os.environ, "RESTYLE_HOME": str(home), "PYTHONPATH": str(ROOT)}

    def cli_proc(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "desktop.cli", *argv], env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    first = cli_proc("run", "--provider", "local", "--task", "upscale", "--image", str(src),
                     "--param", "factor=4", "--json")
    assert first.returncode == 0, first.stderr
    job_id = json.loads(first.stdout)["id"]
    listed = cli_proc("jobs", "--json")
    assert [j["id"] for j in json.loads(listed.stdout)] == [job_id]
    table = cli_proc("jobs")
    assert job_id[:12] in table.stdout and "local/upscale" in table.stdout
    shown = cli_proc("show", job_id[:8])
    assert shown.returncode == 0 and "succeeded" in shown.stdout and "480x360" in shown.stdout
    missing = cli_proc("show", "ffffffff")
    assert missing.returncode == 2 and "No job" in missing.stderr


def test_jobs_filters(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = make_image(tmp_path / "kitchen.png")
    run_cli(capsys, "run", "--provider", "local", "--task", "upscale", "--image", str(src))
    run_cli(capsys, "run", "--provider", "local", "--task", "reframe", "--image", str(src),
            "--param", "ratio=16:9")
    _, out, _ = run_cli(capsys, "jobs", "--task", "reframe", "--json")
    assert [j["task"] for j in json.loads(out)] == ["reframe"]
    _, out, _ = run_cli(capsys, "jobs", "--search", "16:9", "--json")
    assert [j["task"] for j in json.loads(out)] == ["reframe"]
    _, out, _ = run_cli(capsys, "jobs", "--limit", "1", "--json")
    assert [j["task"] for j in json.loads(out)] == ["reframe"]
    _, out, _ = run_cli(capsys, "jobs", "--state", "failed", "--json")
    assert json.loads(out) == []


def test_providers_listing(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "providers", "--json")
    assert code == 0
    [local] = [p for p in json.loads(out) if p["id"] == "local"]
    assert local["ready"] and not local["needs_key"]
    assert {t["id"] for t in local["tasks"]} == {"background_removal", "recolor", "upscale",
                                                 "reframe", "tryon"}
    code, out, _ = run_cli(capsys, "providers")
    assert code == 0 and "recolor" in out and "factor" in out


def test_missing_key_and_base_url_exit_3(home: Path, tmp_path: Path, keyed: FakeBackend,
                                         memory_keyring: MemoryKeyring,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    src = make_image(tmp_path / "p.png")
    argv = ["run", "--provider", "keyedfake", "--task", "echo", "--image", str(src)]
    code, _, err = run_cli(capsys, *argv)
    assert code == 3 and "needs a base URL" in err and "RESTYLE_KEYEDFAKE_BASE_URL" in err
    code, _, err = run_cli(capsys, *argv, "--base-url", "http://127.0.0.1:1")
    assert code == 3 and "No API key for Keyed Fake" in err
    assert keyed.submits == []


def test_keys_set_status_delete_and_run(home: Path, tmp_path: Path, keyed: FakeBackend,
                                        memory_keyring: MemoryKeyring,
                                        capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run_cli(capsys, "keys", "set", "--provider", "keyedfake",
                           stdin="kf-SECRET-123456\n")
    assert code == 0 and "keyring" in out and "kf-SECRET" not in out
    assert memory_keyring.passwords[("restyle", "keyedfake")] == "kf-SECRET-123456"
    code, out, _ = run_cli(capsys, "keys", "status", "--provider", "keyedfake")
    assert code == 0 and "key present" in out and "kf-SECRET" not in out
    monkeypatch.setenv("RESTYLE_KEYEDFAKE_BASE_URL", "http://127.0.0.1:1")
    src = make_image(tmp_path / "p.png")
    code, out, _ = run_cli(capsys, "run", "--provider", "keyedfake", "--task", "echo",
                           "--image", str(src), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["cost_credits"] == 1.0 and data["remote_id"].startswith("r")
    config = KeyedFake.configs[-1]
    assert config.base_url == "http://127.0.0.1:1" and config.key_source() == "kf-SECRET-123456"
    code, out, _ = run_cli(capsys, "account", "--provider", "keyedfake", "--json")
    assert code == 0 and json.loads(out)["credits"] == 42.0
    code, out, _ = run_cli(capsys, "keys", "delete", "--provider", "keyedfake")
    assert code == 0 and memory_keyring.passwords == {}
    code, _, err = run_cli(capsys, "keys", "set", "--provider", "local", stdin="x\n")
    assert code == 2 and "needs no API key" in err
    code, _, err = run_cli(capsys, "keys", "set", "--provider", "keyedfake", stdin="\n")
    assert code == 2
    # Nothing on disk holds the key.
    for path in home.rglob("*"):
        if path.is_file():
            assert b"kf-SECRET-123456" not in path.read_bytes(), path


def test_keys_set_without_keyring_exits_3(home: Path, keyed: FakeBackend, no_keyring: None,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "keys", "set", "--provider", "keyedfake", stdin="abc12345\n")
    assert code == 3 and "RESTYLE_KEYEDFAKE_API_KEY" in err and "abc12345" not in err
    code, out, _ = run_cli(capsys, "keys", "status", "--provider", "keyedfake")
    assert "no system keyring" in out


def test_job_failures_map_to_exit_codes(home: Path, tmp_path: Path, keyed: FakeBackend,
                                        capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTYLE_KEYEDFAKE_BASE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("RESTYLE_KEYEDFAKE_API_KEY", "env-key-123")
    src = make_image(tmp_path / "p.png")
    argv = ["run", "--provider", "keyedfake", "--task", "echo", "--image", str(src), "--json"]
    keyed.script = [RemoteStatus(RemoteState.FAILED, error=ProviderError(
        ErrorCode.JOB_FAILED, "The garment could not be found.", provider_code="NO_GARMENT"))]
    code, out, _ = run_cli(capsys, *argv)
    data = json.loads(out)
    assert code == 1 and data["status"] == "failed"
    assert data["error"] == {"code": "job_failed", "message": "The garment could not be found.",
                             "provider_code": "NO_GARMENT"}
    keyed.submit_error = ProviderError(ErrorCode.AUTH_FAILED, "The key was rejected.")
    code, out, _ = run_cli(capsys, *argv)
    assert code == 3 and json.loads(out)["error"]["code"] == "auth_failed"
    keyed.submit_error = None
    keyed.script = [RemoteStatus(RemoteState.RUNNING)]
    code, out, _ = run_cli(capsys, *argv, "--timeout", "0.3")
    assert code == 1 and json.loads(out)["status"] == "timed_out"


def test_no_wait_then_resume_and_cancel(home: Path, tmp_path: Path, keyed: FakeBackend,
                                        capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTYLE_KEYEDFAKE_BASE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("RESTYLE_KEYEDFAKE_API_KEY", "env-key-123")
    src = make_image(tmp_path / "p.png")
    keyed.script = [RemoteStatus(RemoteState.RUNNING)]
    argv = ["run", "--provider", "keyedfake", "--task", "echo", "--image", str(src), "--json",
            "--no-wait"]
    code, out, _ = run_cli(capsys, *argv)
    first = json.loads(out)
    assert code == 0 and first["status"] == "running" and first["remote_id"]
    code, out, _ = run_cli(capsys, *argv)
    second = json.loads(out)
    code, out, _ = run_cli(capsys, "cancel", second["id"][:10])
    assert code == 0 and "cancelled" in out
    assert keyed.cancels == [second["remote_id"]]
    keyed.script = [RemoteStatus(RemoteState.SUCCEEDED)]
    keyed.jobs = dict.fromkeys(keyed.jobs, 0)
    code, out, _ = run_cli(capsys, "resume", "--json")
    resumed = json.loads(out)
    assert code == 0 and [j["id"] for j in resumed] == [first["id"]]
    assert resumed[0]["status"] == "succeeded" and len(resumed[0]["outputs"]) == 1
    assert len(keyed.submits) == 2  # resume never submitted again
    code, out, _ = run_cli(capsys, "resume")
    assert code == 0 and "Nothing to resume" in out
    code, out, _ = run_cli(capsys, "cancel", first["id"])
    assert code == 1 and "already ended" in out


def test_local_account_and_base_url_note(home: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "account", "--provider", "local")
    assert code == 0 and "no account" in out
    src = make_image(tmp_path / "p.png")
    code, _, err = run_cli(capsys, "run", "--provider", "local", "--task", "upscale", "--image",
                           str(src), "--base-url", "http://127.0.0.1:1")
    assert code == 0 and "ignored" in err


def test_ctrl_c_cancels_a_job_not_yet_sent(home: Path, tmp_path: Path) -> None:
    import signal
    import time

    import numpy as np

    from desktop.core.model import JobState
    from desktop.core.store import History

    big = tmp_path / "big.png"
    noise = np.random.default_rng(3).integers(0, 255, (2400, 3200, 3), dtype=np.uint8)
    Image.fromarray(noise).save(big, compress_level=1)
    env = {**os.environ, "RESTYLE_HOME": str(home), "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "desktop.cli", "run", "--provider", "local", "--task",
            "upscale", "--image", str(big), "--param", "factor=2"]
    proc = subprocess.Popen(with_default_sigint(argv), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        state = None
        while time.monotonic() < deadline and proc.poll() is None:
            if (home / "data" / "history.sqlite3").exists():
                jobs = History(home / "data" / "history.sqlite3").list(limit=1)
                state = jobs[0].state if jobs else None
                if state == JobState.SUBMITTING:
                    break
            time.sleep(0.05)
        assert state == JobState.SUBMITTING, state
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "cancelled before it was sent" in err
    [job] = History(home / "data" / "history.sqlite3").list()
    assert job.state == JobState.CANCELLED and job.error is not None


def test_url_inputs_are_downloaded_and_validated(home: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import functools
    import http.server
    import threading

    served = tmp_path / "www"
    served.mkdir()
    make_image(served / "shirt.png")
    (served / "page.html").write_text("<html>not an image</html>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        code, out, _ = run_cli(capsys, "run", "--provider", "local", "--task", "upscale",
                               "--image", f"{base}/shirt.png", "--json")
        assert code == 0
        data = json.loads(out)
        assert data["inputs"] == {"image": [f"{base}/shirt.png"]}
        assert (data["outputs"][0]["width"], data["outputs"][0]["height"]) == (240, 180)
        code, _, err = run_cli(capsys, "run", "--provider", "local", "--task", "upscale",
                               "--image", f"{base}/missing.png")
        assert code == 2 and "404" in err
        code, _, err = run_cli(capsys, "run", "--provider", "local", "--task", "upscale",
                               "--image", f"{base}/page.html")
        assert code == 2 and "not an image" in err
    finally:
        server.shutdown()
        server.server_close()


def test_cost_is_shown_before_a_paid_run(home: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.emulators.fitinview import FitInViewEmulator
    from tests.emulators.kit import serve

    emu = FitInViewEmulator(job_delay=0.0)
    person = make_image(tmp_path / "person.png", (200, 300))
    garment = make_image(tmp_path / "shirt.png", (150, 150), (20, 160, 60))
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", emu.api_key)
        code, out, err = run_cli(capsys, "run", "--provider", "fitinview", "--task", "tryon",
                                 "--person", str(person), "--garment", str(garment),
                                 "--param", "output_size=4K")
    assert code == 0, err
    assert "This run costs 20 credits at FitInView." in err
    assert "succeeded" in out and "cost:       20 credits" in out


def test_keys_set_and_delete_say_the_environment_variable_wins(
        home: Path, keyed: FakeBackend, memory_keyring: MemoryKeyring,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTYLE_KEYEDFAKE_API_KEY", "env-key-777")
    code, out, _ = run_cli(capsys, "keys", "set", "--provider", "keyedfake",
                           stdin="kf-STORED-999\n")
    assert code == 0 and memory_keyring.passwords == {("restyle", "keyedfake"): "kf-STORED-999"}
    assert out == ("Keyed Fake: Stored in the system keyring (service 'restyle', entry "
                   "'keyedfake'). The environment variable RESTYLE_KEYEDFAKE_API_KEY is set, so "
                   "its key is used instead while it is set.\n")
    code, out, _ = run_cli(capsys, "keys", "status", "--provider", "keyedfake")
    assert "(environment)" in out and "RESTYLE_KEYEDFAKE_API_KEY" in out
    code, out, _ = run_cli(capsys, "keys", "delete", "--provider", "keyedfake")
    assert code == 0 and memory_keyring.passwords == {}
    assert out.splitlines() == [
        "Keyed Fake: key removed.",
        "Keyed Fake: RESTYLE_KEYEDFAKE_API_KEY is still set in this environment, so Restyle "
        "keeps using that key until you unset it."]
    monkeypatch.delenv("RESTYLE_KEYEDFAKE_API_KEY")
    code, out, _ = run_cli(capsys, "keys", "delete", "--provider", "keyedfake")
    assert out == "Keyed Fake: no stored key.\n"
    assert "env-key-777" not in out and "kf-STORED" not in out


def test_keys_set_refuses_a_plaintext_keyring(home: Path, tmp_path: Path, keyed: FakeBackend,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring_pass.cfg")  # type: ignore[misc]
    keyring.set_keyring(backend)
    code, out, err = run_cli(capsys, "keys", "set", "--provider", "keyedfake",
                             stdin="kf-PLAIN-555\n")
    assert code == 3 and out == "" and "stores keys unencrypted" in err
    assert "RESTYLE_KEYEDFAKE_API_KEY" in err and "system keyring (" not in err
    assert not (tmp_path / "keyring_pass.cfg").exists()
    code, out, _ = run_cli(capsys, "keys", "status", "--provider", "keyedfake")
    assert "stores keys unencrypted" in out and "Restyle does not use it" in out


def test_url_credentials_and_tokens_are_never_printed_or_logged(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A signed input URL with user info: downloaded as given, shown redacted in the run's
    output, `show`, `--json` and the verbose log, and kept out of the log file."""
    import functools
    import http.server
    import threading

    served = tmp_path / "www"
    served.mkdir()
    make_image(served / "shirt.png")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # the server's own log
            pass

    handler = functools.partial(Quiet, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host = f"127.0.0.1:{server.server_address[1]}"
    url = (f"http://alice:PW-SECRET-61@{host}/shirt.png?w=512&token=TOK-SECRET-62"
           "&X-Amz-Signature=SIG-SECRET-63")
    shown = (f"http://[REDACTED]@{host}/shirt.png?w=512&token=[REDACTED]"
             "&X-Amz-Signature=[REDACTED]")
    secrets = ("PW-SECRET-61", "TOK-SECRET-62", "SIG-SECRET-63")
    try:
        code, out, err = run_cli(capsys, "-v", "run", "--provider", "local", "--task",
                                 "upscale", "--image", url, "--json")
        assert code == 0, err
        data = json.loads(out)
        assert data["inputs"] == {"image": [shown]}
        code, out2, err2 = run_cli(capsys, "-v", "show", data["id"])
        assert code == 0 and f"image:      {shown}" in out2
        code, out3, _ = run_cli(capsys, "show", data["id"], "--json")
        assert json.loads(out3)["inputs"] == {"image": [shown]}
    finally:
        server.shutdown()
        server.server_close()
    log_text = (home / "logs" / "restyle.log").read_text(encoding="utf-8")
    assert f"GET http://{host}/shirt.png?… -> 200" in err  # the download, logged at DEBUG
    for text in (out, err, out2, err2, out3, log_text):
        for secret in secrets:
            assert secret not in text


def test_an_unexpected_error_is_a_sentence_and_the_log_has_the_details(
        home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(services: Any, args: Any) -> int:
        raise RuntimeError("a bug nobody foresaw")

    monkeypatch.setattr(cli, "cmd_jobs", broken)
    code, out, err = run_cli(capsys, "jobs")
    assert code == 1
    assert "Traceback" not in out + err
    log_file = home / "logs" / "restyle.log"
    assert err == (f"restyle-cli: jobs failed because of an unexpected error (RuntimeError); "
                   f"the details are in {log_file}.\n")
    assert "a bug nobody foresaw" in log_file.read_text()


def test_a_job_that_needs_attention_is_shown_and_resumed_by_id(
        home: Path, tmp_path: Path, keyed: FakeBackend, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The key disappears while a paid job runs: `run` exits 3 with the job waiting (not
    failed); `jobs` and `show` say what to fix; `resume JOB_ID` collects it once fixed."""
    monkeypatch.setenv("RESTYLE_KEYEDFAKE_BASE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("RESTYLE_KEYEDFAKE_API_KEY", "env-key-123")
    src = make_image(tmp_path / "p.png")
    keyed.script = [ProviderError(ErrorCode.MISSING_KEY, "No API key for Keyed Fake."),
                    RemoteStatus(RemoteState.SUCCEEDED)]
    code, out, _ = run_cli(capsys, "run", "--provider", "keyedfake", "--task", "echo",
                           "--image", str(src), "--json")
    job = json.loads(out)
    assert code == 3 and job["status"] == "needs_attention" and job["remote_id"]
    assert job["error"]["code"] == "missing_key" and job["may_be_charged"] is True
    assert job["owner"] is None and job["finished_at"] is None

    code, out, _ = run_cli(capsys, "jobs")
    assert "needs_attention" in out and "needs attention: Checking this job at" in out
    code, out, _ = run_cli(capsys, "show", job["id"][:8])
    assert "needs you:" in out and "keyedfake may have charged for this job." in out

    code, out, err = run_cli(capsys, "resume", job["id"][:8], "--json")
    [final] = json.loads(out)
    assert code == 0 and final["status"] == "succeeded" and len(final["outputs"]) == 1
    assert len(keyed.submits) == 1
    code, out, err = run_cli(capsys, "resume", job["id"][:8])
    assert code == 1 and "has already ended (succeeded); nothing to resume." in err


def test_resume_leaves_a_live_processs_job_alone_and_says_so(
        home: Path, tmp_path: Path, keyed: FakeBackend, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from desktop.core.engine.ledger import Owner
    from desktop.core.model import Job, JobSpec, JobState
    from desktop.core.store import History

    monkeypatch.setenv("RESTYLE_KEYEDFAKE_BASE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("RESTYLE_KEYEDFAKE_API_KEY", "env-key-123")
    now = time.time()
    history = History(home / "data" / "history.sqlite3")
    owner = Owner("studio-mac", 4242, "n", "the Restyle window").encode()
    job = Job(id="busyjob0001", spec=JobSpec(provider="keyedfake", task="echo"),
              state=JobState.RUNNING, created_at=now, updated_at=now, remote_id="r1")
    history.save_job(job, owner=owner, lease_until=now + 600)
    history.close()
    code, out, err = run_cli(capsys, "resume")
    assert code == 0 and keyed.polls == []
    assert ("Left alone: job busyjob0001 (keyedfake/echo, running) is being worked on by the "
            "Restyle window (process 4242 on studio-mac).") in err
    code, out, _ = run_cli(capsys, "jobs")
    assert "worked on by the Restyle window (process 4242 on studio-mac)" in out


def test_a_reader_that_goes_away_is_not_an_error(home: Path) -> None:
    """`restyle-cli providers | head -1`: the pipe closes early; no message, no traceback."""
    env = {**os.environ, "RESTYLE_HOME": str(home), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "desktop.cli", "providers", "--json"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0, err
    assert err == ""
