"""What the three entry points share: a run of optimisation stages and what it returns.

A run is one or more `Stage`s (one per size), optimised one after another by
`run_stages`, each starting from the previous result, into one `Result` with one
continuous iteration count and history; `Resume` continues an interrupted run.
Here too are the checks every entry point makes first (`check_run`,
`check_size`), the starts (`initial_rgb`), the feature model kept for the next
call (`cached_feature_model`) and the device an entry point runs on
(`on_device`). Nothing here reads or writes files or prints.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np

from . import settings
from .backend import device_scope, resolve_device, resolve_precision
from .evaluator import Convergence, Evaluator, NonFiniteLossError, Progress, minimize_adam, minimize_lbfgs
from .images import (
    RGBImage,
    caffe_bounds,
    deprocess,
    preprocess,
    resize,
    resize_alpha,
    to_rgb,
    to_uint8,
    to_uint16,
)
from .interrupts import phase_reached
from .layers import minimum_size
from .memory import MemoryPlan, default_budget, plan_memory
from .model import FeatureModel
from .targets import clear_style_grams
from .weights import Weights, resolve_weights


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
    image16: np.ndarray | None = field(default=None, repr=False)  # uint16 0–65535: the image before 8-bit rounding

    @property
    def interrupted(self) -> bool:
        return self.stopped == "interrupted"

    def to_pil(self):
        from .images import to_pil

        return to_pil(self.image)


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: a KeyboardInterrupt, so that the caller's loop stops
    too, carrying the run's best image so far and its history (`result`, a
    `Result` with ``stopped == 'interrupted'``)."""

    def __init__(self, result: Result):
        super().__init__(f"interrupted at iteration {result.iterations}")
        self.result = result


@dataclass
class Resume:
    """Where an interrupted run stood, to continue it: at scale `scale` (index
    into its sizes) after `scale_iterations` of that scale's iterations
    (`iterations` in all, `evaluations` passes), at the point `x` (a flattened
    Caffe tensor of that scale's size), with the `history` so far. The
    optimiser starts afresh there: SciPy keeps L-BFGS-B's curvature pairs (and
    Keras Adam's moments) to itself."""

    scale: int
    scale_iterations: int
    iterations: int
    evaluations: int
    x: np.ndarray = field(repr=False)
    history: list[dict] = field(default_factory=list, repr=False)
    seconds: float = 0.0

    def start_rgb(self, height: int, width: int) -> np.ndarray:
        if self.x.size != height * width * 3:
            raise ValueError(f"the checkpoint's image has {self.x.size // 3} px; this run's scale {self.scale + 1} "
                             f"is {width}x{height}")
        return deprocess(self.x.reshape(height, width, 3))


def check_size(width: int, height: int, model: str, layers, what: str) -> None:
    needed = minimum_size(model, layers)
    if min(width, height) < needed:
        raise ValueError(
            f"{what} would be {width}x{height} px; the layers used need at least {needed} px on each side "
            f"(raise --size)"
        )


NOISE_STD = 40.0  # grey levels


def _noise(seed: int, height: int, width: int) -> np.ndarray:
    """Seeded Gaussian white noise around mid-grey (σ = 40 grey levels), float RGB 0–255.

    Full-range uniform noise starts L-BFGS far from any image, and content
    reconstructions from it end worse (docs: paper.md)."""
    noise = np.random.default_rng(seed).normal(127.5, NOISE_STD, (height, width, 3))
    return np.clip(noise, 0.0, 255.0).astype(np.float32)


def initial_rgb(init, seed: int, height: int, width: int, content: RGBImage | None, style: RGBImage | None):
    if isinstance(init, str) and (init in settings.INITS or not os.path.isfile(init)):  # else the path of an image
        if init == "noise":
            return _noise(seed, height, width)
        if init == "content" and content is not None:
            return content.rgb
        if init == "style" and style is not None:
            return resize(style, width, height).rgb
        allowed = [name for name, given in (("recolored", content is not None and style is not None),
                                            ("content", content is not None), ("noise", True), ("style", style is not None))
                   if given]
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(allowed)} or give an image")
    return resize(to_rgb(init), width, height).rgb


_model_cache: dict = {}


def clear_caches() -> None:
    """Forget the feature model and the style targets kept for the next call (the
    next run builds and compiles its own, as a new process would)."""
    _model_cache.clear()
    clear_style_grams()


def cached_feature_model(layers, model: str, weights, pooling: str, precision: str = "float32",
                         device: str = settings.DEVICE) -> FeatureModel:
    """A FeatureModel for these layers on `device`, reused across calls in one process
    (build it inside that device's `device_scope`, as the entry points do)."""
    resolved = weights if isinstance(weights, Weights) or weights is None else resolve_weights(model, weights)
    precision = resolve_precision(settings.choice("precision", precision, settings.PRECISIONS), device=device)[0]
    key = (tuple(layers), model, None if resolved is None else (resolved.source, resolved.path), pooling, precision,
           device)
    if key not in _model_cache:
        clear_caches()  # one model at a time: they hold a few hundred MB
        _model_cache[key] = FeatureModel(layers, model=model, weights=resolved, pooling=pooling, precision=precision)
    return _model_cache[key]


