"""The offline provider's pixel operations: pure functions from PIL images to PIL images.

Nothing here calls a model or the network. Each function is honest about what it does (colour
distance, flood fill, resampling, canvas extension, a layout preview) and is written to stay
fast on camera-sized images with numpy alone (no scipy, no OpenCV).

Inputs are expected as 8-bit "RGB" or "RGBA" (what `imaging.open_image` returns); other modes
are converted. Errors the user can fix are raised as `InvalidInput`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from desktop.core.imaging import parse_color
from desktop.core.model import InvalidInput

if TYPE_CHECKING:  # numpy loads on first use: it costs ~0.2 s of the window's start-up
    import numpy as np

#: Longest side and pixel count `upscale` may produce.
MAX_UPSCALE_SIDE = 16384
MAX_UPSCALE_PIXELS = 100_000_000

RATIOS: dict[str, tuple[int, int]] = {
    "1:1": (1, 1),
    "4:5": (4, 5),
    "3:4": (3, 4),
    "2:3": (2, 3),
    "16:9": (16, 9),
    "9:16": (9, 16),
}
FILLS = ("blur", "mirror")
UPSCALE_FACTORS = (2, 4)
PREVIEW_CAPTION = "Local preview (no AI)"


# -- helpers ----------------------------------------------------------------------------------


def _rgb_array(img: Image.Image) -> np.ndarray:
    """The image's colour channels as a (H, W, 3) uint8 array."""
    import numpy as np
    return np.asarray(img if img.mode == "RGB" else img.convert("RGB"))


def _alpha_array(img: Image.Image) -> np.ndarray | None:
    import numpy as np
    return np.asarray(img.getchannel("A")) if "A" in img.getbands() else None


def _distance_sq(rgb: np.ndarray, color: np.ndarray) -> np.ndarray:
    """Squared Euclidean RGB distance of every pixel to one colour, as int32.

    Computed channel by channel so a 12-megapixel image needs no float (H, W, 3) temporary.
    """
    import numpy as np
    dist = np.zeros(rgb.shape[:2], dtype=np.int32)
    for channel in range(3):
        diff = rgb[..., channel].astype(np.int32) - int(color[channel])
        dist += diff * diff
    return dist


def _within(rgb: np.ndarray, color: np.ndarray, tolerance: float) -> np.ndarray:
    return _distance_sq(rgb, color) <= tolerance * tolerance


def _component_roots(a: np.ndarray, b: np.ndarray, count: int) -> np.ndarray:
    """Connected components of a graph on nodes 0..count-1 given as edge arrays (a, b).

    Returns, for every node, the smallest node of its component. Vectorised hook-and-shortcut:
    each round hooks the larger root of every edge that still spans two components under the
    smaller one, then compresses paths fully; a few rounds suffice even for large graphs.
    """
    import numpy as np
    parent = np.arange(count, dtype=np.int64)
    while True:
        while True:  # shortcut: point every node at its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
        pa, pb = parent[a], parent[b]
        spanning = pa != pb
        if not spanning.any():
            return parent
        pa, pb = pa[spanning], pb[spanning]
        np.minimum.at(parent, np.maximum(pa, pb), np.minimum(pa, pb))


