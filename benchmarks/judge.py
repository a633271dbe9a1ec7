"""An independent judge of a style transfer's picture, for the time-to-quality benchmark.

Neither neuralstyle nor pastiche optimises what it measures, so a result that
matches its own loss gets no credit here:

* **style distance** (lower is better): the sliced Wasserstein-1 distance
  between the output's and the painting's VGG19 feature distributions (every
  position a sample) at ``STYLE_LAYERS``, none of which either loss reads
  (both use conv1 of each block for style and block4_conv2 for content). Each
  of ``DIRECTIONS`` random unit directions (fixed seed) is compared on
  ``QUANTILES`` quantiles and divided by the painting's spread along it, so
  every layer counts alike; the mean over directions and layers.
* **content similarity** (higher is better, at most 1): the mean cosine
  similarity, position by position, between the output's and the photograph's
  features at ``CONTENT_LAYERS``, again outside both losses.

For the trade-off against every peer (benchmarks/tradeoff.py), `relative_verdict`
reads the layers ``RELATIVE_STYLE_LAYERS`` and ``RELATIVE_CONTENT_LAYERS`` and
divides the output's style distance by the photograph's own (1: no more of the
painting than the photo has; 0: the painting's feature distributions), so
pairs whose photo starts near or far from the painting compare alike. A
result *dominates* a peer's (`dominates`) when its relative style distance is
at most the peer's and its content similarity at least the peer's less
``CONTENT_MARGIN``.

The painting and the photograph are resized to the output's longest side
first, as both tools do. A result is "at least as good" as a reference when
its style distance is at most ``STYLE_TOLERANCE`` × the reference's and its
content similarity at least the reference's less ``CONTENT_TOLERANCE``
(`at_least_as_good`). These constants were fixed before the judge measured
anything.

    .venv/bin/python benchmarks/judge.py OUTPUT CONTENT STYLE   # prints JSON
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

RELATIVE_STYLE_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv4", "block4_conv4")
RELATIVE_CONTENT_LAYERS = ("block3_conv4", "block5_conv2")
CONTENT_MARGIN = 0.02
STYLE_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3")
CONTENT_LAYERS = ("block3_conv2", "block5_conv2")
DIRECTIONS = 128
QUANTILES = 256
SEED = 0
# "At least as good": 1 % on the style distance, 0.005 on the content similarity.
STYLE_TOLERANCE = 1.01
CONTENT_TOLERANCE = 0.005
# One look at every size: a size's two figures within this of the smallest size's (the bound).
LOOK_TOLERANCE = 0.03
# How the two figures move together when only the balance moves: around the default, each doubling of the
# content weight raises the content similarity about 1.5 times as much as the style distance (docs/paper.md's
# strip of content weights, four pairs). (style distance, content similarity), not normalised.
BALANCE_DIRECTION = (1.0, 1.5)


@dataclass(frozen=True)
class Verdict:
    style_distance: float  # ≥ 0, lower is better
    content_similarity: float  # -1..1, higher is better


@lru_cache(maxsize=1)
def _model():
    from neuralstyle.core.model import FeatureModel

    layers = dict.fromkeys([*STYLE_LAYERS, *CONTENT_LAYERS, *RELATIVE_STYLE_LAYERS, *RELATIVE_CONTENT_LAYERS])
    return FeatureModel(list(layers), weights="imagenet-q8")


def features(image) -> dict[str, np.ndarray]:
    """VGG19 ReLU features ``name -> (positions, channels)`` float64 of an RGB image (any input `to_rgb` takes)."""
    from neuralstyle.core.images import preprocess, to_rgb

    outputs = _model()(preprocess(to_rgb(image).rgb))
    return {name: np.asarray(value, dtype=np.float64).reshape(-1, value.shape[-1]) for name, value in outputs.items()}


def sliced_wasserstein(samples: np.ndarray, reference: np.ndarray, seed: int = SEED) -> float:
    """Sliced W1 between two (n, C) sample sets, each direction in units of the reference's spread along it."""
    rng = np.random.default_rng(seed)
    directions = rng.standard_normal((samples.shape[1], DIRECTIONS))
    directions /= np.linalg.norm(directions, axis=0)
    levels = (np.arange(QUANTILES) + 0.5) / QUANTILES
    ours = np.quantile(samples @ directions, levels, axis=0)
    theirs = np.quantile(reference @ directions, levels, axis=0)
    spread = np.maximum((reference @ directions).std(axis=0), 1e-6)
    return float(np.mean(np.abs(ours - theirs).mean(axis=0) / spread))


