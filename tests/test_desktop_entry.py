"""`restyle --install-desktop` / `--uninstall-desktop` into a temporary XDG_DATA_HOME."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import desktop_entry
from desktop.desktop_entry import DESKTOP_ID, ICON_SIZES, InstallError

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("RESTYLE_CI") == "1"


def _tree(folder: Path) -> set[str]:
    """Every file and folder below `folder`, relative."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _restyle(*args: str, data_home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["XDG_DATA_HOME"] = str(data_home)
    return subprocess.run([sys.executable, "-m", "desktop", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _validate_desktop_file(path: Path) -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        if IN_CI:
            pytest.fail("desktop-file-validate is missing: .ci/run installs desktop-file-utils")
        return  # outside CI the checks on the text below still run
    done = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_install_then_uninstall_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    data = tmp_path / "share"
    # Another application's files in the same folders must survive both.
    (data / "applications").mkdir(parents=True)
    (data / "applications" / "other.desktop").write_text("[Desktop Entry]\n")
    (data / "icons" / "hicolor" / "48x48" / "apps").mkdir(parents=True)
    (data / "icons" / "hicolor" / "48x48" / "apps" / "other.png").write_bytes(b"png")
    before = _tree(data)

    done = _restyle("--install-desktop", data_home=data)
    assert done.returncode == 0, done.stderr
    assert f"Installed Restyle's desktop entry, icons and metainfo under {data}" in done.stdout
    entry = data / "applications" / f"{DESKTOP_ID}.desktop"
    text = entry.read_text()
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert exec_line.endswith(" %F")
    program = exec_line.removeprefix("Exec=").split()[0]
    assert Path(program).is_absolute() and Path(program).exists()
    assert "MimeType=image/jpeg;" in text
    for size in ICON_SIZES:
        icon = data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{DESKTOP_ID}.png"
        assert icon.is_file()
    assert (data / "icons/hicolor/scalable/apps" / f"{DESKTOP_ID}.svg").is_file()
    assert (data / "metainfo" / f"{DESKTOP_ID}.metainfo.xml").is_file()
    _validate_desktop_file(entry)

    done = _restyle("--uninstall-desktop", data_home=data)
    assert done.returncode == 0, done.stderr
    assert "Removed Restyle's desktop entry" in done.stdout
    leftovers = {p for p in _tree(data) - before if not p.endswith(".cache")
                 and not p.endswith("mimeinfo.cache")}
    assert leftovers == set()
    assert before <= _tree(data)

    done = _restyle("--uninstall-desktop", data_home=data)
    assert done.returncode == 0
    assert "was not installed" in done.stdout


def test_the_exec_line_quotes_a_path_with_spaces(tmp_path: Path) -> None:
    source = desktop_entry.integration_dir()
    command = [str(tmp_path / "My Apps" / "restyle"), "-m", "100%"]
    written = desktop_entry.install(lambda _s: None, target_home=tmp_path / "share",
                                    command=command)
    entry = next(p for p in written if p.suffix == ".desktop")
    lines = entry.read_text().splitlines()
    assert f'Exec="{tmp_path}/My Apps/restyle" -m "100%%" %F' in lines
    template = (source / f"{DESKTOP_ID}.desktop").read_text().splitlines()
    assert [line for line in lines if not line.startswith("Exec=")] == \
        [line for line in template if not line.startswith("Exec=")]
    _validate_desktop_file(entry)


def test_the_frozen_bundle_starts_its_own_executable(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    exe = tmp_path / "dist" / "restyle" / "restyle"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    assert desktop_entry.launch_command() == [str(exe)]
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "dist" / "restyle" / "_internal"),
                        raising=False)
    bundled = tmp_path / "dist" / "restyle" / "_internal" / "desktop-integration"
    assert desktop_entry.integration_dir() == bundled


def test_data_home_follows_xdg_and_ignores_a_relative_value(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert desktop_entry.data_home() == tmp_path
    monkeypatch.setenv("XDG_DATA_HOME", "relative/share")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert desktop_entry.data_home() == tmp_path / "home" / ".local" / "share"


def test_an_unwritable_target_is_one_sentence_and_exit_1(tmp_path: Path) -> None:
    blocker = tmp_path / "share"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(InstallError, match=r"^Could not write .*: .*Check that"):
        desktop_entry.install(lambda _s: None, target_home=blocker)
    done = _restyle("--install-desktop", data_home=blocker)
    assert done.returncode == 1
    assert done.stderr.startswith("restyle: Could not write ")
    assert "Traceback" not in done.stderr


def test_a_bundle_without_its_desktop_files_says_so(tmp_path: Path) -> None:
    with pytest.raises(InstallError, match="lacks its desktop files"):
        desktop_entry.install(lambda _s: None, source=tmp_path / "nothing",
                              target_home=tmp_path / "share")
    assert not (tmp_path / "share").exists()
