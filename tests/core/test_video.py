"""desktop.core.video.check_video: a downloaded video is a video and whole, read from its
container (no codec needed)."""

from __future__ import annotations

import pytest

from desktop.core.model import InvalidInput
from desktop.core.video import check_video
from tests.emulators.vistoure import CLIP


def _ebml(segment_size: bytes, body: bytes) -> bytes:
    """A WebM: EBML header (DocType webm), then a Segment of `segment_size` (a vint)."""
    doctype = b"\x42\x82\x84webm"
    header = b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(doctype)]) + doctype
    return header + b"\x18\x53\x80\x67" + segment_size + body


def test_the_emulators_real_mp4_passes() -> None:
    assert check_video(CLIP, "The clip") == "video/mp4"


def test_a_webm_whose_segment_fits_passes() -> None:
    assert check_video(_ebml(b"\x84", b"abcd"), "The clip") == "video/webm"
    # "Unknown" size (all value bits set), as a live recording writes it.
    assert check_video(_ebml(b"\xff", b"ab"), "The clip") == "video/webm"


@pytest.mark.parametrize(("data", "words"), [
    (b"", "is not a video: its first bytes are not those of MP4"),
    (b'{"error": "expired"}', "is not a video: it is a JSON message"),
    (b"<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>",
     "is not a video: it is an XML error message"),
    (b"\x89PNG\r\n\x1a\n" + bytes(32), "is not a video: it is image/png"),
    (CLIP[:-1], "is cut short: it has 12017 bytes of the 12018 its structure announces"),
    (CLIP[:36], "is cut short (its last box is incomplete)"),
    (CLIP[:32] + b"\x00\x00\x00\x04moov", "impossible size"),
    (_ebml(b"\x88", b"abcd"), "is cut short: it has"),
    (_ebml(b"", b""), "its WebM header is incomplete"),
    (b"\x1a\x45\xdf\xa3\x81\x00" + b"\x1f\x43\xb6\x75\x80", "not followed by a segment"),
], ids=["empty", "json", "xml", "png", "one_byte_short", "half_a_box", "bad_box_size",
        "webm_short", "webm_header_cut", "webm_no_segment"])
def test_what_is_not_a_whole_video_is_named(data: bytes, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_video(data, "The result 1 from Acme")
    assert str(caught.value).startswith("The result 1 from Acme ")
    assert words in str(caught.value), str(caught.value)
