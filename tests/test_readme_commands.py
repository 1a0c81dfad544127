"""Every command README.md shows works as written from a clone.

The shell blocks (```sh) are read and each command is sorted: installs and the long runs (the
window, the test suite) are checked for their shape (the venv's paths, extras that exist,
modules that exist); the provider emulators are started exactly as written, and every
`restyle-cli` command is run exactly as written in a folder laid out like a clone, with the
emulators' printed `export` lines for the blocks after them, in a temporary RESTYLE_HOME and
with keyring's null backend, so the user's history and keyring are never touched. The inline
commands and the reference synopsis must name commands and flags restyle-cli has, and the
files README names must exist. A command README gains that fits none of these fails here.
"""

from __future__ import annotations

import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from desktop.cli import build_parser, help_texts

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VENV = Path(sys.prefix)

#: What README may call from the venv: the two entry points, Python, pip and the script that
#: activates it.
VENV_PROGRAMS = {".venv/bin/python", ".venv/bin/pip", ".venv/bin/restyle",
                 ".venv/bin/restyle-cli", ".venv/bin/activate"}


@dataclass(frozen=True)
class Command:
    text: str  # as written, continuation lines joined
    block: int  # which shell block, in README order
    kind: str  # install | window | suite | server | cli


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)


def block_commands(body: str) -> list[str]:
    """A shell block's commands: continuation lines joined, blank and comment lines left out
    (a trailing comment stays: the shell drops it)."""
    commands: list[str] = []
    pending = ""
    for line in body.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1].rstrip() + " "
            continue
        commands.append((pending + line.strip()).strip())
        pending = ""
    assert not pending, f"a block ends in a continuation: {pending!r}"
    return commands


def argv_of(part: str) -> list[str]:
    """The words of one simple command, without leading VAR=value assignments."""
    words = shlex.split(part, comments=True)
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        words.pop(0)
    return words


def kind_of(part: str) -> str:
    argv = argv_of(part)
    program = argv[0]
    if program == "python3" and argv[1:3] == ["-m", "venv"]:
        return "install"
    if program == ".venv/bin/pip" and argv[1] == "install":
        return "install"
    if program == ".venv/bin/restyle":
        return "window"
    if program == ".venv/bin/python" and argv[1:3] == ["-m", "pytest"]:
        return "suite"
    if program == ".venv/bin/python" and argv[1:3] == ["-m", "tests.emulators"]:
        return "server"
    if program == ".venv/bin/restyle-cli":
        return "cli"
    return "unknown"


def readme_commands() -> list[Command]:
    found = []
    for number, body in enumerate(shell_blocks(README)):
        for text in block_commands(body):
            kinds = {kind_of(part) for part in text.split("&&")}
            kind = "cli" if kinds == {"cli"} else "/".join(sorted(kinds))
            if kinds <= {"install", "window", "suite"}:
                kind = "install"
            found.append(Command(text, number, kind))
    return found


COMMANDS = readme_commands()
CLI_COMMANDS = [c for c in COMMANDS if c.kind == "cli"]


def test_every_shell_command_in_readme_is_one_this_test_knows() -> None:
    assert COMMANDS, "README has no shell blocks"
    unknown = [c.text for c in COMMANDS if c.kind not in ("install", "server", "cli")]
    assert unknown == [], "commands this test neither runs nor checks"
    assert len(CLI_COMMANDS) >= 10
    assert [c.kind for c in COMMANDS].count("server") == 1


def test_install_commands_use_the_clone_s_venv_and_extras_that_exist() -> None:
    extras = set(PYPROJECT["project"]["optional-dependencies"])
    scripts = {**PYPROJECT["project"]["scripts"], **PYPROJECT["project"]["gui-scripts"]}
    installs = [c for c in COMMANDS if c.kind == "install"]
    assert len(installs) >= 2
    spans = [s for s in inline_spans() if "pip install" in s]
    for text in [c.text for c in installs] + spans:
        for part in text.split("&&"):
            argv = argv_of(part)
            if argv[:3] == ["python3", "-m", "venv"]:
                assert argv[3:] == [".venv"], text
            elif "install" in argv:
                assert argv[0] == ".venv/bin/pip" and argv[1:3] == ["install", "-e"], text
                target = argv[3]
                match = re.fullmatch(r"\.(?:\[([a-z,]+)\])?", target)
                assert match, f"{text}: installs {target!r}, not this clone"
                assert set((match.group(1) or "").split(",")) - {""} <= extras, text
            elif argv[0] == ".venv/bin/restyle":
                assert "restyle" in scripts
            else:
                assert argv[:3] == [".venv/bin/python", "-m", "pytest"], text
                assert "QT_QPA_PLATFORM=offscreen" in part, text
    for command in CLI_COMMANDS:
        assert "restyle-cli" in scripts and command.text.startswith(".venv/bin/restyle-cli ")


