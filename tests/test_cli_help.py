"""restyle-cli's help is complete: every command has a description, examples that parse, and
its exit codes; every flag has words; `run --help` lists the registered providers and their
tasks, made from the registry only when that help is printed; `providers` prints ranges,
choices and defaults as people read them, and its JSON keeps its fields."""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import cli
from desktop.cli import help_texts, param_text
from desktop.cli.errors import (
    EXIT_INTERRUPTED,
    EXIT_JOB_FAILED,
    EXIT_OK,
    EXIT_SETUP,
    EXIT_USAGE,
)
from desktop.core.model import InputRole, ParamSpec, ParamType, TaskSpec
from desktop.providers.base import ProviderConfig
from desktop.providers.registry import PROVIDER_CLASSES
from tests.fakes import FakeProvider

ROOT = Path(__file__).resolve().parents[1]


def parsers() -> dict[str, argparse.ArgumentParser]:
    return dict(help_texts.walk(cli.build_parser()))


def help_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert cli.main([*argv, "--help"]) == 0
    return capsys.readouterr().out


def examples(text: str) -> list[str]:
    """The example command lines of a help text, continuation lines joined."""
    section = text.split("Examples, ", 1)[1].split("\n\n", 1)[0]
    lines: list[str] = []
    pending = ""
    for raw in section.splitlines()[1:]:
        line = raw.strip()
        if not line.startswith("restyle-cli") and not pending:
            continue
        pending += line.removesuffix("\\").strip() + " "
        if not line.endswith("\\"):
            lines.append(pending.strip())
            pending = ""
    return lines


def test_every_command_has_help_texts_and_no_entry_is_stale() -> None:
    paths = set(parsers())
    assert paths == set(help_texts.COMMANDS), (paths ^ set(help_texts.COMMANDS))


@pytest.mark.parametrize("path", sorted(help_texts.COMMANDS))
def test_every_command_has_a_description_flag_words_examples_and_exit_codes(
        path: str, capsys: pytest.CaptureFixture[str]) -> None:
    parser = parsers()[path]
    assert parser.description, path
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            continue
        if isinstance(action, argparse._SubParsersAction):  # each command's line
            for choice in action._choices_actions:
                assert choice.help, f"{path} {choice.dest} has no line in {path}'s help"
            continue
        assert action.help, f"{path}: {action.option_strings or action.dest} has no help"
    text = help_of(capsys, *path.split()) if path else help_of(capsys)
    assert "Exit codes" in text and "130" in text, path
    found = examples(text)
    assert found, f"{path} has no examples"
    for example in found:
        argv = shlex.split(example.split(" < ", 1)[0])
        assert argv[0] == "restyle-cli"
        if argv[1:] == ["run", "--help"]:
            continue
        try:
            args = cli.build_parser().parse_args(argv[1:])
        except SystemExit as exc:  # an example that does not parse fails here
            pytest.fail(f"{path}: the example {example!r} does not parse ({exc})")
        if path:
            assert args.command == path.split()[0], example
    capsys.readouterr()


