"""Region masks: does each region take its own style, how much leaks across a border, what masks cost.

    .venv/bin/python benchmarks/masks.py                                   # 2 pairs at 256 px, 100 iterations (~17 min on 2 cores)
    .venv/bin/python benchmarks/masks.py --only time --repeats 3           # the timing alone (~4 min)
    .venv/bin/python benchmarks/masks.py --only halves --sizes 384 --pairs tubingen:starry_night:the_scream
    .venv/bin/python benchmarks/masks.py --keep /tmp/masks && .venv/bin/python benchmarks/masks.py --from /tmp/masks

Each pair is PHOTO:STYLE_A:STYLE_B from ../shared/images (`--images`). Style A
is painted on the photo's left half, style B on its right half
(`neuralstyle.transfer(..., style_masks=[left, right])`), through the Python
API in this process, at each size for `--iterations` L-BFGS iterations.

**The measure: own ÷ other.** For a part of the result (a half, a band), the
judge's style distance (benchmarks/judge.py: the sliced Wasserstein-1 distance
of VGG19 features, every position a sample, at judge.STYLE_LAYERS, none of
which the loss reads; the loss uses block1_conv1 … block5_conv1) between that
part's features and its own painting's, divided by the same distance to the
other painting: below 1, the part is nearer its own style. Each layer's
positions are those whose mask, area-averaged onto that layer's grid, is at
least one half. Both paintings are resized to the output's longest side, as
the judge (and the transfer, at style scale 1) does.

Parts (`--only`, default all):

* **halves**: guides `resized` and `inside`, each with and without area
  normalisation (`normalise_regions=False`); beside them the photo itself and
  an unmasked run of the two styles blended 50:50 (the same two styles, no
  regions), for the scale. And the **leak**: in the halves runs with resized
  and inside guides (normalised), own ÷ other in a band of `BAND` px on each
  side of the border and in a band as wide `FAR` px from it (inside the same
  half, away from the picture's edge); then the border band's distance to its
  own style and to the other, each ÷ the far band's: the distance to the
  other below 1 is the other style leaking in, the distance to its own above 1
  is less of its own style (e.g. the photo showing through).
* **small**: a centred rectangle of 10 % of the area in style B, the rest in
  style A, for resized and inside guides with normalisation and resized
  without it: the rectangle's own ÷ other (and the rest's).
* **time**: the masked two-style run against the unmasked blend at the same
  size and iterations, alternated (masked, unmasked, masked, …, `--repeats`
  each, after a 3-iteration warm-up of both), first pair only. The whole
  `transfer` call (each builds its step, as a CLI run does), also per loss
  and gradient evaluation (L-BFGS's line search may take more than one an
  iteration, and the two runs need not take as many), and the median seconds
  per iteration after the third (callback to callback); the ratios are the
  medians of the alternation's pairs' ratios (target ≤ 1.15).

Skips, saying so, where ../shared/images is missing. `--keep DIR` saves each
run's picture there; `--from DIR` judges such pictures again without running
(no time); `--out FILE` also writes the tables under a header (date, machine,
versions, commit, command).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"
sys.path.insert(0, str(ROOT / "benchmarks"))
import judge  # noqa: E402  (the one sliced Wasserstein distance and its layers)

PAIRS = ("tubingen:starry_night:the_scream", "golden_gate:shipwreck:seated-nude")
SIZES = (256,)
ITERATIONS = 100
BAND = 16  # px each side of the border
FAR = 48  # px from the border to the far band (as wide as BAND)
SMALL = 0.10  # the small region's share of the picture
TARGET = 1.15  # masked ÷ unmasked time
PARTS = ("halves", "small", "time")


@dataclass
class Timed:
    image: np.ndarray
    seconds: float | None  # the transfer call (None: a picture from --from)
    per_iteration: float | None = None  # median, callback to callback, after the third iteration
    evaluations: int = 0  # loss and gradient passes (L-BFGS's line search may take more than one an iteration)


@dataclass
class Table:
    title: str
    columns: tuple
    rows: list = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"**{self.title}**", "", "| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns),
                *("| " + " | ".join(map(str, row)) + " |" for row in self.rows), ""]


def image_path(folder: Path, name: str) -> Path:
    for suffix in ("", ".jpg", ".png", ".jpeg"):
        path = folder / f"{name}{suffix}"
        if path.is_file():
            return path
    raise SystemExit(f"masks.py: no image {name!r} in {folder}")


def run(content, styles, masks, size: int, iterations: int, precision: str, **options) -> Timed:
    import neuralstyle

    stamps = []

    def callback(progress):
        stamps.append(time.perf_counter())

    started = time.perf_counter()
    result = neuralstyle.transfer(content, styles, style_masks=masks, size=size, iterations=iterations,
                                  precision=precision, callback=callback, **options)
    seconds = time.perf_counter() - started
    if result.stopped:
        raise SystemExit(f"masks.py: a run stopped early: {result.stopped} {result.error or ''}")
    steps = np.diff(stamps)[3:]
    return Timed(result.image[..., :3], seconds, float(np.median(steps)) if len(steps) else None, result.evaluations)


def spatial_features(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """judge.features, each layer back on its grid ``(h, w, C)``."""
    from neuralstyle.core.layers import conv_layers

    strides = {layer.name: layer.stride for layer in conv_layers("vgg19")}
    height, width = rgb.shape[:2]
    grids = {}
    for name, flat in judge.features(rgb).items():
        shape = (height // strides[name], width // strides[name])
        assert flat.shape[0] == shape[0] * shape[1], (name, flat.shape, shape)
        grids[name] = flat.reshape(*shape, -1)
    return grids


def distances(grids: dict, region: np.ndarray, own: dict, other: dict) -> tuple[float, float]:
    """The judge's style distance of `region`'s positions (a pixel mask at the
    output's size) to `own` and to `other` (painting features per layer)."""
    from neuralstyle.core.guides import resize_mask

    found = {"own": [], "other": []}
    for name in judge.STYLE_LAYERS:
        grid = grids[name]
        chosen = resize_mask(region, grid.shape[1], grid.shape[0]) >= 0.5
        if chosen.sum() < 2:
            raise SystemExit(f"masks.py: a region has fewer than 2 positions at {name}; use a larger size")
        samples = grid[chosen]
        found["own"].append(judge.sliced_wasserstein(samples, own[name]))
        found["other"].append(judge.sliced_wasserstein(samples, other[name]))
    return float(np.mean(found["own"])), float(np.mean(found["other"]))


def own_over_other(grids: dict, region: np.ndarray, own: dict, other: dict) -> float:
    """`distances` to `own` ÷ to `other`: below 1, the region is nearer its own style."""
    to_own, to_other = distances(grids, region, own, other)
    return to_own / to_other


def painting_features(painting, side: int) -> dict[str, np.ndarray]:
    from neuralstyle.core.images import resize_max_side, to_rgb

    return judge.features(resize_max_side(to_rgb(painting), side).rgb)


def halves(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    left = np.zeros((height, width), np.float32)
    left[:, : width // 2] = 1.0
    return left, 1.0 - left


def rectangle(width: int, height: int, share: float = SMALL) -> np.ndarray:
    """A centred rectangle of `share` of the area, with the picture's aspect ratio."""
    scale = share ** 0.5
    w, h = round(width * scale), round(height * scale)
    mask = np.zeros((height, width), np.float32)
    top, left = (height - h) // 2, (width - w) // 2
    mask[top:top + h, left:left + w] = 1.0
    return mask


def strip(width: int, height: int, start: float, stop: float) -> np.ndarray:
    mask = np.zeros((height, width), np.float32)
    mask[:, max(0, round(start)):min(width, round(stop))] = 1.0
    return mask


def fmt(value: float) -> str:
    return f"{value:.3f}"


def save(keep: Path | None, name: str, image: np.ndarray) -> None:
    if keep is not None:
        from PIL import Image

        keep.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(keep / f"{name}.png")


def git(*arguments: str) -> str:
    try:
        return subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def header(command: str) -> str:
    import numpy
    import scipy

    from neuralstyle.core.backend import BACKEND, backend_version, describe_device, keras
    from neuralstyle.core.hardware import flags_line

    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line.strip()]
    commit = git("rev-parse", "--short", "HEAD") + (
        f" with uncommitted changes in {len(changed)} paths of the working tree" if changed else "")
    return (f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; machine: {describe_device()}, "
            f"{os.cpu_count()} cores, {platform.machine()}, CPU flags {flags_line()}; {BACKEND} {backend_version()}, "
            f"keras {keras.__version__}, numpy {numpy.__version__}, scipy {scipy.__version__}, python "
            f"{platform.python_version()}; commit {commit}; command: {command}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default=",".join(PAIRS), help="PHOTO:STYLE_A:STYLE_B, comma-separated")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="px, longest side (256)")
    parser.add_argument("--iterations", type=int, default=ITERATIONS, help=f"per run ({ITERATIONS})")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)} (all)")
    parser.add_argument("--repeats", type=int, default=2, help="masked and unmasked runs each in the timing (2)")
    parser.add_argument("--precision", default="auto", help="as neuralstyle.transfer takes it (auto)")
    parser.add_argument("--balance", default="pair", help="as neuralstyle.transfer takes it (pair)")
    parser.add_argument("--images", type=Path, default=SHARED, help="the pairs' folder (../shared/images)")
    parser.add_argument("--keep", type=Path, default=None, help="save every run's picture in this folder")
    parser.add_argument("--from", dest="source", type=Path, default=None,
                        help="judge the pictures an earlier run saved with --keep in this folder: no runs, no time")
    parser.add_argument("--out", type=Path, default=None, help="also write the tables to this .md file")
    args = parser.parse_args()
    parts = [part.strip() for part in args.only.split(",") if part.strip()]
    if set(parts) - set(PARTS):
        parser.error(f"--only: choose from {', '.join(PARTS)}")
    if args.source is not None:
        parts = [part for part in parts if part != "time"]
    if not args.images.is_dir():
        print(f"masks.py: skipped: {args.images} is missing (the paintings and photos of ../shared/images; "
              f"give another folder with --images)", file=sys.stderr)
        return
    pairs = [item.strip().split(":") for item in args.pairs.split(",") if item.strip()]
    if any(len(pair) != 3 for pair in pairs):
        parser.error("--pairs: each is PHOTO:STYLE_A:STYLE_B")

    from PIL import Image

    from neuralstyle.core.guides import resize_mask
    from neuralstyle.core.images import fit_size, resize, to_rgb

    command = " ".join([".venv/bin/python benchmarks/masks.py", *map(shlex.quote, sys.argv[1:])])
    first = header(command)
    print(first, flush=True)
    halves_table = Table("Halves: style A left, style B right; own ÷ other per half (below 1: nearer its own style)",
                         ("pair", "size", "run", "left half (A)", "right half (B)", "seconds"))
    small_table = Table(f"Small region: a centred rectangle of {SMALL:.0%} of the area in style B, the rest in A",
                        ("pair", "size", "guides", "normalised", "rectangle (B)", "rest (A)", "seconds"))
    leak_table = Table(f"Leak: own ÷ other within {BAND} px of the border and in a {BAND} px band {FAR} px from it "
                       f"(normalised halves); then the border band's distances to its own and to the other style, "
                       f"each ÷ the far band's (other below 1: the other style leaks in; own above 1: less of its own)",
                       ("pair", "size", "guides", "side", f"border band (0–{BAND} px)",
                        f"far band ({FAR}–{FAR + BAND} px)", "border − far", "to own, border ÷ far",
                        "to other, border ÷ far"))
    time_table = Table("Time: masked (two styles, two regions, resized guides) against unmasked (the two styles "
                       "blended), alternated",
                       ("pair", "size", "iterations", "masked, s per run (evaluations)",
                        "unmasked, s per run (evaluations)", "masked ÷ unmasked, run",
                        "masked ÷ unmasked, per evaluation", "s per iteration, masked / unmasked"))
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    seconds = lambda timed: "–" if timed.seconds is None else f"{timed.seconds:.1f}"  # noqa: E731

    for number, (photo, style_a, style_b) in enumerate(pairs):
        content = Image.open(image_path(args.images, photo)).convert("RGB")
        paintings = [Image.open(image_path(args.images, name)).convert("RGB") for name in (style_a, style_b)]
        left, right = halves(content.width, content.height)
        small = rectangle(content.width, content.height)
        name = f"{photo} × {style_a} (left) + {style_b} (right)"
        for size in args.sizes:
            width, height = fit_size(content.width, content.height, size)
            where = f"{width}x{height}"
            common = dict(size=size, iterations=args.iterations, precision=args.precision, balance=args.balance)
            tag = f"{photo}_{style_a}_{style_b}_{size}"

            def picture(label: str, masks, **options) -> Timed:
                """A run's picture: made (and kept with --keep), or read back with --from."""
                if args.source is not None:
                    return Timed(np.asarray(Image.open(args.source / f"{tag}_{label}.png").convert("RGB")), None)
                log(f"{name}, {size} px: {label.replace('_', ' ')}")
                made = run(content, paintings, masks, **common, **options)
                save(args.keep, f"{tag}_{label}", made.image)
                return made

            made = {}
            if "time" in parts and number == 0:  # in alternation; its runs serve the halves rows too
                log(f"{name}, {size} px: warm-up, then timing ({args.repeats} × masked, unmasked)")
                run(content, paintings, [left, right], size, 3, args.precision)
                run(content, paintings, None, size, 3, args.precision, style_blend=[0.5, 0.5])
                masked, unmasked = [], []
                for _ in range(args.repeats):
                    masked.append(picture("halves_resized", [left, right]))
                    unmasked.append(picture("unmasked_blend", None, style_blend=[0.5, 0.5]))
                    log(f"  masked {masked[-1].seconds:.1f} s ({masked[-1].evaluations} evaluations), unmasked "
                        f"{unmasked[-1].seconds:.1f} s ({unmasked[-1].evaluations})")
                made["halves_resized"], made["unmasked_blend"] = masked[0], unmasked[0]
                alternation = list(zip(masked, unmasked))
                run_ratio = statistics.median(m.seconds / u.seconds for m, u in alternation)
                evaluation_ratio = statistics.median(
                    (m.seconds / m.evaluations) / (u.seconds / u.evaluations) for m, u in alternation)
                per_iteration = "–"
                if all(item.per_iteration for item in masked + unmasked):
                    per_iteration = (f"{statistics.median(m.per_iteration for m in masked):.3f} / "
                                     f"{statistics.median(u.per_iteration for u in unmasked):.3f}")
                time_table.rows.append((
                    name, where, args.iterations,
                    ", ".join(f"{m.seconds:.1f} ({m.evaluations})" for m in masked),
                    ", ".join(f"{u.seconds:.1f} ({u.evaluations})" for u in unmasked),
                    f"**{run_ratio:.2f}** (target ≤ {TARGET})", f"{evaluation_ratio:.2f}", per_iteration))
            if "halves" not in parts and "small" not in parts:
                continue
            a, b = (painting_features(painting, max(width, height)) for painting in paintings)
            out_left, out_right = (resize_mask(mask, width, height) >= 0.5 for mask in (left, right))
            out_small = resize_mask(small, width, height) >= 0.5
            border = float(np.argmax(~out_left[0]))  # the first column of the right half

            def halves_ratios(image):
                grids = spatial_features(image)
                return grids, own_over_other(grids, out_left, a, b), own_over_other(grids, out_right, b, a)

            if "halves" in parts:
                _, left_ratio, right_ratio = halves_ratios(resize(to_rgb(content), width, height).rgb)
                halves_table.rows.append((name, where, "the photo itself (no transfer)", fmt(left_ratio),
                                          fmt(right_ratio), "–"))
                blend = made.get("unmasked_blend") or picture("unmasked_blend", None, style_blend=[0.5, 0.5])
                _, left_ratio, right_ratio = halves_ratios(blend.image)
                halves_table.rows.append((name, where, "no masks: A and B blended 50:50", fmt(left_ratio),
                                          fmt(right_ratio), seconds(blend)))
                for guides in ("resized", "inside"):
                    for normalise in (True, False):
                        label = f"halves_{guides}{'' if normalise else '_unnormalised'}"
                        result = made.get(label) or picture(label, [left, right], guides=guides,
                                                            normalise_regions=normalise)
                        grids, left_ratio, right_ratio = halves_ratios(result.image)
                        halves_table.rows.append((name, where, f"{guides} guides, "
                                                  f"{'normalised' if normalise else 'not normalised'}",
                                                  fmt(left_ratio), fmt(right_ratio), seconds(result)))
                        if not normalise:
                            continue
                        for side, own, other, sign in (("left (A)", a, b, -1), ("right (B)", b, a, 1)):
                            near = strip(width, height, *sorted((border, border + sign * BAND))) >= 0.5
                            far = strip(width, height, *sorted((border + sign * FAR,
                                                               border + sign * (FAR + BAND)))) >= 0.5
                            near_own, near_other = distances(grids, near, own, other)
                            far_own, far_other = distances(grids, far, own, other)
                            leak_table.rows.append((
                                name, where, guides, side, fmt(near_own / near_other), fmt(far_own / far_other),
                                f"{near_own / near_other - far_own / far_other:+.3f}", fmt(near_own / far_own),
                                fmt(near_other / far_other)))

            if "small" in parts:
                for guides, normalise in (("resized", True), ("inside", True), ("resized", False)):
                    result = picture(f"small_{guides}{'' if normalise else '_unnormalised'}", [1.0 - small, small],
                                     guides=guides, normalise_regions=normalise)
                    grids = spatial_features(result.image)
                    small_table.rows.append((name, where, guides, "yes" if normalise else "no",
                                             fmt(own_over_other(grids, out_small, b, a)),
                                             fmt(own_over_other(grids, ~out_small, a, b)), seconds(result)))

    tables = {"halves": (halves_table, leak_table), "small": (small_table,), "time": (time_table,)}
    lines = [line for part in PARTS if part in parts for table in tables[part] for line in table.lines()]
    print("\n" + "\n".join(lines), flush=True)
    if args.out is not None:
        args.out.write_text(f"{first}\n\n" + "\n".join(lines), encoding="utf-8")
        log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
