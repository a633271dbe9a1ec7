"""Where the tiles of an exact tiled evaluation lie (pure Python, no TensorFlow).

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
