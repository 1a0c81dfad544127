"""The shipped desktop files: valid for the desktop's own validators, consistent with each
other and with what Restyle opens, and the icons as the generator draws them.

desktop-file-validate and appstreamcli come from Debian's desktop-file-utils and appstream.
Outside CI a missing tool skips its test; with RESTYLE_CI=1 (set by .ci/run, which installs
both) a missing tool fails it, so CI never passes without validating.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from desktop.config import APP_NAME
from desktop.core import imaging
from desktop.desktop_entry import DESKTOP_ID, ICON_SIZES

ROOT = Path(__file__).resolve().parents[1]
LINUX = ROOT / "packaging" / "linux"
DESKTOP_FILE = LINUX / f"{DESKTOP_ID}.desktop"
METAINFO = LINUX / f"{DESKTOP_ID}.metainfo.xml"
RAW_PREFIX = "https://raw.githubusercontent.com/restyle/restyle/main/"


def _tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("RESTYLE_CI") == "1":
            pytest.fail(f"{name} is missing in CI: .ci/run must install {package}")
        pytest.skip(f"{name} is not installed (Debian: apt install {package})")
    return found


def _entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DESKTOP_FILE, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_file_validates() -> None:
    done = subprocess.run([_tool("desktop-file-validate", "desktop-file-utils"),
                           str(DESKTOP_FILE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_metainfo_validates() -> None:
    done = subprocess.run([_tool("appstreamcli", "appstream"), "validate", "--no-net",
                           str(METAINFO)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_desktop_entry_opens_every_image_type_restyle_reads() -> None:
    entry = _entry()
    assert entry["Exec"] == "restyle %F"
    assert entry["Icon"] == DESKTOP_ID
    assert entry["Terminal"] == "false"
    # Qt's X11 WM_CLASS class is the application name (QXcbIntegration::wmClass).
    assert entry["StartupWMClass"] == APP_NAME
    listed = [m for m in entry["MimeType"].split(";") if m]
    readable = set(imaging._FORMAT_MIME.values()) | {"image/heic"}
    assert set(listed) == readable


def test_metainfo_matches_the_desktop_entry_and_shows_real_screenshots() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == DESKTOP_ID
    assert root.find("launchable").text == f"{DESKTOP_ID}.desktop"  # type: ignore[union-attr]
    types = {m.text for m in root.iter("mediatype")}
    assert types == {m for m in _entry()["MimeType"].split(";") if m}
    images = [i.text or "" for i in root.iter("image")]
    assert images
    for url in images:
        assert url.startswith(RAW_PREFIX + "docs/screenshots/"), url
        assert (ROOT / url.removeprefix(RAW_PREFIX)).is_file(), f"{url}: no such screenshot"
    assert root.find("releases/release").get("version") == "0.1.0"  # type: ignore[union-attr]
    assert root.find("content_rating") is not None


def test_icons_are_what_the_generator_draws(tmp_path: Path) -> None:
    """Every committed icon is the generator's output (redraw with packaging/make_icons.py)."""
    done = subprocess.run([sys.executable, str(ROOT / "packaging" / "make_icons.py"),
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    written = [Path(line) for line in done.stdout.splitlines()]
    assert len(written) == len(ICON_SIZES) + 4
    for path in written:
        committed = ROOT / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), f"{committed} is out of date"
    for size in ICON_SIZES:
        with Image.open(LINUX / f"icons/hicolor/{size}x{size}/apps/{DESKTOP_ID}.png") as icon:
            assert icon.size == (size, size) and icon.mode == "RGBA"
            assert icon.getpixel((0, 0))[3] < 16  # a see-through corner: the rounded square
            assert len(icon.getcolors(maxcolors=1 << 20) or []) > 8
    with Image.open(ROOT / "packaging/windows/restyle.ico") as ico:
        assert (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]


def test_spec_and_bundle_use_the_same_identity() -> None:
    spec = (ROOT / "packaging" / "restyle.spec").read_text()
    assert f'bundle_identifier="{DESKTOP_ID}"' in spec
    assert '"desktop-integration"' in spec  # where desktop_entry.integration_dir() looks
    assert "CFBundleDocumentTypes" in spec