def inline_spans() -> list[str]:
    prose = re.sub(r"^```.*?^```", "", README, flags=re.S | re.M)
    return [" ".join(s.split()) for s in re.findall(r"`([^`]+)`", prose)]


def test_every_venv_program_and_module_readme_names_exists() -> None:
    texts = [c.text for c in COMMANDS] + inline_spans()
    modules = set()
    for text in texts:
        for program in re.findall(r"(?<![\w/])\.venv/bin/[\w-]+", text):
            assert program in VENV_PROGRAMS, text
            assert (VENV / "bin" / Path(program).name).exists(), program
        modules.update(re.findall(r"python3? -m ([\w.]+)", text))
    assert {"tests.emulators", "tests.screenshots", "tests.perf", "pytest"} <= modules
    for module in modules:
        path = ROOT.joinpath(*module.split("."))
        if module.split(".")[0] in ("tests", "desktop"):
            assert (path / "__main__.py").exists() or path.with_suffix(".py").exists(), module
        else:
            import importlib.util

            assert importlib.util.find_spec(module) is not None, module
    # No short names: a fresh clone has no activated venv.
    for text in texts:
        assert not re.match(r"(?:[A-Z_]+=\S+ )*(?:python|pip) ", text), text


#: Top-level folders of the repository, and files README may name alone.
REPO_DIRS = ("desktop/", "tests/", "docs/", "resources/", "packaging/", ".ci/")


def test_every_repository_path_readme_names_exists() -> None:
    named = set()
    for span in inline_spans() + [c.text for c in COMMANDS]:
        for word in span.split():
            word = word.strip("(),;:'\"")
            if word.startswith(REPO_DIRS) and "*" not in word and "{" not in word:
                named.add(word.split("=")[-1])
        for doc in re.findall(r"(?<![\w/])([\w/]+\.md)\b", span):
            if doc != "README.md":
                named.add(doc)
    named.update(re.findall(r"\]\(((?!https?:|#)[^)]+)\)", README))  # Markdown links
    assert {"resources/samples/person.png", "docs/ARCHITECTURE.md", "docs/DESIGN.md"} <= named
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert missing == [], f"README names files that do not exist: {missing}"


