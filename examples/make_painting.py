"""Make examples/painting.png: the demo's style image, an abstract painting of
swirling brush strokes in blues and yellows.

The demo must run on any clone, and the project never ships copies of other
people's paintings, so it paints its own: strokes follow a flow field made of
a few vortices (what gives Gatys-style transfer something to copy: texture at
several scales, strong edges and a small palette), large strokes first, then
smaller ones on top. Deterministic: the same seed gives the same file.

    python examples/make_painting.py [OUT.png] [--size 512] [--seed 7]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

PALETTE = np.array([
    (16, 32, 84), (28, 62, 138), (52, 98, 180), (86, 140, 206), (140, 186, 226),  # night blues
    (232, 200, 64), (246, 226, 120), (214, 150, 40),  # yellows
    (250, 246, 226), (24, 40, 36),  # highlights and dark accents
], dtype=np.float64)
PALETTE_WEIGHTS = np.array([3, 4, 4, 3, 2, 2, 2, 1, 1, 1], dtype=np.float64)


def flow_angle(points: np.ndarray, vortices: np.ndarray, size: int) -> np.ndarray:
    """Direction of the flow at `points` (N, 2): the sum of a few vortices' swirls
    plus a slow drift, so that strokes curl around centres as in a night sky."""
    velocity = np.tile([[0.6, 0.15]], (len(points), 1))
    for x, y, strength, radius in vortices:
        offset = points - [x, y]
        distance2 = (offset**2).sum(axis=1) + (0.05 * size) ** 2
        falloff = strength * np.exp(-distance2 / (2 * radius**2)) * size / np.sqrt(distance2)
        velocity += np.stack([-offset[:, 1], offset[:, 0]], axis=1) / np.sqrt(distance2)[:, None] * falloff[:, None]
    return np.arctan2(velocity[:, 1], velocity[:, 0])


def stroke_path(start, vortices, size: int, length: int, step: float) -> list[tuple[float, float]]:
    path = [tuple(start)]
    point = np.array(start, dtype=np.float64)
    for _ in range(length):
        angle = flow_angle(point[None], vortices, size)[0]
        point = point + step * np.array([np.cos(angle), np.sin(angle)])
        path.append(tuple(point))
    return path


def paint(size: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    vortices = np.column_stack([rng.uniform(0.1, 0.9, 6) * size, rng.uniform(0.1, 0.9, 6) * size,
                                rng.choice([-1, 1], 6) * rng.uniform(1.0, 2.5, 6), rng.uniform(0.08, 0.2, 6) * size])
    canvas = Image.new("RGB", (size, size), tuple(PALETTE[1].astype(int)))
    draw = ImageDraw.Draw(canvas)
    # Layers of strokes, coarse to fine: (count, width range, length in steps, step in px).
    layers = [(int(size * 0.5), (10, 16), 14, size / 80), (int(size * 1.2), (6, 10), 10, size / 110),
              (int(size * 2.4), (3, 6), 8, size / 150)]
    probabilities = PALETTE_WEIGHTS / PALETTE_WEIGHTS.sum()
    for count, (thin, thick), length, step in layers:
        for _ in range(count):
            start = rng.uniform(0, size, 2)
            base = PALETTE[rng.choice(len(PALETTE), p=probabilities)]
            colour = tuple(np.clip(base + rng.normal(0, 12, 3), 0, 255).astype(int))
            draw.line(stroke_path(start, vortices, size, length, step), fill=colour,
                      width=int(rng.integers(thin, thick + 1)), joint="curve")
    # A light emboss gives the strokes relief, as thick paint catches light.
    relief = canvas.filter(ImageFilter.EMBOSS).convert("L")
    shaded = np.asarray(canvas, np.float64) * (0.85 + 0.3 * np.asarray(relief, np.float64)[..., None] / 255)
    return Image.fromarray(np.clip(shaded, 0, 255).astype(np.uint8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=Path(__file__).with_name("painting.png"))
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    paint(args.size, args.seed).save(args.out, optimize=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
