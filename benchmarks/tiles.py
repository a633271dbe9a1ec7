"""Exact tiles: their agreement with the whole image, their price, and the memory they save.

    .venv/bin/python benchmarks/tiles.py                        # everything (about 40 min on 2 cores)
    .venv/bin/python benchmarks/tiles.py --only exact,price     # the quick rows

Rows (every ratio measured within this run):
* exact — at 512 px, float32, for several tile sizes: the tiled loss and
  gradient against the whole image's (relative), and seconds per evaluation
  tiled ÷ whole (the price of exactness); a 20-iteration L-BFGS run tiled
  against whole, pixel differences at iterations 2, 5 and 20, beside a whole
  run whose start was moved by 0.001 grey levels (L-BFGS amplifies any
  rounding difference: that is the yardstick).
* price — seconds per evaluation tiled ÷ whole at 1024 px.
* large — a 2048x1536 coarse-to-fine transfer (512 → 1024 → 2048) with
  --max-memory 6GB: peak resident memory (the process's own ru_maxrss)
  against the cap and the estimate, and seconds per iteration at 2048 px;
  and 4096x3072 for 2 iterations with the default cap: its peak against
  the estimate, and seconds per iteration.
Reads ../shared/images (Tübingen × The Starry Night).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import CONTENT, NEURALSTYLE, STYLE, peak_memory_bytes  # noqa: E402


def seconds_per_evaluation(evaluator, x, repeats: int = 3) -> float:
    evaluator.step(x)  # traces
    start = time.perf_counter()
    for _ in range(repeats):
        evaluator.step(x)
    return (time.perf_counter() - start) / repeats


def start_point(size: int) -> np.ndarray:
    from neuralstyle.core.images import preprocess, read_image, resize_max_side, to_rgb

    rgb = resize_max_side(to_rgb(read_image(CONTENT)), size).rgb
    return preprocess(np.clip(rgb + np.random.default_rng(0).normal(0, 12, rgb.shape), 0, 255))


def exact_rows(tiles=(128, 256, 384)) -> list[tuple]:
    from neuralstyle.core.evaluator import minimize_lbfgs
    from neuralstyle.core.images import caffe_bounds, deprocess, read_image, to_uint8
    from neuralstyle.core.synthesis import transfer_evaluator

    pair = read_image(CONTENT), read_image(STYLE)
    whole = transfer_evaluator(*pair, size=512)
    x = start_point(512)
    parts, gradient = whole.step(x)
    whole_seconds = seconds_per_evaluation(whole, x)
    rows = []
    for tile in tiles:
        tiled = transfer_evaluator(*pair, size=512, tile=tile)
        tiled_parts, tiled_gradient = tiled.step(x)
        loss_error = abs(tiled_parts[0] - parts[0]) / abs(parts[0])
        gradient_error = np.linalg.norm(tiled_gradient - gradient) / np.linalg.norm(gradient)
        ratio = seconds_per_evaluation(tiled, x) / whole_seconds
        rows.append((f"512x384 in {len(tiled.tiles)} tiles of {tile} px: loss, gradient vs whole",
                     f"{loss_error:.1e}, {gradient_error:.1e}", f"{ratio:.2f}× the time",
                     "≤ 1e-5, ≤ 1e-4", loss_error <= 1e-5 and gradient_error <= 1e-4))
    # L-BFGS amplifies any rounding difference; a whole run from a start moved by
    # 0.001 grey levels shows how much, beside the tiled run.
    runs = {}
    for label, tile, nudge in (("whole", None, 0.0), ("tiled", 256, 0.0), ("nudged", None, 1e-3)):
        evaluator = transfer_evaluator(*pair, size=512, tile=tile)
        height, width = evaluator.shape[1:3]
        start = start_point(512) + nudge * np.random.default_rng(1).standard_normal((1, height, width, 3))
        seen = {}

        def keep(progress, seen=seen, height=height, width=width):
            seen[progress.iteration] = to_uint8(deprocess(progress.x.reshape(height, width, 3))).astype(int)

        outcome = minimize_lbfgs(evaluator, start.astype(np.float32), iterations=20,
                                 bounds=caffe_bounds(height, width), callback=keep)
        runs[label] = (seen, outcome.loss.total)
    whole, whole_loss = runs["whole"]
    for iteration in (2, 5, 20):
        tiled = np.abs(runs["tiled"][0][iteration] - whole[iteration])
        nudged = np.abs(runs["nudged"][0][iteration] - whole[iteration])
        rows.append((f"L-BFGS at 512 px, iteration {iteration}: tiles of 256 px vs whole (max, mean pixel difference)",
                     f"{tiled.max()}, {tiled.mean():.3f} grey levels",
                     f"start nudged by 0.001: {nudged.max()}, {nudged.mean():.3f}",
                     "≤ 1" if iteration == 2 else "mean ≤ nudged's",
                     tiled.max() <= 1 if iteration == 2 else tiled.mean() <= nudged.mean()))
    rows.append(("final loss after 20 iterations: tiled, nudged vs whole", f"{runs['tiled'][1] / whole_loss - 1:+.2%}",
                 f"{runs['nudged'][1] / whole_loss - 1:+.2%}", "report", None))
    return rows


def price_rows() -> list[tuple]:
    from neuralstyle.core.images import read_image
    from neuralstyle.core.synthesis import transfer_evaluator

    pair = read_image(CONTENT), read_image(STYLE)
    whole = transfer_evaluator(*pair, size=1024)
    x = start_point(1024)
    whole_seconds = seconds_per_evaluation(whole, x, repeats=2)
    rows = [("1024x768 whole: seconds per evaluation", f"{whole_seconds:.2f} s", "1", "report", None)]
    for tile in (256, 512):
        tiled = transfer_evaluator(*pair, size=1024, tile=tile)
        seconds = seconds_per_evaluation(tiled, x, repeats=2)
        rows.append((f"1024x768 in {len(tiled.tiles)} tiles of {tile} px: seconds per evaluation",
                     f"{seconds:.2f} s", f"{seconds / whole_seconds:.2f}× whole", "report", None))
    return rows


def seconds_per_iteration(record: dict) -> float:
    last = max(entry.get("scale", 0) for entry in record["history"])
    entries = [entry for entry in record["history"] if entry.get("scale", 0) == last]
    return (entries[-1]["elapsed"] - entries[0]["elapsed"]) / max(1, len(entries) - 1)


def large_rows(work: Path) -> list[tuple]:
    from neuralstyle.core.memory import available_bytes

    rows = []
    cases = [("2048x1536 coarse-to-fine 512 → 1024 → 2048, --max-memory 6GB", 2048,
              ["--scales", "512,1024,2048", "--iterations", "10,5,3", "--max-memory", "6GB"], 6e9),
             ("4096x3072, 2 iterations, default cap", 4096, ["--iterations", "2"], None)]
    for label, size, extra, cap in cases:
        out = work / f"large{size}.png"
        command = [*NEURALSTYLE, "transfer", str(CONTENT), str(STYLE), "-o", str(out), "--size", str(size),
                   "--overwrite", *extra]
        dry = __import__("subprocess").run([*command, "--dry-run"], capture_output=True, text=True)
        estimate = float(re.search(r"about ([0-9.]+) GB of memory", dry.stdout + dry.stderr).group(1)) * 1e9
        started = time.perf_counter()
        peak = peak_memory_bytes([*command, "--quiet"])
        wall = time.perf_counter() - started
        record = json.loads(out.with_suffix(".json").read_text())
        tiling = record["settings"]["tiling"][-1]
        rows.append((f"{label}: peak resident memory ({tiling['tiles']} tiles of {tiling['tile']} px at the end)",
                     f"{peak / 1e9:.2f} GB", f"estimate {estimate / 1e9:.2f} GB",
                     f"≤ {cap / 1e9:.0f} GB" if cap else f"≤ free ({(available_bytes() or 0) / 1e9:.0f} GB)",
                     peak <= cap if cap else None))
        rows.append((f"{label}: seconds per iteration at {size} px (wall {wall:.0f} s in all)",
                     f"{seconds_per_iteration(record):.1f} s", "–", "report", None))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="exact,price,large")
    parser.add_argument("--keep", type=Path, help="keep the large runs' images and records in this folder")
    args = parser.parse_args()
    from neuralstyle.core.backend import BACKEND, backend_version, describe_device, keras
    from neuralstyle.core.hardware import flags_line

    print(f"machine: {describe_device()}, {platform.machine()}, flags {flags_line()}; python "
          f"{platform.python_version()}, {BACKEND} {backend_version()}, keras {keras.__version__}; "
          f"command: benchmarks/tiles.py {' '.join(sys.argv[1:])}\n")
    print("| figure | measured | ratio | target | met |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
        sections = {"exact": exact_rows, "price": price_rows, "large": lambda: large_rows(args.keep or Path(folder))}
        for name in args.only.split(","):
            for figure, measured, ratio, target, met in sections[name]():
                verdict = "–" if met is None else ("yes" if met else "**no**")
                print(f"| {figure} | {measured} | {ratio} | {target} | {verdict} |", flush=True)


if __name__ == "__main__":
    main()
