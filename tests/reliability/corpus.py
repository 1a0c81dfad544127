"""The hostile-input corpus: sources and arguments Restyle must refuse with a sentence.

Each kind says how to make the hostile thing and which words the refusal must contain. The
CLI suite (test_hostile_inputs.py) runs every kind through restyle-cli; the window suite
(test_hostile_inputs_window.py) drops the file and URL kinds into an input pane. To add a
kind, append it to FILE_KINDS, URL_KINDS or ARG_KINDS: both suites pick it up.

`needles` are alternatives: the sentence must contain at least one (case-insensitive), for
the few kinds where two honest sentences can win a race (a refused connection is retried
until the total time limit ends the download).
"""

from __future__ import annotations

import http.server
import io
import os
import shutil
import socket
import socketserver
import struct
import sys
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

#: URL limits the suites write into settings.json, so slow and big downloads end quickly.
URL_TIMEOUT_S = 1.5
URL_MAX_BYTES = 1_000_000
#: An emulator of a paid service: remote kinds prove nothing reaches it.
REMOTE = "fitinview"


def png_bytes(size: tuple[int, int] = (120, 90), color: tuple[int, int, int] = (30, 90, 200)
              ) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(size: tuple[int, int] = (400, 300)) -> bytes:
    img = Image.effect_noise(size, 60).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages "
       b"/Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" '
       b'height="100"><rect width="100" height="100" fill="teal"/></svg>\n')
HTML = b"<!doctype html><html><head><title>Shirt</title></head><body>404</body></html>\n"


# -- the workspace a kind is made in ----------------------------------------------------------
@dataclass
class Workspace:
    """Where kinds make their files, and what they may need: a good image, the URL server."""

    tmp: Path
    url_base: str = ""
    #: Closed at the end of the test (sockets, short temporary folders).
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def good(self, name: str = "good.png") -> Path:
        path = self.tmp / name
        if not path.exists():
            path.write_bytes(png_bytes())
        return path

    def write(self, name: str, data: bytes) -> str:
        path = self.tmp / name
        path.write_bytes(data)
        return str(path)

    def close(self) -> None:
        for cleanup in reversed(self.cleanups):
            cleanup()
        self.cleanups.clear()


@dataclass(frozen=True)
class SourceKind:
    """A hostile input source (a path or an address), for the CLI and the window alike."""

    id: str
    make: Callable[[Workspace], str]
    needles: tuple[str, ...]
    #: Why this kind cannot run here (e.g. as root), or None.
    skip: Callable[[], str | None] = lambda: None
    #: The refusal must come within this many seconds (slow servers).
    max_seconds: float | None = None
    #: False where the window rightly accepts the source (a file:// URL names a file there).
    in_window: bool = True
    #: The window's words where they differ from the CLI's (Qt's own handling comes first).
    window_needles: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ArgKind:
    """A hostile command line for restyle-cli (arguments, parameters, --out)."""

    id: str
    argv: Callable[[Workspace], list[str]]
    needles: tuple[str, ...]
    provider: str = "local"
    skip: Callable[[], str | None] = lambda: None


def _as_root() -> str | None:
    return "root reads and writes regardless of permissions" if _is_root() else None


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _posix_only() -> str | None:
    return None if sys.platform != "win32" else "POSIX special files"


# -- makers -----------------------------------------------------------------------------------
def _folder(ws: Workspace) -> str:
    folder = ws.tmp / "shoot"
    folder.mkdir()
    return str(folder)


def _symlink_loop(ws: Workspace) -> str:
    a, b = ws.tmp / "loop-a.png", ws.tmp / "loop-b.png"
    a.symlink_to(b)
    b.symlink_to(a)
    return str(a)


def _dangling(ws: Workspace) -> str:
    link = ws.tmp / "dangling.png"
    link.symlink_to(ws.tmp / "gone-away.png")
    return str(link)


def _through_file(ws: Workspace) -> str:
    (ws.tmp / "notes.txt").write_text("a file, not a folder\n")
    return str(ws.tmp / "notes.txt" / "photo.png")


def _fifo(ws: Workspace) -> str:
    path = ws.tmp / "pipe.png"
    os.mkfifo(path)
    return str(path)


