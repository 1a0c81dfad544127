"""The lookbook of a real history: a page per person, captions drawn, PNG pages and a PDF."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from desktop.core.exports import lookbook as lookbook_module
from desktop.core.exports.lookbook import (
    Lookbook,
    PageSetup,
    build_lookbook,
    pdf_bytes,
    write_lookbook,
)
from desktop.core.model import InvalidInput
from tests.core.exports.support import Sample, sample


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    result = sample(tmp_path_factory.mktemp("lookbook"))
    yield result
    result.place.close()


def book_of(made: Sample, jobs: list | None = None, **kwargs: object) -> Lookbook:  # type: ignore[type-arg]
    p = made.place
    return build_lookbook(made.jobs if jobs is None else jobs, p.history, p.assets,
                          **kwargs)  # type: ignore[arg-type]


def pdf_pages(data: bytes) -> list[tuple[float, float]]:
    """The MediaBox of each page of a PDF Pillow wrote (its objects are not compressed)."""
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", data)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    count = re.search(rb"/Type\s*/Pages\s*/Count\s+(\d+)", data)
    assert count is not None and int(count.group(1)) == len(pages) == len(boxes)
    return [(float(w), float(h)) for w, h in boxes]


def pdf_images(data: bytes) -> list[Image.Image]:
    """The page images of such a PDF (JPEG streams), decoded."""
    streams = re.findall(rb"/DCTDecode.*?stream\s(.*?)endstream", data, re.DOTALL)
    return [Image.open(io.BytesIO(s)).convert("RGB") for s in streams]


def ink_of(text: str, size: int, fill: tuple[int, int, int]) -> np.ndarray:
    """`text` drawn as the lookbook draws it, alone on white."""
    font = ImageFont.load_default(size=size)
    canvas = Image.new("RGB", (20 * size * max(1, len(text)) // 10 + 20, size * 2), "white")
    ImageDraw.Draw(canvas).text((0, 0), text, fill=fill, font=font)
    return np.asarray(canvas)


def test_one_page_per_person_with_the_person_and_captioned_looks(made: Sample,
                                                                 tmp_path: Path) -> None:
    book = book_of(made)
    assert book.persons == (("ana", 1), ("ben", 1))
    assert book.looks == 3 and len(book.pages) == 2
    assert all(page.size == (1754, 1240) for page in book.pages)  # A4 landscape at 150 dpi
    skipped = {s.job_id: s.reason for s in book.skipped}
    assert skipped == {
        made.upscale.id: "local/upscale is not a try-on (it has no person and garment inputs)",
        made.echo.id: "fake/echo is not a try-on (it has no person and garment inputs)",
        made.linked.id: "local/upscale is not a try-on (it has no person and garment inputs)",
        made.failed_tryon.id: "it has no image result (it is failed)",
    }
    texts = [(c.page, c.text) for c in book.captions]
    assert texts == [(0, "ana"), (0, "red dress"), (0, "local"), (0, "green-top"),
                     (0, "local"), (1, "ben"), (1, "red dress"), (1, "local")]
    # Each caption is on its page, pixel for pixel.
    for caption in book.captions:
        page = np.asarray(book.pages[caption.page])
        fill = (30, 30, 30) if caption.size == 22 else (100, 100, 100)
        ink = ink_of(caption.text, caption.size, fill)
        rows, cols = np.nonzero((ink < 250).any(axis=2))
        assert rows.size > 20  # the text has ink
        x, y = caption.xy
        box = (slice(y + rows.min(), y + rows.max() + 1), slice(x + cols.min(), x + cols.max() + 1))
        here = page[box]
        expected = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        assert np.abs(here.astype(int) - expected.astype(int)).max() <= 2, caption
    # The person photo and the results are on the page: ana's shirt blue, the garments' red
    # and green, in the looks.
    first = np.asarray(book.pages[0]).reshape(-1, 3).astype(int)
    for colour in ((40, 90, 160), (200, 30, 40), (30, 150, 60)):
        assert (np.abs(first - colour).sum(axis=1) < 12).sum() > 2000, colour


def test_pages_are_written_as_png_files_and_one_pdf(made: Sample, tmp_path: Path) -> None:
    book = book_of(made)
    files = write_lookbook(book, tmp_path / "pages")
    assert files == [tmp_path / "pages" / "lookbook-01.png", tmp_path / "pages" / "lookbook-02.png"]
    for path, page in zip(files, book.pages, strict=True):
        with Image.open(path) as img:
            assert img.format == "PNG" and img.size == page.size
            assert np.array_equal(np.asarray(img.convert("RGB")), np.asarray(page))
            assert round(img.info["dpi"][0]) == 150
    [pdf] = write_lookbook(book, tmp_path / "book.pdf")
    data = pdf.read_bytes()
    pages = pdf_pages(data)
    assert len(pages) == len(book.persons) == 2
    for w, h in pages:  # A4 landscape in points
        assert abs(w - 841.89) < 1 and abs(h - 595.28) < 1
    for shown, page in zip(pdf_images(data), book.pages, strict=True):  # the same pages
        diff = np.abs(np.asarray(shown).astype(int) - np.asarray(page).astype(int))
        assert shown.size == page.size and diff.mean() < 1 and diff.max() < 80
    with pytest.raises(InvalidInput, match=r"a \.pdf file or into a folder"):
        write_lookbook(book, tmp_path / "page.png")


def test_many_looks_continue_on_the_next_page_and_portrait_works(
        made: Sample, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lookbook_module, "MAX_LOOKS", 1)
    book = book_of(made, made.tryons, setup=PageSetup(landscape=False))
    assert book.persons == (("ana", 2), ("ben", 1)) and len(book.pages) == 3
    assert all(page.size == (1240, 1754) for page in book.pages)
    assert len(pdf_pages(pdf_bytes(book))) == 3


def test_no_try_on_with_a_result_is_refused_with_the_reasons(made: Sample) -> None:
    with pytest.raises(InvalidInput) as refused:
        book_of(made, [made.upscale, made.failed_tryon])
    message = str(refused.value)
    assert message.startswith("None of the jobs chosen is a try-on with a result")
    assert "it has no image result (it is failed)" in message
    assert "local/upscale is not a try-on" in message
    # A person without a garment is no try-on either (a workflow that takes a person only).
    alone = made.tryons[0].evolve(id="alone", inputs={"person": made.tryons[0].inputs["person"]})
    with pytest.raises(InvalidInput, match="alone: local/tryon is not a try-on"):
        book_of(made, [alone])
    with pytest.raises(InvalidInput, match="600 dpi"):
        book_of(made, setup=PageSetup(dpi=10_000))
