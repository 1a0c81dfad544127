"""The window at 1366 x 768 and at 2x scale (QT_SCALE_FACTOR=2 on a 2732 x 1536 screen), as a
first start lays it out: six queue rows in view, the pictures take the space, the side panel
scrolls on its own with Generate in view, the result panel wraps, a failure has Details….

Each size runs tests/ui/layout_probe.py in a process of its own, on an offscreen screen of that
size (Qt's offscreen platform reads the screen from a JSON file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from desktop.ui.screen_fit import QUEUE_ROWS

ROOT = Path(__file__).resolve().parents[2]


def probe(tmp_path: Path, home: Path, width: int, height: int, scale: int) -> dict[str, Any]:
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{
        "name": "probe", "x": 0, "y": 0, "width": width, "height": height,
        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}), encoding="utf-8")
    env = {**os.environ, "RESTYLE_HOME": str(home), "PYTHONPATH": str(ROOT),
           "QT_QPA_PLATFORM": f"offscreen:configfile={config}"}
    if scale != 1:
        env["QT_SCALE_FACTOR"] = str(scale)
    done = subprocess.run([sys.executable, "-m", "tests.ui.layout_probe", str(home)], env=env,
                          capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("width", "height", "scale"), [(1366, 768, 1), (2732, 1536, 2)],
                         ids=["1366x768", "2732x1536-at-2x"])
def test_a_laptop_screen_keeps_six_queue_rows_and_the_pictures_take_the_space(
        tmp_path: Path, home: Path, width: int, height: int, scale: int) -> None:
    found = probe(tmp_path, home, width, height, scale)
    assert found["screen"] == [1366, 768] and found["dpr"] == scale
    assert found["window"][1] <= 768 and found["window"][0] <= 1366  # it fits the screen
    assert found["queue_rows_in_view"] >= QUEUE_ROWS, found
    assert found["history_tabbed"], found  # not squeezed under the queue
    assert found["compare_share"] >= 0.45 and found["compare_height_share"] >= 0.6, found
    assert found["side_scrolls"] and found["generate_in_view"], found
    assert found["result_panel_overflow"] == 0, found
    assert found["details_button"], found


def test_a_large_screen_stacks_history_under_six_queue_rows(tmp_path: Path, home: Path) -> None:
    found = probe(tmp_path, home, 1920, 1080, 1)
    assert not found["history_tabbed"], found
    assert found["queue_rows_in_view"] >= QUEUE_ROWS, found
    assert found["compare_share"] >= 0.5, found