def test_run_help_lists_every_provider_and_task_from_the_registry(
        capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(capsys, "run")
    listing = text.split("Providers (--provider ID)", 1)[1].split("\n\n", 1)[0]
    for pid, cls in PROVIDER_CLASSES.items():
        assert f"  {pid} " in listing and cls.title in listing, pid
        for task in cls.from_config(ProviderConfig()).tasks:
            assert f"{task.id} ({task.title})" in " ".join(listing.split()), (pid, task.id)
    codes = text.split("Exit codes:", 1)[1]
    for code in (EXIT_OK, EXIT_JOB_FAILED, EXIT_USAGE, EXIT_SETUP, EXIT_INTERRUPTED):
        assert f"\n  {code} " in codes, code
    assert "Ctrl+C" in codes and "usage error" in codes and "credits" in codes
    for line in text.splitlines():
        if not line.lstrip().startswith("restyle-cli"):
            assert len(line) <= 80, line


class HelpFake(FakeProvider):
    id = "helpfake"
    title = "Help Fake Service"
    needs_key = True

    @property
    def tasks(self) -> tuple[TaskSpec, ...]:
        return (TaskSpec("dress_up", "Dress up", (InputRole("person", "Person"),)),)


def test_the_provider_list_is_made_from_the_registry_when_the_help_is_printed(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PROVIDER_CLASSES, HelpFake.id, HelpFake)
    text = help_of(capsys, "run")
    assert "helpfake        Help Fake Service (needs a key)" in text
    assert "dress_up (Dress up)" in text


def test_no_help_but_run_help_makes_the_provider_list(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Start-up and the other helps never pay for it."""
    calls: list[int] = []
    real = help_texts.providers_text
    monkeypatch.setattr(help_texts, "providers_text", lambda: calls.append(1) or real())
    cli.build_parser()
    help_of(capsys)
    help_of(capsys, "jobs")
    assert calls == []
    help_of(capsys, "run")
    assert calls == [1]


def test_help_in_a_process_of_its_own() -> None:
    proc = subprocess.run([sys.executable, "-m", "desktop.cli", "run", "--help"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0 and proc.stderr == ""
    assert "virtualstaging" in proc.stdout and "Exit codes:" in proc.stdout


# -- providers: ranges and defaults in words ---------------------------------------------------

def spec(**fields: object) -> ParamSpec:
    return ParamSpec(**{"name": "p", "type": ParamType.INTEGER, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(("fields", "words"), [
    ({"minimum": 0, "maximum": 2147483647},
     "whole number from 0 up (no upper limit; the largest is 2,147,483,647)"),
    ({"minimum": 1}, "whole number from 1 up (no upper limit)"),
    ({"minimum": 1, "maximum": 10}, "whole number from 1 to 10"),
    ({"maximum": 20000}, "whole number up to 20,000"),
    ({}, "any whole number"),
    ({"type": ParamType.NUMBER, "minimum": 0.5, "maximum": 1.5},
     "number from 0.5 to 1.5, decimals allowed"),
    ({"type": ParamType.NUMBER, "minimum": 0.0, "maximum": 255.0},
     "number from 0 to 255, decimals allowed"),
    ({"type": ParamType.NUMBER, "minimum": 0.001, "maximum": 12500.25},
     "number from 0.001 to 12,500.25, decimals allowed"),
    ({"type": ParamType.NUMBER}, "any number"),
    ({"type": ParamType.BOOLEAN}, "true or false (also yes/no, 1/0)"),
    ({"type": ParamType.CHOICE, "choices": ("living", "bed", "1:1", "2k"),
      "choice_titles": (("living", "Living room"), ("bed", "Bedroom"), ("1:1", "1:1 (square)"),
                        ("2k", "2K"))},
     "one of: living (Living room), bed (Bedroom), 1:1 (square), 2k"),
    ({"type": ParamType.CHOICE, "choices": (2, 4)}, "one of: 2, 4"),
    ({"type": ParamType.STRING, "max_length": 1000}, "text, at most 1,000 characters"),
    ({"type": ParamType.STRING}, "text"),
    ({"type": ParamType.JSON, "rows": (ParamSpec("target", ParamType.STRING),
                                       ParamSpec("color", ParamType.COLOR))},
     "a JSON list of objects with target, color"),
])
def test_allowed_values_in_words(fields: dict[str, object], words: str) -> None:
    assert param_text.allowed_text(spec(**fields)) == words


@pytest.mark.parametrize(("fields", "words"), [
    ({"type": ParamType.NUMBER, "default": 40.0}, "40"),
    ({"type": ParamType.NUMBER, "default": 0.25}, "0.25"),
    ({"type": ParamType.BOOLEAN, "default": True}, "true"),
    ({"type": ParamType.BOOLEAN, "default": False}, "false"),
    ({"type": ParamType.CHOICE, "choices": ("a", "b"), "default": "b",
      "choice_titles": (("b", "Bee"),)}, "b"),
    ({"default": 1500}, "1,500"),
    ({}, None),
])
def test_defaults_in_words(fields: dict[str, object], words: str | None) -> None:
    assert param_text.default_text(spec(**fields)) == words


def test_providers_prints_every_parameter_in_words(home: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["providers"]) == 0
    out = capsys.readouterr().out
    assert "e+" not in out and ".0;" not in out and "..2" not in out
    assert "seed: whole number from 0 up (no upper limit; the largest is 2,147,483,647)" in out
    assert "variation_count: whole number from 1 to 10; default 1" in out
    assert "tolerance: number from 0 to 255, decimals allowed; default 40" in out
    assert "shadow: true or false (also yes/no, 1/0); default true" in out
    assert "inputs: --person, --garment (1 to 3)" in out
    for cls in PROVIDER_CLASSES.values():
        for task in cls.from_config(ProviderConfig()).tasks:
            for p in task.params:
                assert f"{p.name}: {param_text.summary(p)}" in " ".join(out.split())


def test_providers_json_keeps_its_fields_and_adds_the_words(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["providers", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    [fitinview] = [r for r in rows if r["id"] == "fitinview"]
    assert set(fitinview) == {"id", "title", "ready", "problem", "needs_key", "key",
                              "base_url", "tasks"}
    [tryon] = fitinview["tasks"]
    assert set(tryon) == {"id", "title", "note", "inputs", "params"}
    seed = next(p for p in tryon["params"] if p["name"] == "seed")
    assert seed == {
        "name": "seed", "type": "integer", "default": None, "choices": None, "minimum": 0,
        "maximum": 2147483647, "max_length": None, "required": False, "help": seed["help"],
        "label": "Seed", "allowed": "whole number from 0 up (no upper limit; the largest is "
                                    "2,147,483,647)",
        "default_text": None, "advanced": seed["advanced"]}
    size = next(p for p in tryon["params"] if p["name"] == "output_size")
    assert (size["choices"], size["default"], size["default_text"]) == (
        ["1K", "2K", "4K"], "1K", "1K")
