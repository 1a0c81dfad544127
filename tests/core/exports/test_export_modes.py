"""Exports are handed on (uploaded, opened by other programs, copied to a share): they get
the user's usual file mode, not the owner-only mode of the history's own files."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from desktop.core.exports import encode, files
from desktop.core.files import _UMASK, atomic_write

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")

USUAL = 0o666 & ~_UMASK


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_an_export_gets_the_users_usual_mode(tmp_path: Path) -> None:
    assert USUAL != 0o600 or _UMASK == 0o066  # the check below means something
    files.publish(tmp_path / "a.png", b"x", overwrite=False)
    files.publish(tmp_path / "a.png", b"y", overwrite=True)
    encode.write_export(tmp_path / "b.png", b"z")
    assert mode(tmp_path / "a.png") == USUAL
    assert mode(tmp_path / "b.png") == USUAL


def test_the_historys_own_files_stay_private(tmp_path: Path) -> None:
    atomic_write(tmp_path / "private.bin", b"x")
    atomic_write(tmp_path / "shared.bin", b"x", shared=True)
    assert mode(tmp_path / "private.bin") == 0o600
    assert mode(tmp_path / "shared.bin") == USUAL


def test_a_bundle_and_a_report_get_the_users_usual_mode(tmp_path: Path) -> None:
    from tests.core.exports.support import sample
    from tests.core.exports.test_bundle import bundle_of
    from tests.core.exports.test_report import write

    made = sample(tmp_path / "home")
    try:
        bundle = bundle_of(made, made.jobs[0], tmp_path / "out" / "job.zip")
        reports = write(made, tmp_path / "out" / "report.html")
    finally:
        made.place.close()
    assert mode(bundle) == USUAL
    assert reports and all(mode(p) == USUAL for p in reports)
