"""Where to stop: the loss curve of long runs against the independent judge (benchmarks/judge.py).

    .venv/bin/python benchmarks/auto_stop.py                      # 3 pairs at 256 px, 1 at 512 px, 300 iterations
    .venv/bin/python benchmarks/auto_stop.py --sizes 256 --pairs 1 --iterations 120

Each run keeps a frame every `--every` iterations and its loss history. For
each candidate tolerance of the `--iterations auto` rule
(`neuralstyle.core.evaluator.Convergence`: stop when the loss fell by less than
`tolerance` per iteration, relative, over the last `window` iterations) the
table gives the iteration where the rule would stop, and the judge's verdict
of the frame there against the frame at the last iteration: whether it is at
least as good on style and content (`judge.at_least_as_good`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"
PAIRS = [("tubingen.jpg", "starry_night.jpg"), ("golden_gate.jpg", "the_scream.jpg"), ("tubingen.jpg", "shipwreck.jpg")]
TOLERANCES = (3e-3, 2e-3, 1e-3, 5e-4, 2e-4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256,256,256,512", help="one size per pair, in the order of PAIRS")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--precision", default="auto")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import judge
    from PIL import Image

    from neuralstyle.core.evaluator import Convergence
    from neuralstyle.core.hardware import flags_line
    from neuralstyle.core.synthesis import transfer

    print(f"CPU flags {flags_line()}; precision {args.precision}; {args.iterations} iterations, "
          f"a frame every {args.every}\n")
    print("| pair | size | tolerance | stops at | loss there ÷ final | style distance (stop / final) | "
          "content similarity (stop / final) | as good as the final |")
    print("|---|---|---|---|---|---|---|---|")
    sizes = [int(size) for size in args.sizes.split(",")]
    for (content_name, style_name), size in list(zip(PAIRS, sizes))[: args.pairs] + list(zip(PAIRS, sizes))[3:]:
        content, style = Image.open(SHARED / content_name), Image.open(SHARED / style_name)
        started = time.perf_counter()
        result = transfer(content, style, size=size, iterations=args.iterations, frames_every=args.every,
                          precision=args.precision)
        seconds = time.perf_counter() - started
        losses = [entry["total"] for entry in result.history]
        final = judge.judge(result.frames[-1], content, style)
        for tolerance in TOLERANCES:
            rule = Convergence(tolerance)
            stop = next((i for i in range(1, len(losses)) if rule.converged(losses[: i + 1])), len(losses) - 1)
            frame_index = min(-(-stop // args.every), len(result.frames) - 1)  # the first frame at or after the stop
            verdict = judge.judge(result.frames[frame_index], content, style)
            print(f"| {Path(content_name).stem} × {Path(style_name).stem} | {size} | {tolerance:g} | "
                  f"{stop} (frame {frame_index * args.every}) | {losses[stop] / losses[-1]:.3f} | "
                  f"{verdict.style_distance:.4f} / {final.style_distance:.4f} | "
                  f"{verdict.content_similarity:.4f} / {final.content_similarity:.4f} | "
                  f"{'yes' if judge.at_least_as_good(verdict, final) else 'no'} |", flush=True)
        print(f"| ({seconds:.0f} s for {args.iterations} iterations) | | | | | | | |", flush=True)


if __name__ == "__main__":
    main()
