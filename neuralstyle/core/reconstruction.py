"""The paper's reconstructions (Gatys et al., CVPR 2016, Fig. 1): an image whose
features on one layer match a photo's (`reconstruct_content`), and a texture whose
Gram matrices match a painting's (`reconstruct_style`), each from seeded noise, in
one stage at one size. They take images as `neuralstyle.core.images` describes
and return a `neuralstyle.core.stages.Result`; nothing here reads or writes files or prints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from . import settings
from .backend import resolve_precision
from .evaluator import Progress
from .images import fit_size, resize, resize_max_side, to_rgb
from .interrupts import phase_reached
from .memory import MemoryPlan
from .stages import (
    Result,
    Resume,
    Stage,
    cached_feature_model,
    check_run,
    check_size,
    initial_rgb,
    iteration_plan,
    memory_plan,
    on_device,
    run_stages,
    tiling,
)
from .targets import blended_style_grams, image_features


@on_device
def reconstruct_content(
    image,
    *,
    content_layer: str = settings.RECONSTRUCTION_CONTENT_LAYER,
    size: int = settings.SIZE,
    init=settings.RECONSTRUCTION_INIT,
    seed: int = settings.SEED,
    iterations: int | str = settings.ITERATIONS,
    optimizer: str = settings.OPTIMIZER,
    learning_rate: float = settings.LEARNING_RATE,
    history_size: int = settings.HISTORY_SIZE,
    tv_weight: float = 0.0,
    model: str = settings.MODEL,
    weights=settings.WEIGHTS,
    pooling: str = settings.POOLING,
    precision: str = settings.PRECISION,
    device: str = settings.DEVICE,
    max_memory: float | None = None,
    memory: MemoryPlan | None = None,
    callback: Callable[[Progress], bool | None] | None = None,
    frames_every: int | None = None,
    resume: Resume | None = None,
) -> Result:
    """Find an image whose `content_layer` features match those of `image`,
    starting from seeded white noise (Gatys et al. 2016, Fig. 1, top row)."""
    model = settings.model(model)
    content_layer = settings.layers("content_layer", model, [content_layer])[0]
    tv_weight = check_run(model, iterations, optimizer, learning_rate, pooling, precision, tv_weight, history_size)
    source = to_rgb(image)
    width, height = fit_size(source.width, source.height, int(size))
    check_size(width, height, model, [content_layer], "the output")
    source = resize(source, width, height)
    memory = memory or memory_plan(model, [content_layer], [(width, height)], [], [source], precision, optimizer,
                                    max_memory, history_size)
    phase_reached("model")
    feature_model = cached_feature_model([content_layer], model, weights, pooling,
                                         resolve_precision(precision, "content", device)[0], device)
    phase_reached("targets")
    tile = memory.tile_for(width, height)
    stage = Stage(init_rgb=initial_rgb(init, seed, height, width, None, None),
                   content_targets={content_layer: image_features(feature_model, source.rgb, tile)[content_layer]},
                   style_targets={}, tile=tile, **_single_budget(iterations))
    return _run_reconstruction(
        "content", {"content_layer": content_layer}, feature_model, _resumed(stage, resume), source.alpha, {},
        size=size, init=init, seed=seed, optimizer=optimizer, learning_rate=learning_rate, history_size=history_size, tv_weight=tv_weight,
        model=model, pooling=pooling, callback=callback, frames_every=frames_every, memory=memory, resume=resume,
        device=device)


@on_device
def reconstruct_style(
    image,
    *,
    style_layers: Sequence[str] | Mapping[str, float] = settings.STYLE_LAYERS,
    size: int = settings.SIZE,
    init=settings.RECONSTRUCTION_INIT,
    seed: int = settings.SEED,
    iterations: int | str = settings.ITERATIONS,
    optimizer: str = settings.OPTIMIZER,
    learning_rate: float = settings.LEARNING_RATE,
    history_size: int = settings.HISTORY_SIZE,
    tv_weight: float = 0.0,
    model: str = settings.MODEL,
    weights=settings.WEIGHTS,
    pooling: str = settings.POOLING,
    precision: str = settings.PRECISION,
    device: str = settings.DEVICE,
    max_memory: float | None = None,
    memory: MemoryPlan | None = None,
    callback: Callable[[Progress], bool | None] | None = None,
    frames_every: int | None = None,
    resume: Resume | None = None,
) -> Result:
    """Synthesise a texture whose Gram matrices on `style_layers` match those of
    `image`, from seeded white noise (Gatys et al. 2016, Fig. 1, bottom row).
    The output has the style image's aspect ratio, longest side `size` px."""
    model = settings.model(model)
    layer_weights = settings.style_layers(style_layers, model)
    tv_weight = check_run(model, iterations, optimizer, learning_rate, pooling, precision, tv_weight, history_size)
    source = resize_max_side(to_rgb(image), int(size))
    check_size(source.width, source.height, model, layer_weights, "the output")
    memory = memory or memory_plan(model, list(layer_weights), [(source.width, source.height)], [], [source],
                                    precision, optimizer, max_memory, history_size)
    phase_reached("model")
    feature_model = cached_feature_model(list(layer_weights), model, weights, pooling,
                                         resolve_precision(precision, "style", device)[0], device)
    phase_reached("targets")
    stage = Stage(init_rgb=initial_rgb(init, seed, source.height, source.width, None, source),
                   content_targets={}, style_targets=blended_style_grams(feature_model, [source], [1.0], layer_weights,
                                                                         memory.tile_for),
                   tile=memory.tile_for(source.width, source.height), **_single_budget(iterations))
    return _run_reconstruction(
        "style", {"style_layers": layer_weights}, feature_model, _resumed(stage, resume), None, layer_weights,
        size=size, init=init, seed=seed, optimizer=optimizer, learning_rate=learning_rate, history_size=history_size, tv_weight=tv_weight,
        model=model, pooling=pooling, callback=callback, frames_every=frames_every, memory=memory, resume=resume,
        device=device)


