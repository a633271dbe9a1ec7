"""Sweeps on Ray against in-process, as a Markdown table: cells per minute and
the cost of the cluster path per cell.

    .venv/bin/python benchmarks/sweep_scaling.py                 # 4 cells at 256 px, 30 iterations each
    .venv/bin/python benchmarks/sweep_scaling.py --cells 8 --iterations 50

Rows 1–4 run the same sweep (the sample photo × painting × `--cells` seeds
with --init noise, so every cell does the same work) whole, as a user runs it:
wall time from the command's start to its end, Ray's start and each worker's
TensorFlow import included. Rows 5–6 measure the overhead per cell: tiny cells
(64 px, 1 iteration) in sweeps of 2 and of 10 cells, for each engine; the
slope (T10 − T2) / 8 is the time per cell, the difference of the slopes the
cluster path's overhead per cell, and what is left at zero cells the fixed
start-up. Needs the cluster extra; uses the test images (tests/sample_images.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from sample_images import SAMPLES  # noqa: E402

PHOTO, PAINTING = SAMPLES / "photo.png", SAMPLES / "painting.png"


def sweep(cells: int, size: int, iterations: int, engine: list[str]) -> float:
    """Wall seconds of one `neuralstyle sweep` of `cells` cells into a new folder."""
    seeds = [argument for seed in range(cells) for argument in ("--seed", str(seed))]
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "neuralstyle", "sweep", str(PHOTO), "--style", str(PAINTING), *seeds,
                   "--init", "noise", "--size", str(size), "--iterations", str(iterations), "-o", folder, "--quiet",
                   *engine]
        started = time.perf_counter()
        subprocess.run(command, check=True, env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
        return time.perf_counter() - started




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=4)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iterations", type=int, default=30)
    arguments = parser.parse_args()
    engines = {
        "in this process (TensorFlow's threads: all cores)": [],
        "Ray local, 1 worker, 1 CPU per cell": ["--ray", "local", "--workers", "1"],
        "Ray local, 2 workers, 1 CPU per cell": ["--ray", "local", "--workers", "2"],
        "Ray local, 1 cell at a time, 2 CPUs per cell": ["--ray", "local", "--workers", "2", "--cpus-per-cell", "2"],
    }
    from neuralstyle.core.hardware import flags_line

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; CPU flags: {flags_line()}")
    print(f"\n| engine | {arguments.cells} cells at {arguments.size} px, {arguments.iterations} iterations | "
          f"cells per minute |\n|---|---|---|")
    for name, engine in engines.items():
        seconds = sweep(arguments.cells, arguments.size, arguments.iterations, engine)
        print(f"| {name} | {seconds:.1f} s | {arguments.cells / seconds * 60:.2f} |", flush=True)
    print("\n| engine | time per cell (64 px, 1 iteration) | fixed start-up |\n|---|---|---|")
    slopes = {}
    for name, engine in (("in this process", []), ("Ray local, 1 worker", ["--ray", "local", "--workers", "1"])):
        small, large = (sweep(count, 64, 1, engine) for count in (2, 10))
        slopes[name] = (large - small) / 8
        print(f"| {name} | {slopes[name]:.2f} s | {small - 2 * slopes[name]:.1f} s |", flush=True)
    print(f"\noverhead of the Ray path per cell: {slopes['Ray local, 1 worker'] - slopes['in this process']:+.2f} s")


if __name__ == "__main__":
    main()