EntryPoint = TypeVar("EntryPoint", bound=Callable)


def on_device(function: EntryPoint) -> EntryPoint:
    """Run an entry point on the device its ``device`` keyword names ('auto': the first
    GPU the backend sees, else the CPU; `neuralstyle.core.backend.resolve_device`):
    the model is built and every pass runs there. The function receives the
    device as its setting ('cpu', 'gpu:0'), checked. Its signature is kept, for type checkers."""

    @functools.wraps(function)
    def run(*args, device: str = settings.DEVICE, **kwargs):
        resolved = resolve_device(settings.device(device))
        with device_scope(resolved):
            return function(*args, device=resolved.setting, **kwargs)

    return run  # type: ignore[return-value]  (the same parameters, `device` checked on the way)


def _render(height: int, width: int, alpha, finish) -> Callable[[np.ndarray], np.ndarray]:
    """Flattened Caffe tensor of one stage's size → the ``uint8`` image a user sees."""
    alpha = resize_alpha(alpha, width, height)
    return lambda x: to_uint8(finish(deprocess(x.reshape(height, width, 3))), alpha)


def check_run(model: str, iterations, optimizer: str, learning_rate: float, pooling: str, precision: str,
               tv_weight: float, history_size: int) -> float:
    """The settings every entry point shares (`neuralstyle.core.settings`'s checks); returns the TV weight."""
    iteration_plan(iterations, len(iterations) if isinstance(iterations, (list, tuple)) else 1)
    settings.choice("optimizer", optimizer, settings.OPTIMIZERS)
    settings.positive("learning_rate", learning_rate)
    settings.history_size(history_size)
    settings.choice("pooling", pooling, settings.POOLINGS)
    settings.choice("precision", precision, settings.PRECISIONS)
    return settings.non_negative("tv_weight", tv_weight)


@dataclass
class Stage:
    """One optimisation at one size: its targets, start and budget."""

    init_rgb: np.ndarray
    content_targets: dict
    style_targets: dict
    iterations: int
    tile: int | None = None  # px: evaluate in exact tiles of this side (None: whole)
    convergence: Convergence | None = None  # iterations='auto': stop where the loss stops falling
    style_regions: list = field(default_factory=list)  # guided style terms (`StyleRegion`), for masks
    content_guides: dict | None = None  # a content mask's guide on the content layer
    temporal: list = field(default_factory=list)  # a video frame's earlier outputs warped (`TemporalTarget`)
    content_factor: float = 1.0  # times the run's content weight at this size (the balance's, per size)


def iteration_plan(iterations, count: int) -> tuple[list[int], Convergence | None]:
    """The most iterations of each of `count` scales, and the stopping rule of 'auto' (else None)."""
    value = iterations if isinstance(iterations, str) or np.isscalar(iterations) else list(iterations)
    auto = settings.iterations(value, count) == "auto"
    return list(settings.iteration_caps(value, count)), Convergence() if auto else None


def _optimize_stage(feature_model, stage: Stage, *, style_layer_weights, content_weight, style_weight, tv_weight,
                    optimizer, learning_rate, callback, temporal_weight: float = 0.0,
                    history_size: int = settings.HISTORY_SIZE):
    height, width = stage.init_rgb.shape[:2]
    evaluator = Evaluator(
        feature_model, height, width, content_targets=stage.content_targets, style_targets=stage.style_targets,
        style_regions=stage.style_regions, content_guides=stage.content_guides,
        content_weight=content_weight * stage.content_factor,
        style_weight=style_weight, style_layer_weights=style_layer_weights, tv_weight=tv_weight,
        temporal=stage.temporal, temporal_weight=temporal_weight, tile=stage.tile,
    )
    if optimizer == "adam":
        return minimize_adam(evaluator, preprocess(stage.init_rgb), iterations=stage.iterations,
                             learning_rate=float(learning_rate), bounds=caffe_bounds(height, width), callback=callback,
                             convergence=stage.convergence)
    return minimize_lbfgs(evaluator, preprocess(stage.init_rgb), iterations=stage.iterations,
                          bounds=caffe_bounds(height, width), callback=callback, convergence=stage.convergence,
                          history_size=history_size)


