"""PNG structure read with zlib alone: chunk checksums, the end marker and the compressed pixel
stream, without decoding a pixel (no Pillow).

Why: a provider's result can be hundreds of megapixels (a 4x upscale of a 4096 px image is
16384 x 16384). Decoding it whole to prove it is complete costs about 1 GB and several seconds;
walking its chunks and inflating its pixel stream in pieces proves the same things (every chunk
intact, nothing missing at the end, the compressed data sound and exactly as long as the image
needs, every row's filter valid) in a few megabytes. What this cannot see is what no decoder
refuses either: pixel values that are wrong but well formed.

`filtered_rows` hands the inflated stream out a band of rows at a time, so `imaging` can decode
a very large PNG band by band (see `imaging._png_reduced`).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Samples per pixel for each PNG colour type (grey, RGB, palette, grey+alpha, RGBA).
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_BIT_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
#: Adam7 passes: (first column, first row, column step, row step).
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))
_MAX_FILTER = 4  # None, Sub, Up, Average, Paeth
_INFLATE_PIECE = 1 << 20  # bytes of inflated data held at once
_FEED = 1 << 16  # compressed bytes given to zlib at once


class PngDamaged(ValueError):
    """The PNG is incomplete or corrupt; the message is a phrase saying how ("it ends before
    its end marker"), to be put in a sentence that names the file."""


@dataclass(frozen=True)
class Header:
    """The IHDR chunk."""

    width: int
    height: int
    bit_depth: int
    colour_type: int
    interlaced: bool

    @property
    def bits_per_pixel(self) -> int:
        return _CHANNELS[self.colour_type] * self.bit_depth

    @property
    def row_bytes(self) -> int:
        """Bytes of one full-width row of pixels, without its filter byte."""
        return _row_bytes(self.width, self.bits_per_pixel)

    def rows(self) -> list[tuple[int, int]]:
        """The inflated stream as (row count, bytes per row including the filter byte): one
        entry for a plain image, one per non-empty pass for an interlaced (Adam7) one."""
        if not self.interlaced:
            return [(self.height, 1 + self.row_bytes)]
        found = []
        for x0, y0, dx, dy in _ADAM7:
            width = (self.width - x0 + dx - 1) // dx
            height = (self.height - y0 + dy - 1) // dy
            if width > 0 and height > 0:
                found.append((height, 1 + _row_bytes(width, self.bits_per_pixel)))
        return found

    @property
    def inflated_size(self) -> int:
        """How many bytes the pixel stream inflates to when it is complete."""
        return sum(count * stride for count, stride in self.rows())

    def ihdr(self, *, height: int | None = None) -> bytes:
        """This header as an IHDR chunk body, optionally with another height and never
        interlaced (for a band of rows, see `imaging._png_reduced`)."""
        return struct.pack(">IIBBBBB", self.width, self.height if height is None else height,
                           self.bit_depth, self.colour_type, 0, 0, 0)


def _row_bytes(width: int, bits_per_pixel: int) -> int:
    return (width * bits_per_pixel + 7) // 8


def chunk(kind: bytes, body: bytes) -> bytes:
    """One chunk, length and checksum included."""
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def chunks(data: bytes) -> Iterator[tuple[bytes, memoryview]]:
    """Every chunk up to and including IEND as (type, body), each checked against its CRC.

    Raises PngDamaged when the signature is wrong, a chunk is cut short or fails its
    checksum, or the data ends without an IEND chunk. Bytes after IEND are ignored.
    """
    if not data.startswith(SIGNATURE):
        raise PngDamaged("it does not start with the PNG signature")
    view = memoryview(data)
    pos = len(SIGNATURE)
    while True:
        if pos + 8 > len(data):
            raise PngDamaged("it ends before its end marker (IEND); it was cut short")
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 8 + length
        if length > 0x7FFFFFFF or end + 4 > len(data):
            raise PngDamaged(f"it ends inside its {_printable(kind)} chunk; it was cut short")
        (crc,) = struct.unpack_from(">I", data, end)
        body = view[pos + 8:end]
        if zlib.crc32(body, zlib.crc32(kind)) & 0xFFFFFFFF != crc:
            raise PngDamaged(f"its {_printable(kind)} chunk fails its checksum (CRC)")
        yield kind, body
        if kind == b"IEND":
            return
        pos = end + 4


def _printable(kind: bytes) -> str:
    return kind.decode("ascii", "replace") if kind.isalpha() else repr(kind)


def find(data: bytes, kind: bytes) -> bytes | None:
    """The body of the first `kind` chunk, found by lengths alone (no CRC: fast on a file of
    hundreds of megabytes); None when there is none or the structure breaks off first."""
    pos = len(SIGNATURE)
    while pos + 8 <= len(data):
        length, found = struct.unpack_from(">I4s", data, pos)
        if found == kind:
            return data[pos + 8:pos + 8 + length]
        if found == b"IEND":
            return None
        pos += 12 + length
    return None


def header(data: bytes) -> Header:
    """The IHDR of `data` (the first chunk), checked for values PNG allows."""
    for kind, body in chunks(data):
        if kind != b"IHDR" or len(body) != 13:
            raise PngDamaged("its first chunk is not a valid header (IHDR)")
        width, height, depth, colour, _comp, _filt, interlace = struct.unpack(">IIBBBBB", body)
        if width == 0 or height == 0 or depth not in _BIT_DEPTHS.get(colour, ()) or \
                interlace > 1:
            raise PngDamaged("its header (IHDR) describes no valid image")
        return Header(width, height, depth, colour, interlace == 1)
    raise PngDamaged("it has no header (IHDR)")  # pragma: no cover - chunks() raises first


def inflated(data: bytes, *, piece: int = _INFLATE_PIECE) -> Iterator[bytes]:
    """The image's pixel stream (every IDAT inflated) in pieces of at most `piece` bytes.

    The whole file's chunks are walked, so a bad checksum or a missing IEND after the pixel
    data raises too. Raises PngDamaged when the compressed data is corrupt.
    """
    stream = zlib.decompressobj()
    for kind, body in chunks(data):
        if kind != b"IDAT" or stream.eof:
            continue
        # Fed in slices: zlib copies the unconsumed input on every capped call, which would
        # be quadratic over one huge IDAT chunk.
        for start in range(0, len(body), _FEED):
            pending: bytes | memoryview = body[start:start + _FEED]
            while True:
                try:
                    out = stream.decompress(pending, piece)
                except zlib.error:
                    raise PngDamaged("its compressed pixel data is corrupt") from None
                pending = stream.unconsumed_tail
                if out:
                    yield out
                # A full piece may leave output inside zlib even when the input is used up.
                if stream.eof or (not pending and len(out) < piece):
                    break
            if stream.eof:
                break


def check(data: bytes) -> Header:
    """Prove a PNG is complete without decoding pixels: every chunk's CRC, IEND present, the
    pixel stream inflates cleanly to at least the size the header needs, and every row starts
    with a valid filter type. Returns the header; raises PngDamaged.

    Extra inflated bytes past the image (or a missing zlib trailer after all the rows) are let
    through, as decoders ignore them: the image itself is whole.
    """
    head = header(data)
    rows = iter(head.rows())
    count, stride = next(rows)
    next_filter = 0  # absolute offset of the next row's filter byte
    position = 0
    needed = head.inflated_size
    for piece in inflated(data):
        end = position + len(piece)
        while next_filter < end and next_filter < needed:
            if piece[next_filter - position] > _MAX_FILTER:
                raise PngDamaged("its pixel data is corrupt (a row has an unknown filter)")
            next_filter += stride
            count -= 1
            if count == 0:
                count, stride = next(rows, (0, 0))
        position = end
    if position < needed:
        raise PngDamaged(f"its pixel data stops at {position * 100 // needed} % of the image")
    return head


def filtered_rows(data: bytes, head: Header, rows: int) -> Iterator[memoryview]:
    """The still-filtered rows of a non-interlaced PNG (each with its filter byte), `rows` at
    a time (fewer in the last band). Raises PngDamaged when the stream is short or corrupt."""
    if head.interlaced:
        raise ValueError("interlaced PNGs are not stored row by row")
    stride = 1 + head.row_bytes
    pieces: list[bytes] = []
    held = 0
    left = head.height
    for piece in inflated(data):
        pieces.append(piece)
        held += len(piece)
        while left and held >= min(rows, left) * stride:
            take = min(rows, left) * stride
            joined = b"".join(pieces) if len(pieces) > 1 else pieces[0]
            yield memoryview(joined)[:take]
            rest = joined[take:]
            pieces = [rest] if rest else []
            held = len(rest)
            left -= take // stride
        if not left:
            return
    if left:
        raise PngDamaged(f"its pixel data stops at {(head.height - left) * 100 // head.height}"
                         " % of the image")
