"""Hostile input through restyle-cli: exit 2, a sentence naming the problem, no traceback,
nothing in history, nothing sent.

Every kind in tests/reliability/corpus.py runs in-process (`desktop.cli.main`); a few also run
as real processes, to prove no traceback reaches stderr. Remote kinds run against the
FitInView emulator, whose request log must stay empty.
"""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop import cli
from desktop.core.store import History
from tests.emulators.fitinview import FitInViewEmulator
from tests.emulators.kit import serve
from tests.reliability.corpus import (
    ARG_KINDS,
    FILE_KINDS,
    REMOTE,
    URL_KINDS,
    ArgKind,
    SourceKind,
    Workspace,
    matches,
    settings_with_url_limits,
    url_server,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def url_base() -> Iterator[str]:
    with url_server() as base:
        yield base


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[FitInViewEmulator, str]]:
    emu = FitInViewEmulator(job_delay=0.0)
    with serve(emu) as base:
        yield emu, base


@pytest.fixture
def ws(home: Path, tmp_path: Path, url_base: str,
       emulator: tuple[FitInViewEmulator, str],
       monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A RESTYLE_HOME whose settings have small URL limits, the remote provider pointed at
    its emulator (request log cleared), and a folder to make hostile things in."""
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text(json.dumps(settings_with_url_limits()))
    emu, base = emulator
    emu.requests.clear()
    monkeypatch.setenv(f"RESTYLE_{REMOTE.upper()}_BASE_URL", base)
    monkeypatch.setenv(f"RESTYLE_{REMOTE.upper()}_API_KEY", emu.api_key)
    folder = tmp_path / "hostile"
    folder.mkdir()
    workspace = Workspace(folder, url_base=url_base)
    try:
        yield workspace
    finally:
        workspace.close()


def _skip(kind: SourceKind | ArgKind) -> None:
    reason = kind.skip()
    if reason:
        pytest.skip(reason)


def jobs_in_history(home: Path) -> int:
    database = home / "data" / "history.sqlite3"
    if not database.exists():
        return 0
    history = History(database)
    try:
        return len(history.list(limit=1000))
    finally:
        history.close()


def stored_files(home: Path) -> list[Path]:
    assets = home / "data" / "assets"
    return [p for p in assets.rglob("*") if p.is_file()] if assets.exists() else []


def assert_refused(code: int, out: str, err: str, needles: tuple[str, ...], home: Path) -> None:
    assert code == 2, (code, out, err)
    assert matches(err, needles), (needles, err)
    assert "Traceback" not in out + err
    assert len(err) < 3000, err  # a sentence, not a dump of the input
    assert jobs_in_history(home) == 0
    assert stored_files(home) == []


def run_cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str, float]:
    started = time.monotonic()
    code = cli.main(argv, stdin=io.StringIO(""))
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    return code, out, err, elapsed


SOURCE_KINDS = FILE_KINDS + URL_KINDS


@pytest.mark.parametrize("kind", SOURCE_KINDS, ids=[k.id for k in SOURCE_KINDS])
def test_hostile_source_is_refused(kind: SourceKind, ws: Workspace, home: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    _skip(kind)
    source = kind.make(ws)
    code, out, err, elapsed = run_cli(
        capsys, ["run", "--provider", "local", "--task", "upscale", "--image", source])
    assert_refused(code, out, err, kind.needles, home)
    if kind.max_seconds is not None:
        assert elapsed < kind.max_seconds, elapsed


@pytest.mark.parametrize("kind", ARG_KINDS, ids=[k.id for k in ARG_KINDS])
def test_hostile_arguments_are_refused(kind: ArgKind, ws: Workspace, home: Path,
                                       emulator: tuple[FitInViewEmulator, str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    _skip(kind)
    code, out, err, _ = run_cli(capsys, kind.argv(ws))
    assert_refused(code, out, err, kind.needles, home)
    emu, _base = emulator
    assert emu.requests == []  # nothing reached the paid service, not even a status call


def test_the_corpus_is_large_enough() -> None:
    kinds = SOURCE_KINDS + ARG_KINDS
    assert len({k.id for k in kinds}) == len(kinds) >= 40


#: Kinds run as real processes: whatever they raise, no traceback may reach stderr.
PROCESS_KINDS = ("dev-zero", "symlink-loop", "fifo", "name-with-newline")
PROCESS_ARGS = ("nested-json-param-10000", "out-into-proc", "jobs-limit-20-digits",
                "timeout-nan")


def test_hostile_inputs_in_a_real_process(ws: Workspace, home: Path) -> None:
    env = {**os.environ, "RESTYLE_HOME": str(home), "PYTHONPATH": str(ROOT)}
    cases: list[tuple[list[str], tuple[str, ...]]] = []
    for kind in FILE_KINDS:
        if kind.id in PROCESS_KINDS and not kind.skip():
            cases.append((["run", "--provider", "local", "--task", "upscale", "--image",
                           kind.make(ws)], kind.needles))
    for arg in ARG_KINDS:
        if arg.id in PROCESS_ARGS and not arg.skip():
            cases.append((arg.argv(ws), arg.needles))
    assert len(cases) >= 4
    for argv, needles in cases:
        done = subprocess.run([sys.executable, "-m", "desktop.cli", *argv], env=env,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 2, (argv[:6], done.stderr)
        assert "Traceback" not in done.stderr + done.stdout
        assert matches(done.stderr, needles), (needles, done.stderr)
    assert jobs_in_history(home) == 0


def test_out_folder_is_checked_and_left_clean(ws: Workspace, home: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A good --out is created before the job and holds only the results afterwards (the
    write test's temporary file is gone)."""
    out_dir = ws.tmp / "new" / "results"
    code, out, err, _ = run_cli(capsys, ["run", "--provider", "local", "--task", "upscale",
                                         "--image", str(ws.good()), "--out", str(out_dir),
                                         "--json"])
    assert code == 0, err
    [output] = json.loads(out)["outputs"]
    assert [p.name for p in out_dir.iterdir()] == [Path(output["path"]).name]


def test_copy_failure_after_the_job_is_a_sentence(ws: Workspace, home: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills up while the result is copied: the job stays succeeded in history, the
    result stays in the asset store and its path is printed, the exit code is 1."""

    def disk_full(src: str, dst: str) -> str:
        Path(dst).write_bytes(b"half a file")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cli.shutil, "copyfile", disk_full)
    out_dir = ws.tmp / "results"
    code, out, err, _ = run_cli(capsys, ["run", "--provider", "local", "--task", "upscale",
                                         "--image", str(ws.good()), "--out", str(out_dir),
                                         "--json"])
    assert code == 1, err
    assert "Traceback" not in err
    data = json.loads(out)
    assert data["status"] == "succeeded"
    [output] = data["outputs"]
    kept = Path(output["path"])
    assert kept.is_file() and home.resolve() in kept.resolve().parents
    assert f"could not be copied to {out_dir}" in err
    assert os.strerror(errno.ENOSPC) in err and str(kept) in err
    assert list(out_dir.iterdir()) == []  # no half file left behind
    assert jobs_in_history(home) == 1
