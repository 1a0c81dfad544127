"""Draws Restyle's sample inputs (a person, two garments, an empty room) with Pillow.

The PNGs beside this script were made by it and are what the window's "Try with samples"
loads; run `python resources/samples/generate.py` to draw them again. Everything is drawn
here, so the samples carry no third-party rights.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent


def _vertical_gradient(size: tuple[int, int], top: tuple[int, int, int],
                       bottom: tuple[int, int, int]) -> Image.Image:
    _width, height = size
    column = Image.new("RGB", (1, height))
    for y in range(height):
        t = y / max(1, height - 1)
        column.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom,
                                                                             strict=True)))
    return column.resize(size)


def person() -> Image.Image:
    """A standing figure facing the camera, arms slightly apart, on a studio backdrop."""
    img = _vertical_gradient((768, 1024), (236, 232, 226), (200, 196, 190))
    shadow = Image.new("L", img.size, 0)
    ImageDraw.Draw(shadow).ellipse((250, 940, 520, 990), fill=90)
    img.paste((150, 146, 140), mask=shadow.filter(ImageFilter.GaussianBlur(12)))
    d = ImageDraw.Draw(img)
    skin, hair, shirt, trousers, shoes = ((224, 182, 150), (60, 42, 32), (238, 238, 240),
                                          (52, 60, 82), (40, 36, 34))
    d.ellipse((324, 90, 444, 230), fill=skin)                       # head
    d.chord((316, 70, 452, 200), 180, 360, fill=hair)                # hair
    d.rectangle((364, 220, 404, 262), fill=skin)                     # neck
    d.rounded_rectangle((274, 250, 494, 560), radius=50, fill=shirt)  # torso (plain tee)
    d.polygon([(282, 270), (222, 520), (256, 532), (312, 330)], fill=shirt)  # sleeves + arms
    d.polygon([(486, 270), (546, 520), (512, 532), (456, 330)], fill=shirt)
    d.polygon([(224, 515), (210, 640), (244, 646), (256, 528)], fill=skin)
    d.polygon([(544, 515), (558, 640), (524, 646), (512, 528)], fill=skin)
    d.ellipse((202, 630, 250, 680), fill=skin)                       # hands
    d.ellipse((518, 630, 566, 680), fill=skin)
    d.polygon([(286, 550), (482, 550), (470, 940), (400, 940), (384, 640), (368, 640),
               (352, 940), (298, 940)], fill=trousers)               # trousers
    d.rounded_rectangle((288, 930, 362, 962), radius=12, fill=shoes)
    d.rounded_rectangle((406, 930, 480, 962), radius=12, fill=shoes)
    d.ellipse((356, 150, 368, 162), fill=(70, 50, 40))               # eyes
    d.ellipse((400, 150, 412, 162), fill=(70, 50, 40))
    d.arc((366, 180, 402, 204), 20, 160, fill=(150, 80, 70), width=3)
    return img


def _garment(shape: list[tuple[int, int]], color: tuple[int, int, int],
             trim: tuple[int, int, int], size: tuple[int, int] = (640, 640)) -> Image.Image:
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.polygon(shape, fill=(*color, 255))
    d.line([*shape, shape[0]], fill=(*trim, 255), width=6, joint="curve")
    return img


def tshirt() -> Image.Image:
    shape = [(190, 80), (260, 60), (320, 100), (380, 60), (450, 80), (590, 200), (520, 290),
             (470, 240), (470, 580), (170, 580), (170, 240), (120, 290), (50, 200)]
    img = _garment(shape, (196, 40, 52), (140, 24, 36))
    ImageDraw.Draw(img).arc((260, 30, 380, 140), 20, 160, fill=(140, 24, 36, 255), width=8)
    return img


def jacket() -> Image.Image:
    shape = [(200, 70), (280, 50), (320, 120), (360, 50), (440, 70), (560, 170), (600, 560),
             (520, 570), (470, 260), (470, 600), (170, 600), (170, 260), (120, 570), (40, 560),
             (80, 170)]
    img = _garment(shape, (58, 96, 70), (34, 60, 44))
    d = ImageDraw.Draw(img)
    d.line([(320, 120), (320, 600)], fill=(34, 60, 44, 255), width=5)
    for y in (220, 320, 420, 520):
        d.ellipse((330, y, 346, y + 16), fill=(210, 190, 140, 255))
    return img


def room() -> Image.Image:
    """An empty living room in one-point perspective: floor, walls, a window, a door."""
    w, h = 1280, 853
    img = Image.new("RGB", (w, h), (232, 228, 220))
    d = ImageDraw.Draw(img)
    back = (360, 200, 920, 560)  # back wall rectangle
    d.rectangle(back, fill=(236, 233, 226))
    d.polygon([(0, 0), (back[0], back[1]), (back[0], back[3]), (0, h)], fill=(222, 218, 210))
    d.polygon([(w, 0), (back[2], back[1]), (back[2], back[3]), (w, h)], fill=(214, 210, 202))
    d.polygon([(0, 0), (w, 0), (back[2], back[1]), (back[0], back[1])], fill=(244, 243, 240))
    floor = _vertical_gradient((w, h - back[3]), (186, 150, 112), (150, 112, 78))
    mask = Image.new("L", (w, h - back[3]), 0)
    ImageDraw.Draw(mask).polygon([(back[0], 0), (back[2], 0), (w, h - back[3]),
                                  (0, h - back[3])], fill=255)
    img.paste(floor, (0, back[3]), mask)
    for i in range(1, 12):  # floor boards converge to the vanishing point
        x = back[0] + (back[2] - back[0]) * i / 12
        d.line([(x, back[3]), (w * i / 12, h)], fill=(140, 104, 72), width=2)
    d.rectangle((540, 260, 760, 470), fill=(170, 205, 235), outline=(250, 250, 250), width=10)
    d.line([(650, 260), (650, 470)], fill=(250, 250, 250), width=6)
    d.polygon([(110, 180), (250, 250), (250, 600), (110, 690)], fill=(196, 170, 140))
    d.line([(back[0], back[3]), (back[2], back[3])], fill=(250, 250, 250), width=4)
    return img


def main() -> None:
    person().save(HERE / "person.png", optimize=True)
    tshirt().save(HERE / "garment-tshirt.png", optimize=True)
    jacket().save(HERE / "garment-jacket.png", optimize=True)
    room().convert("RGB").save(HERE / "room.jpg", quality=90, optimize=True)


if __name__ == "__main__":
    main()