def _single_budget(iterations) -> dict:
    """A single-scale stage's iterations and stopping rule."""
    (count,), convergence = iteration_plan(iterations, 1)
    return {"iterations": count, "convergence": convergence}


def _resumed(stage: Stage, resume: Resume | None) -> Stage:
    """A single-scale run's stage, continued from `resume` where given."""
    if resume is None:
        return stage
    height, width = stage.init_rgb.shape[:2]
    return replace(stage, init_rgb=resume.start_rgb(height, width), iterations=stage.iterations - resume.scale_iterations)


def _run_reconstruction(mode: str, layer_settings: dict, feature_model, stage: Stage, alpha,
                        style_layer_weights: dict, *, size, init, seed, optimizer, learning_rate, history_size,
                        tv_weight, model,
                        pooling, callback, frames_every, memory: MemoryPlan, resume: Resume | None,
                        device: str) -> Result:
    """One single-scale run of content (content weight 1) or style (style weight 1) reconstruction."""
    height, width = stage.init_rgb.shape[:2]
    iterations = stage.iterations + (resume.scale_iterations if resume else 0)
    run_settings = {
        "mode": mode, **layer_settings, "size": int(size), "tv_weight": tv_weight,
        "init": init if isinstance(init, str) else "image", "seed": int(seed),
        "iterations": "auto" if stage.convergence else iterations, "total_iterations": iterations, "model": model, "pooling": pooling, "device": device,
        "scales": [[width, height]], "output_size": [width, height], "tiling": tiling(memory),
    }
    return run_stages(
        feature_model=feature_model, stages=iter([stage]), alpha=alpha, style_layer_weights=style_layer_weights,
        content_weight=1.0 if mode == "content" else 0.0, style_weight=0.0 if mode == "content" else 1.0,
        tv_weight=tv_weight, optimizer=optimizer, learning_rate=learning_rate, history_size=history_size, callback=callback,
        frames_every=frames_every, run_settings=run_settings, resume=resume,
    )
