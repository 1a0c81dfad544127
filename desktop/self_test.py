"""`restyle --self-test`: check that this installation (a source checkout or the frozen bundle)
has every part the window needs, without a display and without touching the user's data.

Each check is timed and reported; the report is JSON on standard output:

    {"ok": true, "frozen": false, "python": "3.11.2", "qt": "6.11.3", "home": "/tmp/...",
     "checks": [{"name": "qasync loop", "ok": true, "warning": false, "seconds": 0.01,
                 "detail": "..."}, ...]}

The exit code is 0 when every check passed, 1 when one failed (2 for a usage error, from the
parser). A check that passes with a `warning` found something missing that a healthy computer
may lack and Restyle copes with: no usable keyring (headless machines and CI have none; keys
then come from RESTYLE_<PROVIDER>_API_KEY or last one session), or AVIF/HEIC support in a
source checkout without the optional packages. In the frozen bundle AVIF and HEIC were put in
by the build, so their absence fails there.

Everything runs in a temporary RESTYLE_HOME that is removed afterwards, and Qt runs on the
offscreen platform whatever the desktop is.
"""

from __future__ import annotations

import asyncio
import http.server
import io
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from desktop.config import HOME_ENV, resources_dir

#: How long one check may take before it counts as failed (a hung keyring, a stuck worker).
CHECK_TIMEOUT_S = 90.0


class CheckFailed(Exception):
    """A check's finding that it failed; the message is the report's detail."""


@dataclass(frozen=True)
class Warned:
    """A check's finding that it passed with a warning (see the module docstring)."""

    detail: str


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    seconds: float
    detail: str
    warning: bool = False


@dataclass
class Context:
    """What the checks share: the temporary home, whether this is the frozen bundle."""

    home: Path
    frozen: bool


Check = Callable[[Context], Awaitable["str | Warned"]]


# -- the checks ----------------------------------------------------------------------------------
async def check_qasync_loop(_ctx: Context) -> str:
    """The running loop is qasync's, on the Qt event loop: a QTimer callback and an asyncio
    timer both complete."""
    from PySide6.QtCore import QTimer

    loop = asyncio.get_running_loop()
    if "qasync" not in type(loop).__module__:
        raise CheckFailed(f"the running event loop is {type(loop).__name__}, not qasync's")
    fired: asyncio.Future[float] = loop.create_future()
    started = time.perf_counter()
    QTimer.singleShot(20, lambda: fired.done() or fired.set_result(time.perf_counter()))
    await asyncio.sleep(0.01)
    at = await asyncio.wait_for(fired, 5)
    return (f"{type(loop).__name__}: a Qt timer fired after {1000 * (at - started):.0f} ms "
            "and an asyncio sleep completed on the same loop")


class _Handler(http.server.BaseHTTPRequestHandler):
    body = b'{"restyle": "self-test"}'

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the report says enough
        return


async def check_http(_ctx: Context) -> str:
    """httpx (with its TLS and certificate modules imported) fetches from a server started
    here on 127.0.0.1."""
    import certifi
    import httpx

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, name="self-test-http", daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/self-test"
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            response = await client.get(url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    if response.status_code != 200 or response.json() != {"restyle": "self-test"}:
        raise CheckFailed(f"GET {url} answered {response.status_code}: {response.text[:80]!r}")
    if not Path(certifi.where()).is_file():
        raise CheckFailed(f"the CA certificates for HTTPS are missing ({certifi.where()})")
    return f"httpx {httpx.__version__}: GET {url} -> 200; CA bundle present"


async def check_keyring(_ctx: Context) -> str | Warned:
    """Keyring finds its backends (entry points: a bundle without keyring's metadata finds
    none) and names the one it would use; no usable one is a warning."""
    from importlib.metadata import entry_points

    import keyring
    from keyring.backends import fail, null

    found = sorted(ep.name for ep in entry_points(group="keyring.backends"))
    if not found:
        raise CheckFailed("keyring found no backends (its entry points are missing)")
    backend = await asyncio.to_thread(keyring.get_keyring)
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring | null.Keyring):
        return Warned(f"no usable keyring on this computer (backend {name}; backends known: "
                      f"{', '.join(found)}); keys come from RESTYLE_<PROVIDER>_API_KEY or last "
                      "one session")
    return f"backend {name}; backends known: {', '.join(found)}"


def _picture() -> Any:
    from PIL import Image

    picture = Image.new("RGB", (48, 32))
    picture.putdata([(x * 5, y * 8, 128) for y in range(32) for x in range(48)])
    return picture


