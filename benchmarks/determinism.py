"""The same run again, in one process: does it make the same image, and the same loss and gradient at every evaluation?

    .venv/bin/python benchmarks/determinism.py                                # 24 runs, 512 px, 8 iterations
    .venv/bin/python benchmarks/determinism.py --grappler-arithmetic          # with TensorFlow's regrouping of sums
    TF_NUM_INTEROP_THREADS=2 .venv/bin/python benchmarks/determinism.py       # two ops side by side

Each run is `transfer(photo, painting, size, scales=1, iterations)`; every
evaluation's input, its loss parts (float32 bits) and its gradient (sha256) are
logged and compared with the first run's. `--grappler-arithmetic` turns
TensorFlow's arithmetic optimiser back on, which `neuralstyle.core.backend`
turns off. The last line holds the first run's image sha256, so that separate
processes can be compared.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"
sys.path.insert(0, str(ROOT / "benchmarks"))
PARTS = ("total", "content", "style", "tv")


def digest(array) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:12]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", default="tubingen.jpg:starry_night.jpg", help="PHOTO:PAINTING in ../shared/images")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--iterations", type=int, default=8)
    parser.add_argument("--runs", type=int, default=24)
    parser.add_argument("--grappler-arithmetic", action="store_true",
                        help="turn TensorFlow's arithmetic optimiser back on")
    args = parser.parse_args()

    from quality import cpu_flags, git_state

    from neuralstyle.core import evaluator
    from neuralstyle.core.backend import tf
    from neuralstyle.core.images import read_image
    from neuralstyle.core.synthesis import transfer

    if args.grappler_arithmetic:
        tf.config.optimizer.set_experimental_options({"arithmetic_optimization": True})
    log: list = []
    step = evaluator.Evaluator.step

    def logged_step(self, image):
        parts, gradient = step(self, image)
        log.append((digest(image), tuple(np.asarray(parts, np.float32).view(np.uint32).tolist()), digest(gradient)))
        return parts, gradient

    evaluator.Evaluator.step = logged_step
    photo_name, painting_name = args.pair.split(":")
    photo, painting = read_image(SHARED / photo_name), read_image(SHARED / painting_name)
    images, logs = [], []
    for _ in range(args.runs):
        log.clear()
        images.append(digest(transfer(photo, painting, size=args.size, scales=1, iterations=args.iterations).image))
        logs.append(list(log))
    first = None
    for index, run in enumerate(logs[1:], 1):
        for evaluation, (ours, theirs) in enumerate(zip(logs[0], run)):
            if ours != theirs:
                parts = [name for name, a, b in zip(PARTS, ours[1], theirs[1]) if a != b]
                first = (f"run {index + 1}, evaluation {evaluation + 1}: same input {ours[0] == theirs[0]}, "
                         f"parts differing {parts or 'none'}, gradient differs {ours[2] != theirs[2]}")
                break
        if first:
            break
    options = tf.config.optimizer.get_experimental_options()
    print(f"- {cpu_flags()}\n- {git_state(None)}\n- {args.pair}, {args.size} px, {args.iterations} iterations; "
          f"arithmetic optimiser {'on' if options.get('arithmetic_optimization', True) else 'off'}, "
          f"inter-op threads {tf.config.threading.get_inter_op_parallelism_threads() or 'TensorFlow default'}\n")
    print("| runs | image like the first run's | every evaluation like the first run's | first difference |")
    print("|---|---|---|---|")
    print(f"| {args.runs} | {sum(image == images[0] for image in images)} | {sum(run == logs[0] for run in logs)} "
          f"| {first or '–'} |")
    print(f"\nfirst run's image: {images[0]}")


if __name__ == "__main__":
    main()
