"""The input drop pane, driven through real drag, drop, key, mouse and clipboard events."""

from __future__ import annotations

import asyncio
import io
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDragLeaveEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QToolButton, QWidget

from desktop.core.contract import InputLimits
from desktop.core.engine import MAX_INPUT_FILE_BYTES
from desktop.core.humanize import human_bytes
from desktop.core.model import InvalidInput
from desktop.ui.input_pane import InputPane
from desktop.ui.previews import Preview, PreviewLoader


def png_bytes(width: int, height: int, color: str = "#3a7bd5", mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (width, height), color).save(buf, "PNG")
    return buf.getvalue()


def write_png(path: Path, width: int, height: int, color: str = "#3a7bd5") -> Path:
    path.write_bytes(png_bytes(width, height, color))
    return path


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression-bomb header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def file_mime(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drag_enter(widget: QWidget, mime: QMimeData) -> bool:
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    try:  # PySide6 >= 6.12 takes a QPointF; older versions a QPoint
        event = QDragEnterEvent(QPointF(widget.width() / 2, widget.height() / 2), *args)
    except TypeError:
        event = QDragEnterEvent(QPoint(widget.width() // 2, widget.height() // 2), *args)
    event.ignore()  # a handler must accept it explicitly
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def drop(widget: QWidget, mime: QMimeData) -> bool:
    """Drag-enter then drop, as a file manager or browser does; True if the drop was taken."""
    if not drag_enter(widget, mime):
        return False
    event = QDropEvent(
        QPointF(widget.width() / 2, widget.height() / 2),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    event.ignore()
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


async def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def settle(pane: InputPane) -> None:
    """Wait until the pane has no load or paste in flight."""
    await asyncio.sleep(0)
    await until(lambda: not pane.is_busy() and not pane._tasks)


def make_pane(qtbot, tmp_path: Path, role: str = "person", title: str = "Person", *,  # type: ignore[no-untyped-def]
              max_count: int = 1, fetch_url=None) -> InputPane:  # type: ignore[no-untyped-def]
    loader = PreviewLoader(fetch_url, tmp_path / "pasted")
    pane = InputPane(role, title, loader, max_count=max_count)
    pane.setObjectName(f"{role}Pane")
    qtbot.addWidget(pane)
    pane.resize(320, 260)
    pane.show()
    return pane


def counter(signal) -> list[int]:  # type: ignore[no-untyped-def]
    calls: list[int] = []
    signal.connect(lambda *args: calls.append(1))
    return calls


def size_texts(pane: InputPane) -> list[str]:
    return [lbl.text() for lbl in pane.findChildren(QLabel, "sizeLabel") if lbl.isVisible()]


def test_drop_file_shows_thumbnail_size_and_source(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    photo = write_png(tmp_path / "model.png", 640, 480)
    pane = make_pane(qtbot, tmp_path)
    changed = counter(pane.changed)
    busy: list[bool] = []
    pane.busyChanged.connect(busy.append)
    hint = pane.findChild(QLabel, "dropHint")
    assert hint.isVisible() and "Drop a person photo here" in hint.text()

    async def body() -> None:
        assert drop(pane, file_mime(photo))
        await settle(pane)

    loop.run_until_complete(body())
    assert pane.sources() == [str(photo)]
    assert changed == [1]
    assert busy == [True, False]
    (preview,) = pane.previews()
    assert (preview.width, preview.height, preview.name) == (640, 480, "model.png")
    assert preview.file_size == photo.stat().st_size and preview.mime == "image/png"
    assert not preview.thumbnail.isNull() and max(preview.thumbnail.width(),
                                                   preview.thumbnail.height()) <= 256
    assert size_texts(pane) == [f"640 × 480 px · {human_bytes(photo.stat().st_size)}"]
    thumbs = [w for w in pane.findChildren(QWidget, "thumbnail") if w.isVisible()]
    assert len(thumbs) == 1
    grabbed = thumbs[0].grab().toImage()
    centre = grabbed.pixelColor(grabbed.width() // 2, grabbed.height() // 2)
    assert centre == QColor("#3a7bd5")  # the picture itself is drawn, not an empty box
    assert not hint.isVisible()
    assert pane.error_text() == "" and pane.warning_text() == ""


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (png_bytes(300, 200)[:180], "truncated or damaged"),
        (b"shopping list: shirt, scarf\n" * 20, "not an image"),
        (b"\x00\x13\x99garbage" * 50, "not an image"),
        (bomb_png(10_000, 7_000), "70 megapixels"),
    ],
    ids=["corrupt", "text", "unknown-binary", "pixel-bomb"],
)
def test_bad_file_shows_error_and_keeps_previous_item(qtbot, tmp_path: Path, loop,  # type: ignore[no-untyped-def]
                                                      content: bytes, expected: str) -> None:
    good = write_png(tmp_path / "good.png", 400, 300)
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    pane = make_pane(qtbot, tmp_path)

    async def body() -> None:
        drop(pane, file_mime(good))
        await settle(pane)
        changed = counter(pane.changed)
        assert drop(pane, file_mime(bad))
        await settle(pane)
        assert changed == []

    loop.run_until_complete(body())
    assert expected in pane.error_text()
    assert "bad.png" in pane.error_text()
    assert pane.sources() == [str(good)]
    error = pane.findChild(QLabel, "errorLabel")
    assert error.isVisible() and error.text() == pane.error_text() and error.wordWrap()


def test_next_success_clears_error(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture at all\n")
    photo = write_png(tmp_path / "ok.png", 200, 200)
    pane = make_pane(qtbot, tmp_path)

    async def body() -> None:
        drop(pane, file_mime(notes))
        await settle(pane)
        assert "notes.txt is not an image Restyle can read" in pane.error_text()
        assert pane.sources() == []
        drop(pane, file_mime(photo))
        await settle(pane)

    loop.run_until_complete(body())
    assert pane.error_text() == ""
    assert not pane.findChild(QLabel, "errorLabel").isVisible()
    assert pane.sources() == [str(photo)]


def test_file_over_size_limit_refused_before_reading(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    huge = tmp_path / "huge.png"
    with huge.open("wb") as fh:  # sparse: no disk space used
        fh.truncate(MAX_INPUT_FILE_BYTES + 1)
    pane = make_pane(qtbot, tmp_path)

    async def body() -> None:
        drop(pane, file_mime(huge))
        await settle(pane)

    loop.run_until_complete(body())
    assert f"larger than the {human_bytes(MAX_INPUT_FILE_BYTES)}" in pane.error_text()
    assert pane.sources() == []


def test_missing_file_and_folder(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    pane = make_pane(qtbot, tmp_path)
    folder = tmp_path / "shoot"
    folder.mkdir()

    async def body() -> None:
        await pane.add_sources([str(tmp_path / "gone.png")])
        assert "does not exist" in pane.error_text()
        await pane.add_sources([str(folder)])
        assert "is a folder" in pane.error_text()

    loop.run_until_complete(body())


def test_limits_warn_about_downscale_and_too_small(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    big = write_png(tmp_path / "big.png", 600, 300)
    small = write_png(tmp_path / "small.png", 40, 30)
    pane = make_pane(qtbot, tmp_path)
    pane.set_provider_title("FitInView")
    pane.set_limits(InputLimits(max_side=512, max_bytes=10_000_000, min_side=64))

    async def body() -> None:
        await pane.add_sources([str(big)])
        assert pane.warning_text() == "Will be downscaled to 512 px on the long side for FitInView"
        warning = pane.findChild(QLabel, "warningLabel")
        assert warning.isVisible() and warning.text() == pane.warning_text()
        await pane.add_sources([str(small)])
        assert pane.warning_text() == "Too small: FitInView needs at least 64 px"

    loop.run_until_complete(body())
    pane.set_limits(InputLimits(max_side=4096, max_bytes=10_000_000, min_side=16))
    assert pane.warning_text() == ""
    pane.set_limits(InputLimits(max_side=4096, max_bytes=100, min_side=16))
    assert pane.warning_text() == "Will be recompressed to fit 100 bytes for FitInView"
    pane.set_limits(None)
    assert pane.warning_text() == ""
    assert pane.error_text() == ""  # a warning is not an error: the input stays usable
    assert pane.sources() == [str(small)]


def test_paste_image_from_clipboard_writes_png(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    pane = make_pane(qtbot, tmp_path)
    image = QImage(120, 80, QImage.Format.Format_RGB32)
    image.fill(QColor("#cc3366"))
    QApplication.clipboard().setImage(image)
    pane.setFocus()

    async def body() -> None:
        qtbot.keyClick(pane, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
        await settle(pane)

    loop.run_until_complete(body())
    (source,) = pane.sources()
    path = Path(source)
    assert path.parent == tmp_path / "pasted" and path.suffix == ".png"
    with Image.open(path) as im:
        assert im.size == (120, 80)
        assert im.convert("RGB").getpixel((5, 5)) == (0xCC, 0x33, 0x66)
    (preview,) = pane.previews()
    assert (preview.width, preview.height) == (120, 80)

    async def again() -> None:  # the same picture pasted twice is one file
        pane.clear()
        pane.paste()
        await settle(pane)

    loop.run_until_complete(again())
    assert pane.sources() == [source]
    assert len(list((tmp_path / "pasted").glob("*.png"))) == 1


def test_paste_path_text_and_nothing_usable(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    photo = write_png(tmp_path / "room.png", 300, 200)
    pane = make_pane(qtbot, tmp_path, "room", "Room")
    clipboard = QApplication.clipboard()

    async def body() -> None:
        clipboard.setText(f"  {photo}\n")
        pane.paste()
        await settle(pane)
        assert pane.sources() == [str(photo)]
        changed = counter(pane.changed)
        clipboard.setText("just some words")
        pane.paste()
        await settle(pane)
        assert "clipboard holds no image" in pane.error_text()
        assert changed == [] and pane.sources() == [str(photo)]

    loop.run_until_complete(body())


def test_url_drop_uses_injected_fetcher_and_keeps_url(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    fetched: list[str] = []
    data = png_bytes(500, 700, "#228833")

    async def fetch(url: str) -> bytes:
        fetched.append(url)
        await asyncio.sleep(0)
        return data

    pane = make_pane(qtbot, tmp_path, "garment", "Garments", max_count=3, fetch_url=fetch)
    url = "https://shop.example/images/red%20shirt.png"
    mime = QMimeData()
    mime.setUrls([QUrl(url)])
    mime.setText(url)

    async def body() -> None:
        assert drop(pane, mime)
        await settle(pane)

    loop.run_until_complete(body())
    assert fetched == [url]
    assert pane.sources() == [url]
    (preview,) = pane.previews()
    assert preview.name == "red shirt.png" and preview.file_size == len(data)
    assert (preview.width, preview.height) == (500, 700)


def test_url_without_fetcher_is_explained(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    pane = make_pane(qtbot, tmp_path)
    url = "https://example.org/person.jpg"
    mime = QMimeData()
    mime.setText(url)  # a browser address dragged as text

    async def body() -> None:
        assert drop(pane, mime)
        await settle(pane)

    loop.run_until_complete(body())
    assert pane.error_text().startswith(
        f"Cannot download {url}: URL inputs are not enabled here."
    )
    assert pane.sources() == []


def test_fetch_failure_becomes_sentence(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    async def fetch(url: str) -> bytes:
        raise InvalidInput("the server answered 404 (not found)")

    pane = make_pane(qtbot, tmp_path, fetch_url=fetch)

    async def body() -> None:
        await pane.add_sources(["https://example.org/x.png"])

    loop.run_until_complete(body())
    assert pane.error_text() == (
        "Cannot download https://example.org/x.png: the server answered 404 (not found)"
    )


def test_browser_image_data_used_when_urls_cannot_be_fetched(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    pane = make_pane(qtbot, tmp_path)
    image = QImage(64, 96, QImage.Format.Format_ARGB32)
    image.fill(QColor(10, 200, 30, 128))
    mime = QMimeData()
    mime.setUrls([QUrl("https://cdn.example/look.png")])
    mime.setImageData(image)

    async def body() -> None:
        assert drop(pane, mime)
        await settle(pane)

    loop.run_until_complete(body())
    (source,) = pane.sources()
    assert Path(source).parent == tmp_path / "pasted"
    assert pane.previews()[0].thumbnail.hasAlphaChannel()


def test_garments_take_three_then_refuse_and_remove(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    files = [write_png(tmp_path / f"g{i}.png", 200 + i, 300) for i in range(5)]
    pane = make_pane(qtbot, tmp_path, "garment", "Garments", max_count=3)
    assert "up to 3 garments" in pane.findChild(QLabel, "dropHint").text()

    async def body() -> None:
        drop(pane, file_mime(files[0], files[1]))
        await settle(pane)
        assert pane.sources() == [str(files[0]), str(files[1])]
        drop(pane, file_mime(files[2], files[3], files[4]))
        await settle(pane)

    loop.run_until_complete(body())
    assert pane.sources() == [str(f) for f in files[:3]]
    assert "This pane takes at most 3 garments" in pane.error_text()
    assert pane.findChild(QLabel, "countLabel").text() == "3 of 3"
    assert [t.split(" · ")[0] for t in size_texts(pane)] == [
        "200 × 300 px", "201 × 300 px", "202 × 300 px"
    ]

    changed = counter(pane.changed)
    removes = [b for b in pane.findChildren(QToolButton, "removeButton") if b.isVisible()]
    assert [b.accessibleName() for b in removes] == [f"Remove g{i}.png" for i in range(3)]
    qtbot.mouseClick(removes[1], Qt.MouseButton.LeftButton)
    assert pane.sources() == [str(files[0]), str(files[2])]
    assert changed == [1] and pane.error_text() == ""

    # A provider that takes one garment: the extra stays, marked and left out of sources().
    pane.set_provider_title("vtryon")
    pane.set_max_count(1)
    assert pane.sources() == [str(files[0])]
    assert changed == [1, 1]
    assert pane.warning_text() == "Not used: vtryon takes 1 garment at most."
    assert len(pane.all_previews()) == 2
    pane.set_max_count(3)
    assert pane.sources() == [str(files[0]), str(files[2])] and pane.warning_text() == ""


def test_duplicate_garment_is_not_added_twice(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    shirt = write_png(tmp_path / "shirt.png", 200, 200)
    pane = make_pane(qtbot, tmp_path, "garment", "Garments", max_count=3)

    async def body() -> None:
        await pane.add_sources([str(shirt)])
        await pane.add_sources([str(shirt)])

    loop.run_until_complete(body())
    assert pane.sources() == [str(shirt)]
    assert "shirt.png is already in the Garments pane" in pane.error_text()


def test_single_pane_drop_replaces_and_newer_supersedes_slow_load(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                  loop) -> None:
    first = write_png(tmp_path / "first.png", 100, 100)
    second = write_png(tmp_path / "second.png", 120, 100)
    release = asyncio.Event()

    async def slow_fetch(url: str) -> bytes:
        await release.wait()
        return png_bytes(50, 50)

    pane = make_pane(qtbot, tmp_path, fetch_url=slow_fetch)

    async def body() -> None:
        drop(pane, file_mime(first))
        await settle(pane)
        drop(pane, file_mime(second))
        await settle(pane)
        assert pane.sources() == [str(second)]
        slow = asyncio.ensure_future(pane.add_sources(["https://slow.example/a.png"]))
        await until(pane.is_busy)
        assert pane.findChild(QWidget, "busyIndicator").isVisible()
        await pane.add_sources([str(first)])
        release.set()
        await slow  # returns quietly: superseded
        await settle(pane)

    loop.run_until_complete(body())
    assert pane.sources() == [str(first)]
    assert pane.error_text() == ""
    assert not pane.findChild(QWidget, "busyIndicator").isVisible()


def test_clear_button_and_delete_key(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    photo = write_png(tmp_path / "p.png", 100, 100)
    pane = make_pane(qtbot, tmp_path)
    clear = pane.findChild(QToolButton, "clearButton")
    assert clear.accessibleName() == "Clear Person"
    assert not clear.isEnabled()

    loop.run_until_complete(pane.add_sources([str(photo)]))
    changed = counter(pane.changed)
    qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)
    assert pane.sources() == [] and changed == [1]
    assert pane.findChild(QLabel, "dropHint").isVisible()

    loop.run_until_complete(pane.add_sources([str(photo)]))
    pane.setFocus()
    qtbot.keyClick(pane, Qt.Key.Key_Delete)
    assert pane.sources() == [] and changed == [1, 1, 1]  # clear, add, clear


def test_drag_enter_highlights_only_usable_content(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    pane = make_pane(qtbot, tmp_path)
    prose = QMimeData()
    prose.setText("a lovely summer dress")
    assert not drag_enter(pane, prose)
    assert not pane.is_drag_highlighted()
    html = QMimeData()
    html.setHtml("<b>bold</b>")
    assert not drag_enter(pane, html)

    photo = write_png(tmp_path / "p.png", 10, 10)
    before = pane.grab().toImage()
    assert drag_enter(pane, file_mime(photo))
    assert pane.is_drag_highlighted()
    assert pane.grab().toImage() != before  # the highlight is drawn
    QApplication.sendEvent(pane, QDragLeaveEvent())
    assert not pane.is_drag_highlighted()

    async def body() -> None:  # plain prose dropped anyway changes nothing
        changed = counter(pane.changed)
        assert not drop(pane, prose)
        await settle(pane)
        assert changed == [] and pane.error_text() == ""

    loop.run_until_complete(body())


def test_click_and_keyboard_open_non_blocking_browse(qtbot, tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    photo = write_png(tmp_path / "chosen.png", 150, 100)
    pane = make_pane(qtbot, tmp_path)
    assert pane.focusPolicy() == Qt.FocusPolicy.StrongFocus
    browse = pane.findChild(QToolButton, "browseButton")
    assert browse.accessibleName() == "Browse for Person image"

    qtbot.mouseClick(pane, Qt.MouseButton.LeftButton, pos=QPoint(pane.width() // 2, 150))
    dialog = pane.findChild(QFileDialog, "browseDialog")
    assert dialog is not None and dialog.isVisible()  # open() returned: nothing blocked
    assert dialog.fileMode() == QFileDialog.FileMode.ExistingFile
    dialog.setDirectory(str(tmp_path))
    dialog.selectFile(str(photo))

    async def body() -> None:
        dialog.accept()
        await settle(pane)

    loop.run_until_complete(body())
    assert pane.sources() == [str(photo)]

    async def keyboard() -> None:
        pane.clear()
        await until(lambda: pane.findChild(QFileDialog, "browseDialog") is None)
        pane.setFocus()
        qtbot.keyClick(pane, Qt.Key.Key_Return)
        second = pane.findChild(QFileDialog, "browseDialog")
        assert second is not None and second.isVisible()
        second.reject()

    loop.run_until_complete(keyboard())


def test_multi_pane_browse_allows_several_files(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pane = make_pane(qtbot, tmp_path, "garment", "Garments", max_count=3)
    qtbot.mouseClick(pane.findChild(QToolButton, "browseButton"), Qt.MouseButton.LeftButton)
    dialog = pane.findChild(QFileDialog, "browseDialog")
    assert dialog.fileMode() == QFileDialog.FileMode.ExistingFiles
    dialog.reject()


def test_title_and_accessible_names_follow_set_title(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pane = make_pane(qtbot, tmp_path, "image", "Image")
    assert pane.role() == "image"
    assert "Drop an image here" in pane.findChild(QLabel, "dropHint").text()
    pane.set_title("Photo to upscale")
    assert pane.findChild(QLabel, "titleLabel").text() == "Photo to upscale"
    assert pane.findChild(QToolButton, "browseButton").accessibleName() == (
        "Browse for Photo to upscale image"
    )
    assert pane.accessibleName() == "Photo to upscale input"


def test_loader_refuses_non_path_text(tmp_path: Path, loop) -> None:  # type: ignore[no-untyped-def]
    loader = PreviewLoader(None, tmp_path)
    with pytest.raises(InvalidInput, match="not a file path or an http"):
        loop.run_until_complete(loader.load("shirt.png"))
    good = write_png(tmp_path / "a b.png", 30, 20)
    preview = loop.run_until_complete(loader.load(QUrl.fromLocalFile(str(good)).toString()))
    assert isinstance(preview, Preview) and preview.source == str(good)
    assert os.path.isabs(preview.source)


def test_old_pasted_images_are_pruned(tmp_path: Path, loop: asyncio.AbstractEventLoop) -> None:
    import time as _time

    from desktop.ui.previews import PASTED_KEEP_S

    folder = tmp_path / "pasted"
    folder.mkdir()
    old, new, other = folder / "pasted-old.png", folder / "pasted-new.png", folder / "mine.png"
    for path in (old, new, other):
        path.write_bytes(b"x")
    long_ago = _time.time() - PASTED_KEEP_S - 60
    os.utime(old, (long_ago, long_ago))
    os.utime(other, (long_ago, long_ago))
    loader = PreviewLoader(None, folder)
    assert loop.run_until_complete(loader.prune_pasted()) == 1
    assert not old.exists() and new.exists() and other.exists()
    assert loop.run_until_complete(PreviewLoader(None, tmp_path / "none").prune_pasted()) == 0