def flood(candidates: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Pixels of `candidates` 4-connected to a pixel of `seeds & candidates`.

    Labels horizontal runs of candidate pixels rather than single pixels, joins runs that touch
    vertically, and finds the connected components of that run graph with a vectorised
    union-find. The cost grows with the pixel count only, never with how winding the region is
    (a maze costs what a square costs), and a 12-megapixel mask takes a few hundred
    milliseconds with numpy alone.
    """
    import numpy as np
    candidates = np.ascontiguousarray(candidates, dtype=bool)
    reached_seeds = candidates & seeds
    if not reached_seeds.any():
        return reached_seeds
    starts = candidates.copy()
    starts[:, 1:] &= ~candidates[:, :-1]
    # Run ids 1..n in reading order; pixels outside the candidates get stale ids, never read.
    run_ids = np.cumsum(starts.ravel(), dtype=np.int64).reshape(candidates.shape)
    count = int(run_ids[-1, -1]) + 1
    # Vertical contacts between runs of consecutive rows. Along a row, a stretch of contacts
    # joins the same two runs, so only the first pixel of each stretch is kept as an edge.
    contact = candidates[:-1] & candidates[1:]
    first = contact.copy()
    first[:, 1:] &= ~contact[:, :-1]
    upper = run_ids[:-1][first]
    lower = run_ids[1:][first]
    roots = _component_roots(upper, lower, count)
    seeded = np.zeros(count, dtype=bool)
    seeded[roots[run_ids[reached_seeds]]] = True
    return candidates & seeded[roots[run_ids]]


def _border_pixels(rgb: np.ndarray) -> np.ndarray:
    import numpy as np
    return np.concatenate([rgb[0], rgb[-1], rgb[1:-1, 0], rgb[1:-1, -1]])


def _border_mask(shape: tuple[int, int]) -> np.ndarray:
    import numpy as np
    border = np.zeros(shape, dtype=bool)
    border[0, :] = border[-1, :] = True
    border[:, 0] = border[:, -1] = True
    return border


def background_color(img: Image.Image) -> tuple[int, int, int]:
    """The median colour of the border pixels: the background of a studio or product shot."""
    import numpy as np
    median = np.median(_border_pixels(_rgb_array(img)), axis=0)
    return (int(median[0]), int(median[1]), int(median[2]))


def has_plain_background(img: Image.Image, *, spread: float = 30.0) -> bool:
    """True when nearly all border pixels (90%) are within `spread` of their median colour."""
    import numpy as np
    border = _border_pixels(_rgb_array(img)).astype(np.int32)
    median = np.median(border, axis=0)
    dist = np.sqrt(((border - median) ** 2).sum(axis=1))
    return float(np.percentile(dist, 90)) <= spread


def background_mask(img: Image.Image, *, tolerance: float) -> np.ndarray:
    """True for background pixels: within `tolerance` of the border colour and connected to
    the image edge through such pixels. Already transparent pixels count as background."""
    import numpy as np
    rgb = _rgb_array(img)
    bg = np.asarray(background_color(img))
    candidates = _within(rgb, bg, tolerance)
    alpha = _alpha_array(img)
    if alpha is not None:
        candidates |= alpha == 0
    return flood(candidates, _border_mask(candidates.shape))


# -- background removal -----------------------------------------------------------------------


def remove_background(img: Image.Image, *, tolerance: float, feather: float) -> Image.Image:
    """Make the plain background around a subject transparent; RGBA out.

    The background colour is the median of the border pixels. A pixel becomes transparent when
    its colour is within `tolerance` (Euclidean RGB distance) of it and it is connected to the
    image edge through such pixels, so a background-coloured area enclosed by the subject (a
    white logo on a shirt, the hole of a ring) stays opaque. The mask edge is softened with a
    Gaussian blur of sigma `feather / 2`, and the ramp is moved inside the subject (alpha =
    2 * blurred - 255) so no background-coloured fringe is left around it; the soft edge is
    about `feather` pixels wide.
    """
    import numpy as np
    if tolerance < 0 or feather < 0:
        raise InvalidInput("Tolerance and feather must not be negative.")
    background = background_mask(img, tolerance=tolerance)
    alpha = Image.fromarray(np.where(background, 0, 255).astype(np.uint8), "L")
    if feather > 0:
        alpha = alpha.filter(ImageFilter.GaussianBlur(feather / 2))
        alpha = alpha.point(lambda v: max(0, 2 * v - 255))
    out = img.convert("RGBA") if img.mode != "RGBA" else img.copy()
    original = _alpha_array(img)
    if original is not None:
        alpha = Image.fromarray(np.minimum(np.asarray(alpha), original), "L")
    out.putalpha(alpha)
    return out


# -- recolour ---------------------------------------------------------------------------------


def seed_pixel(seed: tuple[float, float], width: int, height: int) -> tuple[int, int]:
    """The pixel a seed point names in a width x height image; InvalidInput when outside."""
    x, y = float(seed[0]), float(seed[1])
    if x < 1 and y < 1:
        # Both below one: fractions of the width and height (0.5, 0.5 is the centre).
        px, py = math.floor(x * width), math.floor(y * height)
    else:
        px, py = math.floor(x), math.floor(y)
    if not (0 <= px < width and 0 <= py < height):
        raise InvalidInput(
            f"The seed point ({seed[0]:g}, {seed[1]:g}) is outside the {width}x{height} image; "
            "give pixel coordinates inside it or fractions below 1."
        )
    return px, py


def recolor_region(
    img: Image.Image,
    *,
    seed: tuple[float, float] | None,
    source_color: str | None,
    tolerance: float,
) -> np.ndarray:
    """The pixels `recolor` changes, as a boolean (H, W) mask.

    - `source_color` only: every pixel within `tolerance` of that colour, anywhere.
    - `seed` only: pixels within `tolerance` of the seed's colour (median of its 3x3
      neighbourhood) that are 4-connected to the seed.
    - both: pixels within `tolerance` of `source_color` connected to the seed.
    - neither: as `seed` at the image centre.
    Fully transparent pixels are never part of the region.
    """
    import numpy as np
    rgb, visible = _pixels(img, tolerance)
    height, width = rgb.shape[:2]
    if source_color is not None:
        reference = np.asarray(parse_color(source_color, what="Source colour"))
        candidates = _within(rgb, reference, tolerance) & visible
        if seed is None:
            return candidates
        sx, sy = seed_pixel(seed, width, height)
        if not candidates[sy, sx]:
            raise InvalidInput(_seed_not_source(sx, sy, tolerance, source_color))
    else:
        sx, sy = seed_pixel(seed if seed is not None else (0.5, 0.5), width, height)
        patch = rgb[max(0, sy - 1):sy + 2, max(0, sx - 1):sx + 2].reshape(-1, 3)
        reference = np.median(patch, axis=0).round().astype(np.int32)
        candidates = _within(rgb, reference, tolerance) & visible
        candidates[sy, sx] = bool(visible[sy, sx])
    seeds = np.zeros((height, width), dtype=bool)
    seeds[sy, sx] = True
    return flood(candidates, seeds)


def _pixels(img: Image.Image, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """The RGB array and the mask of pixels that are not fully transparent."""
    import numpy as np
    if tolerance < 0:
        raise InvalidInput("Tolerance must not be negative.")
    rgb = _rgb_array(img)
    height, width = rgb.shape[:2]
    alpha = _alpha_array(img)
    visible = alpha > 0 if alpha is not None else np.ones((height, width), dtype=bool)
    return rgb, visible


def check_recolor(
    img: Image.Image,
    *,
    seed: tuple[float, float] | None,
    source_color: str | None,
    tolerance: float,
) -> None:
    """Raise InvalidInput for what `recolor` would refuse, without recolouring: a point outside
    the image, a point that is not the source colour, a source colour found nowhere, a point on
    a fully transparent pixel. Cheap: no flood fill."""
    import numpy as np
    rgb, visible = _pixels(img, tolerance)
    height, width = rgb.shape[:2]
    if source_color is not None:
        reference = np.asarray(parse_color(source_color, what="Source colour"))
        if seed is None:
            if not (_within(rgb, reference, tolerance) & visible).any():
                raise InvalidInput(_no_source_pixels(tolerance, source_color))
            return
        sx, sy = seed_pixel(seed, width, height)
        if not (visible[sy, sx] and _within(rgb[sy:sy + 1, sx:sx + 1], reference,
                                            tolerance)[0, 0]):
            raise InvalidInput(_seed_not_source(sx, sy, tolerance, source_color))
        return
    sx, sy = seed_pixel(seed if seed is not None else (0.5, 0.5), width, height)
    if not visible[sy, sx]:
        raise InvalidInput(_transparent_seed(sx, sy))


def _no_source_pixels(tolerance: float, source_color: str) -> str:
    return (f"No pixels within tolerance {tolerance:g} of {source_color} were found; raise the "
            "tolerance or pick another source colour.")


def _seed_not_source(sx: int, sy: int, tolerance: float, source_color: str) -> str:
    return (f"The seed point ({sx}, {sy}) is not within tolerance {tolerance:g} of the source "
            f"colour {source_color}; move the point or raise the tolerance.")


def _transparent_seed(sx: int, sy: int) -> str:
    return (f"The point ({sx}, {sy}) is on a fully transparent pixel, so there is nothing to "
            "recolour there; give a seed point on the subject.")


def _hls_lightness_sat(rgb01: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Lightness, HLS saturation and the pure-hue pattern (max 1, min 0) of one colour."""
    import numpy as np
    hi, lo = float(rgb01.max()), float(rgb01.min())
    lightness = (hi + lo) / 2
    chroma = hi - lo
    denominator = 1 - abs(2 * lightness - 1)
    saturation = chroma / denominator if denominator > 1e-6 else 0.0
    pattern = (rgb01 - lo) / chroma if chroma > 1e-6 else np.zeros(3)
    return lightness, min(saturation, 1.0), pattern


