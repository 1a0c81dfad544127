"""desktop.core.png: PNG structure proved with zlib alone, and read a band of rows at a time."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from desktop.core import png
from tests.big_images import png_chunk, solid_png


def encode_png(img: Image.Image, **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **options)
    return buf.getvalue()


def noise(width: int, height: int, mode: str = "RGB", seed: int = 5) -> Image.Image:
    rng = np.random.default_rng(seed)
    bands = len(Image.new(mode, (1, 1)).getbands())
    shape = (height, width, bands) if bands > 1 else (height, width)
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


def split(data: bytes) -> list[tuple[bytes, bytes]]:
    return [(kind, bytes(body)) for kind, body in png.chunks(data)]


def join(chunks: list[tuple[bytes, bytes]]) -> bytes:
    return png.SIGNATURE + b"".join(png_chunk(kind, body) for kind, body in chunks)


def with_stream(data: bytes, stream: bytes) -> bytes:
    """`data` with its pixel stream replaced (valid CRCs): what a broken encoder writes."""
    chunks = split(data)
    first = next(i for i, (kind, _b) in enumerate(chunks) if kind == b"IDAT")
    rest = [c for c in chunks[first:] if c[0] != b"IDAT"]
    return join([*chunks[:first], (b"IDAT", stream), *rest])


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "1", "I;16"])
@pytest.mark.parametrize("interlace", [False, True])
def test_check_accepts_every_kind_of_png(mode: str, interlace: bool) -> None:
    img = noise(37, 23, "LA") if mode == "LA" else noise(37, 23).convert(mode)
    data = encode_png(img, optimize=False) if not interlace else _interlaced(img)
    head = png.check(data)
    assert (head.width, head.height, head.interlaced) == (37, 23, interlace)
    # The stream length the header predicts is what zlib gives back.
    stream = zlib.decompress(b"".join(b for k, b in split(data) if k == b"IDAT"))
    assert len(stream) == head.inflated_size


#: How PNG stores each Pillow mode's rows (what the PNG plugin writes).
RAWMODES = {"RGB": "RGB", "RGBA": "RGBA", "L": "L", "LA": "LA", "P": "P", "1": "1",
            "I;16": "I;16B"}


def _interlaced(img: Image.Image) -> bytes:
    """Pillow cannot write Adam7; re-encode the rows of each pass by hand (filter None)."""
    data = encode_png(img)
    head = png.header(data)
    raw = img.tobytes("raw", RAWMODES[img.mode])
    bits = head.bits_per_pixel
    rows = [raw[y * head.row_bytes:(y + 1) * head.row_bytes] for y in range(head.height)]

    def pixel_bits(row: bytes, x: int) -> str:
        return "".join(f"{b:08b}" for b in row)[x * bits:(x + 1) * bits]

    out = b""
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                           (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
        xs = range(x0, head.width, dx)
        if not xs:
            continue
        for y in range(y0, head.height, dy):
            line = "".join(pixel_bits(rows[y], x) for x in xs)
            line += "0" * (-len(line) % 8)
            out += b"\x00" + int(line, 2).to_bytes(len(line) // 8, "big") if line else b""
    chunks = split(data)
    ihdr = chunks[0][1][:12] + b"\x01"
    return join([(b"IHDR", ihdr), *[c for c in chunks[1:] if c[0] != b"IDAT"][:-1],
                 (b"IDAT", zlib.compress(out)), (b"IEND", b"")])


@pytest.mark.parametrize("mode", ["RGB", "LA", "P", "1", "I;16"])
def test_interlaced_fixture_decodes_like_the_original(mode: str) -> None:
    img = noise(37, 23, "LA") if mode == "LA" else noise(37, 23).convert(mode)
    decoded = Image.open(io.BytesIO(_interlaced(img)))
    assert decoded.info.get("interlace") == 1
    assert np.array_equal(np.asarray(decoded), np.asarray(img))


def test_cut_anywhere_is_damaged() -> None:
    data = encode_png(noise(120, 80))
    for cut in (7, 20, 33, len(data) // 2, len(data) - 13, len(data) - 1):
        with pytest.raises(png.PngDamaged, match=r"cut short|signature"):
            png.check(data[:cut])
    assert png.check(data + b"trailing junk").width == 120  # after IEND: ignored


def test_missing_end_marker_at_a_chunk_boundary() -> None:
    data = encode_png(noise(40, 30))
    with pytest.raises(png.PngDamaged, match=r"ends before its end marker \(IEND\)"):
        png.check(data[:-12])


def test_crc_mismatch_names_the_chunk() -> None:
    data = bytearray(encode_png(noise(60, 40)))
    data[60] ^= 0x01  # inside the IDAT body
    with pytest.raises(png.PngDamaged, match=r"^its IDAT chunk fails its checksum \(CRC\)$"):
        png.check(bytes(data))


def test_corrupt_deflate_with_valid_crcs() -> None:
    data = encode_png(noise(60, 40))
    stream = bytearray(zlib.compress(b"\x00" * 10))
    stream[3] = 0xFF  # an invalid block type
    with pytest.raises(png.PngDamaged, match="compressed pixel data is corrupt"):
        png.check(with_stream(data, bytes(stream)))


def test_short_stream_with_valid_crcs_says_how_far_it_got() -> None:
    img = noise(50, 40)
    data = encode_png(img)
    rows = zlib.decompress(b"".join(b for k, b in split(data) if k == b"IDAT"))
    short = with_stream(data, zlib.compress(rows[: len(rows) // 4]))
    with pytest.raises(png.PngDamaged, match=r"stops at 2\d % of the image"):
        png.check(short)
    # the zlib stream itself cut (no end), CRCs recomputed: also short
    cut = with_stream(data, zlib.compress(rows)[:-200])
    with pytest.raises(png.PngDamaged, match="stops at"):
        png.check(cut)


def test_unknown_row_filter_is_corrupt() -> None:
    data = encode_png(noise(20, 10))
    rows = bytearray(zlib.decompress(b"".join(b for k, b in split(data) if k == b"IDAT")))
    rows[5 * (1 + 60)] = 9  # the filter byte of row 5
    with pytest.raises(png.PngDamaged, match="unknown filter"):
        png.check(with_stream(data, zlib.compress(bytes(rows))))
    # Pillow refuses that file too, which is why check() must.
    with pytest.raises(OSError):
        Image.open(io.BytesIO(with_stream(data, zlib.compress(bytes(rows))))).load()


def test_bad_header_values() -> None:
    data = encode_png(noise(8, 8))
    chunks = split(data)
    bad_depth = struct.pack(">IIBBBBB", 8, 8, 3, 2, 0, 0, 0)  # RGB at 3 bits: not PNG
    with pytest.raises(png.PngDamaged, match="describes no valid image"):
        png.check(join([(b"IHDR", bad_depth), *chunks[1:]]))
    with pytest.raises(png.PngDamaged, match="first chunk is not a valid header"):
        png.check(join([(b"tEXt", b"a\x00b"), *chunks]))


def test_one_huge_idat_chunk_is_inflated_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    # One IDAT chunk (some encoders write one) is fed to zlib in slices: zlib copies the
    # unconsumed input at every capped call, which over a whole 100 MB chunk is quadratic.
    data = solid_png(4000, 4000, idat_size=1 << 30)
    assert sum(1 for kind, _b in png.chunks(data) if kind == b"IDAT") == 1
    fed: list[int] = []
    real = zlib.decompressobj

    class Recording:
        def __init__(self) -> None:
            self.inner = real()

        def decompress(self, chunk: bytes, max_length: int) -> bytes:
            fed.append(len(chunk))
            return self.inner.decompress(chunk, max_length)

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

    monkeypatch.setattr(png.zlib, "decompressobj", Recording)
    pieces = list(png.inflated(data, piece=1 << 16))
    assert max(len(p) for p in pieces) <= 1 << 16
    assert sum(len(p) for p in pieces) == png.header(data).inflated_size
    assert max(fed) <= 1 << 16 < len(data) // 2


def test_filtered_rows_come_in_bands_that_add_up() -> None:
    data = encode_png(noise(33, 50))
    head = png.header(data)
    bands = [bytes(b) for b in png.filtered_rows(data, head, 8)]
    assert [len(b) // (1 + head.row_bytes) for b in bands] == [8, 8, 8, 8, 8, 8, 2]
    whole = zlib.decompress(b"".join(b for k, b in split(data) if k == b"IDAT"))
    assert b"".join(bands) == whole
    with pytest.raises(png.PngDamaged, match="stops at"):
        list(png.filtered_rows(with_stream(data, zlib.compress(whole[:500])), head, 8))


def test_find_reads_a_chunk_without_checksums() -> None:
    data = encode_png(noise(8, 8), exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00")
    assert png.find(data, b"eXIf") == b"MM\x00*\x00\x00\x00\x08\x00\x00"
    assert png.find(data, b"tIME") is None
    assert png.find(data[:40], b"eXIf") is None
