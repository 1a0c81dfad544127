"""Very large but valid images built in milliseconds, without ever holding their pixels.

A 16384 x 16384 result is 1 GB once decoded; tests that need such a file write its bytes
directly: a PNG of one colour (every row after the first says "same as the row above") and a
baseline JPEG of mid grey (every 8x8 block says "no change", two bits a block).
"""

from __future__ import annotations

import struct
import zlib


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def solid_png(width: int, height: int, rgb: tuple[int, int, int] = (200, 30, 40), *,
              idat_size: int = 1 << 16) -> bytes:
    """An 8-bit RGB PNG of one colour; the pixel stream is split in IDAT chunks of
    `idat_size` bytes, as encoders do."""
    deflate = zlib.compressobj(1)
    parts = [deflate.compress(b"\x00" + bytes(rgb) * width)]
    same_as_above = b"\x02" + bytes(3 * width)  # filter Up, no difference
    parts += [deflate.compress(same_as_above) for _ in range(height - 1)]
    parts.append(deflate.flush())
    stream = b"".join(parts)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idats = b"".join(png_chunk(b"IDAT", stream[i:i + idat_size])
                     for i in range(0, len(stream), idat_size))
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + idats + png_chunk(b"IEND", b"")


def grey_jpeg(width: int, height: int, components: int = 3) -> bytes:
    """A baseline JPEG of mid grey (128): every block has DC difference 0 and no AC
    coefficients, coded with one-symbol Huffman tables, so 2 bits a block and component."""

    def segment(marker: int, body: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body

    quant = segment(0xDB, b"\x00" + bytes([1] * 64))
    frame = segment(0xC0, struct.pack(">BHHB", 8, height, width, components)
                    + b"".join(bytes([c + 1, 0x11, 0]) for c in range(components)))
    one_code = bytes([1] + [0] * 15)  # one code of length 1 ...
    huffman = segment(0xC4, b"\x00" + one_code + b"\x00"  # ... DC: category 0
                      + b"\x10" + one_code + b"\x00")  # ... AC: end of block
    scan = segment(0xDA, bytes([components])
                   + b"".join(bytes([c + 1, 0x00]) for c in range(components))
                   + bytes([0, 63, 0]))
    bits = 2 * -(-width // 8) * -(-height // 8) * components
    data = b"\x00" * (bits // 8)
    if bits % 8:
        data += bytes([(1 << (8 - bits % 8)) - 1])  # pad the last byte with 1 bits
    return b"\xff\xd8" + quant + frame + huffman + scan + data + b"\xff\xd9"
