"""Screenshots of issue 14's window states (`python -m tests.screenshots OUT --only app`):
files opened from the command line (`restyle FILE...`, with a missing one, and `--role room`
switching the task), the Help menu's keyboard shortcuts and About dialogs, and the sentence
an uncaught error leaves instead of a traceback. Kept in docs/screenshots/app/."""

from __future__ import annotations

import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from PySide6.QtWidgets import QApplication

from tests.screenshots import Camera, settle

SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples"


async def app_scenario(app: QApplication, out: Path, stack: ExitStack,
                       size: tuple[int, int]) -> None:
    """`size` is the window's (screenshots.py's window_size())."""
    from desktop import crash_reports
    from desktop.app import create_main_window, open_request, parse_args
    from desktop.ui.crash_notice import CrashNotice
    from desktop.ui.open_files import OpenFiles

    camera = Camera(out, first=200)
    home = Path(tempfile.mkdtemp(prefix="restyle-app-shots-"))
    window = create_main_window(home)
    window.resize(*size)
    window.show()
    await window.start()
    await settle(0.8)
    opener = OpenFiles(window.workbench)

    # 1. restyle person.png gone.jpg: the panes by the task's order, and one sentence for the
    # file that is not there; then restyle garment-tshirt.png fills the pane still empty.
    missing = home / "gone.jpg"
    await opener.open(open_request(parse_args([str(SAMPLES / "person.png"), str(missing)])))
    await settle(1.5)
    camera.shoot(window, "open-files-one-missing")
    await opener.open(open_request(parse_args([str(SAMPLES / "garment-tshirt.png")])))
    await settle(1.5)
    camera.shoot(window, "open-files-try-on")

    # 2. restyle --role room room.jpg: the task that takes room photos is chosen.
    await opener.open(open_request(parse_args(["--role", "room", str(SAMPLES / "room.jpg")])))
    await settle(1.5)
    camera.shoot(window, "open-files-role-room")

    # 3. Help > Keyboard shortcuts and Help > About, over the window.
    shortcuts = window.help_menu.show_shortcuts()
    await settle(0.6)
    camera.shoot_screen("help-keyboard-shortcuts")
    shortcuts.close()
    about = window.help_menu.show_about()
    await settle(0.6)
    camera.shoot_screen("help-about")
    about.close()

    # 4. An error nothing caught: the report is written and one sentence is shown.
    reporter = crash_reports.CrashReporter(window.services.paths.log_dir)
    reporter.notify = CrashNotice(window, window.help_menu.open_log_folder).notify
    try:
        raise RuntimeError("a screenshot's example of an unexpected error")
    except RuntimeError:
        reporter.report(sys.exc_info(), "the screenshot script")
    await settle(0.8)
    camera.shoot_screen("crash-notice")
    for widget in QApplication.topLevelWidgets():
        if widget.objectName() == "crashNotice":
            widget.close()
    window.close()
    await window.aclose()
