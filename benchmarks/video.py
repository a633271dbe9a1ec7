"""Video without flicker: how much a painted clip flickers, what it keeps of its look, what it costs.

    .venv/bin/python benchmarks/video.py                       # 2 clips x 2 paintings, 8 frames of 128 px (~25 min)
    .venv/bin/python benchmarks/video.py --clips pan:tubingen --styles starry_night --frames 6
    .venv/bin/python benchmarks/video.py --gif docs/video_pan.gif --out benchmarks/results/DATE-video.md

Clips are made from one still of ../shared/images (`--images`) with known motion
(tests/sample_clips.py), so the true optical flow is exact: **pan** (the camera
moves `PAN_STEP` px right a frame) and **zoom** (each frame `ZOOM` x the last).
No real clip is measured: none of the installed libraries ships one offline.

Three ways to paint a clip, each frame with the same settings (`--size`,
`--iterations`, the defaults otherwise), through the Python API in this process:

* **frame by frame**: each frame an independent `transfer` from its own photo;
* **warped start**: `stylise_clip` with temporal weight 0 (each frame starts from
  the previous output warped by DIS flow; no temporal loss);
* **temporal loss**: `stylise_clip` with its defaults (the loss holds each frame to
  the outputs 1, 2 and 4 frames back, warped, where the flow is trusted).

Measures, each a mean over the clip:

* **temporal error** (0–255, lower is steadier): mean |output_t − output_(t−1)
  warped by the true flow| over the pixels the warp keeps inside the frame;
* **warping error** (Lai et al., ECCV 2018; ×1000): mean over t of Σ M·‖V_t −
  warp(V_(t−1))‖² / Σ M with V in 0–1, the flow estimated (DIS) between the input
  frames and M its occlusion mask (`neuralstyle.core.flow.reliability`);
* **style distance** and **content similarity** (benchmarks/judge.py: statistics
  neither loss optimises) of each frame, against the painting and its own photo:
  the look must not wash out to lower the error;
* **s per frame**: the whole clip's wall time ÷ frames (model and step built once
  per clip in both, as the CLI does).

`--gif FILE` writes the first clip, first painting, frame by frame beside the
temporal loss, as a looping GIF (the docs' picture). Skips, saying so, where
../shared/images is missing. `--out FILE` also writes the table under a header.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests")]
import judge  # noqa: E402
from masks import Table, header, image_path  # noqa: E402  (one header and table format for the benchmarks)
from sample_clips import pan, zoom  # noqa: E402

CLIPS = ("pan:tubingen", "zoom:golden_gate")
STYLES = ("starry_night", "the_scream")
FRAMES = 8
SIZE = 128
ITERATIONS = 100
PAN_STEP = 2.0  # px a frame
ZOOM = 1.02  # magnification a frame
METHODS = ("frame by frame", "warped start", "temporal loss")


def make_clip(kind: str, path: Path, frames: int, size: int):
    """A clip of `frames` frames of `size` px (4:3) with its true flows t → t-1."""
    width, height = size, round(size * 3 / 4)
    return pan(path, width, height, frames, PAN_STEP) if kind == "pan" else zoom(path, width, height, frames, ZOOM)


def temporal_error(outputs, flows) -> float:
    from neuralstyle.core.flow import temporal_error as error

    return float(np.mean([error(outputs[t], outputs[t - 1], flows[t - 1]) for t in range(1, len(outputs))]))


def warping_error(outputs, frames) -> float:
    """Lai et al.'s E_warp (×1000): flow and occlusions estimated from the input frames."""
    from neuralstyle.core.flow import optical_flow, reliability, warp

    errors = []
    for t in range(1, len(outputs)):
        backward, forward = optical_flow(frames[t], frames[t - 1]), optical_flow(frames[t - 1], frames[t])
        mask = reliability(backward, forward)
        difference = np.square(outputs[t] / 255.0 - warp(outputs[t - 1], backward) / 255.0).sum(axis=-1)
        errors.append(float(np.sum(mask * difference) / max(np.sum(mask), 1.0)))
    return 1000 * float(np.mean(errors))


def paint(method: str, frames, painting, size: int, iterations: int) -> tuple[list[np.ndarray], float]:
    from neuralstyle.core.synthesis import transfer
    from neuralstyle.core.video import stylise_clip

    common = dict(size=size, iterations=iterations)
    started = time.perf_counter()
    if method == "frame by frame":
        outputs = [transfer(frame, painting, **common).image for frame in frames]
    else:
        outputs = stylise_clip(frames, painting, **common, **({"temporal_weight": 0.0} if method == "warped start"
                                                              else {}))
    return outputs, (time.perf_counter() - started) / len(frames)