def judge(output, content, style) -> Verdict:
    """The `Verdict` of `output` (uint8 RGB or PIL) against the photograph `content` and the painting `style`."""
    from neuralstyle.core.images import resize, resize_max_side, to_rgb

    result = to_rgb(output)
    side = max(result.width, result.height)
    photo = resize(to_rgb(content), result.width, result.height)
    painting = resize_max_side(to_rgb(style), side)
    ours, theirs, photo_features = features(result.rgb), features(painting.rgb), features(photo.rgb)
    style_distance = np.mean([sliced_wasserstein(ours[name], theirs[name]) for name in STYLE_LAYERS])
    return Verdict(float(style_distance), _content_similarity(ours, photo_features, CONTENT_LAYERS))


def _content_similarity(ours: dict, photo: dict, layers) -> float:
    similarities = []
    for name in layers:
        a, b = ours[name], photo[name]
        cosine = (a * b).sum(axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
        similarities.append(cosine.mean())
    return float(np.mean(similarities))


@lru_cache(maxsize=8)
def _references(content: str, style: str, width: int, height: int) -> tuple[dict, dict]:
    """The photograph's and the painting's features at an output's size (files, cached per size)."""
    from neuralstyle.core.images import resize, resize_max_side, to_rgb

    photo = resize(to_rgb(content), width, height)
    painting = resize_max_side(to_rgb(style), max(width, height))
    return features(photo.rgb), features(painting.rgb)


def relative_verdict(output, content: str, style: str) -> Verdict:
    """The trade-off benchmark's `Verdict` of `output` (uint8 RGB, PIL or a path) against the photograph
    and painting files: style distance relative to the photo's own (see the module), content similarity."""
    from neuralstyle.core.images import to_rgb

    result = to_rgb(output)
    photo, painting = _references(str(content), str(style), result.width, result.height)
    ours = features(result.rgb)
    distance = np.mean([sliced_wasserstein(ours[name], painting[name]) for name in RELATIVE_STYLE_LAYERS])
    baseline = np.mean([sliced_wasserstein(photo[name], painting[name]) for name in RELATIVE_STYLE_LAYERS])
    return Verdict(float(distance / baseline), _content_similarity(ours, photo, RELATIVE_CONTENT_LAYERS))


@dataclass(frozen=True)
class LookChange:
    """How a picture's figures moved from a reference's (another size of the same run): `style`
    and `content` as they are, and the same move split into `balance`, along BALANCE_DIRECTION
    (> 0: more of the photo and less of the painting, as a larger content weight gives), and
    `quality`, across it (> 0: better on both figures, as no balance gives)."""

    style: float
    content: float
    balance: float
    quality: float

    @property
    def within(self) -> bool:
        """Both figures within LOOK_TOLERANCE of the reference's: the issue's bound."""
        return max(abs(self.style), abs(self.content)) <= LOOK_TOLERANCE


def look_change(verdict: Verdict, reference: Verdict) -> LookChange:
    """`verdict`'s figures against `reference`'s (see `LookChange`)."""
    style = verdict.style_distance - reference.style_distance
    content = verdict.content_similarity - reference.content_similarity
    along = np.array(BALANCE_DIRECTION) / np.hypot(*BALANCE_DIRECTION)
    return LookChange(style, content, float(along @ (style, content)), float(along[0] * content - along[1] * style))


def dominates(candidate: Verdict, peer: Verdict) -> bool:
    """Whether `candidate` has at most the peer's relative style distance and at least its content less CONTENT_MARGIN."""
    return (candidate.style_distance <= peer.style_distance
            and candidate.content_similarity >= peer.content_similarity - CONTENT_MARGIN)


def at_least_as_good(candidate: Verdict, reference: Verdict) -> bool:
    """Whether `candidate` is as good as `reference` on both counts, within the committed tolerances."""
    return (candidate.style_distance <= reference.style_distance * STYLE_TOLERANCE
            and candidate.content_similarity >= reference.content_similarity - CONTENT_TOLERANCE)


if __name__ == "__main__":
    from PIL import Image

    if len(sys.argv) != 4:
        raise SystemExit("usage: judge.py OUTPUT CONTENT STYLE")
    print(json.dumps(asdict(judge(*(Image.open(path) for path in sys.argv[1:])))))
