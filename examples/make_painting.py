"""Generate the abstract swirling brush-stroke painting used as the demo's style image.

The demo has to ship its own style image: this project never copies
third-party paintings, so instead of a real Van Gogh we paint a stand-in
procedurally.  Gatys-style transfer learns "style" from the texture
statistics of the image, so what matters is rich, repeated texture at
several scales: many thick curved strokes that follow a swirling flow field,
bold blues and yellows with dark accents and white highlights, large strokes
layered under smaller ones, and no flat empty areas.

The output is fully deterministic (fixed seed) and takes a few seconds.

Usage:
    python examples/make_painting.py [OUT.png] [--size 512] [--seed 7]
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "neuralstyle" / "data" / "painting.png"

# Night-sky palette, dark to light.  Strokes pick neighbouring entries so a
# region stays coherent while still showing stroke-to-stroke variation.
BLUES = np.array([
    (12, 20, 52),
    (22, 42, 102),
    (34, 70, 150),
    (52, 104, 186),
    (92, 144, 212),
    (150, 190, 226),
], dtype=float)
YELLOWS = np.array([
    (196, 132, 30),
    (232, 178, 44),
    (246, 214, 86),
    (252, 238, 170),
], dtype=float)
DARK_ACCENT = np.array((8, 14, 28), dtype=float)
HIGHLIGHT = np.array((248, 246, 228), dtype=float)

# (width, steps, count per 512x512, step length): broad strokes first,
# then progressively finer strokes on top so every scale carries texture.
STROKE_LAYERS = [
    (14, 26, 520, 4.0),
    (10, 22, 900, 3.5),
    (7, 18, 1500, 3.0),
    (4, 14, 2200, 2.5),
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT,
                        help="output PNG path (default: neuralstyle/data/painting.png, the packaged demo painting)")
    parser.add_argument("--size", type=int, default=512, help="side length in pixels")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    return parser.parse_args()


def random_vortices(rng, size):
    """Swirl centres, radii, spins and which ones glow like stars.

    A few large swirls set the composition; small glowing ones scattered
    between them give the star-like yellow accents at a finer scale.
    """
    big, small = 6, 7
    centres = rng.uniform(0.08, 0.92, size=(big + small, 2)) * size
    radii = np.concatenate([rng.uniform(0.12, 0.2, size=big),
                            rng.uniform(0.035, 0.06, size=small)]) * size
    spins = rng.choice([-1.0, 1.0], size=big + small) * rng.uniform(0.7, 1.3, size=big + small)
    glows = np.arange(big + small) >= big - 2
    return centres, radii, spins, glows


def flow_angles(size, vortices, rng):
    """Per-pixel stroke direction: vortex swirls over a gently waving drift."""
    centres, radii, spins, _ = vortices
    y, x = np.mgrid[0:size, 0:size].astype(float)
    # A rolling horizontal drift keeps the space between vortices moving,
    # like the wind bands in a night sky, instead of leaving dead zones.
    phase = rng.uniform(0, 2 * np.pi, size=2)
    vx = np.ones_like(x)
    vy = 0.6 * np.sin(2 * np.pi * x / size * 2.0 + phase[0]) \
        + 0.4 * np.sin(2 * np.pi * y / size * 3.0 + phase[1])
    for (cx, cy), radius, spin in zip(centres, radii, spins):
        dx, dy = x - cx, y - cy
        dist2 = dx * dx + dy * dy
        falloff = np.exp(-dist2 / (2.0 * (1.8 * radius) ** 2))
        strength = 6.0 * spin * falloff * radius / np.sqrt(dist2 + radius ** 2)
        vx += -dy / np.sqrt(dist2 + 1.0) * strength
        vy += dx / np.sqrt(dist2 + 1.0) * strength
    return np.arctan2(vy, vx)


def glow_field(size, vortices):
    """0..1 map of how strongly each pixel belongs to a glowing star swirl."""
    centres, radii, _, glows = vortices
    y, x = np.mgrid[0:size, 0:size].astype(float)
    glow = np.zeros((size, size))
    # Only some vortices glow so the image stays mostly blue with yellow accents.
    for (cx, cy), radius in zip(centres[glows], radii[glows]):
        dist2 = (x - cx) ** 2 + (y - cy) ** 2
        glow = np.maximum(glow, np.exp(-dist2 / (2.0 * (0.6 * radius + 0.015 * size) ** 2)))
    return glow


def underpainting(size, glow, rng):
    """Blotchy base coat so no canvas shows through gaps between strokes."""
    noise = ndimage.gaussian_filter(rng.standard_normal((size, size)), size / 24)
    noise = (noise - noise.min()) / (np.ptp(noise) + 1e-9)
    blue = BLUES[1] + (BLUES[3] - BLUES[1]) * noise[..., None]
    yellow = YELLOWS[1] + (YELLOWS[2] - YELLOWS[1]) * noise[..., None]
    mix = glow[..., None]
    return blue * (1 - mix) + yellow * mix


def stroke_colour(rng, glow_value, shade):
    """Palette colour for one stroke, jittered so neighbours never match exactly."""
    roll = rng.random()
    if roll < 0.04:
        base = DARK_ACCENT
    elif roll < 0.08:
        base = HIGHLIGHT
    elif rng.random() < glow_value:
        base = YELLOWS[min(int(shade * len(YELLOWS)), len(YELLOWS) - 1)]
    else:
        base = BLUES[min(int(shade * len(BLUES)), len(BLUES) - 1)]
    jitter = rng.normal(0, 9, size=3)
    return tuple(int(c) for c in np.clip(base + jitter, 0, 255))


def trace_strokes(starts, angles, steps, step_len, rng):
    """Advect all stroke start points through the flow field at once."""
    size = angles.shape[0]
    points = np.empty((steps + 1, len(starts), 2))
    points[0] = starts
    # Each stroke gets its own slight bend so parallel strokes do not look stamped.
    wobble = rng.normal(0, 0.05, size=len(starts))
    for i in range(steps):
        px = np.clip(points[i, :, 0].astype(int), 0, size - 1)
        py = np.clip(points[i, :, 1].astype(int), 0, size - 1)
        theta = angles[py, px] + wobble * i
        points[i + 1, :, 0] = points[i, :, 0] + step_len * np.cos(theta)
        points[i + 1, :, 1] = points[i, :, 1] + step_len * np.sin(theta)
    return points.transpose(1, 0, 2)


def draw_round_stroke(draw, pts, fill, width):
    """Polyline with round caps; square PIL ends look stamped, not brushed."""
    draw.line(pts, fill=fill, width=width, joint="curve")
    r = (width - 1) / 2
    for x, y in (pts[0], pts[-1]):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def paint_layer(canvas, height, angles, glow, rng, width, steps, count, step_len):
    """Lay one pass of strokes of a given scale onto colour and height maps."""
    size = canvas.size[0]
    scale = size / 512
    count = int(count * scale * scale)
    draw = ImageDraw.Draw(canvas)
    relief = ImageDraw.Draw(height)
    # Starting slightly off-canvas lets strokes enter from the edges too.
    starts = rng.uniform(-0.05 * size, 1.05 * size, size=(count, 2))
    lengths = rng.integers(steps // 2, steps + 1, size=count)
    paths = trace_strokes(starts, angles, steps, step_len * scale, rng)
    shade_noise = rng.random(count)
    for path, n, noise in zip(paths, lengths, shade_noise):
        sx, sy = np.clip(path[0].astype(int), 0, size - 1)
        g = glow[sy, sx]
        # Light strokes sit on top of glow, dark ones away from it, giving depth.
        shade = np.clip(0.55 * noise + 0.45 * g + rng.normal(0, 0.12), 0, 0.999)
        colour = stroke_colour(rng, g, shade)
        w = max(2, int(round(width * scale * rng.uniform(0.7, 1.25))))
        pts = [tuple(p) for p in path[:n]]
        # A random paint thickness per stroke makes overlaps form ridges.
        thickness = int(rng.integers(60, 255))
        draw_round_stroke(draw, pts, colour, w)
        draw_round_stroke(relief, pts, thickness, w)


def impasto_shading(height, size):
    """Directional light on the stroke relief, so strokes read as thick paint."""
    h = ndimage.gaussian_filter(np.asarray(height, dtype=float), 1.0 * size / 512)
    # Light from the upper left, as in a gallery.
    gy, gx = np.gradient(h)
    return np.clip(-(gx + gy) * 0.35, -28, 28)


def fine_bristle_texture(angles, rng):
    """Streaks along the flow that mimic bristle marks inside each stroke."""
    # Slightly soft noise: bristle marks are a few pixels wide, not single pixels.
    noise = ndimage.gaussian_filter(rng.standard_normal(angles.shape), 0.7)
    # Smear noise along the local direction by sampling it at shifted points.
    size = angles.shape[0]
    y, x = np.mgrid[0:size, 0:size].astype(float)
    acc = np.zeros_like(noise)
    for t in np.linspace(-4, 4, 9):
        acc += ndimage.map_coordinates(
            noise, [y + t * np.sin(angles), x + t * np.cos(angles)], order=1, mode="wrap")
    return acc * 2.0


def make_painting(size, seed):
    """The finished painting as a size x size RGB image, identical for a given seed."""
    rng = np.random.default_rng(seed)
    vortices = random_vortices(rng, size)
    angles = flow_angles(size, vortices, rng)
    glow = glow_field(size, vortices)

    base = underpainting(size, glow, rng)
    canvas = Image.fromarray(base.astype(np.uint8), "RGB")
    height = Image.new("L", (size, size), 0)
    for width, steps, count, step_len in STROKE_LAYERS:
        paint_layer(canvas, height, angles, glow, rng, width, steps, count, step_len)

    rgb = np.asarray(canvas, dtype=float)
    rgb += impasto_shading(height, size)[..., None]
    rgb += fine_bristle_texture(angles, rng)[..., None]
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def main():
    args = parse_args()
    image = make_painting(args.size, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.out, optimize=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
