"""Seconds per Evaluator call against one bare VGG19 forward+backward pass.

The bare pass is the truncated feature model (block1_conv1 … block5_conv1 and
block4_conv2, the default transfer layers) under a GradientTape in a
tf.function, with a trivial loss: the floor that no style transfer step can
go under. The Evaluator adds the Gram matrices, the losses and the float64
copies for scipy. Their ratio is the Evaluator's overhead (target ≤ 1.10).
The two are called in alternation, so that drifts in the machine's speed hit
both; the ratio is the median of the per-pair ratios.

    .venv/bin/python benchmarks/evaluator_overhead.py [--sizes 256 512] [--repeats 5]

Reads ../shared/images (Tübingen, The Starry Night); prints a Markdown table.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from neuralstyle.core import images, settings
from neuralstyle.core.backend import describe_device, keras, tf
from neuralstyle.core.evaluator import Evaluator
from neuralstyle.core.model import FeatureModel
from neuralstyle.core.targets import blended_style_grams, image_features

SHARED = Path(__file__).resolve().parents[2] / "shared" / "images"


def alternated_seconds(first, second, repeats: int) -> tuple[float, float, float]:
    """Median seconds of `first` and of `second`, called in alternation after a
    warm-up call each, and the median of the ratios second ÷ first of each pair."""
    first(0), second(0)  # trace and warm up
    pairs = []
    for repeat in range(1, repeats + 1):
        seconds = []
        for function in (first, second):
            start = time.perf_counter()
            function(repeat)
            seconds.append(time.perf_counter() - start)
        pairs.append(seconds)
    return (statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs),
            statistics.median(b / a for a, b in pairs))


def measure(feature_model: FeatureModel, content: images.RGBImage, style: images.RGBImage, repeats: int):
    height, width = content.height, content.width
    caffe = images.preprocess(content.rgb)

    @tf.function(input_signature=[tf.TensorSpec(caffe.shape, tf.float32)])
    def bare_pass(image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            outputs = feature_model(image)
            total = tf.add_n([tf.reduce_mean(output) for output in outputs.values()])
        return total, tape.gradient(total, image)

    def bare(repeat):
        _, gradient = bare_pass(caffe + repeat)
        gradient.numpy()

    evaluator = Evaluator(
        feature_model, height, width,
        content_targets={settings.CONTENT_LAYER: image_features(feature_model, content.rgb)[settings.CONTENT_LAYER]},
        style_targets=blended_style_grams(feature_model, [style], [1.0], settings.STYLE_LAYERS),
        style_weight=settings.STYLE_WEIGHT, tv_weight=settings.TV_WEIGHT,
    )
    x = caffe.astype(np.float64).reshape(-1)
    return alternated_seconds(bare, lambda repeat: evaluator.evaluate(x + repeat), repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    feature_model = FeatureModel([settings.CONTENT_LAYER, *settings.STYLE_LAYERS], weights="imagenet-q8")
    content = images.to_rgb(images.read_image(SHARED / "tubingen.jpg"))
    style = images.to_rgb(images.read_image(SHARED / "starry_night.jpg"))
    print(f"device: {describe_device()}; python {platform.python_version()}, tensorflow {tf.__version__}, "
          f"keras {keras.__version__}; median of {args.repeats} alternated calls\n")
    print("| size (px) | bare fwd+bwd (s) | Evaluator call (s) | ratio | target |")
    print("|---|---|---|---|---|")
    for size in args.sizes:
        sized_content = images.resize_max_side(content, size)
        sized_style = images.resize_max_side(style, size)
        bare, evaluator, ratio = measure(feature_model, sized_content, sized_style, args.repeats)
        print(f"| {sized_content.width}x{sized_content.height} | {bare:.3f} | {evaluator:.3f} | "
              f"{ratio:.2f} | ≤ 1.10 |", flush=True)


if __name__ == "__main__":
    main()