def shift_to_color(pixels: np.ndarray, target: tuple[int, int, int]) -> np.ndarray:
    """Recolour (N, 3) uint8 pixels to the target's hue and saturation, keeping their shading.

    Works in HLS. Every pixel takes the target's hue and saturation; its lightness goes through
    a monotonic piecewise-linear map that sends the region's mean lightness to the target's
    lightness (0 stays 0, 1 stays 1). A flat region therefore becomes exactly the target colour,
    and shading keeps its order: the output's luminance increases with the input's lightness.
    """
    import numpy as np
    p = pixels.astype(np.float32) / 255.0
    light = (p.max(axis=1) + p.min(axis=1)) / 2
    mean = float(light.mean()) if light.size else 0.5
    t_light, t_sat, pattern = _hls_lightness_sat(np.asarray(target, dtype=np.float32) / 255.0)
    if mean <= 1e-6:
        mapped = t_light + light * (1 - t_light)
    elif mean >= 1 - 1e-6:
        mapped = light * t_light
    else:
        mapped = np.where(
            light <= mean,
            light * (t_light / mean),
            t_light + (light - mean) * ((1 - t_light) / (1 - mean)),
        )
    chroma = (1 - np.abs(2 * mapped - 1)) * t_sat
    out = mapped[:, None] + chroma[:, None] * (pattern[None, :].astype(np.float32) - 0.5)
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)