def side_by_side_gif(left, right, path: Path, fps: float = 8.0) -> None:
    from neuralstyle.jobs.frames import make_gif

    gap = np.full((left[0].shape[0], 4, 3), 255, np.uint8)
    frames = [np.concatenate([a, gap, b], axis=1) for a, b in zip(left, right)]
    frames = [np.kron(frame, np.ones((2, 2, 1), np.uint8)) for frame in frames]  # twice the size, pixels kept
    path.write_bytes(make_gif(frames, duration_ms=round(1000 / fps), hold_last_ms=round(1000 / fps)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", default=",".join(CLIPS), help="KIND:PHOTO, comma-separated; KIND pan or zoom")
    parser.add_argument("--styles", default=",".join(STYLES), help="paintings, comma-separated")
    parser.add_argument("--frames", type=int, default=FRAMES, help=f"per clip ({FRAMES})")
    parser.add_argument("--size", type=int, default=SIZE, help=f"px, longest side ({SIZE})")
    parser.add_argument("--iterations", type=int, default=ITERATIONS, help=f"per frame ({ITERATIONS})")
    parser.add_argument("--images", type=Path, default=SHARED, help="the stills' folder (../shared/images)")
    parser.add_argument("--gif", type=Path, default=None, help="write the first clip's GIF here")
    parser.add_argument("--out", type=Path, default=None, help="also write the table to this .md file")
    args = parser.parse_args()
    if not args.images.is_dir():
        print(f"video.py: skipped: {args.images} is missing (the stills of ../shared/images; give another folder "
              f"with --images)", file=sys.stderr)
        return
    from PIL import Image

    command = " ".join([".venv/bin/python benchmarks/video.py", *map(shlex.quote, sys.argv[1:])])
    first = header(command)
    print(first, flush=True)
    table = Table(f"{args.frames} frames of {args.size} px, {args.iterations} L-BFGS iterations a frame; means over "
                  f"the clip", ("clip", "painting", "method", "temporal error (0–255)", "warping error (×1000)",
                                "style distance", "content similarity", "s per frame"))
    ratios = Table("Temporal loss against frame by frame, same clip and painting (done when: error ≤ 0.5, style and "
                   "content within 0.05, time ≤ 1.3)",
                   ("clip", "painting", "temporal error ÷", "style distance −", "content similarity −", "time ÷"))
    for clip_number, item in enumerate(part.strip() for part in args.clips.split(",") if part.strip()):
        kind, photo = item.split(":")
        frames, flows = make_clip(kind, image_path(args.images, photo), args.frames, args.size)
        for style_number, style in enumerate(part.strip() for part in args.styles.split(",") if part.strip()):
            painting = Image.open(image_path(args.images, style)).convert("RGB")
            measured = {}
            for method in METHODS:
                print(f"{kind} over {photo} × {style}: {method}", file=sys.stderr, flush=True)
                outputs, seconds = paint(method, frames, painting, args.size, args.iterations)
                verdicts = [judge.judge(output, frame, painting) for output, frame in zip(outputs, frames)]
                measured[method] = (temporal_error(outputs, flows), warping_error(outputs, frames),
                                    float(np.mean([v.style_distance for v in verdicts])),
                                    float(np.mean([v.content_similarity for v in verdicts])), seconds, outputs)
                error, warped, style_distance, content, seconds, _ = measured[method]
                table.rows.append((f"{kind} over {photo}", style, method, f"{error:.2f}", f"{warped:.2f}",
                                   f"{style_distance:.4f}", f"{content:.4f}", f"{seconds:.1f}"))
            base, held = measured["frame by frame"], measured["temporal loss"]
            ratios.rows.append((f"{kind} over {photo}", style, f"{held[0] / base[0]:.2f}", f"{held[2] - base[2]:+.4f}",
                                f"{held[3] - base[3]:+.4f}", f"{held[4] / base[4]:.2f}"))
            if args.gif is not None and clip_number == 0 and style_number == 0:
                side_by_side_gif(base[5], held[5], args.gif)
            print("\n".join(table.lines() + ratios.lines()), flush=True)
    if args.out is not None:
        args.out.write_text("\n".join([first, "", *table.lines(), *ratios.lines()]))


if __name__ == "__main__":
    main()
