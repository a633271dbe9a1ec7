"""Coarse-to-fine against single-scale at equal wall time, at 1024 px.

    .venv/bin/python benchmarks/coarse_to_fine.py                   # 1024 px, scales 512/1024, 40+25 iterations
    .venv/bin/python benchmarks/coarse_to_fine.py --size 512 --iterations 40,40 --save ""
    .venv/bin/python benchmarks/coarse_to_fine.py --content-weight 1.3

Runs Tübingen × The Starry Night coarse-to-fine first (the given iterations
per scale, and --content-weight, default 1) and times it; then a single-scale
run at full size with the default weights that stops when it has used the same
wall time. Both results are then measured with one full-size float32
Evaluator with the default weights (content and style targets at full size),
and a Markdown table is printed, with the single-scale run's losses over its
last iterations (they show how much one iteration more or less moves them).
Coarse-to-fine trades some content for style; a higher content weight for it
moves it back along that trade, so the two can be compared at equal content loss. With --save, both images and the numbers go to
docs/ (coarse_to_fine_1024.jpg, single_scale_1024.jpg, coarse_to_fine_1024.json).
Reads ../shared/images.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--iterations", default="40,25", help="per scale, coarse to fine")
    parser.add_argument("--content-weight", type=float, default=1.0, help="coarse-to-fine run's content weight")
    parser.add_argument("--save", default="docs", help="folder for the images and numbers ('' = none)")
    args = parser.parse_args()
    iterations = [int(count) for count in args.iterations.split(",")]

    from neuralstyle.core import images, settings
    from neuralstyle.core.backend import describe_device
    from neuralstyle.core.synthesis import transfer, transfer_evaluator

    content = images.read_image(SHARED / "tubingen.jpg")
    style = images.read_image(SHARED / "starry_night.jpg")
    transfer(content, style, size=64, iterations=1)  # build the model outside the clock

    start = time.perf_counter()
    coarse = transfer(content, style, size=args.size, scales=len(iterations), iterations=iterations,
                      content_weight=args.content_weight)
    budget = time.perf_counter() - start

    start = time.perf_counter()
    single = transfer(content, style, size=args.size, iterations=10_000,
                      callback=lambda progress: time.perf_counter() - start >= budget)
    single_seconds = time.perf_counter() - start

    # One judge for both: the loss the full-size run optimises, at full size.
    judge = transfer_evaluator(content, style, size=args.size)

    rows = {
        f"coarse-to-fine {'/'.join(str(side) for side in settings.scale_sizes(args.size, len(iterations)))} px, "
        f"{'+'.join(map(str, iterations))} iterations, content weight {args.content_weight:g}": (coarse, budget),
        f"single scale {args.size} px, {single.iterations} iterations": (single, single_seconds),
    }
    print(f"machine: {describe_device()}, {platform.machine()}; command: benchmarks/coarse_to_fine.py "
          f"--size {args.size} --iterations {args.iterations} --content-weight {args.content_weight:g}\n")
    print("| run | wall time | content loss (×content weight) | style loss (×style weight) | total |")
    print("|---|---|---|---|---|")
    record = {"size": args.size, "iterations_per_scale": iterations, "content_weight": args.content_weight, "runs": {}}
    for name, (result, seconds) in rows.items():
        loss = judge.loss_parts(result.image)
        print(f"| {name} | {seconds:.0f} s | {loss.content:.4g} | {loss.style:.4g} | {loss.total:.4g} |")
        record["runs"][name] = {"seconds": round(seconds, 1), "iterations": result.iterations, **loss.as_dict()}
    last = [f"{entry['iteration']}: {entry['content']:.4g} / {entry['style']:.4g}" for entry in single.history[-4:]]
    print(f"\nsingle scale, content / style loss at its last iterations (optimiser's own): {'; '.join(last)}")
    record["single_scale_last_iterations"] = single.history[-4:]
    if args.save:
        folder = ROOT / args.save
        images.save_image(folder / f"coarse_to_fine_{args.size}.jpg", coarse.image)
        images.save_image(folder / f"single_scale_{args.size}.jpg", single.image)
        (folder / f"coarse_to_fine_{args.size}.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