def recolor(
    img: Image.Image,
    *,
    color: str,
    seed: tuple[float, float] | None = None,
    source_color: str | None = None,
    tolerance: float = 40.0,
) -> Image.Image:
    """Give a region the hue and saturation of `color`, keeping its shading.

    The region is chosen as described in `recolor_region`. Pixels outside it are returned
    byte-for-byte unchanged, and alpha is kept as it was. RGB in -> RGB out, RGBA -> RGBA.
    """
    target = parse_color(color, what="Colour")
    region = recolor_region(img, seed=seed, source_color=source_color, tolerance=tolerance)
    if not region.any():
        if source_color is None:  # the point's own pixel is always in its region unless clear
            sx, sy = seed_pixel(seed if seed is not None else (0.5, 0.5), *img.size)
            raise InvalidInput(_transparent_seed(sx, sy))
        raise InvalidInput(_no_source_pixels(tolerance, source_color))
    rgb = _rgb_array(img)
    out = rgb.copy()
    out[region] = shift_to_color(rgb[region], target)
    result = Image.fromarray(out, "RGB")
    if "A" in img.getbands():
        result.putalpha(img.getchannel("A"))
    return result


# -- upscale ----------------------------------------------------------------------------------


def upscale_size(width: int, height: int, factor: int) -> tuple[int, int]:
    """The size `upscale` makes; InvalidInput for a factor other than 2 or 4 or a result
    beyond MAX_UPSCALE_SIDE / MAX_UPSCALE_PIXELS."""
    if factor not in UPSCALE_FACTORS:
        raise InvalidInput(f"The upscale factor must be 2 or 4 (got {factor}).")
    new_w, new_h = width * factor, height * factor
    if max(new_w, new_h) > MAX_UPSCALE_SIDE or new_w * new_h > MAX_UPSCALE_PIXELS:
        raise InvalidInput(
            f"Upscaling {width}x{height} by {factor}x would make a {new_w}x{new_h} image, more "
            f"than Restyle's limit of {MAX_UPSCALE_SIDE} pixels a side and "
            f"{MAX_UPSCALE_PIXELS // 1_000_000} megapixels; choose a smaller factor or crop "
            "the image first."
        )
    return new_w, new_h


