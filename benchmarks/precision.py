"""bfloat16 against float32 on this machine: the bare pass, the whole run, and the picture.

    .venv/bin/python benchmarks/precision.py                 # 384 px, 30 iterations, 2 runs each
    .venv/bin/python benchmarks/precision.py --size 256 --iterations 20 --repeats 1

Rows (every ratio within this run, float32 ÷ bfloat16, so > 1 means bfloat16 is faster):
* the Evaluator's step (VGG19 forward and image gradient, losses) at the size,
  median of 5 after the traced first call, in one process per precision;
* a whole `neuralstyle transfer` (process launch to exit), the two precisions in
  alternation `--repeats` times, median ratio;
* the judge's verdict (benchmarks/judge.py) of the two results: style distance
  and content similarity, bfloat16's relative to float32's.
What `--precision auto` picks here is printed with the CPU's flags.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"
CONTENT, STYLE = SHARED / "tubingen.jpg", SHARED / "starry_night.jpg"
PRECISIONS = ("float32", "bfloat16")


def step_seconds(precision: str, size: int) -> float:
    """Median seconds of the Evaluator's step, measured in a fresh process."""
    script = f"""
import json, statistics, sys, time
import numpy as np
from PIL import Image
from neuralstyle.core.synthesis import transfer_evaluator
from neuralstyle.core.images import preprocess, resize_max_side, to_rgb
evaluator = transfer_evaluator(Image.open({str(CONTENT)!r}), Image.open({str(STYLE)!r}), size={size},
                               precision={precision!r})
x = preprocess(resize_max_side(to_rgb(Image.open({str(CONTENT)!r})), {size}).rgb).reshape(-1).astype(np.float64)
evaluator.evaluate(x)
times = []
for step in range(5):
    start = time.perf_counter(); evaluator.evaluate(x + step + 1.0); times.append(time.perf_counter() - start)
print(json.dumps(statistics.median(times)))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def rows(size: int, iterations: int, repeats: int) -> list[tuple]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import judge
    from PIL import Image

    steps = {precision: step_seconds(precision, size) for precision in PRECISIONS}
    seconds = {precision: [] for precision in PRECISIONS}
    with tempfile.TemporaryDirectory() as folder:
        outputs = {precision: Path(folder) / f"{precision}.png" for precision in PRECISIONS}
        for _ in range(repeats):
            for precision in PRECISIONS:
                command = [sys.executable, "-m", "neuralstyle", "transfer", str(CONTENT), str(STYLE), "-o",
                           str(outputs[precision]), "--size", str(size), "--iterations", str(iterations),
                           "--precision", precision, "--quiet", "--overwrite"]
                start = time.perf_counter()
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                seconds[precision].append(time.perf_counter() - start)
        verdicts = {precision: judge.judge(Image.open(path), Image.open(CONTENT), Image.open(STYLE))
                    for precision, path in outputs.items()}
    ratios = [f / b for f, b in zip(seconds["float32"], seconds["bfloat16"])]
    whole = statistics.median(ratios)
    style = verdicts["bfloat16"].style_distance / verdicts["float32"].style_distance - 1
    content = verdicts["bfloat16"].content_similarity / verdicts["float32"].content_similarity - 1
    worst = max(abs(style), abs(content))
    return [
        (f"bfloat16 Evaluator step at {size} px (VGG19 fwd+bwd and losses), float32 ÷ bfloat16",
         f"{steps['float32']:.3f} s ÷ {steps['bfloat16']:.3f} s", f"{steps['float32'] / steps['bfloat16']:.2f}",
         "report", None),
        (f"bfloat16 whole transfer, {iterations} iterations at {size} px, float32 ÷ bfloat16, median of {repeats}",
         f"{statistics.median(seconds['float32']):.1f} s ÷ {statistics.median(seconds['bfloat16']):.1f} s",
         f"{whole:.2f}", "≥ 1.6 where native", whole >= 1.6),
        ("bfloat16's result judged against float32's (benchmarks/judge.py)",
         f"style distance {style:+.1%}, content similarity {content:+.1%}", f"{worst:.3f}", "≤ 0.05", worst <= 0.05),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    from neuralstyle.core.hardware import auto_precision, flags_line

    backend = os.environ.get("KERAS_BACKEND", "tensorflow")  # every run below inherits it
    print(f"CPU flags {flags_line()}; --precision auto picks {auto_precision(None, backend)[0]} here; Keras backend {backend}\n")
    print("| figure | measured | ratio | target | met |")
    print("|---|---|---|---|---|")
    for figure, measured, ratio, target, met in rows(args.size, args.iterations, args.repeats):
        print(f"| {figure} | {measured} | {ratio} | {target} | {'–' if met is None else ('yes' if met else '**no**')} |")


if __name__ == "__main__":
    main()
