"""Checking a downloaded video before it is stored, as images are checked: it must be a video
(MP4, QuickTime, WebM or Matroska by its first bytes) and whole.

Decoding a video would need a codec library, so completeness is read from the container: an
MP4's top-level boxes must include the movie header (`moov`) and end exactly where the file
does; a WebM's segment must not claim more bytes than arrived. That catches an error page
served as a video, a file cut short and a file with its index missing, which are what a
download gets wrong. The size limit is the download's (limits.result_max_bytes).
"""

from __future__ import annotations

from desktop.core.imaging import sniff_mime
from desktop.core.model import InvalidInput

VIDEO_MIMES: tuple[str, ...] = ("video/mp4", "video/quicktime", "video/webm",
                                "video/x-matroska")
_EBML = 0x1A45DFA3
_SEGMENT = 0x18538067


def check_video(data: bytes, name: str) -> str:
    """The MIME type of `data` when it is a whole video; InvalidInput saying what it is not.

    `name` starts the sentence ("The result 2 from VistoureAI")."""
    mime = sniff_mime(data)
    if mime not in VIDEO_MIMES:
        found = _what(data, mime)
        raise InvalidInput(f"{name} is not a video: {found}.")
    if mime in ("video/mp4", "video/quicktime"):
        _check_boxes(data, name)
    else:
        _check_segment(data, name)
    return mime


def _what(data: bytes, mime: str | None) -> str:
    if mime is not None:
        return f"it is {mime}"
    head = data[:64].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "it is a web page (the link probably expired)"
    if head.startswith((b"<?xml", b"<error")):
        return "it is an XML error message (the link probably expired)"
    if head.startswith((b"{", b"[")):
        return "it is a JSON message"
    return "its first bytes are not those of MP4, QuickTime or WebM"


def _check_boxes(data: bytes, name: str) -> None:
    """ISO BMFF: boxes of (32-bit size, type[, 64-bit size]) that tile the file exactly."""
    offset = 0
    kinds: set[bytes] = set()
    while offset < len(data):
        if len(data) - offset < 8:
            raise InvalidInput(f"{name} is cut short (its last box is incomplete).")
        size = int.from_bytes(data[offset:offset + 4], "big")
        kind = data[offset + 4:offset + 8]
        header = 8
        if size == 1:
            if len(data) - offset < 16:
                raise InvalidInput(f"{name} is cut short (its last box is incomplete).")
            size = int.from_bytes(data[offset + 8:offset + 16], "big")
            header = 16
        elif size == 0:  # the last box runs to the end of the file
            size = len(data) - offset
        if size < header:
            raise InvalidInput(f"{name} is damaged: a box of its MP4 structure has an "
                               "impossible size.")
        if offset + size > len(data):
            raise InvalidInput(f"{name} is cut short: it has {len(data)} bytes of the "
                               f"{offset + size} its structure announces.")
        kinds.add(kind)
        offset += size
    if b"moov" not in kinds:
        raise InvalidInput(f"{name} is incomplete: it has no movie header (moov box), so no "
                           "player can open it.")


def _vint(data: bytes, offset: int) -> tuple[int, int, bool]:
    """An EBML variable-length integer at `offset`: (value, length, all value bits set)."""
    if offset >= len(data):
        raise IndexError(offset)
    first = data[offset]
    length = next((n for n in range(1, 9) if first & (0x80 >> (n - 1))), 0)
    if length == 0 or offset + length > len(data):
        raise IndexError(offset)
    value = first & (0xFF >> length)
    for byte in data[offset + 1:offset + length]:
        value = (value << 8) | byte
    return value, length, value == (1 << (7 * length)) - 1


def _check_segment(data: bytes, name: str) -> None:
    """EBML: the header element, then a Segment whose size (unless "unknown", as a live
    recording writes it) fits in what arrived."""
    try:
        offset = 4  # the EBML ID, checked by sniff_mime
        size, length, _unknown = _vint(data, offset)
        offset += length + size
        if int.from_bytes(data[offset:offset + 4], "big") != _SEGMENT:
            raise InvalidInput(f"{name} is damaged: its WebM header is not followed by a "
                               "segment.")
        offset += 4
        size, length, unknown = _vint(data, offset)
    except IndexError:
        raise InvalidInput(f"{name} is cut short (its WebM header is incomplete).") from None
    end = offset + length + size
    if not unknown and end > len(data):
        raise InvalidInput(f"{name} is cut short: it has {len(data)} bytes of the {end} its "
                           "structure announces.")