def upscale(img: Image.Image, *, factor: int) -> Image.Image:
    """Enlarge 2x or 4x with LANCZOS, then a mild unsharp mask (colour only, not alpha)."""
    new_w, new_h = upscale_size(*img.size, factor)
    if img.mode not in ("RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    big = img.resize((new_w, new_h), Image.Resampling.LANCZOS)
    sharpen = ImageFilter.UnsharpMask(radius=0.8 * factor, percent=60, threshold=2)
    if big.mode == "RGBA":
        color = big.convert("RGB").filter(sharpen)
        color.putalpha(big.getchannel("A"))
        return color
    return big.filter(sharpen)


# -- reframe ----------------------------------------------------------------------------------


def reframe_size(width: int, height: int, ratio: str) -> tuple[int, int]:
    """The smallest canvas of exactly `ratio` that holds a width x height image uncropped."""
    if ratio not in RATIOS:
        raise InvalidInput(f"The ratio must be one of {', '.join(RATIOS)} (got {ratio!r}).")
    a, b = RATIOS[ratio]
    k = max(-(-width // a), -(-height // b))
    return a * k, b * k


def _blur_cover(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A blurred copy of the image scaled to cover `size`, worked at low resolution for speed."""
    width, height = size
    shrink = max(1.0, max(width, height) / 480)
    small = (max(1, round(width / shrink)), max(1, round(height / shrink)))
    scale = max(small[0] / img.width, small[1] / img.height)
    cover = (
        max(small[0], math.ceil(img.width * scale)),
        max(small[1], math.ceil(img.height * scale)),
    )
    scaled = img.resize(cover, Image.Resampling.BILINEAR, reducing_gap=2.0)
    left, top = (cover[0] - small[0]) // 2, (cover[1] - small[1]) // 2
    cropped = scaled.crop((left, top, left + small[0], top + small[1]))
    blurred = cropped.filter(ImageFilter.GaussianBlur(max(small) / 40))
    return blurred.resize(size, Image.Resampling.BICUBIC)


def reframe(img: Image.Image, *, ratio: str, fill: str) -> Image.Image:
    """Extend the canvas to `ratio` without cropping: the original pixels sit unchanged in the
    centre, the new margins are a blurred cover of the image ("blur") or its mirrored edges
    ("mirror")."""
    import numpy as np
    if fill not in FILLS:
        raise InvalidInput(f"The fill must be one of {', '.join(FILLS)} (got {fill!r}).")
    if img.mode not in ("RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    width, height = img.size
    new_w, new_h = reframe_size(width, height, ratio)
    left, top = (new_w - width) // 2, (new_h - height) // 2
    if (new_w, new_h) == (width, height):
        return img.copy()
    if fill == "mirror":
        arr = np.asarray(img)
        padded = np.pad(
            arr,
            ((top, new_h - height - top), (left, new_w - width - left), (0, 0)),
            mode="symmetric",
        )
        return Image.fromarray(padded, img.mode)
    canvas = _blur_cover(img, (new_w, new_h))
    canvas.paste(img, (left, top))  # no mask: the original pixels, alpha included, copied as is
    return canvas


# -- try-on layout preview ----------------------------------------------------------------------


def torso_box(person: Image.Image) -> tuple[float, float, float, float]:
    """Estimate the upper body as (centre x, shoulder y, torso width, torso bottom y).

    With a plain background the person's silhouette is measured: the shoulder line is the first
    row (below the head) where the silhouette gets much wider than the head, the torso width is
    the median silhouette width just below it. Otherwise, or when the silhouette makes no
    sense, image proportions are used: torso from 18% to 55% of the height, centred.
    """
    import numpy as np
    width, height = person.size
    fallback = (width / 2, 0.18 * height, min(0.42 * width, 0.45 * height), 0.55 * height)
    if not has_plain_background(person):
        return fallback
    fg = ~background_mask(person, tolerance=40)
    counts = fg.sum(axis=1)
    rows = np.nonzero(counts > max(2, 0.01 * width))[0]
    if rows.size < 10 or fg.mean() < 0.02:
        return fallback
    top, bottom = int(rows[0]), int(rows[-1])
    body = bottom - top + 1
    head_rows = counts[top:top + max(1, int(0.08 * body))]
    head_w = float(np.median(head_rows[head_rows > 0])) if (head_rows > 0).any() else 0.0
    shoulder = top + 0.18 * body
    lo, hi = top + int(0.08 * body), top + int(0.35 * body)
    if head_w > 0:
        wide = np.nonzero(counts[lo:hi] >= 1.7 * head_w)[0]
        if wide.size:
            shoulder = float(lo + int(wide[0]))
    t0 = int(shoulder + 0.02 * body)
    t1 = max(t0 + 1, int(shoulder + 0.15 * body))
    band = fg[t0:t1]
    band_counts = counts[t0:t1]
    if not (band_counts > 0).any():
        return fallback
    torso_w = float(np.median(band_counts[band_counts > 0]))
    xs = np.arange(width, dtype=np.float64)
    centres = (band * xs).sum(axis=1)[band_counts > 0] / band_counts[band_counts > 0]
    centre_x = float(np.median(centres))
    torso_bottom = min(float(bottom), shoulder + 0.37 * body)
    return centre_x, shoulder, torso_w, torso_bottom


def _caption(canvas: Image.Image, text: str) -> None:
    """Stamp a small caption on a dark plate in the bottom-left corner, in place (RGBA)."""
    width, height = canvas.size
    font = ImageFont.load_default(size=max(10, round(min(width, height) / 32)))
    overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
    pad = max(3, (y1 - y0) // 3)
    margin = max(4, min(width, height) // 60)
    box_h = (y1 - y0) + 2 * pad
    left, top = margin, height - margin - box_h
    draw.rounded_rectangle(
        (left, top, left + (x1 - x0) + 2 * pad, top + box_h), radius=pad, fill=(0, 0, 0, 150)
    )
    draw.text((left + pad - x0, top + pad - y0), text, font=font, fill=(255, 255, 255, 235))
    canvas.alpha_composite(overlay)


def tryon_preview(
    person: Image.Image, garment: Image.Image, *, scale: float = 1.0, shadow: bool = True
) -> Image.Image:
    """A layout preview with no AI: the garment, cut from its background, laid over the
    person's estimated torso (see `torso_box`) with an optional soft drop shadow, and captioned
    "Local preview (no AI)". The output has the person's size."""
    if not 0.1 <= scale <= 3.0:
        raise InvalidInput(f"The garment scale must be between 0.1 and 3 (got {scale:g}).")
    cut = remove_background(garment, tolerance=40, feather=2)
    box = cut.getchannel("A").point(lambda a: 255 if a > 16 else 0).getbbox()
    if box is None:
        raise InvalidInput(
            "Nothing was left of the garment after removing its background; use a photo of "
            "the garment on a plain background."
        )
    cut = cut.crop(box)
    centre_x, shoulder_y, torso_w, _ = torso_box(person)
    width, height = person.size
    gw = max(4, round(torso_w * scale))
    gh = max(4, round(cut.height * gw / cut.width))
    cut = cut.resize((gw, gh), Image.Resampling.LANCZOS)
    x = round(centre_x - gw / 2)
    y = round(shoulder_y - 0.04 * gh)  # the neckline sits a little above the shoulder line
    canvas = person.convert("RGBA")
    if shadow:
        offset = (max(2, round(0.008 * width)), max(2, round(0.012 * height)))
        mask = Image.new("L", canvas.size, 0)
        soft = cut.getchannel("A").point(lambda a: a * 45 // 100)  # 45% opaque at most
        mask.paste(soft, (x + offset[0], y + offset[1]))
        mask = mask.filter(ImageFilter.GaussianBlur(max(1.5, 0.01 * max(width, height))))
        shade = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
        shade.putalpha(mask)
        canvas.alpha_composite(shade)
    layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    layer.paste(cut, (x, y))  # onto a clear layer: copy the garment's pixels and alpha as is
    canvas.alpha_composite(layer)
    _caption(canvas, PREVIEW_CAPTION)
    return canvas if "A" in person.getbands() else canvas.convert("RGB")
