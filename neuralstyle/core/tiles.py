"""Exact tiles: where they lie, and the loss and gradient of a whole image computed
tile by tile.

The geometry needs no Keras (the memory plan uses it before TensorFlow loads);
Keras is imported when a tiled evaluation is first built.

An image too large for one VGG pass is cut into *cores* that partition it, each
read through a *window*: the core plus a margin (the halo) on every side that
is not the image's own border. A feature of the deepest layer used depends on
the pixels within its receptive field only; with a halo at least that radius,
every feature at a core position comes out of the window exactly as it comes
out of the whole image (the window's zero padding lies out of its reach). Core
edges and halos are multiples of VGG's pooling grid (16 px after four
poolings), so the pooling windows of a tile line up with the whole image's and
a core's feature positions at every stride are whole numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .layers import conv_layers, deepest

POOLING_GRID = 16  # px: the stride of block5 (four 2x2 poolings)


def receptive_radius(model: str, layers) -> int:
    """How far (px) on either side of its own pixels a feature of the deepest of
    `layers` reads the input: each 3x3 convolution adds one step of its stride,
    each 2x2 pooling one step of its input's stride on one side (VGG19
    block5_conv1: 70 px before, 85 after a 16 px cell, so 70 beyond the cell)."""
    last, radius = deepest(model, layers), 0
    for layer in conv_layers(model):
        radius += layer.stride  # a 3x3 'same' convolution at this stride
        if layer.name == last:
            return radius
    raise AssertionError(last)  # deepest() checked the name


def halo(model: str, layers) -> int:
    """The margin (px) a tile's window keeps around its core: the receptive
    radius of the deepest layer rounded up to the pooling grid."""
    return math.ceil(receptive_radius(model, layers) / POOLING_GRID) * POOLING_GRID


@dataclass(frozen=True)
class Tile:
    """One tile: the core ``[top, bottom) x [left, right)`` it answers for and the
    window ``[window_top, window_bottom) x [window_left, window_right)`` it reads, in px."""

    top: int
    bottom: int
    left: int
    right: int
    window_top: int
    window_bottom: int
    window_left: int
    window_right: int

    @property
    def window_shape(self) -> tuple[int, int]:
        return self.window_bottom - self.window_top, self.window_right - self.window_left

    def core_rows(self, stride: int, height: int) -> tuple[int, int]:
        """The core's feature rows at `stride`, counted from the window's first row."""
        return self._cells(self.top, self.bottom, self.window_top, stride, height)

    def core_columns(self, stride: int, width: int) -> tuple[int, int]:
        return self._cells(self.left, self.right, self.window_left, stride, width)

    @staticmethod
    def _cells(start: int, end: int, window_start: int, stride: int, extent: int) -> tuple[int, int]:
        # A feature map has floor(extent / stride) cells (each pooling floors); the last core takes the rest.
        stop = extent // stride if end == extent else end // stride
        return start // stride - window_start // stride, stop - window_start // stride


def _cuts(extent: int, count: int) -> list[int]:
    """Cut points from 0 to `extent` for `count` parts on the pooling grid: all of
    one size but the last (one compiled pass serves every inner tile)."""
    part = math.ceil(math.ceil(extent / POOLING_GRID) / count) * POOLING_GRID
    return sorted({*(min(extent, index * part) for index in range(count)), extent})


def tile_grid(height: int, width: int, core: int, margin: int) -> list[Tile]:
    """Tiles whose cores (at most `core` px a side, `core` a multiple of the
    pooling grid) partition a `height` x `width` image, each read with `margin`
    px of halo (clipped at the image's border), row by row."""
    if core % POOLING_GRID or core <= 0:
        raise ValueError(f"a tile's core must be a positive multiple of {POOLING_GRID} px, not {core}")
    rows = _cuts(height, math.ceil(height / core))
    columns = _cuts(width, math.ceil(width / core))
    return [
        Tile(top, bottom, left, right, max(0, top - margin), min(height, bottom + margin),
             max(0, left - margin), min(width, right + margin))
        for top, bottom in zip(rows, rows[1:]) for left, right in zip(columns, columns[1:])
        if bottom > top and right > left
    ]


def largest_window(height: int, width: int, core: int, margin: int) -> int:
    """Pixels in the largest window of `tile_grid(height, width, core, margin)`."""
    return max(tile.window_shape[0] * tile.window_shape[1] for tile in tile_grid(height, width, core, margin))

# --- the exact tiled evaluation ----------------------------------------------------------
#
# The content loss is a sum over feature positions and the style loss a
# function of Gram matrices, which are sums over positions too. So one
# evaluation runs in two sweeps over the tiles:
# 
# 1. forward passes only: every style layer's Gram matrix is accumulated from
#    the tiles' cores (float64 on the host); the style loss and its gradient
#    with respect to each Gram matrix, ``dL/dG``, follow;
# 2. a forward and backward pass per tile, with ``dL/dG`` held fixed: the
#    gradient of ``Σ dL/dG ⊙ Fᵀ F`` over the core's features is the style
#    gradient's share of that tile, the core's content loss its share of the
#    content loss; the window's image gradients are added into the whole one.
# 
# Each core's features equal the whole image's (the halo covers the receptive
# field), and the cores partition every feature map, so the result is the
# whole-image loss and gradient up to float32 rounding. Memory is one window's
# VGG pass, whatever the image's size; time is about one more forward pass per
# evaluation, plus the halos (docs: large-prints.md).


class _KerasOps:
    """``keras.ops``, imported on first use: importing the geometry above must not load TensorFlow."""

    def __getattr__(self, name):
        from .backend import keras

        return getattr(keras.ops, name)


ops = _KerasOps()


def _core(features, tile: Tile, stride: int, height: int, width: int):
    top, bottom = tile.core_rows(stride, height)
    left, right = tile.core_columns(stride, width)
    return ops.cast(features[:, top:bottom, left:right, :], "float32")


def _flat(features):
    return ops.reshape(features, (-1, ops.shape(features)[-1]))


def _global_cells(tile: Tile, stride: int, height: int, width: int) -> tuple[slice, slice]:
    """The core's feature cells at `stride` in the whole feature map."""
    top, bottom = tile.core_rows(stride, height)
    left, right = tile.core_columns(stride, width)
    rows, columns = tile.window_top // stride, tile.window_left // stride
    return slice(rows + top, rows + bottom), slice(columns + left, columns + right)


class TiledPasses:
    """Compiled per-window passes of one feature model over one image size.

    `core` is the tiles' core side in px (a multiple of 16); the halo follows
    from the deepest of the model's layers. Images are Caffe tensors
    ``(1, height, width, 3)`` float32."""

    def __init__(self, feature_model, height: int, width: int, core: int):
        self.feature_model = feature_model
        self.height, self.width = int(height), int(width)
        self.strides = {layer.name: layer.stride for layer in conv_layers(feature_model.model_name)}
        self.channels = {layer.name: layer.channels for layer in conv_layers(feature_model.model_name)}
        self.margin = halo(feature_model.model_name, feature_model.layers)
        self.tiles = tile_grid(self.height, self.width, int(core), self.margin)
        self._compiled: dict = {}
        self._guide_crops: dict = {}  # (layer, id(guide), tile) → (the guide, kept alive; its crop)

    def cells(self, layer: str) -> int:
        """Feature positions of `layer` over the whole image."""
        stride = self.strides[layer]
        return (self.height // stride) * (self.width // stride)

    def window(self, image: np.ndarray, tile: Tile) -> np.ndarray:
        return np.ascontiguousarray(image[:, tile.window_top:tile.window_bottom, tile.window_left:tile.window_right])

    def _key(self, kind, tile: Tile, layers) -> tuple:
        return (kind, tuple(layers), tile.window_shape,
                tuple((tile.core_rows(self.strides[layer], self.height),
                       tile.core_columns(self.strides[layer], self.width)) for layer in layers))

    def features(self, image: np.ndarray, gram_layers, feature_layers) -> tuple[dict, dict]:
        """The Gram matrices ``Fᵀ F / (H·W)`` (float64 ``(C, C)``) of `gram_layers`
        and the whole feature maps (float32 ``(1, h, w, C)``) of `feature_layers`,
        assembled from the tiles' forward passes."""
        gram_layers = list(gram_layers)
        grams, maps = self._forward(image, [(layer, None) for layer in gram_layers], list(feature_layers))
        return dict(zip(gram_layers, grams)), maps

    def grams(self, image: np.ndarray, terms) -> list[np.ndarray]:
        """The Gram matrix ``(F·T)ᵀ (F·T) / (h·w)`` (float64 ``(C, C)``) of each term
        ``(layer, guide)``: `guide` weighs the layer's positions (float32 ``(h, w)``
        on its grid; None: all 1), so a layer may come once per region."""
        return self._forward(image, list(terms), [])[0]

    def guide_crop(self, layer: str, guide: np.ndarray, tile: Tile) -> np.ndarray:
        """A tile's core of a guide of `layer`'s grid, as ``(1, h, w, 1)`` float32; cut once
        per guide and tile, not at every evaluation (the guide is kept, so its id stays its own)."""
        key = (layer, id(guide), tile)
        if key not in self._guide_crops:
            cells = _global_cells(tile, self.strides[layer], self.height, self.width)
            self._guide_crops[key] = (guide, np.ascontiguousarray(np.asarray(guide, np.float32)[cells][None, :, :, None]))
        return self._guide_crops[key][1]

    def _forward(self, image: np.ndarray, terms: list, feature_layers: list) -> tuple[list, dict]:
        layers = [layer for layer, _ in terms]
        guided = tuple(index for index, (_, guide) in enumerate(terms) if guide is not None)
        sums = [np.zeros((self.channels[layer],) * 2) for layer in layers]
        maps = {layer: np.zeros((1, self.height // self.strides[layer], self.width // self.strides[layer],
                                 self.channels[layer]), np.float32) for layer in feature_layers}
        for tile in self.tiles:
            key = (*self._key("forward", tile, layers + feature_layers), guided)
            if key not in self._compiled:
                def outputs(features, *guide_crops, tile=tile):
                    crops = dict(zip(guided, guide_crops))
                    cores = {layer: _core(features[layer], tile, self.strides[layer], self.height, self.width)
                             for layer in dict.fromkeys(layers + feature_layers)}
                    values = []
                    for index, layer in enumerate(layers):
                        core = _flat(cores[layer] * crops[index] if index in crops else cores[layer])
                        values.append(ops.matmul(ops.transpose(core), core))
                    return values + [cores[layer] for layer in feature_layers]

                from .steps import forward_step

                self._compiled[key] = forward_step(self.feature_model, outputs)
            crops = [self.guide_crop(terms[index][0], terms[index][1], tile) for index in guided]
            values = self._compiled[key](self.window(image, tile), *crops)
            for index, value in enumerate(values[:len(terms)]):
                sums[index] += value
            for layer, value in zip(feature_layers, values[len(terms):]):
                maps[layer][(0, *_global_cells(tile, self.strides[layer], self.height, self.width))] = value
        return [total / self.cells(layer) for layer, total in zip(layers, sums)], maps

    def crops(self, targets: list[tuple[str, np.ndarray]]) -> list[list[np.ndarray]]:
        """Each tile's share of whole feature maps ``(layer, (1, h, w, C))``, float32,
        cut once per run rather than once per evaluation."""
        return [[np.ascontiguousarray(target[(0, *_global_cells(tile, self.strides[layer], self.height,
                                                                  self.width))][None], np.float32)
                 for layer, target in targets] for tile in self.tiles]

    def gradient(self, image: np.ndarray, style_pulls: list, content: list, crops: list) -> tuple[float, np.ndarray]:
        """The content loss and the image gradient of ``content loss + Σ dL/dG ⊙ G``.

        `style_pulls` holds ``(layer, guide, dL/dG)``: the pull is float32 ``(C,
        C)``, symmetric, on the Gram of the layer's features weighed by `guide`
        (``(h, w)``, or None); `content` holds ``(layer, coefficient, guide)``
        and `crops` each tile's content targets (`crops`, already weighed by
        their guides)."""
        layers = [layer for layer, _, _ in style_pulls]
        style_guided = tuple(index for index, (_, guide, _) in enumerate(style_pulls) if guide is not None)
        content_guided = tuple(index for index, (_, _, guide) in enumerate(content) if guide is not None)
        content_layers = [layer for layer, _, _ in content]
        total_content, gradient = 0.0, np.zeros_like(image)
        # dΣ(P ⊙ FᵀF/N)/dF = 2 F P / N for symmetric P: the matrices each tile multiplies by.
        pulls = [(2.0 / self.cells(layer) * np.asarray(pull, np.float64)).astype(np.float32)
                 for layer, _, pull in style_pulls]
        for tile, tile_targets in zip(self.tiles, crops):
            key = (*self._key("gradient", tile, layers + content_layers), style_guided, content_guided)
            if key not in self._compiled:
                def losses(features, image, *arguments, tile=tile):
                    matrices = arguments[:len(layers)]
                    style_crops = dict(zip(style_guided, arguments[len(layers):len(layers) + len(style_guided)]))
                    rest = arguments[len(layers) + len(style_guided):]
                    targets, content_crops = rest[:len(content)], dict(zip(content_guided, rest[len(content):]))
                    surrogate = ops.zeros((), "float32")
                    for index, (layer, matrix) in enumerate(zip(layers, matrices)):
                        core = _core(features[layer], tile, self.strides[layer], self.height, self.width)
                        core = _flat(core * style_crops[index] if index in style_crops else core)
                        # Its gradient is exactly the core's F·P: the value of this sum is not used.
                        surrogate = surrogate + ops.sum(core * ops.stop_gradient(ops.matmul(core, matrix)))
                    local = ops.zeros((), "float32")
                    for index, ((layer, coefficient, _), target) in enumerate(zip(content, targets)):
                        core = _core(features[layer], tile, self.strides[layer], self.height, self.width)
                        share = int(np.prod(core.shape)) / (self.cells(layer) * self.channels[layer])
                        if index in content_crops:
                            core = core * content_crops[index]
                        local = local + _content_loss(core, target, coefficient * share)
                    return [surrogate + local, local]

                from .steps import gradient_step

                self._compiled[key] = gradient_step(self.feature_model, losses)
            style_crops = [self.guide_crop(style_pulls[index][0], style_pulls[index][1], tile) for index in style_guided]
            content_crops = [self.guide_crop(content[index][0], content[index][2], tile) for index in content_guided]
            parts, window_gradient = self._compiled[key](self.window(image, tile), *pulls, *style_crops, *tile_targets,
                                                         *content_crops)
            total_content += float(parts[1])
            gradient[:, tile.window_top:tile.window_bottom, tile.window_left:tile.window_right] += window_gradient
        return total_content, gradient


def total_variation(image: np.ndarray, weight: float) -> tuple[float, np.ndarray]:
    """`neuralstyle.core.losses.total_variation_loss` times `weight` and its gradient,
    in numpy over the whole ``(1, H, W, 3)`` image (neighbours cross tile borders)."""
    gradient = np.zeros_like(image)
    if not weight:
        return 0.0, gradient
    x = image.astype(np.float64)
    down = x[:, 1:, :-1] - x[:, :-1, :-1]
    right = x[:, :-1, 1:] - x[:, :-1, :-1]
    count = down.size
    loss = weight * float(np.sum(down**2) + np.sum(right**2)) / count
    scale = 2.0 * weight / count
    gradient[:, 1:, :-1] += scale * down
    gradient[:, :-1, 1:] += scale * right
    gradient[:, :-1, :-1] -= scale * (down + right)
    return loss, gradient


class TiledStep:
    """What `Evaluator` calls instead of its whole-image step when tiling:
    ``step(image)`` → ([total, content, style, tv], gradient) for a Caffe
    tensor ``(1, H, W, 3)`` float32, the same numbers as the whole-image step.

    `content` holds ``(layer, target (1, h, w, C), coefficient, guide)``,
    `style` ``(layer, target Gram (C, C), coefficient, guide)`` (coefficients as
    the Evaluator folds them; a guide ``(h, w)`` weighs the layer's positions,
    None: all)."""

    def __init__(self, feature_model, height: int, width: int, core: int, *, content, style, tv_weight: float):
        self.passes = TiledPasses(feature_model, height, width, core)
        self.content = [(layer, float(coefficient), guide) for layer, _, coefficient, guide in content]
        self.content_crops = self.passes.crops(
            [(layer, np.asarray(target) if guide is None else np.asarray(target) * np.asarray(guide)[None, :, :, None])
             for layer, target, _, guide in content])
        self.style = [(layer, np.asarray(gram, np.float64), float(coefficient), guide)
                      for layer, gram, coefficient, guide in style]
        self.tv_weight = float(tv_weight)

    @property
    def tiles(self) -> list[Tile]:
        return self.passes.tiles

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        image = np.asarray(image, np.float32)
        grams = self.passes.grams(image, [(layer, guide) for layer, _, _, guide in self.style])
        style, pulls = 0.0, []
        for (layer, target, coefficient, guide), gram in zip(self.style, grams):
            # losses.style_loss on the host: coefficient · mean((G − A)²), and its dL/dG.
            difference = gram - target
            style += coefficient * float(np.mean(difference**2))
            pulls.append((layer, guide, coefficient * 2.0 * difference / difference.size))
        content, gradient = self.passes.gradient(image, pulls, self.content, self.content_crops)
        tv, tv_gradient = total_variation(image, self.tv_weight)
        return np.array([content + style + tv, content, style, tv]), gradient + tv_gradient


def _content_loss(*arguments):
    from .losses import content_loss

    return content_loss(*arguments)
