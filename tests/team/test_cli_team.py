"""The team commands outside team mode: a sentence saying what to set, and exit code 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop import cli


def test_worker_needs_team_mode(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["worker"]) == cli.EXIT_SETUP
    err = capsys.readouterr().err
    assert "restyle-cli worker needs team mode: set RESTYLE_DATABASE_URL" in err
    assert "Traceback" not in err


def test_worker_needs_the_shared_assets_folder(home: Path, pg_url: str,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RESTYLE_DATABASE_URL", pg_url)
    assert cli.main(["worker", "--concurrency", "2"]) == cli.EXIT_SETUP
    assert "needs the team's shared assets folder: set RESTYLE_ASSETS_DIR" in (
        capsys.readouterr().err)


def test_a_remote_batch_needs_team_mode(home: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["batch", "--provider", "tryonapi", "--task", "tryon", "--person",
                     str(tmp_path), "--remote", "--yes"])
    assert code == cli.EXIT_SETUP
    err = capsys.readouterr().err
    assert "batch --remote needs team mode: set RESTYLE_DATABASE_URL" in err


def test_queue_goes_with_remote(home: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["batch", "--provider", "local", "--task", "recolor", "--image",
                     str(tmp_path), "--queue", "studio", "--yes"])
    assert code == cli.EXIT_USAGE
    assert "--queue names the team's task queue for --remote." in capsys.readouterr().err


def test_worker_concurrency_is_checked(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["worker", "--concurrency", "0"]) == cli.EXIT_USAGE
    assert "must be 1 to 256, not 0" in capsys.readouterr().err
