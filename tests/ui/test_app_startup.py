"""Start-up loads only what the first paint needs: the window is started the way `restyle`
starts it (desktop.app.main), in a process of its own, and at the moment the history has painted
its first page the heavy modules deferred to first use are not loaded yet (numpy, keyring and
its backends, Qt Multimedia, the export, batch and review modules, the batch grid, the
rankings, httpx's command-line client...), and the Qt-free layers were imported before
PySide6, out of the reach of its import hook."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from desktop.config import resolve_paths
from desktop.core.model import Job, JobSpec, JobState
from desktop.core.store import History
from tests.ui.batch_helpers import Windows, windows

__all__ = ["windows"]  # the fixture

ROOT = Path(__file__).resolve().parents[2]

#: Modules (and their submodules) that must not be loaded when the first history page shows.
DEFERRED = (
    "numpy",
    "keyring",
    "keyrings",
    "qrcode",
    "PySide6.QtMultimedia",
    "desktop.core.exports.files",
    "desktop.core.exports.bundle",
    "desktop.core.exports.lookbook",
    "desktop.core.exports.report",
    "desktop.export_setup",
    "desktop.ui.export_dialog",
    "desktop.ui.export_progress",
    "desktop.ui.batch_dialog",
    "desktop.ui.review_mode",
    "desktop.ui.arena",
    "desktop.ui.batch_grid",
    "desktop.ui.batch_grid_data",
    "desktop.core.rankings",
    "desktop.core.review_facts",
    # httpx's CLI (httpx._main) and what it loads when click is installed (desktop.providers).
    "httpx._main",
    "click",
    "rich",
    "pygments",
)

#: Qt-free modules desktop.app imports before PySide6 that no Qt module imports by name, so
#: PySide6's `__feature__` import hook never reads their source. (The hook looks at the module
#: every import statement returns: a Qt-free module a Qt module imports by name is read then.)
BEFORE_QT = (
    "desktop.services",
    "desktop.providers.registry",
    "desktop.providers.http",
    "desktop.core.engine.preparing",
    "desktop.core.store.history",
    "httpx",
    "PIL.Image",
)

SCRIPT = textwrap.dedent("""
    import json, sys
    import desktop.app as app_module  # first, as the `restyle` script does
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.support import feature

    made = app_module.create_main_window

    class Watch(QObject):
        def __init__(self, window):
            super().__init__()
            self.window, self.done = window, False

        def eventFilter(self, watched, event):
            if (event.type() == QEvent.Type.Paint and not self.done
                    and self.window.history_panel.model.rowCount() > 0):
                self.done = True
                # As the first page is painted (None entries are imports made to fail).
                loaded = sorted(n for n, m in sys.modules.items() if m is not None)
                # Modules PySide6's import hook looked at (it reads their source).
                hooked = sorted(feature.pyside_feature_dict)
                print("PAINTED " + json.dumps({"rows": self.window.history_panel.model
                                               .rowCount(), "modules": loaded,
                                               "hooked": hooked}), flush=True)
                QTimer.singleShot(0, self.window.close)
            return False

    def create(home=None):
        window = made(home)
        window._startup_watch = Watch(window)
        window.history_panel.view.viewport().installEventFilter(window._startup_watch)
        return window

    app_module.create_main_window = create
    sys.exit(app_module.main())
""")


def _fill_history(home: Path, count: int) -> None:
    paths = resolve_paths(home)
    paths.ensure()
    history = History(paths.database)
    now = time.time()
    try:
        for i in range(count):
            history.save_job(Job(
                id=f"{i:032x}", spec=JobSpec("local", "recolor", {"image": [f"/p/{i}.jpg"]},
                                             {"color": "#223344"}),
                state=JobState.SUCCEEDED, created_at=now - (count - i) * 30, updated_at=now))
    finally:
        history.close()


def _first_paint(home: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTYLE_")}
    env.update(RESTYLE_HOME=str(home), PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, text=True,
                          capture_output=True, timeout=120)
    for line in proc.stdout.splitlines():
        if line.startswith("PAINTED "):
            found: dict[str, object] = json.loads(line.removeprefix("PAINTED "))
            assert proc.returncode == 0, proc.stderr[-2000:]
            return found
    raise AssertionError("The window never painted its history: " + proc.stderr[-2000:])


def test_the_first_history_page_paints_before_the_deferred_modules_load(home: Path) -> None:
    _fill_history(home, 30)
    found = _first_paint(home)
    assert found["rows"] == 30
    modules = found["modules"]
    assert isinstance(modules, list)
    # The window really came up through the app, with the pieces the first paint needs.
    assert {"desktop.app", "desktop.ui.workbench", "desktop.core.store"} <= set(modules)
    early = sorted(m for m in modules if any(m == d or m.startswith(d + ".") for d in DEFERRED))
    assert early == [], f"loaded before the first paint: {early}"


def test_the_qt_free_layers_load_before_pyside6_and_its_import_hook(home: Path) -> None:
    _fill_history(home, 3)
    found = _first_paint(home)
    modules, hooked = found["modules"], found["hooked"]
    assert isinstance(modules, list) and isinstance(hooked, list)
    assert set(BEFORE_QT) <= set(modules)
    # The hook did look at the Qt modules imported after PySide6 (so the probe works)...
    assert {"desktop.ui.main_window", "desktop.ui.workbench", "qasync"} <= set(hooked)
    # ...but not at the Qt-free layers, imported before it.
    seen = sorted(set(BEFORE_QT) & set(hooked))
    assert seen == [], f"imported after PySide6, so read by its import hook: {seen}"


def test_the_batch_grid_is_made_on_first_use_in_the_compare_views_place(
        windows: Windows, loop: asyncio.AbstractEventLoop) -> None:
    window = windows()
    controller = window.workbench.batches
    assert controller._grid is None  # not built for the first frame
    assert not controller.grid_shown()
    controller.show_compare()  # nothing to hide yet: no grid is made for it
    assert controller._grid is None
    grid = controller.grid
    assert controller.grid is grid and grid.objectName() == "batchGrid"
    assert grid.parent() is controller.host and grid.isHidden()
    assert window.compare_view.isVisible()
    controller.show_grid()
    assert grid.isVisible() and not window.compare_view.isVisible() and controller.grid_shown()
    grid.close_button.click()  # wired when made: Close brings the compare view back
    assert window.compare_view.isVisible() and not grid.isVisible()
