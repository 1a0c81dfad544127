"""The window's commands that open no window: `--self-test`, `--install-desktop` and
`--uninstall-desktop` (they run before Qt sees a display; desktop/app.py dispatches here)."""

from __future__ import annotations

import argparse
import sys

FLAGS = ("--self-test", "--install-desktop", "--uninstall-desktop")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--self-test", action="store_true",
        help="check this installation without a display (event loop, HTTP, keyring, image "
             "formats, a local job, the window, worker processes) in a temporary data folder; "
             "prints a JSON report; exit code 0 when every check passed, else 1")
    group.add_argument(
        "--install-desktop", action="store_true",
        help="add Restyle to this user's application menu and 'Open with' lists (Linux: "
             "$XDG_DATA_HOME or ~/.local/share), starting this executable")
    group.add_argument(
        "--uninstall-desktop", action="store_true",
        help="remove what --install-desktop added")


def asked(arguments: list[str]) -> bool:
    """Whether the command line asks for one of these commands (before Qt is started)."""
    return any(a in FLAGS for a in arguments)


def run(args: argparse.Namespace) -> int:
    """Run the command `args` asks for; its exit code."""
    if args.compare:
        print(f"restyle: --compare opens the window; it does not go with {_flag(args)}.",
              file=sys.stderr)
        return 2
    if args.self_test:
        from desktop import self_test

        return self_test.run()
    from desktop import desktop_entry

    if not sys.platform.startswith("linux"):
        print("restyle: --install-desktop and --uninstall-desktop are for Linux desktops; on "
              "Windows and macOS the installer registers Restyle (packaging/README.md).",
              file=sys.stderr)
        return 2
    try:
        if args.install_desktop:
            desktop_entry.install()
        else:
            desktop_entry.uninstall()
    except desktop_entry.InstallError as exc:
        print(f"restyle: {exc}", file=sys.stderr)
        return 1
    return 0


def _flag(args: argparse.Namespace) -> str:
    return next(f for f in FLAGS if getattr(args, f[2:].replace("-", "_")))