def _socket(ws: Workspace) -> str:
    # A unix socket path must be short (108 bytes): a fresh folder directly under /tmp.
    folder = tempfile.mkdtemp(prefix="rs-")
    path = os.path.join(folder, "sock.png")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def close() -> None:
        server.close()
        shutil.rmtree(folder, ignore_errors=True)

    ws.cleanups.append(close)
    return path


def _unreadable(ws: Workspace) -> str:
    path = ws.tmp / "secret.png"
    path.write_bytes(png_bytes())
    path.chmod(0)
    ws.cleanups.append(lambda: path.chmod(0o644))
    return str(path)


def _sparse_huge(ws: Workspace) -> str:
    from desktop.core.limits import Limits

    path = ws.tmp / "huge.png"
    with path.open("wb") as fh:  # sparse: takes no disk space
        fh.truncate(Limits().input_max_bytes + 1)
    return str(path)


def _link_to(target: str) -> Callable[[Workspace], str]:
    def make(ws: Workspace) -> str:
        link = ws.tmp / "innocent.png"
        link.symlink_to(target)
        return str(link)

    return make


def _named(name: str, data: bytes | None = None) -> Callable[[Workspace], str]:
    def make(ws: Workspace) -> str:
        return ws.write(name, png_bytes() if data is None else data)

    return make


def _url(path: str) -> Callable[[Workspace], str]:
    return lambda ws: ws.url_base + path


FILE_KINDS: tuple[SourceKind, ...] = (
    SourceKind("missing-file", lambda ws: str(ws.tmp / "missing.png"), ("does not exist",)),
    SourceKind("folder", _folder, ("shoot is a folder",)),
    SourceKind("zero-byte-file", _named("empty.png", b""), ("is empty (0 bytes)",)),
    SourceKind("whitespace-only-file", _named("blank.png", b"  \n\n\t \n"), ("not an image",)),
    SourceKind("text-renamed-png", _named("notes.png", b"shopping list: shirt, scarf\n" * 20),
               ("notes.png is not an image",)),
    SourceKind("truncated-png", _named("cut.png", png_bytes((300, 200))[:180]),
               ("cut.png is truncated or damaged",)),
    SourceKind("truncated-jpeg", lambda ws: ws.write("cut.jpg", jpeg_bytes()[:3000]),
               ("cut.jpg is truncated or damaged",)),
    SourceKind("decompression-bomb", _named("bomb.png", bomb_png(100_000, 100_000)),
               ("bomb.png has more pixels than Restyle opens safely",
                "bomb.png has 10000 megapixels")),
    SourceKind("html-as-jpg", _named("page.jpg", HTML), ("page.jpg is not an image",)),
    SourceKind("svg", _named("vector.svg", SVG), ("vector.svg is not an image",)),
    SourceKind("pdf", _named("scan.pdf", PDF), ("scan.pdf is not an image",)),
    SourceKind("binary-garbage", _named("blob.png", b"\x00\x13\x99garbage" * 50),
               ("blob.png is not an image",)),
    SourceKind("symlink-loop", _symlink_loop, ("loop-a.png cannot be opened", "form a loop")),
    SourceKind("dangling-symlink", _dangling, ("which does not exist",)),
    SourceKind("path-through-a-file", _through_file,
               ("notes.txt) is a file, not a folder",)),
    SourceKind("300-character-name", lambda ws: str(ws.tmp / ("x" * 300 + ".png")),
               ("name is too long", "300 characters")),
    SourceKind("name-with-newline", _named("bad\nname.png"),
               ("bad\\nname.png contains a control character (\\n)",)),
    SourceKind("name-with-escape", _named("\x1b[2Jred.png"),
               ("\\x1b[2Jred.png contains a control character (\\x1b)",)),
    SourceKind("name-not-utf8", _named(os.fsdecode(b"caf\xe9.png")),
               ("caf\\xe9.png has a name that is not UTF-8 text",), skip=_posix_only,
               # Qt's file URLs cannot carry the stray byte: the drop names a file without it.
               window_needles=("caf.png does not exist",)),
    SourceKind("dev-zero", lambda ws: "/dev/zero", ("/dev/zero is a device",),
               skip=_posix_only),
    SourceKind("dev-urandom", lambda ws: "/dev/urandom", ("/dev/urandom is a device",),
               skip=_posix_only),
    SourceKind("dev-null", lambda ws: "/dev/null", ("/dev/null is a device",), skip=_posix_only),
    SourceKind("link-to-dev-zero", _link_to("/dev/zero"), ("innocent.png is a device",),
               skip=_posix_only),
    SourceKind("fifo", _fifo, ("pipe.png is a named pipe",), skip=_posix_only,
               max_seconds=10),
    SourceKind("unix-socket", _socket, ("sock.png is a socket",), skip=_posix_only),
    SourceKind("proc-file-claiming-0-bytes", lambda ws: "/proc/self/status",
               ("status is not an image",),
               skip=lambda: None if os.path.exists("/proc/self/status") else "no /proc"),
    SourceKind("file-over-size-limit", _sparse_huge, ("larger than the 200.0 MB",)),
    SourceKind("unreadable-file", _unreadable, ("permission denied",), skip=_as_root),
)

