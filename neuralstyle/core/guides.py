"""Region guides (Gatys, Ecker, Bethge, Hertzmann and Shechtman, "Controlling
Perceptual Factors in Neural Style Transfer", CVPR 2017): a mask per region,
carried to each layer's feature grid, so that each region's Gram matrix holds
the statistics of its own pixels only.

A mask is a float32 ``(H, W)`` array, 0–1 (1: the region; grey: partial
weight), in the coordinates of the image it belongs to. At a layer of stride
s its guide is the mask on that layer's ``(H // s, W // s)`` grid:

* ``resized`` (default): the mask area-averaged onto the grid;
* ``inside``: the mask first eroded by the layer's receptive radius, so that
  only positions whose receptive field lies within the region count (less
  leaking across a border, at the price of thin regions vanishing in the deep
  layers, whose terms then drop out).

Area normalisation divides a guide by ``sqrt(mean(T²))``: the guided Gram
``(F·T)ᵀ(F·T) / (h·w)`` is then ``Σ T² F Fᵀ / Σ T²``, the average over the
region's own positions, so a small region's Gram is on the scale of its
target's and is not drowned by a large one. Pure numpy and SciPy: no Keras.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from .layers import conv_layers
from .settings import SettingError
from .tiles import receptive_radius

COVERED = 1.0 / 255  # a mask value below this is no coverage (one grey level)


def mask_array(mask) -> np.ndarray:
    """A mask as float32 ``(H, W)`` in 0–1: a PIL image (its luminance; a
    transparent pixel is 0), a 2-D array (``uint8`` 0–255, ``bool``, or float
    0–1), or an ``(H, W, C)`` array (its mean over channels)."""
    if isinstance(mask, Image.Image):
        if mask.mode in ("RGBA", "LA", "PA") or "transparency" in mask.info:
            rgba = np.asarray(mask.convert("RGBA"), np.float32)
            return (rgba[..., :3].mean(axis=2) * rgba[..., 3] / 255.0 / 255.0).astype(np.float32)
        return np.asarray(mask.convert("L"), np.float32) / 255.0
    array = np.asarray(mask)
    if array.ndim == 3:
        array = array[..., :3].mean(axis=2) if array.dtype == np.uint8 else array.mean(axis=2)
    if array.ndim != 2:
        raise ValueError(f"a mask must be a greyscale image (H, W); received shape {np.asarray(mask).shape}")
    if array.dtype == bool:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer):
        return np.clip(array.astype(np.float32) / 255.0, 0.0, 1.0)
    return np.clip(np.nan_to_num(array.astype(np.float32)), 0.0, 1.0)


def resize_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """`mask` area-averaged (down) or bilinearly interpolated (up) to ``width x height``."""
    if mask.shape == (height, width):
        return mask.astype(np.float32)
    smaller = width <= mask.shape[1] and height <= mask.shape[0]
    image = Image.fromarray(np.ascontiguousarray(mask, np.float32), mode="F")
    resized = image.resize((width, height), Image.Resampling.BOX if smaller else Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized, np.float32), 0.0, 1.0)


def layer_guides(mask: np.ndarray, model: str, layers, *, kind: str = "resized",
                 normalise: bool = True) -> dict[str, np.ndarray]:
    """Each of `layers`' guide (float32 ``(h, w)`` on its feature grid) from a
    mask at the optimised image's size ``(H, W)``; see the module's docstring.
    A guide that covers nothing stays all zero (its terms contribute nothing)."""
    height, width = mask.shape
    strides = {layer.name: layer.stride for layer in conv_layers(model)}
    guides = {}
    for layer in layers:
        source = mask
        if kind == "inside":
            from scipy import ndimage  # a fifth of a second to import: only 'inside' guides need it, not every run's checks

            radius = receptive_radius(model, [layer])
            source = ndimage.minimum_filter(mask, size=2 * radius + 1, mode="nearest")
        stride = strides[layer]
        guide = resize_mask(source, max(1, width // stride), max(1, height // stride))
        if normalise:
            scale = float(np.mean(np.square(guide, dtype=np.float64)))
            guide = guide / math.sqrt(scale) if scale > 0 else guide
        guides[layer] = guide.astype(np.float32)
    return guides


def area(mask: np.ndarray) -> float:
    """The share of the image a mask covers, 0–1 (grey counts in part)."""
    return float(np.mean(mask, dtype=np.float64))


def masks_from_regions(regions: np.ndarray, colors) -> list[np.ndarray]:
    """One mask per colour from a colour-coded segmentation map ``(H, W, 3)``
    uint8: 1 where the map has exactly that colour ((r, g, b) 0–255), else 0."""
    regions = np.asarray(regions)[..., :3]
    return [np.all(regions == np.asarray(color, regions.dtype), axis=2).astype(np.float32) for color in colors]


def same_aspect(width: int, height: int, other_width: int, other_height: int) -> bool:
    """Whether two sizes have one aspect ratio, but for rounding (one pixel of either side)."""
    return abs(width * other_height - height * other_width) <= max(width, height, other_width, other_height)


def checked_masks(setting: str, masks, sizes: list[tuple[int, int]], required: bool = False) -> list | None:
    """`masks` as float32 arrays (`mask_array`), one per (width, height) of `sizes`
    (the images they belong to) and in its aspect ratio, each covering something;
    None entries are kept unless `required`; None for no masks at all.
    Raises SettingError naming the mask by its number."""
    if masks is None or (isinstance(masks, (list, tuple)) and not len(masks)):
        return None
    masks = list(masks) if isinstance(masks, (list, tuple)) else [masks]
    if len(masks) != len(sizes):
        raise SettingError(setting, f"{len(masks)} ⟨name⟩ for {len(sizes)} style image(s); give one per style, "
                                    f"in the styles' order")
    checked = []
    for number, (mask, (width, height)) in enumerate(zip(masks, sizes), start=1):
        if mask is None and not required:
            checked.append(None)
            continue
        try:
            array = mask_array(mask)
        except (ValueError, TypeError) as error:
            raise SettingError(setting, f"⟨name⟩ {number}: {error}") from None
        if not same_aspect(array.shape[1], array.shape[0], width, height):
            raise SettingError(setting, f"⟨name⟩ {number} is {array.shape[1]}x{array.shape[0]} px and its image "
                                        f"{width}x{height}: another aspect ratio, so resizing would shift its "
                                        f"regions; give a mask of the image's shape")
        if float(array.max()) < COVERED:
            raise SettingError(setting, f"⟨name⟩ {number} is all black: it covers nothing")
        checked.append(array)
    return checked
