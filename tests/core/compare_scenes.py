"""Synthetic room photos for the compare tests and benchmark: a frontal room with a ceiling,
a back wall with a window and a door, a planked floor; furniture (a sofa with its shadow, a
table, a floor lamp) drawn on demand; sensor noise so nothing is trivially flat."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

WALL = (200, 190, 170)
WALL_RECOLOURED = (150, 175, 200)


@dataclass(frozen=True)
class Room:
    width: int = 480
    height: int = 320
    wall: tuple[int, int, int] = WALL
    window_x: float = 0.12     # left edge of the window, share of the width
    door: tuple[int, int, int] = (120, 80, 50)
    ceiling: tuple[int, int, int] = (236, 234, 228)
    floor: tuple[int, int, int] = (150, 110, 70)
    furniture: bool = False
    noise_seed: int | None = 1
    shift: int = 0             # the whole picture moved right by this many pixels

    def box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        return (round(x0 * self.width), round(y0 * self.height),
                round(x1 * self.width) - 1, round(y1 * self.height) - 1)


def _sofa(room: Room, draw: ImageDraw.ImageDraw, fill: object | None = None) -> None:
    body = fill if fill is not None else (70, 90, 140)
    cushion = fill if fill is not None else (90, 110, 165)
    draw.rectangle(room.box(0.35, 0.50, 0.65, 0.72), fill=body)
    draw.rectangle(room.box(0.37, 0.52, 0.50, 0.60), fill=cushion)
    draw.rectangle(room.box(0.50, 0.52, 0.63, 0.60), fill=cushion)


def _table_and_lamp(room: Room, draw: ImageDraw.ImageDraw, fill: object | None = None) -> None:
    wood = fill if fill is not None else (60, 40, 30)
    draw.rectangle(room.box(0.18, 0.70, 0.32, 0.74), fill=wood)      # table top
    draw.rectangle(room.box(0.19, 0.74, 0.205, 0.86), fill=wood)     # legs
    draw.rectangle(room.box(0.295, 0.74, 0.31, 0.86), fill=wood)
    metal = fill if fill is not None else (40, 40, 45)
    shade = fill if fill is not None else (240, 230, 200)
    draw.rectangle(room.box(0.848, 0.50, 0.856, 0.88), fill=metal)   # lamp pole
    draw.rectangle(room.box(0.83, 0.87, 0.875, 0.89), fill=metal)    # lamp base
    draw.rectangle(room.box(0.825, 0.42, 0.88, 0.52), fill=shade)     # lamp shade


def furniture_mask(room: Room, sofa: bool = True, others: bool = True) -> np.ndarray:
    """(H, W) bool: where the furniture is drawn (no shadow)."""
    img = Image.new("L", (room.width, room.height), 0)
    draw = ImageDraw.Draw(img)
    if sofa:
        _sofa(room, draw, 255)
    if others:
        _table_and_lamp(room, draw, 255)
    return np.asarray(img) > 0


def draw_room(room: Room) -> np.ndarray:
    """(H, W, 3) uint8: the room as described by `room`."""
    w, h = room.width, room.height
    img = Image.new("RGB", (w, h), room.floor)
    draw = ImageDraw.Draw(img)
    draw.rectangle(room.box(0, 0, 1, 0.12), fill=room.ceiling)               # ceiling
    draw.rectangle(room.box(0, 0.12, 1, 0.62), fill=room.wall)               # back wall
    draw.rectangle(room.box(0, 0.60, 1, 0.62), fill=(245, 245, 240))         # skirting
    for i in range(1, 20):                                                   # floor planks
        x = round(i * w / 20)
        draw.line((x, round(0.62 * h), x, h), fill=(120, 85, 50), width=max(1, w // 480))
    x = room.window_x
    draw.rectangle(room.box(x, 0.20, x + 0.20, 0.45), fill=(250, 250, 250))  # window frame
    draw.rectangle(room.box(x + 0.01, 0.22, x + 0.19, 0.43), fill=(170, 200, 235))
    draw.rectangle(room.box(x + 0.097, 0.20, x + 0.103, 0.45), fill=(250, 250, 250))
    draw.rectangle(room.box(0.70, 0.25, 0.82, 0.62), fill=room.door)         # door
    draw.ellipse(room.box(0.80, 0.44, 0.81, 0.46), fill=(220, 200, 90))
    if room.furniture:
        draw.rectangle(room.box(0.34, 0.72, 0.66, 0.73), fill=(105, 77, 49))  # sofa's shadow
        _sofa(room, draw)
        _table_and_lamp(room, draw)
    pixels = np.asarray(img)
    if room.shift:
        pixels = np.concatenate([np.repeat(pixels[:, :1], room.shift, axis=1),
                                 pixels[:, :-room.shift]], axis=1)
    shade = np.linspace(0.92, 1.04, w, dtype=np.float32)[None, :, None]     # window light
    out = pixels.astype(np.float32) * shade
    if room.noise_seed is not None:
        out += np.random.default_rng(room.noise_seed).normal(0, 3, out.shape).astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
