"""Loss and gradient in one pass, and the L-BFGS-B loop that consumes them.

The `Evaluator` runs one forward and one backward pass of VGG per distinct
point, inside a compiled ``tf.function`` (on the GPU when TensorFlow sees
one), and hands scipy float64 values. The losses are ``keras.ops``, so with
``KERAS_BACKEND=torch`` or ``jax`` the same step runs on PyTorch's autograd or
under ``jax.jit(jax.value_and_grad(...))`` instead (see `neuralstyle.core.backend`).
`minimize_lbfgs` makes *one* long run
of SciPy's L-BFGS-B (`neuralstyle.core.lbfgsb`), so the optimiser keeps its curvature
history for the whole run (restarting it every few steps, as several older
tools do, throws that history away).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from . import lbfgsb, settings
from .backend import keras
from .losses import content_loss, style_loss, target_scale, total_variation_loss
from .steps import gradient_step, is_out_of_memory
from .tiles import TiledStep

ops = keras.ops


class NonFiniteLossError(FloatingPointError):
    """The loss or its gradient became NaN or infinite; the run cannot go on.
    Raised by a run after a good start, `result` holds its best image so far
    (a `neuralstyle.core.stages.Result`); None before one."""

    result = None


class DeviceMemoryError(MemoryError):
    """The device ran out of memory in a pass that the memory plan expected to fit."""


@dataclass(frozen=True)
class StyleRegion:
    """One region of a guided transfer (`neuralstyle.core.guides`): its guide on
    each style layer's grid (float32 ``(h, w)``), the target Gram matrix of each
    layer (``(C, C)``), and its weight in the style loss."""

    guides: dict
    grams: dict
    weight: float = 1.0


@dataclass(frozen=True)
class TemporalTarget:
    """A video frame's temporal term (Ruder et al., GCPR 2016, eq. 4): an earlier
    output warped into this frame (float RGB ``(H, W, 3)`` 0–255) and the weight
    of each pixel (float32 ``(H, W)``, 0–1: 0 where the warp is not to be trusted)."""

    image: np.ndarray
    weight: np.ndarray


TEMPORAL_SCALE = 255.0 ** 2  # the temporal loss is a mean square in units of the full 0–255 range


@dataclass(frozen=True)
class LossParts:
    """The weighted parts of the loss at one point (total = content + style + tv + temporal)."""

    total: float
    content: float
    style: float
    tv: float
    temporal: float = 0.0  # a video frame's pull towards the earlier frames warped (`TemporalTarget`)

    def as_dict(self) -> dict:
        return asdict(self)


START = "start"  # a content target that is the features of the first point evaluated


def _is_start(target) -> bool:
    if isinstance(target, str):
        if target != START:
            raise ValueError(f"a content target is an array or {START!r}, not {target!r}")
        return True
    return False


def _content_target(layer: str, target, shape: tuple):
    """`target` as a float32 tensor of `shape` (the layer's features at this size); the batch axis may be left out."""
    target = ops.convert_to_tensor(target, "float32")
    if tuple(target.shape) == shape[1:]:
        return ops.reshape(target, shape)
    if tuple(target.shape) != shape:
        raise ValueError(f"the content target for {layer} has shape {tuple(target.shape)}; "
                         f"{layer} gives {shape} at this size")
    return target


def _guided(*tensors, guide=None):
    """`tensors` (features ``(1, h, w, C)``) weighed per position by `guide` ``(1, h, w, 1)``, where there is one."""
    return tensors if guide is None else tuple(tensor * guide for tensor in tensors)


def style_terms(style_targets: dict, style_regions, style_weight: float, style_layer_weights: dict | None) -> list:
    """The style loss as terms ``(layer, target_gram, coefficient, guide)``: one per
    layer of `style_targets` (guide None) and one per layer of each `StyleRegion`
    (its guide ``(h, w)`` float32). Weights and target scales fold into one
    coefficient per term, so a step does one multiply per layer and no division;
    the layer weights are normalised to sum to 1 over the layers that have targets."""
    style_regions = list(style_regions)
    style_layer_weights = style_layer_weights or {
        layer: 1.0 for layer in dict.fromkeys([*style_targets, *(layer for region in style_regions
                                                                 for layer in region.grams)])}
    layer_weight_sum = sum(style_layer_weights[layer] for layer in style_layer_weights
                           if layer in style_targets or any(layer in region.grams for region in style_regions)) or 1.0
    terms = [(layer, gram, style_weight * style_layer_weights[layer] / layer_weight_sum / target_scale(gram), None)
             for layer, gram in style_targets.items()]
    terms += [(layer, gram, style_weight * region.weight * style_layer_weights[layer] / layer_weight_sum
               / target_scale(gram), np.asarray(region.guides[layer], np.float32))
              for region in style_regions for layer, gram in region.grams.items()
              if region.weight and np.any(region.guides[layer])]
    return terms


class Evaluator:
    """Loss and gradient of one image of fixed size against fixed targets.

    `content_targets` maps a layer to its target features ``(1, h, w, C)``, or
    to `START`: the features of the first point evaluated, taken from that
    evaluation (a run that starts at its content image needs no pass of its own
    for them; not with `tile`). `style_targets` maps a layer to its target Gram
    matrix ``(C, C)``; `style_layer_weights` maps each style layer to its
    relative weight (they are normalised to sum to 1). `style_regions` are
    guided terms (`StyleRegion`) beside or instead of `style_targets`;
    `content_guides` maps a content layer to a guide ``(h, w)`` whose square
    weighs the content loss per position (a content mask). With `tile` (px, a
    multiple of 16) the step runs tile by tile (`neuralstyle.core.tiles`): the same
    loss and gradient in the memory of one tile. Points are flattened Caffe
    tensors of ``height * width * 3`` float64 values (BGR, mean-subtracted,
    0–255 scale).
    """

    def __init__(
        self,
        feature_model,
        height: int,
        width: int,
        *,
        content_targets: dict | None = None,
        style_targets: dict | None = None,
        style_regions=(),
        content_guides: dict | None = None,
        content_weight: float = 1.0,
        style_weight: float = 1.0,
        style_layer_weights: dict | None = None,
        tv_weight: float = 0.0,
        temporal=(),
        temporal_weight: float = 0.0,
        tile: int | None = None,
    ):
        self.shape = (1, int(height), int(width), 3)
        self.tile = tile
        self.feature_model = feature_model
        content_targets = content_targets or {}
        style_targets = style_targets or {}

        self._content_weight = content_weight / max(len(content_targets), 1)
        style = style_terms(style_targets, style_regions, style_weight, style_layer_weights)
        self._content_guides = {layer: np.asarray(guide, np.float32) for layer, guide in (content_guides or {}).items()}
        self._tv_weight = float(tv_weight)
        self._temporal = self._temporal_terms(temporal, temporal_weight)
        self.passes = 0
        self.best_x: np.ndarray | None = None
        self.best: LossParts | None = None
        self.last: LossParts | None = None
        self._last_x: np.ndarray | None = None
        self._last_grad: np.ndarray | None = None
        given = {layer: target for layer, target in content_targets.items() if not _is_start(target)}
        self._from_start = [layer for layer in content_targets if layer not in given]
        if tile is None:
            # The content targets and their coefficients are arguments of the step, so a
            # target taken from the first evaluation changes no compiled graph.
            self._content_layers = list(content_targets)
            shapes = [feature_model.feature_shape(layer, height, width) for layer in self._content_layers]
            self._content_arguments = [
                _content_target(layer, given[layer], shape) if layer in given else np.zeros(shape, np.float32)
                for layer, shape in zip(self._content_layers, shapes)]
            self._content_coefficients = np.array(
                [self._content_weight / target_scale(given[layer]) if layer in given else 0.0
                 for layer in self._content_layers], np.float32)
            self._style = [(layer, ops.convert_to_tensor(gram, "float32"), c,
                            None if guide is None else ops.convert_to_tensor(guide[None, :, :, None], "float32"))
                           for layer, gram, c, guide in style]
            self._content_guide_tensors = {layer: ops.convert_to_tensor(guide[None, :, :, None], "float32")
                                           for layer, guide in self._content_guides.items()}
            self._pass = gradient_step(self.feature_model, self._losses, self.shape,
                                       argument_shapes=[*shapes, (len(shapes),)], outputs=self._from_start)
        else:
            if self._from_start:
                raise ValueError("a tiled Evaluator needs its content targets given")
            content = [(layer, target, self._content_weight / target_scale(target), self._content_guides.get(layer))
                       for layer, target in content_targets.items()]
            self._pass = TiledStep(feature_model, height, width, tile, content=content, style=style,
                                   tv_weight=tv_weight)

    def _temporal_terms(self, temporal, weight: float):
        """The `TemporalTarget`s folded into one weighted centre per element: with
        coefficients ``c_j`` and targets ``t_j`` (flattened Caffe tensors),
        ``Σ_j c_j (x − t_j)² = A (x − m)² + R`` where ``A = Σ c_j``, ``m = Σ c_j t_j / A``
        and ``R = Σ_j c_j (t_j − m)²``, so an evaluation does one pass whatever the
        number of earlier frames. Returns (A, m, R), or None without a temporal term."""
        from .images import preprocess

        height, width = self.shape[1], self.shape[2]
        pairs = []
        for target in temporal:
            if target.image.shape[:2] != (height, width) or target.weight.shape != (height, width):
                raise ValueError(f"a temporal target is {target.image.shape[1]}x{target.image.shape[0]} px with "
                                 f"weights of {target.weight.shape[::-1]}; this image is {width}x{height} px")
            coefficient = np.repeat(np.asarray(target.weight, np.float64)[..., None], 3, axis=-1).reshape(-1)
            coefficient *= float(weight) / (coefficient.size * TEMPORAL_SCALE)
            pairs.append((coefficient, preprocess(np.asarray(target.image, np.float32)).reshape(-1).astype(np.float64)))
        if not weight or not pairs:
            return None
        total = sum(coefficient for coefficient, _ in pairs)
        centre = np.divide(sum(coefficient * image for coefficient, image in pairs), total,
                           out=np.zeros_like(total), where=total > 0)
        rest = float(sum(np.sum(coefficient * np.square(image - centre)) for coefficient, image in pairs))
        return total, centre, rest

    def _temporal_part(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """The temporal loss at the flattened point `x` and its gradient.

        It is a per-pixel square and needs no network: it is computed here, on
        the host in float64 where the gradient arrives for SciPy anyway, and
        added to the network's loss and gradient, the same for whole and tiled
        passes and every backend."""
        total, centre, rest = self._temporal
        difference = x - centre
        return float(np.dot(total, np.square(difference))) + rest, 2.0 * total * difference

    def _losses(self, features, image, *arguments):
        """[total, content, style, tv] (float32 scalars) of `features`, the
        feature model's outputs for `image`, against the content targets and
        coefficients in `arguments`; ``keras.ops`` only, for every backend."""
        targets, coefficients = arguments[:-1], arguments[-1]
        content = sum(
            (content_loss(*_guided(ops.cast(features[layer], "float32"), target,
                                   guide=self._content_guide_tensors.get(layer)), coefficients[index])
             for index, (layer, target) in enumerate(zip(self._content_layers, targets))),
            ops.zeros((), "float32"),
        )
        style = sum(
            (style_loss(*_guided(ops.cast(features[layer], "float32"), guide=guide), gram, coefficient)
             for layer, gram, coefficient, guide in self._style),
            ops.zeros((), "float32"),
        )
        tv = self._tv_weight * total_variation_loss(image) if self._tv_weight else ops.zeros((), "float32")
        return [content + style + tv, content, style, tv]

    @property
    def tiles(self) -> list:
        """The tiles a tiled Evaluator runs (`neuralstyle.core.tiles.Tile`); empty for the whole image."""
        return self._pass.tiles if self.tile is not None else []

    def step(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One pass at `image`, a float32 Caffe tensor of `shape`, neither cached nor
        counted (the first takes the `START` targets): ([total, content, style, tv]
        float32, its gradient like `image`)."""
        if self.tile is not None:
            return self._pass(image)
        parts, gradient, *features = self._pass(image, *self._content_arguments, self._content_coefficients)
        if self._from_start:
            # At its own features the content loss and its gradient are exactly zero, what
            # the zero coefficients gave; from now on the targets are those features.
            for layer, value in zip(self._from_start, features):
                index = self._content_layers.index(layer)
                target = ops.convert_to_numpy(ops.cast(value, "float32"))
                self._content_arguments[index] = ops.convert_to_tensor(target)
                self._content_coefficients[index] = self._content_weight / target_scale(target)
            self._from_start = []
        return parts, gradient

    def evaluate(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Loss and gradient (float64, flattened like `x`) at the point `x`;
        computed once per distinct point, then served from the cache."""
        if self._last_x is not None and np.array_equal(x, self._last_x):
            return self.last.total, self._last_grad
        try:
            parts, gradient = self.step(np.asarray(x, dtype=np.float32).reshape(self.shape))
        except Exception as error:  # the backend's own out-of-memory error, whichever backend it is
            if not is_out_of_memory(error):
                raise
            raise DeviceMemoryError(
                f"the device ran out of memory at evaluation {self.passes + 1} of a "
                f"{self.shape[2]}x{self.shape[1]} px image{' in tiles' if self.tile else ''}; lower --size, or give "
                f"--max-memory less than the device has free so that the run takes exact tiles") from None
        self.passes += 1
        parts = LossParts(*(float(value) for value in parts))
        gradient = gradient.astype(np.float64).reshape(-1)
        if self._temporal is not None:
            temporal, temporal_gradient = self._temporal_part(np.asarray(x, np.float64).reshape(-1))
            parts = replace(parts, total=parts.total + temporal, temporal=temporal)
            gradient += temporal_gradient
        if not (np.isfinite(parts.total) and np.isfinite(gradient).all()):
            raise NonFiniteLossError(
                f"the loss became {parts.total} at evaluation {self.passes} (content {parts.content:.4g}, "
                f"style {parts.style:.4g}, tv {parts.tv:.4g}); lower the weights or start from another --init"
            )
        self._last_x, self._last_grad, self.last = np.array(x, dtype=np.float64), gradient, parts
        if self.best is None or parts.total < self.best.total:
            self.best_x, self.best = self._last_x, parts
        return parts.total, gradient

    def loss_parts(self, rgb: np.ndarray) -> LossParts:
        """The loss parts of an image: float or ``uint8`` RGB ``(H, W, 3)`` 0–255 of this size."""
        from .images import preprocess

        self.evaluate(preprocess(np.asarray(rgb)[..., :3].astype(np.float32)).reshape(-1).astype(np.float64))
        return self.last

    def loss(self, x: np.ndarray) -> float:
        return self.evaluate(x)[0]

    def grads(self, x: np.ndarray) -> np.ndarray:
        return self.evaluate(x)[1]


@dataclass
class Progress:
    """What a per-iteration callback sees. `x` is the current point (a flattened
    Caffe tensor); iteration 0 is the starting image. `image()` gives the
    current image as ``uint8`` RGB(A) when the caller that made this Progress
    knows how to render it (`neuralstyle.core.stages.run_stages` does)."""

    iteration: int
    iterations: int
    evaluations: int
    loss: LossParts
    elapsed: float  # seconds of optimisation so far (a coarse-to-fine run's sizes on one clock)
    x: np.ndarray = field(repr=False)
    render: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    tile: str | None = None  # the tile of a figure this run makes, if any
    scale: int = 0  # which size of a coarse-to-fine run (0: the first)
    scale_iteration: int = 0  # iterations done at that size
    size: tuple[int, int] | None = None  # (width, height) of that size, px

    def image(self) -> np.ndarray:
        if self.render is None:
            raise ValueError("this progress report cannot render its image")
        return self.render(self.x)


@dataclass
class Optimization:
    """How one optimisation ended: its best point `x` (a flattened Caffe tensor) and
    that point's loss parts, with the iterations, evaluations and seconds it took."""

    x: np.ndarray = field(repr=False)
    loss: LossParts
    iterations: int
    evaluations: int
    elapsed: float
    stopped: str | None  # None when every iteration ran; else 'interrupted', 'callback', 'error' or scipy's reason
    history: list[dict]
    error: str | None = None  # what went wrong when stopped == 'error' (a NaN loss, say)
    keyboard_interrupt: bool = False  # Ctrl-C reached the loop itself (no signal guard held it): the caller re-raises


class Convergence:
    """The rule of ``iterations='auto'``: stop once the loss has fallen by less
    than `tolerance` (a fraction of the current loss) per iteration, on average
    over the last `window` iterations, and at least `minimum` iterations ran."""

    def __init__(self, tolerance: float | None = None, window: int | None = None, minimum: int | None = None):
        self.tolerance = settings.AUTO_TOLERANCE if tolerance is None else tolerance
        self.window = settings.AUTO_WINDOW if window is None else window
        self.minimum = max(settings.AUTO_MINIMUM if minimum is None else minimum, self.window)

    def rate(self, losses) -> float:
        """The mean relative fall per iteration over the last `window` of `losses` (iteration 0 first)."""
        return (losses[-1 - self.window] - losses[-1]) / (self.window * abs(losses[-1]) or 1.0)

    def converged(self, losses) -> bool:
        return len(losses) - 1 >= self.minimum and self.rate(losses) < self.tolerance

    def reason(self, losses) -> str:
        return (f"{settings.CONVERGED}: the loss fell {self.rate(losses):.3%} per iteration over the last {self.window}, "
                f"below the {self.tolerance:.2%} of iterations=auto")


class _StopRun(Exception):
    """The callback asked to stop; its argument says why."""


def _optimize(evaluator: Evaluator, x0: np.ndarray, iterations: int, callback, steps,
              convergence: Convergence | None = None) -> Optimization:
    """Shared by the optimisers: reports iteration 0 and every later one to
    `callback`, and turns a stop, Ctrl-C or a NaN into a result holding the best
    point so far; with `convergence`, stops where its rule says the loss has
    stopped falling. `steps(x0, report)` runs the optimiser and returns None, or
    why it ended before `iterations`."""
    start = time.perf_counter()
    history: list[dict] = []
    x0 = np.asarray(x0, dtype=np.float64).reshape(-1)

    def report(iteration: int, x: np.ndarray) -> None:
        loss = evaluator.last
        history.append({"iteration": iteration, **loss.as_dict(), "evaluations": evaluator.passes,
                        "elapsed": round(time.perf_counter() - start, 4)})
        stop = None if callback is None else \
            callback(Progress(iteration, iterations, evaluator.passes, loss, time.perf_counter() - start, x))
        if stop:
            raise _StopRun(stop if isinstance(stop, str) else "callback")
        if convergence is not None and iteration < iterations:
            losses = [entry["total"] for entry in history]
            if convergence.converged(losses):
                raise _StopRun(convergence.reason(losses))

    stopped = error = None
    keyboard_interrupt = False
    try:
        evaluator.evaluate(x0)
        report(0, x0)
        stopped = steps(x0, report) if iterations > 0 else None  # 0 iterations: the start, not a line-search point
    except _StopRun as stop:
        stopped = stop.args[0]
    except KeyboardInterrupt:
        stopped, keyboard_interrupt = "interrupted", True
    except NonFiniteLossError as problem:
        if evaluator.best_x is None:
            raise
        stopped, error = "error", str(problem)
    return Optimization(evaluator.best_x, evaluator.best, max(0, len(history) - 1), evaluator.passes,
                          time.perf_counter() - start, stopped, history, error, keyboard_interrupt)


def minimize_lbfgs(evaluator: Evaluator, x0: np.ndarray, *, iterations: int, bounds=None, callback=None,
                   history_size: int = 10, convergence: Convergence | None = None) -> Optimization:
    """Run up to `iterations` L-BFGS-B iterations from `x0` in one run of the solver.

    `callback(progress)` is called at iteration 0 (the start) and after every
    iteration; returning True (or a string saying why, e.g. 'interrupted') stops the run. Ctrl-C also stops it. Either way
    the best point seen so far is returned, with `stopped` saying why; so it
    is when the loss turns NaN after a good start (`stopped` 'error').
    """

    def steps(x0, report):
        # L-BFGS-B's first step is the raw gradient (its curvature guess starts at
        # the identity). The normalised losses have gradients of ~1e-7 per pixel,
        # a step below float32's resolution, and the search would stall; scaling
        # the objective so the first gradient has unit RMS makes that step about
        # one grey level at any size. The scale changes no minimiser, and the
        # losses reported stay unscaled.
        rms = float(np.sqrt(np.mean(np.square(evaluator.evaluate(x0)[1]))))
        scale = 1.0 / rms if rms > 0 else 1.0

        def scaled(x):
            loss, gradient = evaluator.evaluate(x)
            return loss * scale, gradient * scale

        counter = iter(range(1, iterations + 1))
        low, high = (-np.inf, np.inf) if bounds is None else (bounds[:, 0], bounds[:, 1])
        result = lbfgsb.minimize(
            scaled, x0, low, high, history_size=history_size, max_iterations=iterations,
            # Tolerances at zero: the user asked for a number of iterations, not convergence.
            max_evaluations=max(20, iterations * 4), factr=0.0, pgtol=0.0,
            callback=lambda x: report(next(counter), x),
        )
        return None if result.nit >= iterations else result.message

    return _optimize(evaluator, x0, iterations, callback, steps, convergence)


def minimize_adam(evaluator: Evaluator, x0: np.ndarray, *, iterations: int, learning_rate: float,
                  bounds=None, callback=None, convergence: Convergence | None = None) -> Optimization:
    """Run `iterations` steps of Keras's Adam (one evaluation each) from `x0`,
    clipping to `bounds` after each step; callbacks and stops as `minimize_lbfgs`.
    `learning_rate` is in Caffe pixel units (0–255 scale)."""
    from .backend import keras

    def steps(x0, report):
        point = keras.Variable(x0.astype(np.float32), name="image")
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
        low, high = (None, None) if bounds is None else (bounds[:, 0], bounds[:, 1])
        x = x0
        for iteration in range(1, iterations + 1):
            _, gradient = evaluator.evaluate(x)
            optimizer.apply_gradients([(ops.convert_to_tensor(gradient, "float32"), point)])
            x = point.numpy().astype(np.float64)
            if low is not None:
                x = np.clip(x, low, high)
                point.assign(x.astype(np.float32))
            evaluator.evaluate(x)
            report(iteration, x)
        return None

    return _optimize(evaluator, x0, iterations, callback, steps, convergence)
