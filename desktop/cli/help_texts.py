"""restyle-cli's help beyond the flags: each command's description, its examples and the exit
codes, and (for `run --help`) the providers with their tasks, generated from the provider
registry when that help is printed, so the list cannot go stale and start-up does not pay for
it.

`complete(parser)` attaches these to the parser tree `build_parser` made. Every command path
("run", "batch show", "vsai renders") has an entry in `COMMANDS`; tests/test_cli_help.py
checks that each has one, that every flag has a help line, and that every example parses.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from desktop.cli.errors import (
    EXIT_INTERRUPTED,
    EXIT_JOB_FAILED,
    EXIT_OK,
    EXIT_SETUP,
    EXIT_USAGE,
)

#: The width the generated lists are wrapped at (a terminal's 80 columns, less a margin).
WIDTH = 78

#: The samples every clone has (resources/samples/), so the examples run as written from the
#: repository's folder.
PERSON = "resources/samples/person.png"
TSHIRT = "resources/samples/garment-tshirt.png"
JACKET = "resources/samples/garment-jacket.png"
ROOM = "resources/samples/room.jpg"

EXIT_CODES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "succeeded (with --no-wait: accepted by the provider)"),
    (EXIT_JOB_FAILED, "the job failed, was cancelled or timed out, or needs attention for a "
                      "reason other than setup"),
    (EXIT_USAGE, "usage error or invalid input: nothing was sent and no job was stored"),
    (EXIT_SETUP, "missing key, locked keyring, authentication, credits or configuration "
                 "(base URL) problem"),
    (EXIT_INTERRUPTED, "interrupted with Ctrl+C: a job the provider accepted keeps running "
                       "there; `restyle-cli resume` collects it"),
)

#: One line for the commands whose help does not carry the whole table.
EXIT_CODES_SHORT = (f"Exit codes: {EXIT_OK} done, {EXIT_JOB_FAILED} failed, {EXIT_USAGE} usage "
                    f"or invalid input, {EXIT_SETUP} key, authentication, credits or "
                    f"configuration, {EXIT_INTERRUPTED} Ctrl+C (restyle-cli --help explains "
                    "each).")

#: `restyle-cli db`'s exit codes: its failures are databases, not jobs.
DB_EXIT_CODES = (
    f"Exit codes: {EXIT_OK} done (or nothing to do); {EXIT_JOB_FAILED} db copy found rows the"
    " target holds with other values, or jobs a Restyle is working on right now (nothing was"
    " written), or the copy did not check out;"
    f" {EXIT_USAGE} usage error, the same database twice, or no history at that path;"
    f" {EXIT_SETUP} a database that cannot be used (server unreachable, wrong password,"
    f" written by a newer Restyle, disk full); {EXIT_INTERRUPTED} Ctrl+C (a copy not yet"
    " committed writes nothing).")
#: A team database for the examples (a host of the example.com family: it names nobody's).
TEAM_DB = "postgresql://restyle@db.example.com/restyle"

#: Flags that mean the same in every command, for commands that give them no words of their
#: own.
COMMON_HELP = {
    "--json": "print JSON instead of text (the fields: README, restyle-cli reference)",
    "--base-url": "the provider's base URL for this run (else RESTYLE_<ID>_BASE_URL, then "
                  "settings)",
}


@dataclass(frozen=True)
class CommandHelp:
    """What a command's help says besides its flags: a description (None keeps the one the
    command module gave) and examples, each a command line as typed from the repository's
    folder with `.venv/bin/` left out."""

    description: str | None
    examples: tuple[str, ...]
    #: The whole exit code table (True) or the one line.
    full_exit_codes: bool = False
    #: Text generated when the help is printed (the provider list), placed before the examples.
    generated: Callable[[], str] | None = None
    #: The command's own exit codes, where they mean other things than a job's (`db`).
    exit_codes: str | None = None


def exit_codes_text() -> str:
    lines = ["Exit codes:"]
    for code, meaning in EXIT_CODES:
        lines.extend(textwrap.wrap(meaning, WIDTH, initial_indent=f"  {code:<5}",
                                   subsequent_indent=" " * 7))
    return "\n".join(lines)


def providers_text() -> str:
    """Every registered provider by id and name, with its tasks by id and name: from the
    registry, read when the help is printed. Tasks a provider only knows once it is set up
    (VistoureAI's saved workflows) are not listed: `restyle-cli providers` shows those."""
    from desktop.providers.base import ProviderConfig
    from desktop.providers.registry import PROVIDER_CLASSES

    lines = textwrap.wrap("Providers (--provider ID) and their tasks (--task ID); `restyle-cli "
                          "providers` lists each task's inputs and parameters:", WIDTH)
    for pid, cls in PROVIDER_CLASSES.items():
        need = []
        if cls.needs_key:
            need.append("key")
        if cls.needs_base_url:
            need.append("base URL")
        setup = f" (needs a {' and a '.join(need)})" if need else " (no key, no account)"
        lines.append(f"  {pid:<15} {cls.title}{setup}")
        tasks = ", ".join(f"{t.id} ({t.title})" for t in cls.from_config(ProviderConfig()).tasks)
        lines.extend(textwrap.wrap(tasks, WIDTH, initial_indent=" " * 6,
                                   subsequent_indent=" " * 6, break_on_hyphens=False))
    return "\n".join(lines)


def _examples(examples: tuple[str, ...]) -> str:
    lines = textwrap.wrap("Examples, typed in the repository's folder (where the venv is not "
                          "activated, type .venv/bin/restyle-cli for restyle-cli):", WIDTH)
    for example in examples:
        first, *rest = example.split("\n")
        lines.append(f"  {first}")
        lines.extend(f"      {line.strip()}" for line in rest)
    return "\n".join(lines)


def epilog(command: CommandHelp) -> str:
    parts = []
    if command.generated is not None:
        parts.append(command.generated())
    if command.examples:
        parts.append(_examples(command.examples))
    if command.exit_codes is not None:
        parts.append("\n".join(textwrap.wrap(command.exit_codes, WIDTH)))
    else:
        parts.append(exit_codes_text() if command.full_exit_codes
                     else "\n".join(textwrap.wrap(EXIT_CODES_SHORT, WIDTH)))
    return "\n\n".join(parts)


def _ex(*lines: str) -> str:
    """An example over several lines, joined with the shell's backslash."""
    return " \\\n".join(lines)


COMMANDS: dict[str, CommandHelp] = {
    "": CommandHelp(
        None,
        (_ex("restyle-cli run --provider local --task recolor",
             f"--image {TSHIRT} --param color=teal"),
         "restyle-cli jobs --limit 5",
         "restyle-cli providers",
         "restyle-cli run --help"),
        full_exit_codes=True),
    "run": CommandHelp(
        "Run one job at a provider and wait for its result (or, with --no-wait, until the "
        "provider has accepted it). Inputs and parameters are checked before anything is "
        "stored or sent.",
        (_ex("restyle-cli run --provider local --task recolor",
             f"--image {TSHIRT} --param color=teal",
             "--param seed=0.5,0.5 --out results/"),
         _ex("restyle-cli run --provider fitinview --task tryon",
             f"--person {PERSON}",
             f"--garment {TSHIRT}",
             "--param output_size=2K --out results/"),
         _ex("restyle-cli run --provider virtualstaging --task staging",
             f"--room {ROOM} --param style=scandinavian",
             "--param variation_count=2 --no-wait --json")),
        full_exit_codes=True, generated=lambda: providers_text()),
    "jobs": CommandHelp(
        "List the jobs in the history, newest first, optionally filtered.",
        ("restyle-cli jobs",
         "restyle-cli jobs --provider fitinview --state failed --limit 50",
         "restyle-cli jobs --verdict fail --tag 'wrong colour' --json")),
    "show": CommandHelp(
        "Show one job: its state, parameters, inputs, outputs and, when it did not succeed, "
        "why.",
        ("restyle-cli show 3f6bd5bb", "restyle-cli show 3f6bd5bb --json")),
    "resume": CommandHelp(
        "Collect the unfinished jobs nobody else is working on: accepted jobs are polled "
        "(never sent again), jobs never sent are closed. With JOB_IDs, just those jobs, with "
        "a new deadline.",
        ("restyle-cli resume", "restyle-cli resume 3f6bd5bb --json"),
        full_exit_codes=True),
    "cancel": CommandHelp(
        "Cancel a job: at the provider where it can cancel; otherwise Restyle stops following "
        "it and says it may still finish there and be charged.",
        ("restyle-cli cancel 3f6bd5bb",)),
    "providers": CommandHelp(
        "List the providers, whether each is set up, and every task with its inputs and "
        "parameters (types, choices, ranges, defaults).",
        ("restyle-cli providers", "restyle-cli providers --json")),
    "account": CommandHelp(
        "Show a provider's account: credits, plan and limits, where the provider has an "
        "account endpoint.",
        ("restyle-cli account --provider fitinview",
         "restyle-cli account --provider virtualstaging --json")),
    "keys": CommandHelp(
        "Look at, store or remove a provider's API key. `set` reads the key from standard "
        "input (a hidden prompt on a terminal), so it never appears in the shell history. "
        "On a machine without a system keyring a key cannot be stored: set "
        "RESTYLE_<ID>_API_KEY in the environment instead.",
        ("restyle-cli keys status --provider fitinview",
         "restyle-cli keys set --provider fitinview < key.txt",
         "restyle-cli keys delete --provider fitinview")),
    "batch": CommandHelp(
        None,
        (_ex("restyle-cli batch --provider fitinview --task tryon",
             f"--person {PERSON}",
             f"--garment {TSHIRT}",
             f"--garment {JACKET} --budget 50"),
         _ex("restyle-cli batch --provider virtualstaging --task staging",
             f"--room {ROOM} --param style=modern,scandinavian",
             "--yes --no-wait"),
         "restyle-cli batch show 7c1e2a90",
         _ex("restyle-cli batch --provider tryonapi --task tryon",
             f"--person {PERSON} --garment {TSHIRT}",
             "--remote --queue studio --yes")),
        full_exit_codes=True),
    "batch show": CommandHelp("Show a batch's cells as a grid: inputs by variants.",
                              ("restyle-cli batch show 7c1e2a90",)),
    "batch pause": CommandHelp("Pause a batch: nothing new is sent; jobs already sent finish.",
                               ("restyle-cli batch pause 7c1e2a90",)),
    "batch resume": CommandHelp("Carry a paused or interrupted batch on to its end.",
                                ("restyle-cli batch resume 7c1e2a90",)),
    "batch cancel": CommandHelp(
        "Cancel a batch: nothing more is sent and jobs not yet sent are stopped; accepted "
        "jobs still finish and may be charged.",
        ("restyle-cli batch cancel 7c1e2a90",)),
    "batch retry": CommandHelp(
        "Send a batch's failed cells again as new jobs, then carry the batch on.",
        ("restyle-cli batch retry 7c1e2a90 --json",)),
    "batches": CommandHelp("List the batches, newest first, with their progress.",
                           ("restyle-cli batches", "restyle-cli batches --json")),
    "review": CommandHelp(
        "Review one output of a job: pass or fail, 1 to 5 stars, defect tags and a note, "
        "saved with your name and the time.",
        ("restyle-cli review 3f6bd5bb --pass --stars 4",
         _ex("restyle-cli review 3f6bd5bb --output 2 --fail --tag 'wrong colour'",
             "--note 'sleeves too long'"))),
    "vote": CommandHelp(
        "Record a blind A/B vote between the outputs of two jobs made from the same inputs.",
        ("restyle-cli vote 3f6bd5bb 94dd988c left",
         "restyle-cli vote 3f6bd5bb 94dd988c tie --right-output 2")),
    "rankings": CommandHelp(
        "Rank the providers from blind votes and reviews: strength with its 95 % interval, "
        "win rate, pass rate, stars, top defects.",
        ("restyle-cli rankings --task tryon",
         _ex("restyle-cli rankings --provider fitinview --provider vistoure",
             "--since 2026-01-01"))),
    "export": CommandHelp(
        None,
        ("restyle-cli export 3f6bd5bb --out exports/ --format jpeg --quality 90",
         _ex("restyle-cli export --provider virtualstaging --all-outputs --listing",
             "--out listing/"),
         "restyle-cli export 3f6bd5bb --composite side --caption --out exports/")),
    "import": CommandHelp(
        "Add the jobs of a job bundle (a .zip made by Export bundle or `export --bundle`) to "
        "the history.",
        ("restyle-cli import restyle-3f6bd5bb.zip",)),
    "report": CommandHelp(
        "Write a report of jobs: one self-contained HTML page, or CSV (one row per output).",
        ("restyle-cli report --task tryon --since 2026-01-01 --out report.html",
         "restyle-cli report 3f6bd5bb 94dd988c --out report.csv")),
    "lookbook": CommandHelp(
        "Write try-on results as a lookbook: one PDF, or a folder of PNG pages.",
        ("restyle-cli lookbook --task tryon --verdict pass --out lookbook.pdf",
         "restyle-cli lookbook 3f6bd5bb --paper letter --portrait --out pages/")),
    "vsai": CommandHelp(
        None,
        ("restyle-cli vsai renders", f"restyle-cli vsai analyze {ROOM}")),
    "vsai renders": CommandHelp(
        "List the account's past renders, newest first, a page at a time.",
        ("restyle-cli vsai renders --limit 50",)),
    "vsai variations": CommandHelp(
        "Add variations to a past render (paid: asks first unless --yes).",
        ("restyle-cli vsai variations rnd_00001 --param style=industrial --out results/",)),
    "vsai analyze": CommandHelp(
        "How much of a photo is furniture, in plain words; --mask-out saves the mask.",
        (f"restyle-cli vsai analyze {ROOM} --mask-out mask.png",)),
    "vsai compatibility": CommandHelp(
        "Whether two photos of a room can be staged together (multi-view).",
        (f"restyle-cli vsai compatibility {ROOM} room-2.jpg",)),
    "vsai bulk": CommandHelp(
        "Stage every photo of the files, folders and globs given, as one batch (plan, "
        "confirmation and budget as for `batch`).",
        ("restyle-cli vsai bulk listing-photos/ --param style=modern --budget 20",)),
    "vtryon": CommandHelp(None, ("restyle-cli vtryon bases", "restyle-cli vtryon tasks")),
    "vtryon tasks": CommandHelp("List the account's recolour tasks, newest first.",
                                ("restyle-cli vtryon tasks --page 2 --page-size 50",)),
    "vtryon bases": CommandHelp(
        "List the base pose tasks your recolours started from: what --param "
        "pose_image_generation_id takes.",
        ("restyle-cli vtryon bases --json",)),
    "vtryon delete": CommandHelp(
        "Delete recolour tasks for good, after asking (--yes skips the question).",
        ("restyle-cli vtryon delete 501 502",)),
    "db": CommandHelp(
        "The history's database: bring it to this Restyle's schema, or copy a desk's whole "
        "history into the team's PostgreSQL database (README, Team mode).",
        ("restyle-cli db upgrade", f"restyle-cli db copy --to {TEAM_DB}"),
        exit_codes=DB_EXIT_CODES),
    "db upgrade": CommandHelp(
        "Apply the pending schema migrations to a history and say from which schema to which "
        "(every Restyle also does this when it opens a history; this does it on purpose, "
        "for example on the team database before the desks are updated).",
        ("restyle-cli db upgrade",
         f"restyle-cli db upgrade --database {TEAM_DB} --json",
         "restyle-cli db upgrade --database sqlite:///old-desk/history.sqlite3"),
        exit_codes=DB_EXIT_CODES),
    "db copy": CommandHelp(
        "Copy a desk's whole history (jobs, images, inputs, outputs, batches, reviews, votes) "
        "into another database, usually the team's PostgreSQL. The target is upgraded first; "
        "rows it holds already and identical are skipped, different ones are listed and "
        "nothing is written. With --assets-from and --assets-to the image files are copied "
        "too, checked by their SHA-256. Afterwards the copy is read back: counts, hashes, "
        "reviews and votes.",
        (f"restyle-cli db copy --to {TEAM_DB}",
         _ex("restyle-cli db copy --from sqlite:///old-desk/history.sqlite3",
             f"--to {TEAM_DB}",
             "--assets-from old-desk/assets --assets-to /mnt/team/restyle-assets --json")),
        exit_codes=DB_EXIT_CODES),
    "fitinview": CommandHelp(
        None, ("restyle-cli fitinview jobs", "restyle-cli fitinview import --all")),
    "fitinview jobs": CommandHelp(
        "List the key's jobs at FitInView, newest first, with the history's job for each.",
        ("restyle-cli fitinview jobs --status failed --limit 50",)),
    "fitinview import": CommandHelp(
        "Take jobs Restyle does not know from FitInView's list into the history, and collect "
        "their results.",
        ("restyle-cli fitinview import job_00019bfbcf33", "restyle-cli fitinview import --all"),
        full_exit_codes=True),
    "worker": CommandHelp(
        None, ("restyle-cli worker", "restyle-cli worker --queue studio --concurrency 8")),
}


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
         ) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every parser of the tree with its command path ("" for restyle-cli itself)."""
    yield " ".join(path), parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from walk(child, (*path, name))


def complete(parser: argparse.ArgumentParser) -> None:
    """Give every command of the tree its description, examples and exit codes, and the
    common flags their words where a command gave none. The epilogs are callables, made
    into text only when a help is printed (see `desktop.cli.args.Parser`)."""
    for path, child in walk(parser):
        command = COMMANDS.get(path)
        for action in child._actions:
            for option in action.option_strings:
                if action.help is None and option in COMMON_HELP:
                    action.help = COMMON_HELP[option]
        if command is None:
            continue
        if command.description is not None:
            child.description = command.description
        elif child.description is None:
            child.description = _help_of(parser, path)
        child.lazy_epilog = lambda command=command: epilog(command)  # type: ignore[attr-defined]


def _help_of(root: argparse.ArgumentParser, path: str) -> str | None:
    """The one-line help a command is listed with in its parent's help, as a sentence."""
    *parent_path, name = path.split(" ")
    parents = dict(walk(root))
    parent = parents[" ".join(parent_path)]
    for action in parent._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if choice.dest == name and choice.help:
                    return choice.help[:1].upper() + choice.help[1:] + "."
    return None
