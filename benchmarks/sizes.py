"""One look at every size: the default run's two figures at each of its sizes against its 256 px ones.

    .venv/bin/python benchmarks/sizes.py --work /tmp/sizes                        # every pair, up to 1024 px
    .venv/bin/python benchmarks/sizes.py --work /tmp/sizes --size 512 --pairs tubingen:starry_night
    .venv/bin/python benchmarks/sizes.py --work /tmp/sizes --size-factor 1        # balance 'pair' without its size term

The default run at 1024 px is coarse-to-fine: 200 iterations at 256 px, then 100
at 512, then 50 at 1024; at 512 px it is the first two of those stages. So one
run at 1024 px gives each size's default picture: the end of each stage, the
first stage's being the 256 px default run's. Each is judged by
benchmarks/judge.py `relative_verdict` at its own size (style distance relative
to the photograph's, content similarity; layers no loss reads), and each size's
two figures are compared with the 256 px ones (the issue's bound: within 0.03),
and the change is split (judge.py `look_change`) into its balance part (the way a
larger content weight moves both figures) and its quality part (across that way:
better on both), which no content weight can undo.
The default balance, 'raw', measures the pair again at each size. `--size-factor`
runs balance 'pair' instead, with `neuralstyle.core.balance.PAIR_SIZE_FACTOR`
replaced (1: no size term; the content weight is the pair's at every size).
`--layer-normalised` tries a lever on the style side under balance 'pair' (measured,
not built): each style layer's weight at each size is scaled by the photo's style
loss on that layer at the first size over its loss at this size, with no size factor. Pictures go to --work;
the table (markdown) to stdout. Timing is not measured here: see tradeoff.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import judge  # noqa: E402
from quality import cpu_flags, git_state, images_of  # noqa: E402
from tradeoff import PAINTINGS, PHOTOS  # noqa: E402


def layer_normalised(photo) -> None:
    """Make every later Evaluator weigh each style layer by how far `photo` (an `RGBImage`) starts
    from that layer's target at the first size the Evaluator is made at, over how far at its own size."""
    from neuralstyle.core import stages
    from neuralstyle.core.images import resize
    from neuralstyle.core.losses import host_style_loss, target_scale
    from neuralstyle.core.targets import image_features

    original, first = stages.Evaluator, {}

    def evaluator(feature_model, height, width, **options):
        features = image_features(feature_model, resize(photo, width, height).rgb)
        losses = {layer: host_style_loss(features, [(layer, gram, 1 / target_scale(gram), None)])
                  for layer, gram in options["style_targets"].items()}
        first.setdefault("losses", losses)
        given = options["style_layer_weights"]
        weights = {layer: given[layer] * first["losses"][layer] / losses[layer] for layer in losses}
        # The Evaluator normalises the layer weights to sum 1: their overall change goes in the style weight.
        options["style_weight"] *= sum(weights.values()) / sum(given[layer] for layer in losses)
        return original(feature_model, height, width, **{**options, "style_layer_weights": weights})

    stages.Evaluator = evaluator


def stage_pictures(pair: str, size: int, normalised: bool = False, **options) -> tuple[dict[int, np.ndarray], dict]:
    """The default run's picture (with `options` for `transfer`) at the end of each of its sizes (longest side
    px -> uint8 RGB), and its settings."""
    from neuralstyle.core.images import read_image
    from neuralstyle.core.synthesis import transfer

    from neuralstyle.core import stages
    from neuralstyle.core.images import to_rgb

    content, style = images_of(pair)
    latest = {}
    made = stages.Evaluator
    if normalised:
        layer_normalised(to_rgb(read_image(content)))

    def keep_latest(progress):  # each size's latest point; its picture is drawn once the size is over
        latest[progress.scale] = (progress.render, np.array(progress.x, copy=True))

    try:
        result = transfer(read_image(content), read_image(style), size=size, callback=keep_latest, **options)
    finally:
        stages.Evaluator = made
    pictures = {}
    for scale, (render, x) in sorted(latest.items()):
        picture = np.asarray(result.image) if scale == max(latest) else np.asarray(render(x))
        pictures[max(picture.shape[:2])] = picture[..., :3]
    return pictures, result.settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="where the pictures go")
    parser.add_argument("--size", type=int, default=1024, help="the largest size (px): 512 or 1024")
    parser.add_argument("--pairs", default=",".join(f"{p}:{q}" for p in PHOTOS for q in PAINTINGS),
                        help="photograph:painting,… from ../shared/images")
    lever = parser.add_mutually_exclusive_group()
    lever.add_argument("--size-factor", type=float, default=None,
                        help="run balance 'pair' with this content factor at the finer sizes")
    lever.add_argument("--layer-normalised", action="store_true",
                        help="balance 'pair', each style layer weighed by the photo's loss at the first size over "
                             "this size's; no size factor")
    arguments = parser.parse_args()
    from PIL import Image

    from neuralstyle.core import balance

    options = {}
    if arguments.size_factor is not None or arguments.layer_normalised:
        balance.PAIR_SIZE_FACTOR = 1.0 if arguments.layer_normalised else arguments.size_factor
        options = {"balance": "pair"}
    arguments.work.mkdir(parents=True, exist_ok=True)
    print(f"- {cpu_flags()}\n- {git_state(None)}\n- balance: "
          f"{'pair, size factor ' + str(balance.PAIR_SIZE_FACTOR) if options else 'the default, measured at each size'}"
          f"{'; style layers normalised per size' if arguments.layer_normalised else ''}\n")
    rows, within = [], []
    for pair in arguments.pairs.split(","):
        content, style = images_of(pair)
        pictures, run_settings = stage_pictures(pair, arguments.size, arguments.layer_normalised, **options)
        figures = {}
        for side, picture in pictures.items():
            Image.fromarray(picture).save(arguments.work / f"{content.stem}_{style.stem}_{side}.png")
            figures[side] = judge.relative_verdict(picture, content, style)
        smallest = figures[min(figures)]
        cells = []
        for side in sorted(figures):
            verdict = figures[side]
            change = judge.look_change(verdict, smallest)
            if side != min(figures):
                within.append(change)
            cells.append(f"{verdict.style_distance:.3f} / {verdict.content_similarity:.3f}"
                         + ("" if side == min(figures) else f" ({change.style:+.3f} / {change.content:+.3f}"
                                                             f"{'' if change.within else ' !'}; balance "
                                                             f"{change.balance:+.3f}, quality {change.quality:+.3f})"))
        weights = ", ".join(f"{weight:.1f}" for weight in run_settings.get("content_weights", []))
        rows.append(f"| {pair} | {weights} | " + " | ".join(cells) + " |")
        print(rows[-1], file=sys.stderr, flush=True)
    sides = sorted(figures)
    print("| pair | content weight per size | " + " | ".join(f"{side} px: style / content" for side in sides) + " |")
    print("|---|---|" + "---|" * len(sides))
    print("\n".join(rows))
    tolerance = judge.LOOK_TOLERANCE
    print(f"\nWithin {tolerance} of the smallest size on both figures: {sum(change.within for change in within)} of "
          f"{len(within)} (a '!' marks the others). The balance part of the change within {tolerance}: "
          f"{sum(abs(change.balance) <= tolerance for change in within)} of {len(within)} (balance: along the way "
          "a larger content weight moves both figures; quality: across it, > 0 better on both).")


if __name__ == "__main__":
    main()
