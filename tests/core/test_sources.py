"""desktop.core.sources: what a source is, how names are shown, and the bounded reader."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from desktop.core import sources
from desktop.core.limits import Limits
from desktop.core.model import InvalidInput
from desktop.core.sources import classify, is_http_url, read_file, shown

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX special files")


def read(path: str | Path, max_bytes: int = 1000, timeout_s: float = 10.0, **kw: Any) -> bytes:
    return read_file(str(path), max_bytes=max_bytes, timeout_s=timeout_s, **kw)


def refusal(path: str | Path, **kw: Any) -> str:
    with pytest.raises(InvalidInput) as info:
        read(path, **kw)
    return str(info.value)


# -- what a source is ---------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("https://example.org/a.png", True),
    ("HTTP://EXAMPLE.ORG/A.PNG", True),
    ("http://x", True),
    ("http://", False),
    ("https://", False),
    ("ftp://example.org/a.png", False),
    ("/home/me/http://a.png", False),
    ("photo.png", False),
])
def test_is_http_url(text: str, expected: bool) -> None:
    assert is_http_url(text) is expected


def test_classify_files_and_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert classify("https://example.org/a.png") == "url"
    assert classify("photo.png") == "file"
    assert classify("C:\\Users\\me\\photo.png") == "file"  # a drive letter, not a scheme
    odd = tmp_path / "notes:v2.png"
    odd.write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    assert classify(str(odd)) == "file"
    assert classify("notes:v2.png") == "file"  # it exists, so it is a path


@pytest.mark.parametrize(("source", "needle"), [
    ("ftp://example.org/a.png", "is a ftp: address; Restyle reads images from local files"),
    ("gopher://example.org/a", "is a gopher: address"),
    ("file:///tmp/a%20b.png", "is a file:// address; give the file's path instead (/tmp/a b.png)"),
    ("data:image/png;base64,AAAA", "is a data: URI"),
    ("http:", "is not a complete web address"),
    ("", "No file or address was given."),
    ("   ", "No file or address was given."),
    ("a\nb.png", "a\\nb.png contains a control character (\\n)"),
    ("a\x00b.png", "contains a control character (\\x00)"),
    ("https://example.org/\x1b[2J.png", "contains a control character (\\x1b)"),
    (os.fsdecode(b"caf\xe9.png"), "caf\\xe9.png has a name that is not UTF-8 text (the byte "
                                  "\\xe9); rename the file"),
])
def test_classify_refuses_other_sources(source: str, needle: str) -> None:
    with pytest.raises(InvalidInput) as info:
        classify(source)
    assert needle in str(info.value)


# -- showing names ------------------------------------------------------------------------------
def test_shown_escapes_what_could_rewrite_a_terminal_or_disguise_a_name() -> None:
    assert shown("a\nb\tc\rd") == "a\\nb\\tc\\rd"
    assert shown("\x1b[31mred") == "\\x1b[31mred"
    assert shown("\x7f\x85") == "\\x7f\\x85"
    assert shown("invoice\u202egnp.exe") == "invoice\\u202egnp.exe"  # right-to-left override
    assert shown("zero\u200bwidth") == "zero\\u200bwidth"
    assert shown(os.fsdecode(b"caf\xe9.png")) == "caf\\xe9.png"  # not UTF-8
    assert shown("Zoë 東京.png") == "Zoë 東京.png"


def test_shown_shortens_the_middle_of_long_names() -> None:
    text = "a" * 200 + "tail.png"
    out = shown(text, 60)
    assert len(out) == 60 and "…" in out and out.endswith("tail.png")


def test_url_names_and_shown_urls_hide_credentials_and_tokens() -> None:
    assert sources.url_name("https://cdn.example/img/My%20Shirt.png?sig=1") == "My Shirt.png"
    assert sources.url_name("https://cdn.example/") == "cdn.example"
    assert (sources.shown_url("https://user:pw@cdn.example/a.png?token=SECRET")
            == "https://cdn.example/a.png?…")


def test_absolute_path_never_raises(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert sources.absolute_path(str(loop)).endswith("loop")
    assert sources.absolute_path("~/x.png") == str(Path.home() / "x.png")


# -- the reader ---------------------------------------------------------------------------------
def test_reads_a_regular_file_up_to_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "ok.bin"
    path.write_bytes(b"x" * 1000)
    assert read(path, max_bytes=1000) == b"x" * 1000
    message = refusal(path, max_bytes=999)
    assert message.startswith("ok.bin is 1.0 KB, larger than the 999 bytes Restyle accepts")
    assert "limits.input_max_bytes" in message


def test_reads_no_more_than_the_cap_when_the_size_lies() -> None:
    """/proc files claim 0 bytes; reading stops at max_bytes + 1 all the same."""
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc")
    assert os.stat("/proc/self/status").st_size == 0
    assert refusal("/proc/self/status", max_bytes=10).startswith(
        "status is larger than the 10 bytes")
    assert read("/proc/self/status", max_bytes=100_000).startswith(b"Name:")


def test_a_slow_read_stops_at_the_time_limit(tmp_path: Path) -> None:
    path = tmp_path / "slow.bin"
    path.write_bytes(b"x" * (3 * sources.CHUNK))
    ticks = iter([0.0, 1.0, 2.0, 30.0, 31.0])
    message = refusal(path, max_bytes=10 * sources.CHUNK, timeout_s=5.0,
                      clock=lambda: next(ticks))
    assert message == ("Reading slow.bin took longer than 5 s (limits.input_read_timeout_s in "
                       "settings.json); copy it to a local disk and try again.")


def test_a_read_that_blocks_is_abandoned_by_load_file(tmp_path: Path) -> None:
    async def stuck(*args: Any, **kwargs: Any) -> bytes:
        await asyncio.sleep(3600)
        return b""

    limits = Limits(input_read_timeout_s=0.2)
    with pytest.raises(InvalidInput) as info:
        asyncio.run(sources.load_file(str(tmp_path / "nfs.png"), limits, stuck))
    assert str(info.value).startswith("Reading nfs.png took longer than 200 ms")


def test_load_file_reads_in_a_worker(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"abc")
    assert asyncio.run(sources.load_file(str(path), Limits())) == b"abc"
    with pytest.raises(InvalidInput, match="larger than the 2 bytes"):
        asyncio.run(sources.load_file(str(path), Limits(input_max_bytes=2)))


@posix_only
@pytest.mark.timeout(10)
def test_special_files_are_refused_before_opening(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    assert refusal(fifo).endswith("pipe.png is a named pipe (FIFO), not an image file; save "
                                  "the image to a file first.")
    assert refusal("/dev/zero") == "/dev/zero is a device, not an image file."
    assert refusal(tmp_path).endswith("is a folder, not an image file; choose the images in it.")


@posix_only
@pytest.mark.timeout(10)
def test_a_path_swapped_for_a_pipe_after_the_stat_is_caught_without_blocking(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """stat said 'regular file'; by the time it is opened it is a FIFO with no writer. The
    non-blocking open returns at once and fstat refuses it."""
    regular = tmp_path / "real.png"
    regular.write_bytes(b"x")
    fifo = tmp_path / "swapped.png"
    os.mkfifo(fifo)
    real_stat = os.stat
    monkeypatch.setattr(sources.os, "stat",
                        lambda p, *a, **k: real_stat(regular) if str(p) == str(fifo)
                        else real_stat(p, *a, **k))
    assert "swapped.png is a named pipe" in refusal(fifo)


def test_os_errors_become_sentences(tmp_path: Path) -> None:
    loop = tmp_path / "a.png"
    loop.symlink_to(tmp_path / "b.png")
    (tmp_path / "b.png").symlink_to(loop)
    assert refusal(loop).endswith("a.png cannot be opened: its symbolic links form a loop (a "
                                  "link that leads back to itself).")
    dangling = tmp_path / "d.png"
    dangling.symlink_to(tmp_path / "gone.png")
    assert refusal(dangling) == f"{dangling} is a link to {tmp_path / 'gone.png'}, which does " \
                                "not exist."
    (tmp_path / "notes.txt").write_text("x")
    assert refusal(tmp_path / "notes.txt" / "p.png") == (
        f"{tmp_path / 'notes.txt' / 'p.png'} cannot be opened: a part of its path "
        f"({tmp_path / 'notes.txt'}) is a file, not a folder.")
    long_name = tmp_path / ("x" * 300)
    message = refusal(long_name)
    assert "the name is too long for this system (300 characters in one name" in message
    assert len(message) < 300  # the name itself is shortened
    assert refusal(tmp_path / "missing.png").endswith(
        "missing.png does not exist; it may have been moved or deleted.")
    assert "contains a control character (\\x1b)" in refusal(tmp_path / "\x1bx.png")


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="root (and Windows) read files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.png"
    path.write_bytes(b"x")
    path.chmod(0)
    try:
        assert refusal(path) == f"{path} cannot be read (permission denied)."
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_the_printable_shortcut_never_passes_a_character_that_needs_escaping() -> None:
    """`shown` and `check_name` skip their per-character work for a text `isprintable` calls
    clean: every code point that passes it must be one neither would touch."""
    for code in range(0x110000):
        ch = chr(code)
        if ch.isprintable():
            assert sources._escape(ch) == ch and not sources._is_control(ch), hex(code)


@pytest.mark.parametrize("name", ["photo\n.png", "a\x1b[31m.png", "x\u202ey.png", "bad\x85.png",
                                  "line\u2028sep.png", "tab\t.png"])
def test_names_with_hidden_characters_are_still_escaped_and_refused(name: str) -> None:
    escaped = shown(name)
    assert escaped != name and "\\" in escaped
    if any(sources._is_control(ch) for ch in name):
        with pytest.raises(InvalidInput, match="control character"):
            sources.check_name(name)
    assert shown("plain photo é.png") == "plain photo é.png"
