"""`restyle --install-desktop` / `--uninstall-desktop`: Restyle in the Linux desktop's menus,
"Open with" lists and software centres, for this user only.

Install copies the files of packaging/linux/ (the frozen bundle carries them as
`desktop-integration/`) into the user's data folder ($XDG_DATA_HOME, else ~/.local/share):

    applications/io.github.restyle.Restyle.desktop    Exec= this executable, %F
    icons/hicolor/<N>x<N>/apps/io.github.restyle.Restyle.png, scalable/apps/....svg
    metainfo/io.github.restyle.Restyle.metainfo.xml

then refreshes the desktop's caches (update-desktop-database, gtk-update-icon-cache) where
those tools exist. Uninstall removes exactly those files (and the folders they leave empty),
then refreshes the caches the same way (the caches themselves are the desktop's: they stay).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: The reverse-DNS id: the .desktop file's name, the icon's name, AppStream's id and the
#: Wayland app id (QGuiApplication.setDesktopFileName).
DESKTOP_ID = "io.github.restyle.Restyle"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def integration_dir() -> Path:
    """Where the shipped desktop files are: in the bundle, or packaging/linux/ in a checkout."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "desktop-integration"
    return Path(__file__).resolve().parent.parent / "packaging" / "linux"


def data_home() -> Path:
    """$XDG_DATA_HOME when set to an absolute path (the XDG spec ignores a relative one),
    else ~/.local/share."""
    value = os.environ.get("XDG_DATA_HOME", "")
    if value and Path(value).is_absolute():
        return Path(value)
    return Path.home() / ".local" / "share"


def launch_command() -> list[str]:
    """How the desktop should start this Restyle: the frozen executable, the `restyle` script
    that is running (a venv's), the one on PATH, else this Python with `-m desktop`."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve())]
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "restyle" and argv0.is_file():
        return [str(argv0.absolute())]
    found = shutil.which("restyle")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "desktop"]


def _exec_quote(arg: str) -> str:
    """One argument of an Exec= line, quoted as the Desktop Entry spec asks when needed."""
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`%='):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
    escaped = escaped.replace("$", "\\$").replace("%", "%%")
    return f'"{escaped}"'


def desktop_file_text(template: str, command: list[str]) -> str:
    """The shipped .desktop entry with Exec= (and TryExec=) pointing at `command`."""
    exec_line = " ".join(_exec_quote(a) for a in command) + " %F"
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_line}"
        elif line.startswith("TryExec="):
            line = f"TryExec={_exec_quote(command[0])}"
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Planned:
    """One file install writes: where from (None: generated) and where to."""

    source: Path | None
    target: Path


def planned_files(source: Path, target_home: Path) -> list[Planned]:
    """Every file install writes, and uninstall removes."""
    plan = [Planned(source / f"{DESKTOP_ID}.desktop",
                    target_home / "applications" / f"{DESKTOP_ID}.desktop"),
            Planned(source / f"{DESKTOP_ID}.metainfo.xml",
                    target_home / "metainfo" / f"{DESKTOP_ID}.metainfo.xml")]
    icons = Path("icons") / "hicolor"
    for size in ICON_SIZES:
        rel = icons / f"{size}x{size}" / "apps" / f"{DESKTOP_ID}.png"
        plan.append(Planned(source / rel, target_home / rel))
    rel = icons / "scalable" / "apps" / f"{DESKTOP_ID}.svg"
    plan.append(Planned(source / rel, target_home / rel))
    return plan


class InstallError(Exception):
    """A sentence for the user: what could not be done and what to do."""


Say = Callable[[str], None]


def _refresh_caches(target_home: Path, say: Say) -> None:
    """Let menus and "Open with" see the change now; the tools are optional (a desktop
    without them rescans by itself)."""
    commands = [["update-desktop-database", "-q", str(target_home / "applications")],
                ["gtk-update-icon-cache", "-q", "-t", "-f", str(target_home / "icons" / "hicolor")]]
    for command in commands:
        if shutil.which(command[0]) is None:
            continue
        try:
            subprocess.run(command, check=False, timeout=60, capture_output=True)
        except (OSError, subprocess.SubprocessError) as exc:
            say(f"Note: {command[0]} did not run ({exc}); the desktop will notice later.")
        else:
            say(f"Refreshed with {command[0]}.")


def install(say: Say = print, *, source: Path | None = None, target_home: Path | None = None,
            command: list[str] | None = None) -> list[Path]:
    """Write the desktop entry, icons and metainfo for this user; the files written."""
    source = source or integration_dir()
    target_home = target_home or data_home()
    command = command or launch_command()
    plan = planned_files(source, target_home)
    missing = [p.source for p in plan if p.source is not None and not p.source.is_file()]
    if missing:
        raise InstallError(
            f"This Restyle lacks its desktop files ({missing[0]} is missing); rebuild or "
            "reinstall it (packaging/README.md).")
    written: list[Path] = []
    try:
        for item in plan:
            assert item.source is not None
            item.target.parent.mkdir(parents=True, exist_ok=True)
            if item.target.suffix == ".desktop":
                text = desktop_file_text(item.source.read_text(encoding="utf-8"), command)
                item.target.write_text(text, encoding="utf-8")
            else:
                shutil.copyfile(item.source, item.target)
            written.append(item.target)
    except OSError as exc:
        raise InstallError(
            f"Could not write {exc.filename or target_home}: {exc.strerror or exc}. Check "
            f"that {target_home} is writable (or set XDG_DATA_HOME to a folder that is).") \
            from None
    say(f"Installed Restyle's desktop entry, icons and metainfo under {target_home} "
        f"({len(written)} files); it starts: {shlex.join(command)}")
    _refresh_caches(target_home, say)
    return written


def uninstall(say: Say = print, *, target_home: Path | None = None) -> list[Path]:
    """Remove what install wrote (nothing else); the files removed."""
    target_home = target_home or data_home()
    removed: list[Path] = []
    folders: set[Path] = set()
    try:
        for item in planned_files(integration_dir(), target_home):
            if item.target.is_file() or item.target.is_symlink():
                item.target.unlink()
                removed.append(item.target)
                folders.add(item.target.parent)
    except OSError as exc:
        raise InstallError(f"Could not remove {exc.filename}: {exc.strerror or exc}.") from None
    # Folders these files leave empty go too (install made them: icons/hicolor/22x22/apps,
    # metainfo, ...); a folder that still holds anything (another application's files, the
    # desktop's caches) stays.
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        while folder != target_home and folder.is_relative_to(target_home):
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent
    if removed:
        say(f"Removed Restyle's desktop entry, icons and metainfo from {target_home} "
            f"({len(removed)} files).")
        _refresh_caches(target_home, say)
    else:
        say(f"Restyle's desktop entry was not installed under {target_home}; nothing removed.")
    return removed
