"""`restyle --self-test`: the whole run from the source tree in a subprocess (JSON report, exit
code), and in-process runs with checks made to fail, warn or hang."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import self_test
from desktop.self_test import CheckFailed, Context, Warned

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ["qasync loop", "http request", "keyring", "pillow formats", "c2pa library",
            "local job", "window grab", "worker pool"]


def _env(tmp_path: Path) -> dict[str, str]:
    """No display at all, the user's home elsewhere: the self-test must manage by itself."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["RESTYLE_HOME"] = str(tmp_path / "user-home")
    return env


@pytest.mark.timeout(300)
def test_self_test_from_the_source_tree_passes_and_reports_json(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "desktop", "--self-test"], cwd=ROOT,
                          env=_env(tmp_path), capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert report["frozen"] is False
    assert [c["name"] for c in report["checks"]] == EXPECTED
    for check in report["checks"]:
        assert check["ok"] is True, check
        assert isinstance(check["seconds"], float) and check["seconds"] >= 0
        assert check["detail"]
    by_name = {c["name"]: c for c in report["checks"]}
    assert "1280x1280" in by_name["local job"]["detail"]
    assert "worker process" in by_name["worker pool"]["detail"]
    # It worked in a home of its own, removed afterwards; the user's was never created.
    assert not (tmp_path / "user-home").exists()
    assert not Path(report["home"].removesuffix(" (removed)")).exists()


def test_self_test_with_another_flag_is_a_usage_error(tmp_path: Path) -> None:
    for extra in (["--install-desktop"], ["--compare", "a.png"]):
        done = subprocess.run([sys.executable, "-m", "desktop", "--self-test", *extra],
                              cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr


async def _fails(_ctx: Context) -> str:
    raise CheckFailed("made to fail by the test")


async def _crashes(_ctx: Context) -> str:
    raise ValueError("an unexpected bug")


async def _warns(_ctx: Context) -> Warned:
    return Warned("something optional is missing")


async def _hangs(_ctx: Context) -> str:
    import asyncio

    await asyncio.sleep(30)
    return "never"


def _run(checks: list[tuple[str, self_test.Check]]) -> tuple[int, dict]:
    out = io.StringIO()
    code = self_test.run(out=out, checks=checks)
    return code, json.loads(out.getvalue())


def test_one_failing_check_makes_exit_1_and_the_others_still_run(qapp: object) -> None:
    code, report = _run([("qasync loop", self_test.check_qasync_loop), ("broken", _fails),
                         ("crash", _crashes), ("http request", self_test.check_http)])
    assert code == 1
    assert report["ok"] is False
    results = {c["name"]: c for c in report["checks"]}
    assert results["broken"] == {**results["broken"], "ok": False,
                                 "detail": "made to fail by the test"}
    assert results["crash"]["ok"] is False
    assert results["crash"]["detail"] == "ValueError: an unexpected bug"
    assert results["qasync loop"]["ok"] and results["http request"]["ok"]


def test_a_warning_passes(qapp: object) -> None:
    code, report = _run([("optional", _warns)])
    assert code == 0
    assert report["checks"][0] | {"seconds": 0} == {
        "name": "optional", "ok": True, "warning": True, "seconds": 0,
        "detail": "something optional is missing"}


def test_a_hung_check_fails_after_its_timeout(qapp: object,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(self_test, "CHECK_TIMEOUT_S", 0.3)
    code, report = _run([("hangs", _hangs)])
    assert code == 1
    assert report["checks"][0]["detail"] == "did not finish within 0 s"


def test_the_home_is_temporary_and_the_variable_restored(
        qapp: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RESTYLE_HOME", str(tmp_path))
    seen: list[str] = []

    async def remember(ctx: Context) -> str:
        seen.append(os.environ["RESTYLE_HOME"])
        assert ctx.home == Path(seen[0])
        return "ok"

    assert _run([("home", remember)])[0] == 0
    assert seen and seen[0] != str(tmp_path) and not Path(seen[0]).exists()
    assert os.environ["RESTYLE_HOME"] == str(tmp_path)


@pytest.mark.parametrize("frozen", [False, True])
def test_missing_heic_warns_from_source_and_fails_in_the_bundle(
        qapp: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, frozen: bool) -> None:
    from desktop.core import imaging

    monkeypatch.setattr(imaging, "heif_supported", lambda: False)
    import asyncio

    ctx = Context(home=tmp_path, frozen=frozen)
    if frozen:
        with pytest.raises(CheckFailed, match="missing from the bundle: HEIC"):
            asyncio.run(self_test.check_pillow_formats(ctx))
    else:
        found = asyncio.run(self_test.check_pillow_formats(ctx))
        assert isinstance(found, Warned)
        assert "JPEG" in found.detail and "HEIC/HEIF (pillow-heif not installed)" in found.detail


def test_a_keyring_without_backends_fails(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    """A bundle without keyring's metadata finds no backends: a packaging bug, not a warning."""
    import asyncio
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **_kw: [])
    with pytest.raises(CheckFailed, match="no backends"):
        asyncio.run(self_test.check_keyring(Context(home=tmp_path, frozen=True)))


def test_the_fail_keyring_is_a_warning(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import asyncio

    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", fail.Keyring)
    found = asyncio.run(self_test.check_keyring(Context(home=tmp_path, frozen=False)))
    assert isinstance(found, Warned)
    assert "keyring.backends.fail.Keyring" in found.detail


def test_a_missing_c2pa_library_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import asyncio

    monkeypatch.setitem(sys.modules, "c2pa", None)  # import c2pa raises ImportError
    with pytest.raises(CheckFailed, match="the C2PA library does not load"):
        asyncio.run(self_test.check_c2pa(Context(home=tmp_path, frozen=True)))
    monkeypatch.delitem(sys.modules, "c2pa")
    assert "C2PA SDK" in asyncio.run(self_test.check_c2pa(Context(home=tmp_path, frozen=True)))
