"""The three entry points: content reconstruction, style reconstruction, transfer.

Each takes images as described in `neuralstyle.images` (PIL images or arrays)
and returns a `Result` whose `image` is a ``uint8`` RGB(A) array. Nothing here
reads or writes files or prints: progress goes to the `callback`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import defaults
from .evaluator import Evaluator, Progress, minimize_lbfgs
from .images import RGBImage, caffe_bounds, deprocess, fit_size, preprocess, resize, resize_max_side, to_rgb, to_uint8
from .layers import check_layers, minimum_size
from .losses import gram_matrix
from .model import FeatureModel
from .weights import Weights, resolve_weights

INITS = ("content", "noise", "style")


@dataclass
class Result:
    """What a run made. `image` is ``uint8`` ``(H, W, 3)`` RGB (``(H, W, 4)`` when
    the content image had transparency); `loss` holds the weighted loss parts of
    that image; `history` one entry per iteration (0 = the start); `stopped` is
    None for a complete run, else why it ended early ('interrupted', 'callback',
    'error' with `error` saying what, or the optimiser's message); `frames`
    holds ``uint8`` images when asked for."""

    image: np.ndarray
    loss: dict
    history: list[dict]
    iterations: int
    evaluations: int
    seconds: float
    stopped: str | None
    weights: dict
    settings: dict
    frames: list[np.ndarray] = field(default_factory=list, repr=False)
    error: str | None = None

    @property
    def interrupted(self) -> bool:
        return self.stopped == "interrupted"

    def to_pil(self):
        from .images import to_pil

        return to_pil(self.image)


def _style_layer_weights(style_layers) -> dict[str, float]:
    if isinstance(style_layers, Mapping):
        weights = {str(layer): float(weight) for layer, weight in style_layers.items()}
    elif isinstance(style_layers, str):
        weights = {style_layers: 1.0}
    else:
        weights = {str(layer): 1.0 for layer in style_layers}
    for layer, weight in weights.items():
        if not np.isfinite(weight) or weight < 0:
            raise ValueError(f"style layer weight for {layer} is {weight}; it must be ≥ 0")
    if not any(weights.values()):
        raise ValueError("every style layer weight is 0; at least one must be positive")
    return weights


def _check_weight(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} is {value}; it must be a finite number ≥ 0")
    return value


def _check_size(width: int, height: int, model: str, layers, what: str) -> None:
    needed = minimum_size(model, layers)
    if min(width, height) < needed:
        raise ValueError(
            f"{what} would be {width}x{height} px; the layers used need at least {needed} px on each side "
            f"(raise --size)"
        )


def _noise(seed: int, height: int, width: int) -> np.ndarray:
    """Seeded white noise, float RGB 0–255."""
    return np.random.default_rng(seed).uniform(0.0, 255.0, (height, width, 3)).astype(np.float32)


def _initial_rgb(init, seed: int, height: int, width: int, content: RGBImage | None, style: RGBImage | None):
    if isinstance(init, str):
        if init == "noise":
            return _noise(seed, height, width)
        if init == "content" and content is not None:
            return content.rgb
        if init == "style" and style is not None:
            return resize(style, width, height).rgb
        allowed = [name for name, image in (("content", content), ("noise", True), ("style", style)) if image is not None]
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(allowed)} or give an image")
    return resize(to_rgb(init), width, height).rgb


def _features(feature_model: FeatureModel, rgb: np.ndarray) -> dict[str, np.ndarray]:
    return {name: np.asarray(value) for name, value in feature_model(preprocess(rgb)).items()}


def _style_grams(feature_model, styles: Sequence[RGBImage], blend: Sequence[float], layers) -> dict[str, np.ndarray]:
    """One target Gram per layer: the blend-weighted mean of the styles' Grams.

    Matching the weighted mean has the same gradient as the weighted sum of
    the per-style losses (they differ by a constant), at one style's cost."""
    total = sum(blend)
    grams = {layer: 0.0 for layer in layers}
    for style, weight in zip(styles, blend):
        if weight == 0:
            continue
        features = _features(feature_model, style.rgb)
        for layer in layers:
            grams[layer] = grams[layer] + (weight / total) * np.asarray(gram_matrix(features[layer]))
    return grams


_model_cache: dict = {}


def _feature_model(layers, model: str, weights, pooling: str) -> FeatureModel:
    """A FeatureModel for these layers, reused across calls in one process."""
    resolved = weights if isinstance(weights, Weights) or weights is None else resolve_weights(model, weights)
    key = (tuple(layers), model, None if resolved is None else (resolved.source, resolved.path), pooling)
    if key not in _model_cache:
        _model_cache.clear()  # one model at a time: they hold a few hundred MB
        _model_cache[key] = FeatureModel(layers, model=model, weights=resolved, pooling=pooling)
    return _model_cache[key]


def _run(
    *,
    feature_model: FeatureModel,
    init_rgb: np.ndarray,
    alpha: np.ndarray | None,
    content_targets: dict,
    style_targets: dict,
    style_layer_weights: dict,
    content_weight: float,
    style_weight: float,
    tv_weight: float,
    iterations: int,
    callback: Callable[[Progress], bool | None] | None,
    frames_every: int | None,
    settings: dict,
) -> Result:
    if int(iterations) < 0:
        raise ValueError(f"iterations is {iterations}; it must be ≥ 0")
    height, width = init_rgb.shape[:2]
    evaluator = Evaluator(
        feature_model, height, width, content_targets=content_targets, style_targets=style_targets,
        content_weight=content_weight, style_weight=style_weight, style_layer_weights=style_layer_weights,
        tv_weight=tv_weight,
    )
    frames: list[np.ndarray] = []

    def on_iteration(progress: Progress):
        if frames_every and progress.iteration % frames_every == 0:
            frames.append(to_uint8(deprocess(progress.x.reshape(height, width, 3)), alpha))
        return callback(progress) if callback is not None else None

    started = time.perf_counter()
    outcome = minimize_lbfgs(evaluator, preprocess(init_rgb), iterations=int(iterations),
                             bounds=caffe_bounds(height, width), callback=on_iteration)
    image = to_uint8(deprocess(outcome.x.reshape(height, width, 3)), alpha)
    return Result(
        image=image, loss=outcome.loss.as_dict(), history=outcome.history, iterations=outcome.iterations,
        evaluations=outcome.evaluations, seconds=time.perf_counter() - started, stopped=outcome.stopped,
        weights=feature_model.weights.record() if feature_model.weights else {"source": "random"},
        settings=settings, frames=frames, error=outcome.error,
    )


def transfer(
    content,
    style,
    *,
    content_layer: str = defaults.CONTENT_LAYER,
    style_layers: Sequence[str] | Mapping[str, float] = defaults.STYLE_LAYERS,
    content_weight: float = defaults.CONTENT_WEIGHT,
    style_weight: float = defaults.STYLE_WEIGHT,
    tv_weight: float = defaults.TV_WEIGHT,
    style_blend: Sequence[float] | None = None,
    size: int = defaults.SIZE,
    style_scale: float = defaults.STYLE_SCALE,
    init="content",
    seed: int = defaults.SEED,
    iterations: int = defaults.ITERATIONS,
    model: str = defaults.MODEL,
    weights=defaults.WEIGHTS,
    pooling: str = defaults.POOLING,
    callback: Callable[[Progress], bool | None] | None = None,
    frames_every: int | None = None,
) -> Result:
    """Paint `content` in the style of `style` (one image, or a list blended by
    `style_blend`, default equal).

    The output's longest side is `size` px (content aspect ratio kept); each
    style image is scaled so its longest side is ``size * style_scale``.
    `style_layers` is a list of layer names (equal weights) or a mapping
    ``name -> weight``. `init` is 'content', 'noise', 'style' or an image.
    `callback(progress)` runs at the start and after every iteration; return
    True from it to stop. Ctrl-C stops too; either way the best image so far
    is returned.
    """
    layer_weights = _style_layer_weights(style_layers)
    check_layers(model, [content_layer, *layer_weights])
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise ValueError("no style image given")
    blend = [1.0] * len(styles) if style_blend is None else [float(weight) for weight in style_blend]
    if len(blend) != len(styles):
        raise ValueError(f"{len(blend)} blend weights for {len(styles)} style images; give one per style")
    if any(not np.isfinite(weight) or weight < 0 for weight in blend) or not any(blend):
        raise ValueError(f"style blend weights {blend} must be ≥ 0 and not all 0")
    content_weight = _check_weight("content weight", content_weight)
    style_weight = _check_weight("style weight", style_weight)
    tv_weight = _check_weight("tv weight", tv_weight)
    if not style_scale > 0:
        raise ValueError(f"style scale is {style_scale}; it must be > 0")

    content_image = to_rgb(content)
    width, height = fit_size(content_image.width, content_image.height, int(size))
    _check_size(width, height, model, [content_layer, *layer_weights], "the output")
    content_image = resize(content_image, width, height)
    style_side = max(1, round(int(size) * style_scale))
    style_images = [resize_max_side(to_rgb(image), style_side) for image in styles]
    for image in style_images:
        _check_size(image.width, image.height, model, layer_weights, "a style image")

    feature_model = _feature_model([content_layer, *layer_weights], model, weights, pooling)
    content_targets = {content_layer: _features(feature_model, content_image.rgb)[content_layer]}
    style_targets = _style_grams(feature_model, style_images, blend, layer_weights)
    settings = {
        "mode": "transfer", "content_layer": content_layer, "style_layers": layer_weights,
        "content_weight": content_weight, "style_weight": style_weight, "tv_weight": tv_weight,
        "style_blend": blend, "size": int(size), "style_scale": float(style_scale),
        "init": init if isinstance(init, str) else "image", "seed": int(seed), "iterations": int(iterations),
        "model": model, "pooling": pooling, "output_size": [width, height],
        "style_sizes": [[image.width, image.height] for image in style_images],
    }
    return _run(
        feature_model=feature_model,
        init_rgb=_initial_rgb(init, seed, height, width, content_image, style_images[0]),
        alpha=content_image.alpha, content_targets=content_targets, style_targets=style_targets,
        style_layer_weights=layer_weights, content_weight=content_weight, style_weight=style_weight,
        tv_weight=tv_weight, iterations=iterations, callback=callback, frames_every=frames_every,
        settings=settings,
    )


def reconstruct_content(
    image,
    *,
    content_layer: str = defaults.RECONSTRUCTION_CONTENT_LAYER,
    size: int = defaults.SIZE,
    init=defaults.RECONSTRUCTION_INIT,
    seed: int = defaults.SEED,
    iterations: int = defaults.ITERATIONS,
    tv_weight: float = 0.0,
    model: str = defaults.MODEL,
    weights=defaults.WEIGHTS,
    pooling: str = defaults.POOLING,
    callback: Callable[[Progress], bool | None] | None = None,
    frames_every: int | None = None,
) -> Result:
    """Find an image whose `content_layer` features match those of `image`,
    starting from seeded white noise (Gatys et al. 2016, Fig. 1, top row)."""
    check_layers(model, [content_layer])
    tv_weight = _check_weight("tv weight", tv_weight)
    source = to_rgb(image)
    width, height = fit_size(source.width, source.height, int(size))
    _check_size(width, height, model, [content_layer], "the output")
    source = resize(source, width, height)
    feature_model = _feature_model([content_layer], model, weights, pooling)
    settings = {
        "mode": "content", "content_layer": content_layer, "size": int(size), "tv_weight": tv_weight,
        "init": init if isinstance(init, str) else "image", "seed": int(seed), "iterations": int(iterations),
        "model": model, "pooling": pooling, "output_size": [width, height],
    }
    return _run(
        feature_model=feature_model, init_rgb=_initial_rgb(init, seed, height, width, None, None),
        alpha=source.alpha, content_targets={content_layer: _features(feature_model, source.rgb)[content_layer]},
        style_targets={}, style_layer_weights={}, content_weight=1.0, style_weight=0.0, tv_weight=tv_weight,
        iterations=iterations, callback=callback, frames_every=frames_every, settings=settings,
    )


def reconstruct_style(
    image,
    *,
    style_layers: Sequence[str] | Mapping[str, float] = defaults.STYLE_LAYERS,
    size: int = defaults.SIZE,
    init=defaults.RECONSTRUCTION_INIT,
    seed: int = defaults.SEED,
    iterations: int = defaults.ITERATIONS,
    tv_weight: float = 0.0,
    model: str = defaults.MODEL,
    weights=defaults.WEIGHTS,
    pooling: str = defaults.POOLING,
    callback: Callable[[Progress], bool | None] | None = None,
    frames_every: int | None = None,
) -> Result:
    """Synthesise a texture whose Gram matrices on `style_layers` match those of
    `image`, from seeded white noise (Gatys et al. 2016, Fig. 1, bottom row).
    The output has the style image's aspect ratio, longest side `size` px."""
    layer_weights = _style_layer_weights(style_layers)
    check_layers(model, list(layer_weights))
    tv_weight = _check_weight("tv weight", tv_weight)
    source = resize_max_side(to_rgb(image), int(size))
    _check_size(source.width, source.height, model, layer_weights, "the output")
    feature_model = _feature_model(list(layer_weights), model, weights, pooling)
    settings = {
        "mode": "style", "style_layers": layer_weights, "size": int(size), "tv_weight": tv_weight,
        "init": init if isinstance(init, str) else "image", "seed": int(seed), "iterations": int(iterations),
        "model": model, "pooling": pooling, "output_size": [source.width, source.height],
    }
    return _run(
        feature_model=feature_model,
        init_rgb=_initial_rgb(init, seed, source.height, source.width, None, source),
        alpha=None, content_targets={}, style_targets=_style_grams(feature_model, [source], [1.0], layer_weights),
        style_layer_weights=layer_weights, content_weight=0.0, style_weight=1.0, tv_weight=tv_weight,
        iterations=iterations, callback=callback, frames_every=frames_every, settings=settings,
    )
