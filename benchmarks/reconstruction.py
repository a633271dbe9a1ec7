"""How fast a content reconstruction converges: PSNR of block1_conv1's reconstruction against iterations.

    .venv/bin/python benchmarks/reconstruction.py                 # 96 px, the photos of ../shared/images and the sample
    .venv/bin/python benchmarks/reconstruction.py --size 128 --layer block1_conv2

Gatys et al.'s Fig. 1: from white noise, the image whose features at one layer
match the photo's. For each photograph and each precision, one run of the
largest iteration count saves a frame at every count asked for; the PSNR (dB,
0–255) of each frame against the photo at the same size is printed. The
default precision of a reconstruction is float32 (`--precision auto` picks it
there); bfloat16's column shows what its 8-bit mantissa costs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"
sys.path.insert(0, str(ROOT / "benchmarks"))
from quality import cpu_flags, git_state  # noqa: E402

COUNTS = (50, 100, 150, 400)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--layer", default="block1_conv1")
    parser.add_argument("--precisions", default="float32,bfloat16")
    arguments = parser.parse_args()

    from neuralstyle import Stylizer
    from neuralstyle.core.experiments import psnr
    from neuralstyle.core.images import resize_max_side, to_rgb, to_uint8

    photos = [ROOT / "neuralstyle" / "data" / "astronaut.jpg",
              *[SHARED / f"{name}.jpg" for name in ("tubingen", "golden_gate") if (SHARED / f"{name}.jpg").exists()]]
    step = COUNTS[0]
    print(f"- {cpu_flags()}\n- {git_state(None)}\n")
    print("| photo | precision | " + " | ".join(f"PSNR at {count}" for count in COUNTS) + " |")
    print("|---|---|" + "---|" * len(COUNTS))
    for precision in arguments.precisions.split(","):
        stylizer = Stylizer(precision=precision)
        for photo in photos:
            reference = to_uint8(resize_max_side(to_rgb(photo), arguments.size).rgb)
            result = stylizer.reconstruct_content(photo, content_layer=arguments.layer, size=arguments.size,
                                                  iterations=max(COUNTS), frames_every=step)
            by_count = {index * step: frame for index, frame in enumerate(result.frames)}
            cells = [f"{psnr(by_count[count], reference):.1f} dB" if count in by_count else "stopped before"
                     for count in COUNTS]
            print(f"| {photo.stem} | {precision} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
