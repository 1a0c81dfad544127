"""Draw Restyle's icon in every form the desktops want, from one description of its shapes.

    python packaging/make_icons.py

writes
    packaging/linux/icons/hicolor/<N>x<N>/apps/io.github.restyle.Restyle.png  (16 ... 512 px)
    packaging/linux/icons/hicolor/scalable/apps/io.github.restyle.Restyle.svg
    resources/icons/restyle.svg          (the window's icon)
    packaging/windows/restyle.ico        (16 ... 256 px)
    packaging/macos/restyle.icns         (16 ... 1024 px)

The icon: a dark rounded square holding a before/after pair, a light panel and a teal panel,
each with a garment, split by a gold bar. The SVG is written by hand from the shapes; the
PNGs are drawn with Pillow at four times their size and scaled down, so edges are smooth.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
DESKTOP_ID = "io.github.restyle.Restyle"
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
UNIT = 256  # the shapes below are in a 256 x 256 box


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    radius: float
    fill: str
    opacity: float = 1.0


@dataclass(frozen=True)
class Shape:
    points: tuple[tuple[float, float], ...]
    fill: str
    opacity: float = 1.0


def _garment(dx: float) -> tuple[tuple[float, float], ...]:
    """A shirt on a hanger-like shoulder line, its neck at x = 82 + dx."""
    outline = ((82, 84), (60, 102), (60, 128), (74, 128), (74, 186), (90, 186), (90, 128),
               (104, 128), (104, 102))
    return tuple((x + dx, y) for x, y in outline)


BOXES = (
    Box(8, 8, 240, 240, 48, "#1f2a44"),
    Box(40, 52, 84, 152, 14, "#e8ecf5"),
    Box(132, 52, 84, 152, 14, "#3fb8a5"),
)
SHAPES = (
    Shape(_garment(0), "#1f2a44", 0.85),
    Shape(_garment(92), "#ffffff", 0.9),
)
DIVIDER = Box(124, 36, 8, 184, 4, "#f5b841")


def svg() -> str:
    def box(b: Box) -> str:
        extra = f' opacity="{b.opacity}"' if b.opacity < 1 else ""
        return (f'  <rect x="{b.x:g}" y="{b.y:g}" width="{b.w:g}" height="{b.h:g}" '
                f'rx="{b.radius:g}" fill="{b.fill}"{extra}/>')

    def shape(s: Shape) -> str:
        points = " ".join(f"{x:g},{y:g}" for x, y in s.points)
        return f'  <polygon points="{points}" fill="{s.fill}" opacity="{s.opacity}"/>'

    body = [box(b) for b in BOXES] + [shape(s) for s in SHAPES] + [box(DIVIDER)]
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" '
            'viewBox="0 0 256 256">\n  <title>Restyle</title>\n' + "\n".join(body) + "\n</svg>\n")


def _rgba(colour: str, opacity: float) -> tuple[int, int, int, int]:
    value = colour.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return r, g, b, round(255 * opacity)


def png(size: int) -> Image.Image:
    """The icon at `size` pixels square."""
    big = size * 4
    scale = big / UNIT
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    for item in (*BOXES, *SHAPES, DIVIDER):
        layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        colour = _rgba(item.fill, item.opacity)
        if isinstance(item, Box):
            draw.rounded_rectangle(
                (item.x * scale, item.y * scale, (item.x + item.w) * scale - 1,
                 (item.y + item.h) * scale - 1), radius=item.radius * scale, fill=colour)
        else:
            draw.polygon([(x * scale, y * scale) for x, y in item.points], fill=colour)
        image = Image.alpha_composite(image, layer)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def write_all(root: Path = ROOT) -> list[Path]:
    """Every icon file, written under `root`; the paths written."""
    written: list[Path] = []
    hicolor = root / "packaging" / "linux" / "icons" / "hicolor"
    text = svg()
    for target in (hicolor / "scalable" / "apps" / f"{DESKTOP_ID}.svg",
                   root / "resources" / "icons" / "restyle.svg"):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    for size in PNG_SIZES:
        target = hicolor / f"{size}x{size}" / "apps" / f"{DESKTOP_ID}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        png(size).save(target, optimize=True)
        written.append(target)
    ico = root / "packaging" / "windows" / "restyle.ico"
    ico.parent.mkdir(parents=True, exist_ok=True)
    png(256).save(ico, sizes=[(s, s) for s in ICO_SIZES])
    written.append(ico)
    icns = root / "packaging" / "macos" / "restyle.icns"
    icns.parent.mkdir(parents=True, exist_ok=True)
    png(1024).save(icns)
    written.append(icns)
    return written


if __name__ == "__main__":
    for path in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT):
        print(path)
