"""`restyle [FILE ...] [--role ROLE] [--compare A B ...]`: what the parser takes, and the request
it makes (paths made absolute in the process that got them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.app import build_parser, open_request, parse_args
from desktop.open_request import OpenRequest


def test_files_a_role_and_compare_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = parse_args(["p.png", "file:///tmp/g%201.png", "--role", "garment",
                       "--compare", "a.png", "b.png"])
    assert args.files == ["p.png", "file:///tmp/g%201.png"] and args.role == "garment"
    request = open_request(args)
    assert request == OpenRequest((str(tmp_path / "p.png"), "/tmp/g 1.png"), "garment",
                                  (str(tmp_path / "a.png"), str(tmp_path / "b.png")))
    assert open_request(parse_args([])) == OpenRequest(kind="raise")
    assert open_request(parse_args(["--compare", "a", "b"])).files == ()


@pytest.mark.parametrize("argv", [["--role", "garment"], ["--role", "shoe", "x.png"],
                                  ["--compare"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_args(argv)
    assert stopped.value.code == 2
    assert "usage: restyle" in capsys.readouterr().err


def test_the_help_names_files_and_roles() -> None:
    text = " ".join(build_parser().format_help().split())
    assert "FILE" in text and "--role {person,garment,room,image}" in text
    assert "file:// addresses" in text and "they open in its window" in text