def run_stages(
    *,
    feature_model: FeatureModel,
    stages,
    alpha: np.ndarray | None,
    style_layer_weights: dict,
    content_weight: float,
    style_weight: float,
    tv_weight: float,
    optimizer: str,
    learning_rate: float,
    callback: Callable[[Progress], bool | None] | None,
    frames_every: int | None,
    history_size: int = settings.HISTORY_SIZE,
    run_settings: dict,
    finish: Callable[[np.ndarray], np.ndarray] = lambda rgb: rgb,
    resume: Resume | None = None,
    temporal_weight: float = 0.0,
) -> Result:
    """Optimise stage after stage (one per size; each later stage starts from the
    previous result), reporting one continuous iteration count to `callback`.

    `stages` yields `Stage`s (from `resume.scale` on, when resuming); it is
    sent the float RGB result of each stage. `finish` maps the optimised float
    RGB to what the user sees (colour put back)."""
    run_settings = {**run_settings, "precision": feature_model.precision, "optimizer": optimizer,
                    **({"learning_rate": learning_rate} if optimizer == "adam" else {"history_size": history_size})}
    frames: list[np.ndarray] = []
    history: list[dict] = list(resume.history) if resume else []
    started = time.perf_counter() - (resume.seconds if resume else 0.0)
    total_iterations, outcome, rgb = run_settings["total_iterations"], None, None
    first = resume.scale if resume else 0
    done, evaluations = (resume.iterations, resume.evaluations) if resume else (0, 0)
    stage = next(stages)
    for scale in range(first, len(run_settings["scales"])):
        height, width = stage.init_rgb.shape[:2]
        render = _render(height, width, alpha, finish)
        already = resume.scale_iterations if resume and scale == first else 0
        # One clock for the whole run: each stage's optimiser counts from 0, so it goes on from the last entry's.
        clock = history[-1]["elapsed"] if history else 0.0

        def on_iteration(progress: Progress, offset=done, shown=scale == 0 and not resume, render=render,
                         scale=scale, already=already, clock=clock):
            if progress.iteration == 0 and not shown:
                return None  # the previous stage (or the interrupted run) already showed this image
            progress = replace(progress, iteration=offset + progress.iteration, iterations=total_iterations,
                               elapsed=clock + progress.elapsed,
                               evaluations=evaluations + progress.evaluations, render=render, scale=scale,
                               scale_iteration=already + progress.iteration, size=(width, height))
            if frames_every and progress.iteration % frames_every == 0:
                frames.append(progress.image())
            return callback(progress) if callback is not None else None

        phase_reached("first-evaluation")
        outcome = _optimize_stage(feature_model, stage, style_layer_weights=style_layer_weights,
                            content_weight=content_weight, style_weight=style_weight, tv_weight=tv_weight,
                            optimizer=optimizer, learning_rate=learning_rate, history_size=history_size, callback=on_iteration,
                            temporal_weight=temporal_weight)
        history += [{**entry, "iteration": done + entry["iteration"], "evaluations": evaluations + entry["evaluations"],
                     "elapsed": round(clock + entry["elapsed"], 4), "scale": scale}
                    for entry in outcome.history if (scale == 0 and not resume) or entry["iteration"] > 0]
        done += outcome.iterations
        evaluations += outcome.evaluations
        rgb = deprocess(outcome.x.reshape(height, width, 3))
        if outcome.stopped in ("callback", "interrupted", "error") or scale == len(run_settings["scales"]) - 1:
            break
        stage = stages.send(rgb)
    finished = finish(rgb)
    result = Result(
        image=to_uint8(finished, alpha), image16=to_uint16(finished, alpha), loss=outcome.loss.as_dict(), history=history, iterations=done,
        evaluations=evaluations, seconds=time.perf_counter() - started, stopped=outcome.stopped,
        weights=feature_model.weights.record() if feature_model.weights else {"source": "random"},
        settings=run_settings, frames=frames, error=outcome.error,
    )
    if outcome.keyboard_interrupt:
        raise RunInterrupted(result)
    if outcome.error is not None:
        error = NonFiniteLossError(f"{outcome.error}; the error's result holds the best image so far")
        error.result = result
        raise error
    return result


def memory_plan(model, layers, sizes, style_passes, inputs, precision, optimizer, max_memory,
                 history_size: int) -> MemoryPlan:
    """How each size of a run is evaluated (`neuralstyle.core.memory.plan_memory`)."""
    pixels = sum(image.width * image.height for image in inputs)
    try:
        return plan_memory(model, layers, sizes, style_passes, input_pixels=pixels, precision=precision,
                           optimizer=optimizer, budget=default_budget() if max_memory is None else float(max_memory),
                           history_size=history_size)
    except MemoryError as error:
        raise settings.SettingError("max_memory", f"{error}; lower the size or raise ⟨name⟩") from None


def tiling(memory: MemoryPlan) -> list[dict]:
    """The record's account of how each optimised size was evaluated."""
    return [{"size": [item.width, item.height], "tile": item.tile, "tiles": item.tiles, "halo": item.halo}
            for item in memory.outputs]
