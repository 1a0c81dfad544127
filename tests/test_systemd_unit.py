"""The team worker's systemd unit (packaging/systemd) is one systemd accepts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[1] / "packaging" / "systemd" / "restyle-worker@.service"


def test_the_worker_unit_verifies_and_runs_the_worker_command(tmp_path: Path) -> None:
    text = UNIT.read_text()
    assert "ExecStart=/opt/restyle/.venv/bin/restyle-cli worker --queue %i" in text
    assert "KillSignal=SIGTERM" in text and "EnvironmentFile=/etc/restyle/worker.env" in text
    assert "API_KEY=" not in text.split("[Unit]")[1]  # keys live in the env file, not here
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # Verified with this checkout's restyle-cli in place of the installed one.
    cli = Path(sys.executable).with_name("restyle-cli")
    unit = tmp_path / "restyle-worker@default.service"
    unit.write_text(text.replace("/opt/restyle/.venv/bin/restyle-cli", str(cli)))
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    # And a broken unit is refused, so the check above can fail.
    bad = tmp_path / "broken-worker@default.service"
    bad.write_text(unit.read_text().replace(str(cli), "/nonexistent/restyle-cli"))
    assert subprocess.run([analyze, "verify", str(bad)], capture_output=True,
                          timeout=60).returncode != 0
