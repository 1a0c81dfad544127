"""A lookbook: a contact sheet of try-on results, one page per person.

A try-on is a job with a `person` and at least one `garment` input and an image result.
Jobs are grouped by the person photo's content (its SHA-256), so the same photo chosen under
two names is one person. Each page shows the person photo on the left, then a grid of looks:
for each result, the garment(s) beside the result, captioned with the garment's name and the
provider. A person with more than `MAX_LOOKS` results continues on further pages. Other jobs
are skipped, each with its reason.

Pages are A4 at 150 dpi (landscape by default), written as PNG files or as one multi-page PDF
(Pillow's PDF writer: no other dependency). Images are decoded through desktop.core.imaging,
within the result limits, reduced while decoding when they are large.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from desktop.core import imaging
from desktop.core.assets import AssetStore
from desktop.core.exports.bundle_format import source_label
from desktop.core.files import atomic_write
from desktop.core.limits import Limits
from desktop.core.model import Asset, InvalidInput, Job, OutputKind
from desktop.core.sources import shown
from desktop.core.store import History

MM_PER_INCH = 25.4
#: Page sizes in millimetres (portrait).
PAPER = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
DEFAULT_DPI = 150
#: Looks on one page; more continue on the next page of the same person.
MAX_LOOKS = 12
_BACKGROUND = (255, 255, 255)
_INK = (30, 30, 30)
_MUTED = (100, 100, 100)
_RULE = (210, 210, 210)
_SHA_NAME = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Skipped:
    job_id: str
    reason: str


@dataclass(frozen=True)
class Caption:
    """A text drawn on a page (`page` counts from 0): where, in which size (pixels)."""

    page: int
    text: str
    xy: tuple[int, int]
    size: int


@dataclass(frozen=True)
class Look:
    job: Job
    position: int
    garments: tuple[str, ...]  # sha256s
    garment_name: str


@dataclass
class Person:
    sha256: str
    name: str
    looks: list[Look] = field(default_factory=list)


@dataclass(frozen=True)
class Lookbook:
    pages: tuple[Image.Image, ...]
    #: (person name, pages) in page order.
    persons: tuple[tuple[str, int], ...]
    looks: int
    skipped: tuple[Skipped, ...]
    dpi: int
    #: The person names and look captions as drawn (what a reader of the page sees).
    captions: tuple[Caption, ...] = ()


@dataclass(frozen=True)
class PageSetup:
    paper: str = "a4"
    landscape: bool = True
    dpi: int = DEFAULT_DPI

    @property
    def size(self) -> tuple[int, int]:
        if self.paper not in PAPER:
            raise InvalidInput(f"Unknown paper size '{shown(self.paper, 20)}' (known: "
                               f"{', '.join(PAPER)}).")
        if not 72 <= self.dpi <= 600:
            raise InvalidInput(f"A lookbook's resolution must be 72 to 600 dpi "
                               f"(got {self.dpi}).")
        w, h = (round(mm / MM_PER_INCH * self.dpi) for mm in PAPER[self.paper])
        return (h, w) if self.landscape else (w, h)


def display_name(source: str) -> str:
    """A file's name without its extension ('red dress'); an asset-store name (a SHA-256) is
    shortened to its first 8 characters."""
    label = source_label(source)
    stem = label.rsplit(".", 1)[0] if "." in label and "://" not in label else label
    return stem[:8] if _SHA_NAME.fullmatch(stem) else stem


def plan(jobs: Sequence[Job]) -> tuple[list[Person], list[Skipped]]:
    """Group the try-on results by person (oldest first); say why each other job is left
    out."""
    persons: dict[str, Person] = {}
    skipped: list[Skipped] = []
    for job in sorted(jobs, key=lambda j: (j.created_at, j.id)):
        people = job.inputs.get("person", [])
        garments = job.inputs.get("garment", [])
        if not people or not garments:
            skipped.append(Skipped(job.id, f"{job.provider}/{job.task} is not a try-on (it has "
                                            "no person and garment inputs)"))
            continue
        images = [o for o in job.outputs if o.kind == OutputKind.IMAGE]
        if not images:
            skipped.append(Skipped(job.id, f"it has no image result (it {_ended(job)})"))
            continue
        sources = job.spec.inputs
        person_src = sources.get("person", [""])[0]
        person = persons.setdefault(people[0], Person(people[0], display_name(person_src)
                                                      or people[0][:8]))
        names = [display_name(s) for s in sources.get("garment", [])] or ["garment"]
        for output in images:
            person.looks.append(Look(job, output.position, tuple(garments), " + ".join(names)))
    return list(persons.values()), skipped


def _ended(job: Job) -> str:
    return {"succeeded": "succeeded without one"}.get(str(job.state),
                                                       f"is {job.state.title.lower()}")


def build_lookbook(jobs: Sequence[Job], history: History, assets: AssetStore, *,
                   setup: PageSetup | None = None, limits: Limits | None = None,
                   title: str = "Lookbook") -> Lookbook:
    """Draw the pages (blocking: it decodes images). InvalidInput when no job is a try-on
    with a result; the sentence lists why jobs were skipped."""
    setup = setup or PageSetup()
    limits = limits or Limits()
    persons, skipped = plan(jobs)
    pictures = _Pictures(history, assets, limits)
    drawn: list[tuple[Person, list[Look]]] = []
    for person in persons:
        looks: list[Look] = []
        if pictures.get(person.sha256, None) is None:
            skipped.extend(Skipped(look.job.id, f"the person photo cannot be read: "
                                   f"{pictures.problem(person.sha256)}") for look in person.looks)
            continue
        for look in person.looks:
            output = next(o for o in look.job.outputs if o.position == look.position)
            if pictures.get(output.sha256, output.mime) is None:
                skipped.append(Skipped(look.job.id, f"result {look.position + 1} cannot be "
                                       f"read: {pictures.problem(output.sha256)}"))
                continue
            looks.append(look)
        if looks:
            drawn.append((person, looks))
    if not drawn:
        reasons = "; ".join(f"{s.job_id[:12]}: {s.reason}" for s in skipped[:5])
        raise InvalidInput("None of the jobs chosen is a try-on with a result, so there is no "
                           f"lookbook to make ({reasons or 'no jobs'}).")
    chunks: list[tuple[Person, list[Look], bool]] = [
        (person, looks[i:i + MAX_LOOKS], i > 0)
        for person, looks in drawn for i in range(0, len(looks), MAX_LOOKS)]
    stamp = dt.datetime.now().strftime("%Y-%m-%d")
    captions: list[Caption] = []
    pages = tuple(_page(setup, person, looks, pictures, title=title, number=n,
                        total=len(chunks), stamp=stamp, continued=continued, captions=captions)
                  for n, (person, looks, continued) in enumerate(chunks, 1))
    persons_pages = tuple((p.name, sum(1 for q, _, _ in chunks if q is p))
                          for p, _ in drawn)
    return Lookbook(pages=pages, persons=persons_pages, looks=sum(len(lk) for _, lk in drawn),
                    skipped=tuple(skipped), dpi=setup.dpi, captions=tuple(captions))


class _Pictures:
    """Decoded images by SHA-256, reduced for the page; a problem remembered per image."""

    def __init__(self, history: History, assets: AssetStore, limits: Limits) -> None:
        self.history = history
        self.assets = assets
        self.limits = limits
        self._images: dict[str, Image.Image | None] = {}
        self._problems: dict[str, str] = {}

    def get(self, sha256: str, mime: str | None) -> Image.Image | None:
        if sha256 not in self._images:
            self._images[sha256] = self._load(sha256, mime)
        return self._images[sha256]

    def problem(self, sha256: str) -> str:
        return self._problems.get(sha256, "")

    def _load(self, sha256: str, mime: str | None) -> Image.Image | None:
        asset = self.history.asset(sha256) or (Asset(sha256, mime, 0) if mime else None)
        if asset is None or not self.assets.exists(asset):
            self._problems[sha256] = "the file is no longer in the asset store"
            return None
        try:
            img = imaging.open_for_display(
                self.assets.read(asset), f"image {sha256[:8]}",
                max_pixels=self.limits.result_max_pixels, display_pixels=4_000_000)
        except (InvalidInput, OSError) as exc:
            self._problems[sha256] = str(exc).rstrip(".")
            return None
        if "A" in img.getbands():
            flat = Image.new("RGB", img.size, _BACKGROUND)
            flat.paste(img, mask=img.getchannel("A"))
            return flat
        return img.convert("RGB")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _fit(img: Image.Image, box: tuple[int, int]) -> Image.Image:
    scale = min(box[0] / img.width, box[1] / img.height)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS)


def _paste_fitted(page: Image.Image, img: Image.Image, box: tuple[int, int, int, int]) -> int:
    """Paste `img` scaled to fit inside `box` (left, top, width, height), centred across and
    at the top, framed; returns the y just below it."""
    left, top, width, height = box
    fitted = _fit(img, (width, height))
    x = left + (width - fitted.width) // 2
    page.paste(fitted, (x, top))
    ImageDraw.Draw(page).rectangle((x - 1, top - 1, x + fitted.width, top + fitted.height),
                                   outline=_RULE)
    return top + fitted.height


def _clip(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont |
          ImageFont.ImageFont, width: int) -> str:
    """`text` shortened with an ellipsis to fit `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _grid(count: int, width: int, height: int, aspect: float) -> tuple[int, int]:
    """Columns and rows that show `count` cells of about `aspect` (w/h) the largest."""
    best = (1, count)
    best_scale = 0.0
    for cols in range(1, count + 1):
        rows = math.ceil(count / cols)
        scale = min(width / cols / aspect, height / rows)
        if scale > best_scale:
            best, best_scale = (cols, rows), scale
    return best


def _page(setup: PageSetup, person: Person, looks: list[Look], pictures: _Pictures, *,
          title: str, number: int, total: int, stamp: str, continued: bool,
          captions: list[Caption]) -> Image.Image:
    width, height = setup.size
    unit = setup.dpi / DEFAULT_DPI  # sizes below are for 150 dpi
    margin = round(50 * unit)
    page = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(page)
    heading = _font(round(38 * unit))
    body_size, small_size = round(22 * unit), round(18 * unit)
    body, small = _font(body_size), _font(small_size)

    def caption(xy: tuple[int, int], text: str, font: ImageFont.FreeTypeFont |
                ImageFont.ImageFont, size: int, fill: tuple[int, int, int],
                width: int) -> None:
        shown_text = _clip(draw, text, font, width)
        draw.text(xy, shown_text, fill=fill, font=font)
        captions.append(Caption(number - 1, shown_text, xy, size))

    name = person.name + (" (continued)" if continued else "")
    draw.text((margin, margin), _clip(draw, f"{title}: {name}", heading, width - 2 * margin),
              fill=_INK, font=heading)
    top = margin + round(72 * unit)
    bottom = height - margin - round(34 * unit)
    draw.line((margin, top - round(12 * unit), width - margin, top - round(12 * unit)),
              fill=_RULE, width=max(1, round(2 * unit)))
    footer = f"Restyle lookbook · {stamp} · page {number} of {total}"
    draw.text((margin, height - margin), footer, fill=_MUTED, font=small, anchor="ls")

    # The person, in a column on the left.
    column = round((width - 2 * margin) * 0.24)
    caption_h = round(34 * unit)
    person_img = pictures.get(person.sha256, None)
    assert person_img is not None  # checked by build_lookbook
    below = _paste_fitted(page, person_img, (margin, top, column, bottom - top - caption_h))
    caption((margin, below + round(8 * unit)), person.name, body, body_size, _INK, column)

    # The looks, in a grid on the right: garments beside the result, captions below.
    gap = round(24 * unit)
    left = margin + column + round(40 * unit)
    area_w, area_h = width - margin - left, bottom - top
    line = round(26 * unit)
    cols, rows = _grid(len(looks), area_w, area_h, aspect=1.0)
    cell_w = (area_w - gap * (cols - 1)) // cols
    cell_h = (area_h - gap * (rows - 1)) // rows
    for i, look in enumerate(looks):
        x = left + (i % cols) * (cell_w + gap)
        y = top + (i // cols) * (cell_h + gap)
        pics_h = max(10, cell_h - 2 * line - round(6 * unit))
        strip = max(10, round(cell_w * 0.3))
        count = len(look.garments)
        each = max(10, (pics_h - round(6 * unit) * (count - 1)) // count)
        below = y
        garment_y = y
        for sha in look.garments:
            garment = pictures.get(sha, None)
            if garment is not None:
                garment_y = _paste_fitted(page, garment, (x, garment_y, strip, each))
                below = max(below, garment_y)
                garment_y += round(6 * unit)
        output = next(o for o in look.job.outputs if o.position == look.position)
        result = pictures.get(output.sha256, output.mime)
        assert result is not None  # checked by build_lookbook
        inner = round(10 * unit)
        below = max(below, _paste_fitted(page, result, (x + strip + inner, y,
                                                        cell_w - strip - inner, pics_h)))
        text_y = below + round(8 * unit)
        caption((x, text_y), look.garment_name, body, body_size, _INK, cell_w)
        extra = f" · result {look.position + 1}" if len(look.job.outputs) > 1 else ""
        caption((x, text_y + line), look.job.provider + extra, small, small_size, _MUTED, cell_w)
    return page


# -- writing -----------------------------------------------------------------------------------
def pdf_bytes(book: Lookbook) -> bytes:
    """Every page in one PDF, at the pages' resolution (so A4 prints as A4). Pillow stores
    each page as a JPEG: quality 95 without chroma subsampling keeps captions sharp."""
    buf = io.BytesIO()
    first, *rest = book.pages
    first.save(buf, "PDF", save_all=True, append_images=rest, resolution=float(book.dpi),
               title="Restyle lookbook", creator="Restyle", quality=95, subsampling=0)
    return buf.getvalue()


def png_bytes(page: Image.Image, dpi: int) -> bytes:
    buf = io.BytesIO()
    page.save(buf, "PNG", dpi=(dpi, dpi), optimize=False)
    return buf.getvalue()


def write_lookbook(book: Lookbook, out: Path) -> list[Path]:
    """`out` ending in .pdf: one PDF file; otherwise a folder (created) that gets
    lookbook-01.png, lookbook-02.png, ... Written atomically; InvalidInput when they cannot
    be."""
    if out.suffix.lower() == ".pdf":
        files = {out: pdf_bytes(book)}
    elif out.suffix.lower() == ".png" or (out.exists() and not out.is_dir()):
        raise InvalidInput(f"{shown(out.name, 80)}: a lookbook is written as a .pdf file or "
                           "into a folder (one PNG per page); give a .pdf name or a folder.")
    else:
        digits = max(2, len(str(len(book.pages))))
        files = {out / f"lookbook-{n:0{digits}d}.png": png_bytes(page, book.dpi)
                 for n, page in enumerate(book.pages, 1)}
    for path, data in files.items():
        try:
            atomic_write(path, data)
        except OSError as exc:
            raise InvalidInput(f"Could not save {shown(path.name, 80)} in "
                               f"{shown(str(path.parent))}: {exc.strerror or exc}. Choose "
                               "another folder.") from None
    return list(files)
