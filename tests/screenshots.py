"""Screenshots of the real window on a real (virtual) X display, for a person to look at.

Run: xvfb-run -a -s "-screen 0 1400x900x24" python -m tests.screenshots [OUTDIR]
It fills a throw-away RESTYLE_HOME with real local jobs, opens the window and saves PNGs.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw
from PySide6.QtWidgets import QApplication


def _sample(path: Path) -> Path:
    img = Image.new("RGB", (640, 480), (235, 235, 235))
    draw = ImageDraw.Draw(img)
    draw.rectangle((200, 120, 440, 400), fill=(40, 80, 200))
    img.save(path)
    return path


async def _fill_history(home: Path) -> None:
    from desktop.core.model import JobSpec
    from desktop.services import Services

    services = Services.open(home)
    engine = services.engine()
    src = str(_sample(home / "sample.png"))
    for task, params in [("recolor", {"color": "crimson"}), ("upscale", {"factor": 2}),
                         ("reframe", {"ratio": "16:9"}), ("background_removal", {})]:
        await engine.run(JobSpec("local", task, {"image": [src]}, params))
    await engine.aclose()
    await services.aclose()
    services.close()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="restyle-shots-"))
    os.environ["RESTYLE_HOME"] = str(home)
    asyncio.run(_fill_history(home))

    import qasync

    app = QApplication.instance() or QApplication(sys.argv)
    from desktop.app import create_main_window

    window = create_main_window(home)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window.show()
    loop.run_until_complete(window.load_history())
    loop.run_until_complete(asyncio.sleep(0.5))
    shot = out / "01-first-start-with-history.png"
    app.primaryScreen().grabWindow(window.winId()).save(str(shot))
    print(shot)
    window.close()
    window.services.close()
    loop.close()  # shuts qasync's worker threads down before Qt goes away
    return 0


if __name__ == "__main__":
    sys.exit(main())