URL_KINDS: tuple[SourceKind, ...] = (
    SourceKind("url-404", _url("/missing.png"), ("HTTP 404 Not Found",)),
    SourceKind("url-returning-html", _url("/page.html"), ("text/html document, not an image",)),
    SourceKind("url-slow-drip", _url("/drip.png"), ("took longer than 1.5 s",),
               max_seconds=URL_TIMEOUT_S + 3),
    SourceKind("url-never-answers", _url("/silent.png"), ("took longer than 1.5 s",),
               max_seconds=URL_TIMEOUT_S + 3),
    SourceKind("url-too-large-by-header", _url("/huge.png"), ("larger than 1.0 MB",)),
    SourceKind("url-too-large-streamed", _url("/endless.png"), ("larger than 1.0 MB",),
               max_seconds=URL_TIMEOUT_S + 3),
    SourceKind("url-redirect-loop", _url("/loop.png"), ("redirected more than 5 times",)),
    SourceKind("url-redirect-to-ftp", _url("/to-ftp.png"), ("unsupported protocol",)),
    SourceKind("url-connection-refused", lambda ws: "http://127.0.0.1:9/x.png",
               ("connection refused", "took longer than 1.5 s"),
               max_seconds=URL_TIMEOUT_S + 3),
    SourceKind("url-not-an-image", _url("/blob.png"), ("blob.png is not an image",)),
    SourceKind("ftp-url", lambda ws: "ftp://127.0.0.1/shirt.png",
               ("is a ftp: address", "not a file path or an http(s) address")),
    SourceKind("file-url", lambda ws: "file://" + str(ws.good()),
               ("is a file:// address", "good.png"), in_window=False),
    SourceKind("data-uri", lambda ws: "data:image/png;base64,iVBORw0KGgo=",
               ("is a data: URI", "not a file path or an http(s) address")),
    SourceKind("url-without-host", lambda ws: "http://", ("not a complete web address",
                                                           "not a file path or an http(s)")),
    SourceKind("url-with-newline", lambda ws: ws.url_base + "/a\nb.png",
               ("contains a control character (\\n)",)),
)


# -- command lines ------------------------------------------------------------------------------
def run_local(*more: str) -> Callable[[Workspace], list[str]]:
    return lambda ws: ["run", "--provider", "local", "--task", "upscale", "--image",
                       str(ws.good()), *more]


def run_remote(*more: str, garments: int = 1) -> Callable[[Workspace], list[str]]:
    def argv(ws: Workspace) -> list[str]:
        items = ["run", "--provider", REMOTE, "--task", "tryon", "--person", str(ws.good())]
        for n in range(garments):
            items += ["--garment", str(ws.good(f"garment{n}.png"))]
        return items + list(more)

    return argv


def _remote_with_source(make: Callable[[Workspace], str], role: str
                        ) -> Callable[[Workspace], list[str]]:
    def argv(ws: Workspace) -> list[str]:
        person = make(ws) if role == "person" else str(ws.good())
        garment = make(ws) if role == "garment" else str(ws.good("shirt.png"))
        return ["run", "--provider", REMOTE, "--task", "tryon", "--person", person,
                "--garment", garment]

    return argv


def _read_only_out(ws: Workspace) -> list[str]:
    if _is_root():
        target = "/sys/restyle-results"  # sysfs takes no new folders, even from root
    else:
        folder = ws.tmp / "locked"
        folder.mkdir()
        folder.chmod(0o555)
        ws.cleanups.append(lambda: folder.chmod(0o755))
        target = str(folder)
    return run_local("--out", target)(ws)