def _round_trip(fmt: str) -> str:
    from PIL import Image, ImageChops, ImageStat

    original = _picture()
    buffer = io.BytesIO()
    original.save(buffer, fmt, quality=90)
    data = buffer.getvalue()
    with Image.open(io.BytesIO(data)) as decoded:
        decoded.load()
        back = decoded.convert("RGB")
    if back.size != original.size:
        raise CheckFailed(f"{fmt} decoded as {back.size}, encoded {original.size}")
    error = max(ImageStat.Stat(ImageChops.difference(original, back)).mean)
    if error > 12:
        raise CheckFailed(f"{fmt} decoded with a mean error of {error:.1f} levels")
    return f"{fmt} {len(data)} B"


async def check_pillow_formats(ctx: Context) -> str | Warned:
    """JPEG, PNG and WebP encode and decode; AVIF and HEIC too where present (always in the
    frozen bundle, which the build gives both)."""
    import PIL
    from PIL import features

    from desktop.core import imaging

    done = [_round_trip(fmt) for fmt in ("JPEG", "PNG", "WEBP")]
    missing: list[str] = []
    if features.check("avif"):
        done.append(_round_trip("AVIF"))
    else:
        missing.append("AVIF (Pillow built without libavif)")
    if imaging.heif_supported():
        done.append(_round_trip("HEIF"))
    else:
        missing.append("HEIC/HEIF (pillow-heif not installed)")
    detail = f"Pillow {PIL.__version__}: " + ", ".join(done)
    if missing and ctx.frozen:
        raise CheckFailed(f"{detail}; missing from the bundle: {', '.join(missing)}")
    if missing:
        return Warned(f"{detail}; not available: {', '.join(missing)}")
    return detail


async def check_c2pa(_ctx: Context) -> str:
    """c2pa's native library loads (C2PA-signed exports need it; PyInstaller cannot see it,
    the spec ships it by hand)."""
    try:
        import c2pa

        version = c2pa.sdk_version()
    except (ImportError, OSError, RuntimeError, AttributeError) as exc:
        raise CheckFailed(f"the C2PA library does not load ({exc}): signed exports would "
                          "fail") from None
    return f"c2pa-python {c2pa.__version__}, C2PA SDK {version}"


async def check_local_job(ctx: Context) -> str:
    """A job of the offline provider through the real engine, from a shipped sample into the
    temporary history, its result read back from the history and the asset store."""
    from desktop.core.model import JobSpec, JobState
    from desktop.services import Services

    sample = resources_dir() / "samples" / "room.jpg"
    if not sample.is_file():
        raise CheckFailed(f"the sample pictures are missing ({sample})")
    services = Services.open(ctx.home / "job")
    engine = services.engine("restyle --self-test")
    try:
        spec = JobSpec(provider="local", task="reframe", inputs={"image": [str(sample)]},
                       params={"ratio": "1:1", "fill": "blur"})
        job = await engine.run(spec)
        stored = services.history.get(job.id)
        if stored is None or stored.state != JobState.SUCCEEDED:
            reason = stored.error.message if stored and stored.error else "no error recorded"
            state = stored.state if stored else "missing from the history"
            raise CheckFailed(f"the local reframe job ended {state}: {reason}")
        if len(stored.outputs) != 1:
            raise CheckFailed(f"the local job stored {len(stored.outputs)} results, not 1")
        out = stored.outputs[0]
        path = services.assets.path_for(out.sha256, out.mime)
        if not path.is_file() or (out.width, out.height) != (1280, 1280):
            raise CheckFailed(f"the result is not a stored 1280x1280 picture: {out}")
    finally:
        await engine.aclose()
        await services.aclose()
        services.close()
    return (f"reframe of {sample.name} to 1:1 -> {out.width}x{out.height} {out.mime}, "
            f"{out.size} B, job {job.id[:8]} in the temporary history")


async def check_window_grab(ctx: Context) -> str:
    """The real window on the temporary home, started, shown offscreen and grabbed: the
    picture is not empty and not one flat colour."""
    from desktop.app import create_main_window

    window = create_main_window(ctx.home / "window")
    try:
        window.resize(1100, 720)
        window.show()
        await window.start()
        await asyncio.sleep(0.2)
        image = window.grab().toImage()
    finally:
        await window.aclose()
        window.hide()
        window.deleteLater()
    if image.isNull() or image.width() < 100 or image.height() < 100:
        raise CheckFailed(f"the grab is empty ({image.width()}x{image.height()})")
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    if len(colours) < 8:
        raise CheckFailed(f"the grab has only {len(colours)} colour(s): nothing was drawn")
    return f"{image.width()}x{image.height()} grabbed, {len(colours)} colours sampled"


