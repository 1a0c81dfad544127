"""`restyle-cli db upgrade` and `restyle-cli db copy`: the history's schema, and moving a desk's
history into the team database (the copy itself: desktop/core/store/copy.py).

These run before the configured history is opened (cli/__init__.py): `db upgrade` must read
the version before anything applies a migration, and neither needs the desk's own history
when it is given other databases.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from desktop.cli.errors import EXIT_JOB_FAILED, EXIT_OK, EXIT_SETUP, EXIT_USAGE, CliError
from desktop.cli.output import print_json
from desktop.config import load_settings, resolve_paths
from desktop.core.store import HistoryError
from desktop.core.store.copy import (
    CopyBusy,
    CopyCheckFailed,
    CopyConflict,
    CopyError,
    CopyRefused,
    copy_history,
)
from desktop.core.store.postgres import is_postgres_url
from desktop.core.store.upgrade import NoHistory, upgrade

#: `db copy`'s exit code when the target holds different rows under the same ids (nothing
#: was written), or the copy did not check out: a decision for a person, not a usage error.
EXIT_CONFLICT = EXIT_JOB_FAILED


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("db", help="the history's database: upgrade it, copy it to the team's")
    db_sub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION",
                              title="actions (restyle-cli db ACTION --help for each)",
                              parser_class=type(p))
    up = db_sub.add_parser("upgrade", help="apply the pending schema migrations")
    up.add_argument("--database", metavar="URL",
                    help="the history to upgrade: postgresql://..., sqlite:///PATH or a file"
                         " path (default: RESTYLE_DATABASE_URL, the database_url setting, or"
                         " this desk's history file)")
    up.add_argument("--json", action="store_true")
    cp = db_sub.add_parser("copy", help="copy a desk's whole history into another database")
    cp.add_argument("--from", dest="source", metavar="URL",
                    help="the history copied: sqlite:///PATH (default: this desk's own"
                         " history file)")
    cp.add_argument("--to", dest="target", required=True, metavar="URL",
                    help="the database copied into: postgresql://USER:PASSWORD@HOST/DB (it is"
                         " upgraded first)")
    cp.add_argument("--assets-from", type=Path, metavar="DIR",
                    help="the desk's assets folder, to copy the image files too (default,"
                         " with --assets-to and without --from: this desk's own)")
    cp.add_argument("--assets-to", type=Path, metavar="DIR",
                    help="the team's shared assets folder (RESTYLE_ASSETS_DIR)")
    cp.add_argument("--json", action="store_true")


def cmd_db(args: argparse.Namespace) -> int:
    """Run `db ACTION`; errors come back as CliError with their exit code."""
    if args.db_command == "upgrade":
        return _upgrade(args)
    return _copy(args)


def _default_database() -> tuple[str | Path, bool]:
    """The configured history, and whether it is this desk's own file (created if missing,
    as any command would)."""
    paths = resolve_paths()
    settings = load_settings(paths)
    if settings.database_url:
        return settings.database_url, False
    return paths.database, True


def _upgrade(args: argparse.Namespace) -> int:
    if args.database:
        target: str | Path = args.database
        create = False
    else:
        target, create = _default_database()
    try:
        done = upgrade(target, create=create)
    except NoHistory as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    except HistoryError as exc:
        raise CliError(str(exc), EXIT_SETUP) from exc
    queue = _queue_tables(target)
    message = done.sentence()
    if queue is not None:
        message += (" Created the team's task queue tables." if queue == "created"
                    else " The team's task queue tables are in place.")
    if args.json:
        print_json({"database": done.where, "schema_before": done.before,
                    "schema_after": done.after, "upgraded": done.changed,
                    "created": done.created, "queue_tables": queue, "message": message})
    else:
        print(message)
    return EXIT_OK


def _queue_tables(target: str | Path) -> str | None:
    """A team database gets the task queue's tables too, so its owner can set it all up once
    and give desks and workers a user that may only use the tables: "created" or "present";
    None for SQLite, or where the team extra (procrastinate) is not installed."""
    if not is_postgres_url(target):
        return None
    try:
        from desktop.team.schema import ensure_schema
    except ImportError:
        return None
    try:
        return "created" if ensure_schema(str(target)) else "present"
    except HistoryError as exc:
        raise CliError(str(exc), EXIT_SETUP) from exc


def _copy(args: argparse.Namespace) -> int:
    def progress(text: str) -> None:
        if not args.json:
            print(text, file=sys.stderr, flush=True)

    paths = resolve_paths()
    source = args.source or paths.database
    assets_from = args.assets_from
    if assets_from is None and args.assets_to is not None and args.source is None:
        assets_from = paths.assets_dir  # the desk's own files go with its own history
    try:
        report = copy_history(source, args.target, assets_from=assets_from,
                              assets_to=args.assets_to, progress=progress)
    except (CopyConflict, CopyCheckFailed, CopyBusy) as exc:
        raise CliError(str(exc), EXIT_CONFLICT) from exc
    except CopyRefused as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    except CopyError as exc:
        raise CliError(str(exc), EXIT_SETUP) from exc
    except HistoryError as exc:
        raise CliError(str(exc), EXIT_SETUP) from exc
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.sentence())
    return EXIT_OK