def _out_file(ws: Workspace) -> list[str]:
    (ws.tmp / "results.txt").write_text("already here\n")
    return run_local("--out", str(ws.tmp / "results.txt"))(ws)


def _out_through_file(ws: Workspace) -> list[str]:
    (ws.tmp / "results.txt").write_text("already here\n")
    return run_local("--out", str(ws.tmp / "results.txt" / "more"))(ws)


NESTED = "[" * 10_000 + "]" * 10_000
DEEP_65 = "[" * 65 + "]" * 65

ARG_KINDS: tuple[ArgKind, ...] = (
    ArgKind("nested-json-param-10000", run_local("--param", f"factor={NESTED}"),
            ("nests 10000 levels deep",)),
    ArgKind("nested-json-param-65", run_local("--param", f"factor={DEEP_65}"),
            ("nests 65 levels deep",)),
    ArgKind("nan-in-json-param", run_local("--param", "factor=[NaN]"), ("contains NaN",)),
    ArgKind("infinity-in-json-param", run_local("--param", 'factor={"a": Infinity}'),
            ("contains Infinity",)),
    ArgKind("minus-infinity-in-json-param", run_local("--param", "factor=[-Infinity]"),
            ("contains -Infinity",)),
    ArgKind("overflowing-number-in-json", run_local("--param", "factor=[1e999]"),
            ("contains 1e999",)),
    ArgKind("non-json-param", run_local("--param", "factor={bad"), ("is not valid JSON",)),
    ArgKind("param-without-equals", run_local("--param", "factor"), ("KEY=VALUE",)),
    ArgKind("unknown-param", run_local("--param", "sharpness=3"),
            ("has no parameter 'sharpness'",)),
    ArgKind("param-out-of-range", lambda ws: [
        "run", "--provider", "local", "--task", "recolor", "--image", str(ws.good()),
        "--param", "color=red", "--param", "tolerance=999"], ("must be at most 255",)),
    ArgKind("param-wrong-type", run_local("--param", "factor=two"), ("must be one of",)),
    ArgKind("nan-number-param", lambda ws: ["run", "--provider", "local", "--task",
                                            "tryon", "--person", str(ws.good()), "--garment",
                                            str(ws.good("g.png")), "--param", "scale=nan"],
            ("must be a finite number",)),
    ArgKind("jobs-limit-20-digits", lambda ws: ["jobs", "--limit", "9" * 20],
            ("must be between 1 and 100000",)),
    ArgKind("jobs-limit-zero", lambda ws: ["jobs", "--limit", "0"],
            ("must be between 1 and 100000",)),
    ArgKind("jobs-limit-not-a-number", lambda ws: ["jobs", "--limit", "lots"],
            ("is not a whole number",)),
    ArgKind("timeout-nan", run_local("--timeout", "nan"), ("not a finite number",)),
    ArgKind("timeout-inf", run_local("--timeout", "inf"), ("not a finite number",)),
    ArgKind("timeout-minus-1", run_local("--timeout", "-1"), ("must be more than 0",)),
    ArgKind("timeout-0", run_local("--timeout", "0"), ("must be more than 0",)),
    ArgKind("timeout-1e300", run_local("--timeout", "1e300"), ("at most 604800 seconds",)),
    ArgKind("out-into-proc", run_local("--out", "/proc/restyle-results"),
            ("Cannot create the output folder /proc/restyle-results",),
            skip=lambda: None if os.path.isdir("/proc/self") else "no /proc"),
    ArgKind("out-to-proc-itself", run_local("--out", "/proc"),
            ("Cannot write into the output folder /proc",),
            skip=lambda: None if os.path.isdir("/proc/self") else "no /proc"),
    ArgKind("out-is-an-existing-file", _out_file, ("results.txt is a file, not a folder",)),
    ArgKind("out-through-a-file", _out_through_file, ("is a file, not a folder",
                                                      "Cannot create the output folder")),
    ArgKind("out-read-only-folder", _read_only_out,
            ("Cannot create the output folder", "Cannot write into the output folder")),
    ArgKind("out-name-too-long", lambda ws: run_local("--out", str(ws.tmp / ("r" * 300)))(ws),
            ("Cannot create the output folder", "File name too long")),
    ArgKind("out-name-with-nul", run_local("--out", "/tmp/a\x00b"),
            ("Cannot create the output folder /tmp/a\\x00b",)),
    ArgKind("unknown-provider", lambda ws: ["run", "--provider", "nosuch", "--task", "x"],
            ("There is no provider 'nosuch'",)),
    ArgKind("unknown-task", lambda ws: ["run", "--provider", "local", "--task", "teleport",
                                        "--image", str(ws.good())], ("no task 'teleport'",)),
    ArgKind("missing-required-input", lambda ws: ["run", "--provider", "local", "--task",
                                                  "tryon", "--person", str(ws.good())],
            ("needs 1 garment image",)),
    ArgKind("input-role-not-taken", run_local("--room", "x.png"), ("takes no 'room' input",)),
    ArgKind("too-many-garments-local", lambda ws: [
        "run", "--provider", "local", "--task", "tryon", "--person", str(ws.good()),
        "--garment", str(ws.good("a.png")), "--garment", str(ws.good("b.png"))],
        ("takes at most 1 garment image",)),
    # Remote: the emulator must see no request at all.
    ArgKind("remote-too-many-garments", run_remote(garments=4),
            ("takes at most 3 garment images",), provider=REMOTE),
    ArgKind("remote-nan-in-json-param", run_remote("--param", 'metadata={"x": NaN}'),
            ("contains NaN",), provider=REMOTE),
    ArgKind("remote-nested-json-param", run_remote("--param", f"metadata={NESTED}"),
            ("nests 10000 levels deep",), provider=REMOTE),
    ArgKind("remote-unknown-param", run_remote("--param", "sharpness=3"),
            ("has no parameter 'sharpness'",), provider=REMOTE),
    ArgKind("remote-missing-person-file",
            _remote_with_source(lambda ws: str(ws.tmp / "nobody.png"), "person"),
            ("does not exist",), provider=REMOTE),
    ArgKind("remote-dev-zero-garment", _remote_with_source(lambda ws: "/dev/zero", "garment"),
            ("/dev/zero is a device",), provider=REMOTE, skip=_posix_only),
    ArgKind("remote-symlink-loop-person", _remote_with_source(_symlink_loop, "person"),
            ("form a loop",), provider=REMOTE),
    ArgKind("remote-url-404-garment",
            _remote_with_source(lambda ws: ws.url_base + "/missing.png", "garment"),
            ("HTTP 404 Not Found",), provider=REMOTE),
)


