"""Restyle's own folders are 0700 and its files 0600, fresh or left looser by someone else."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop import cli
from desktop.config import Settings, resolve_paths, save_settings
from desktop.core.store import History
from desktop.logs import PrivateRotatingFileHandler
from desktop.services import Services
from tests.fakes import png_bytes

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX modes mean nothing on Windows")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The common 022: without Restyle's care, new files would be 0644 and folders 0755."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_a_fresh_home_after_a_job_is_private(home: Path, tmp_path: Path, loose_umask: None,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "photo.png"
    src.write_bytes(png_bytes((30, 90, 200), (120, 90)))
    code = cli.main(["run", "--provider", "local", "--task", "recolor", "--image", str(src),
                     "--param", "color=teal", "--json"])
    assert code == 0, capsys.readouterr()
    # As the run left them: nothing tightened afterwards.
    paths = resolve_paths()
    for folder in (paths.config_dir, paths.data_dir, paths.log_dir, paths.cache_dir,
                   paths.assets_dir):
        assert mode(folder) == 0o700, folder
    files = [p for p in home.rglob("*") if p.is_file()]
    assert paths.database in files and paths.log_file in files
    assert any(p.parent.parent == paths.assets_dir for p in files)  # the stored images
    for file in files:
        assert mode(file) & 0o077 == 0, file  # nothing under RESTYLE_HOME for others
    assert mode(paths.database) == mode(paths.log_file) == 0o600

    services = Services.open()  # the history stays open: its -wal and -shm files exist
    try:
        assert services.history.count() == 1
        save_settings(services.paths, Settings(global_concurrency=3))
        wal = paths.database.with_name(paths.database.name + "-wal")
        shm = paths.database.with_name(paths.database.name + "-shm")
        for file in (paths.settings_file, paths.database, wal, shm):
            assert mode(file) == 0o600, file
    finally:
        services.close()


def test_looser_modes_left_behind_are_tightened_at_start(home: Path) -> None:
    paths = resolve_paths()
    for folder in (paths.config_dir, paths.data_dir, paths.log_dir, paths.cache_dir,
                   paths.assets_dir):
        folder.mkdir(parents=True)
        folder.chmod(0o755)
    History(paths.database).close()
    own = [paths.settings_file, paths.config_dir / "window.ini", paths.log_file,
           paths.log_dir / "restyle.log.1", paths.database,
           paths.database.with_name(paths.database.name + "-wal")]
    for file in own:
        file.touch()
        file.chmod(0o644)
    paths.settings_file.write_text("{}", encoding="utf-8")
    theirs = home / "notes.txt"  # RESTYLE_HOME may be a folder of the user's: not ours
    theirs.write_text("mine")
    theirs.chmod(0o644)
    home.chmod(0o755)
    paths.settings_file.chmod(0o664)

    services = Services.open()
    try:
        for folder in (paths.config_dir, paths.data_dir, paths.log_dir, paths.cache_dir,
                       paths.assets_dir):
            assert mode(folder) == 0o700, folder
        for file in own:
            assert mode(file) == 0o600, file
        assert mode(theirs) == 0o644 and mode(home) == 0o755
    finally:
        services.close()


def test_a_history_opened_elsewhere_is_created_private(tmp_path: Path,
                                                       loose_umask: None) -> None:
    history = History(tmp_path / "h.sqlite3")
    try:
        files = sorted(tmp_path.glob("h.sqlite3*"))
        assert {p.name for p in files} >= {"h.sqlite3", "h.sqlite3-wal", "h.sqlite3-shm"}
        assert all(mode(p) == 0o600 for p in files), {p.name: oct(mode(p)) for p in files}
    finally:
        history.close()


def test_every_log_file_after_a_rollover_is_private(tmp_path: Path, loose_umask: None) -> None:
    log_file = tmp_path / "logs" / "restyle.log"
    log_file.parent.mkdir()
    handler = PrivateRotatingFileHandler(log_file, maxBytes=200, backupCount=2,
                                         encoding="utf-8")
    logger = logging.getLogger("restyle.test-permissions")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for n in range(20):
            logger.info("line %d %s", n, "x" * 40)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(log_file.parent.iterdir())
    assert [p.name for p in files] == ["restyle.log", "restyle.log.1", "restyle.log.2"]
    assert all(mode(p) == 0o600 for p in files), {p.name: oct(mode(p)) for p in files}