def test_the_docs_readme_points_to_name_files_that_exist() -> None:
    for doc in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\(((?!https?:|#)[^)]+)\)", doc.read_text("utf-8")):
            assert (doc.parent / target).exists(), (doc.name, target)
    # Code comments cite the architecture notes by their path in the repository.
    for path in [*ROOT.joinpath("desktop").rglob("*.py"), *ROOT.joinpath("tests").rglob("*.py")]:
        for cited in re.findall(r"(?<![\w/])([\w/]*(?:ARCHITECTURE|DESIGN)\.md)",
                                path.read_text("utf-8")):
            assert (ROOT / cited).exists(), f"{path.relative_to(ROOT)} cites {cited}"


# -- restyle-cli: the synopsis and the inline commands name what exists ------------------------

PARSERS = dict(help_texts.walk(build_parser()))
#: What `FILTERS`/`[filters]` stands for in the synopsis (README explains it under each).
FILTER_FLAGS = {"--provider", "--task", "--state", "--search", "--verdict", "--tag",
                "--reviewer", "--batch", "--since", "--limit"}


def command_paths(words: list[str]) -> list[str]:
    """The command paths a synopsis entry or command line names ("batch show|pause" names
    two); [""] for restyle-cli's own options."""
    if len(words) < 2 or words[1] not in PARSERS:
        return [""]
    if len(words) > 2:
        subs = [f"{words[1]} {w}" for w in words[2].split("|")]
        if all(s in PARSERS for s in subs):
            return subs
    return [words[1]]


def options(path: str) -> set[str]:
    return {o for a in PARSERS[path]._actions for o in a.option_strings}


def flags_in(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--?[a-z][a-z0-9-]*", text))


def test_the_reference_synopsis_names_every_command_and_flag_restyle_cli_has() -> None:
    block = README.split("## restyle-cli reference", 1)[1].split("```", 2)[1]
    entries: list[str] = []
    for line in block.splitlines()[1:]:
        if line.startswith("restyle-cli"):
            entries.append(line)
        elif line.strip():
            entries[-1] += " " + line.strip()
    covered = set()
    for entry in entries:
        flags = flags_in(entry)
        for path in command_paths(entry.split()):
            covered.add(path)
            assert flags - options(path) - {"-h"} == set(), entry
            documented = flags | (FILTER_FLAGS if "filters" in entry.lower() else set())
            undocumented = {o for o in options(path) if o.startswith("--")} - documented
            assert undocumented <= {"--help"}, f"{path}: {undocumented} not in the synopsis"
    groups = {p for p, parser in PARSERS.items() if p and any(
        isinstance(a, __import__("argparse")._SubParsersAction) and a.required
        for a in parser._actions)}
    assert set(PARSERS) - covered - groups == set()


def test_inline_restyle_cli_commands_name_real_commands_and_flags() -> None:
    checked = 0
    for span in inline_spans():
        text = span.removeprefix(".venv/bin/")
        if not text.startswith("restyle-cli ") or text.startswith("restyle-cli COMMAND"):
            continue
        words = text.split()
        paths = command_paths(words)
        assert paths != [""] or words[1].startswith("-"), f"no such command: {span}"
        for path in paths:
            assert flags_in(text) - options(path) - {"-h"} == set(), span
        checked += 1
    assert checked >= 15


# -- running them ------------------------------------------------------------------------------

@dataclass
class Clone:
    folder: Path
    env: dict[str, str]
    exports: dict[str, str]
    server_block: int


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clone]:
    """A folder laid out like a fresh clone with its venv (links to this checkout's resources,
    tests and the running venv), a private RESTYLE_HOME and keyring's null backend; the
    emulators started with README's own command, stopped with Ctrl+C as README says."""
    if not (VENV / "bin" / "restyle-cli").exists():
        pytest.skip(f"the tests do not run in a venv with restyle installed ({VENV})")
    folder = tmp_path_factory.mktemp("clone")
    for name in ("resources", "tests"):
        (folder / name).symlink_to(ROOT / name)
    (folder / ".venv").symlink_to(VENV)
    env = {k: v for k, v in os.environ.items()  # a user's shell: none of these set
           if not k.startswith(("RESTYLE_", "PYTHON_KEYRING_BACKEND", "PYTHONUNBUFFERED"))}
    env.update(RESTYLE_HOME=str(tmp_path_factory.mktemp("home")),
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring", COLUMNS="100")
    [server] = [c for c in COMMANDS if c.kind == "server"]
    proc = subprocess.Popen(["bash", "-c", f"exec {server.text}"], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or ()],
                     daemon=True).start()
    exports: dict[str, str] = {}
    try:
        while True:  # until the line that says how to stop them, which comes last
            try:
                line = lines.get(timeout=30)
            except queue.Empty:
                pytest.fail(f"the emulators printed no 'Ctrl+C stops' line in 30 s: {exports}")
            if match := re.fullmatch(r"\s*export (RESTYLE_\w+)=(\S+)\s*", line):
                exports[match.group(1)] = match.group(2)
            if "Ctrl+C" in line:
                break
        assert len(exports) == 10, f"the emulators printed {exports}"
        yield Clone(folder, env, exports, server.block)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def outputs(folder: Path) -> set[str]:
    results = folder / "results"
    return {p.name for p in results.iterdir()} if results.is_dir() else set()


#: The team database the `db` commands of README's "Team mode" run against (they read
#: RESTYLE_DATABASE_URL and RESTYLE_ASSETS_DIR, as README sets them): one for the module, so
#: `db copy` finds the tables `db upgrade` made.
_TEAM: dict[str, str] = {}


def team_env(request: pytest.FixtureRequest, clone: Clone) -> dict[str, str]:
    """The variables README's team set-up exports, pointing at the test PostgreSQL server, and
    a desk that has a history to copy (what the commands before them leave behind)."""
    if not _TEAM:
        from tests.pg_cluster import PgCluster

        cluster = request.getfixturevalue("pg_cluster")
        assert isinstance(cluster, PgCluster)
        _TEAM["RESTYLE_DATABASE_URL"] = cluster.create_database("readme")
        _TEAM["RESTYLE_ASSETS_DIR"] = str(clone.folder / "team-assets")
    desk = Path(clone.env["RESTYLE_HOME"]) / "data" / "history.sqlite3"
    if not desk.exists():  # this test run alone: the desk has not run a job yet
        from desktop.core.store import History

        History(desk).close()
    return dict(_TEAM)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("command", CLI_COMMANDS, ids=lambda c: c.text[:70])
def test_readme_restyle_cli_commands_run_as_written(command: Command, clone: Clone,
                                                    request: pytest.FixtureRequest) -> None:
    env = dict(clone.env)
    if command.block > clone.server_block:  # after README says to paste the exports
        env.update(clone.exports)
    if command.text.startswith(".venv/bin/restyle-cli db "):  # README's team set-up
        env.update(team_env(request, clone))
    before = outputs(clone.folder)
    proc = subprocess.run(["bash", "-c", command.text], cwd=clone.folder, env=env,
                          capture_output=True, text=True, timeout=170)
    assert proc.returncode == 0, f"{command.text}\nexit {proc.returncode}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout.strip(), command.text
    if "--out results/" in command.text:
        new = outputs(clone.folder) - before
        assert new, f"{command.text} wrote nothing into results/"