# -- the URL server -----------------------------------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves the URL kinds: each path misbehaves in its own way."""

    stop: threading.Event
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, body: bytes, ctype: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        try:
            if path == "/good.png":
                self._answer(200, png_bytes(), "image/png")
            elif path == "/page.html":
                self._answer(200, HTML, "text/html; charset=utf-8")
            elif path == "/blob.png":
                self._answer(200, b"\x00\x13\x99garbage" * 50, "image/png")
            elif path == "/drip.png":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                while not self.stop.is_set():  # a byte every half second, for ever
                    self.wfile.write(b"\x89")
                    self.wfile.flush()
                    self.stop.wait(0.5)
            elif path == "/silent.png":
                self.stop.wait(60)  # reads the request, never answers
            elif path == "/huge.png":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(50 * URL_MAX_BYTES))
                self.end_headers()
                self.wfile.write(b"\x00" * 1000)
            elif path == "/endless.png":
                self.send_response(200)  # no length: sends until the client hangs up
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                block = b"\x00" * 65536
                while not self.stop.is_set():
                    self.wfile.write(block)
            elif path == "/loop.png":
                self._answer(302, b"", "text/plain", Location="/loop.png")
            elif path == "/to-ftp.png":
                self._answer(302, b"", "text/plain", Location="ftp://127.0.0.1/x.png")
            else:
                self._answer(404, b"not found", "text/plain")
        except (BrokenPipeError, ConnectionResetError):
            pass


@contextmanager
def url_server() -> Iterator[str]:
    """The misbehaving server on 127.0.0.1; yields its base URL."""
    stop = threading.Event()
    handler = type("Handler", (_Handler,), {"stop": stop})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def settings_with_url_limits() -> dict[str, object]:
    """The settings.json the suites write: small URL limits (see URL_TIMEOUT_S)."""
    return {"limits": {"url_input_timeout_s": URL_TIMEOUT_S,
                       "url_input_max_bytes": URL_MAX_BYTES}}


def matches(text: str, needles: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(n.lower() in lowered for n in needles)