async def check_worker_pool(_ctx: Context) -> str:
    """The local worker processes start, run an operation (in another process) and stop,
    leaving no child process behind."""
    from desktop.providers.local import workers

    await workers.warm_up()
    children = {p.pid for p in multiprocessing.active_children()}
    try:
        ran_in = await workers.run_operation(os.getpid)
    finally:
        await asyncio.to_thread(workers.shutdown)
    if not children:
        raise CheckFailed("no worker process started (operations fell back to a thread)")
    if ran_in == os.getpid() or ran_in not in children:
        raise CheckFailed(f"the operation ran in process {ran_in}, not in a worker "
                          f"({sorted(children)})")
    left = [p.pid for p in multiprocessing.active_children()]
    if left:
        raise CheckFailed(f"worker processes still running after shutdown: {left}")
    return (f"{len(children)} worker process(es) started, an operation ran in {ran_in}, "
            "all stopped")


CHECKS: list[tuple[str, Check]] = [
    ("qasync loop", check_qasync_loop),
    ("http request", check_http),
    ("keyring", check_keyring),
    ("pillow formats", check_pillow_formats),
    ("c2pa library", check_c2pa),
    ("local job", check_local_job),
    ("window grab", check_window_grab),
    ("worker pool", check_worker_pool),
]


# -- running them --------------------------------------------------------------------------------
async def _run_one(name: str, check: Check, ctx: Context) -> CheckResult:
    started = time.perf_counter()
    try:
        found = await asyncio.wait_for(check(ctx), CHECK_TIMEOUT_S)
    except CheckFailed as exc:
        return CheckResult(name, False, _since(started), str(exc))
    except TimeoutError:
        return CheckResult(name, False, _since(started),
                           f"did not finish within {CHECK_TIMEOUT_S:.0f} s")
    except Exception as exc:  # a broken part is the finding, not a crash of the self-test
        return CheckResult(name, False, _since(started), f"{type(exc).__name__}: {exc}")
    if isinstance(found, Warned):
        return CheckResult(name, True, _since(started), found.detail, warning=True)
    return CheckResult(name, True, _since(started), found)


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


async def run_checks(ctx: Context, checks: list[tuple[str, Check]] | None = None
                     ) -> list[CheckResult]:
    """Every check in order, on the running (qasync) loop; one failing does not stop the rest."""
    return [await _run_one(name, check, ctx) for name, check in (checks or CHECKS)]


@contextmanager
def _temporary_home() -> Iterator[Path]:
    """A RESTYLE_HOME of its own for this run (also for anything that reads the variable),
    removed afterwards together with the worker processes' leftovers."""
    previous = os.environ.get(HOME_ENV)
    with tempfile.TemporaryDirectory(prefix="restyle-self-test-") as folder:
        os.environ[HOME_ENV] = folder
        try:
            yield Path(folder)
        finally:
            if previous is None:
                os.environ.pop(HOME_ENV, None)
            else:
                os.environ[HOME_ENV] = previous


def report(results: list[CheckResult], ctx: Context) -> dict[str, Any]:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    from desktop.core.exports.provenance import restyle_version

    return {
        "ok": all(r.ok for r in results),
        "restyle": restyle_version(),
        "frozen": ctx.frozen,
        "python": platform.python_version(),
        "qt": qVersion(),
        "pyside6": pyside_version,
        "platform": platform.platform(),
        "checks": [asdict(r) for r in results],
    }


def run(out: TextIO | None = None, checks: list[tuple[str, Check]] | None = None) -> int:
    """Run the self-test in this process and print its JSON report; 0 when every check
    passed, else 1. Creates the QApplication (offscreen) unless one exists."""
    platform_before = os.environ.get("QT_QPA_PLATFORM")
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before Qt starts: never a real display
    try:
        return _run(out, checks)
    finally:
        if platform_before is None:
            os.environ.pop("QT_QPA_PLATFORM", None)
        else:
            os.environ["QT_QPA_PLATFORM"] = platform_before


def _run(out: TextIO | None, checks: list[tuple[str, Check]] | None) -> int:
    import qasync
    from PySide6.QtWidgets import QApplication

    from desktop.config import APP_NAME

    app = QApplication.instance() or QApplication([sys.argv[0], "-platform", "offscreen"])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setQuitOnLastWindowClosed(False)
    frozen = bool(getattr(sys, "frozen", False))
    with _temporary_home() as home:
        ctx = Context(home=home, frozen=frozen)
        results = qasync.run(run_checks(ctx, checks))
        document = report(results, ctx)
        document["home"] = str(home) + " (removed)"
    stream = out or sys.stdout
    json.dump(document, stream, indent=2)
    stream.write("\n")
    stream.flush()
    return 0 if document["ok"] else 1
