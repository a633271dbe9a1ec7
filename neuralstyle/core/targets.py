"""What a transfer aims at: the content image's features, the styles' Gram matrices
(blended, or guided by region masks), a content mask's guides, and the balances'
measures: how far the photo starts from the painting ('pair'), the two images'
feature energies ('raw').

Arrays in, arrays out: images are float RGB 0–255 ``(H, W, 3)``; features
``(1, h, w, C)`` and Grams ``(C, C)`` float32. The styles' Grams are kept per model
and image for the next call (`clear_style_grams` forgets them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np

from .backend import keras
from .color import gray, match_color_statistics, matched_luminance
from .evaluator import StyleRegion, style_terms
from .guides import area, layer_guides, resize_mask
from .images import RGBImage, fit_size, preprocess, resize, resize_max_side
from .losses import gram_array, host_style_loss, target_scale
from .model import FeatureModel
from .tiles import TiledPasses

ops = keras.ops

_gram_cache: dict = {}  # (model id, style image sha1, shape) -> Grams per layer


def clear_style_grams() -> None:
    """Forget the styles' Grams kept for the next call."""
    _gram_cache.clear()


def image_features(feature_model: FeatureModel, rgb: np.ndarray, tile: int | None = None) -> dict[str, np.ndarray]:
    """float32 features of a float RGB image (also when the model computes in bfloat16);
    with `tile` (px), assembled from exact tiles in the memory of one."""
    if tile is not None:
        height, width = rgb.shape[:2]
        return TiledPasses(feature_model, height, width, tile).features(preprocess(rgb), [], feature_model.layers)[1]
    return {name: ops.convert_to_numpy(ops.cast(value, "float32")) for name, value in feature_model(preprocess(rgb)).items()}


def _grams(feature_model: FeatureModel, rgb: np.ndarray, tile: int | None) -> dict[str, np.ndarray]:
    if tile is None:
        features = image_features(feature_model, rgb)
        return {layer: gram_array(features[layer]) for layer in feature_model.layers}
    height, width = rgb.shape[:2]
    grams, _ = TiledPasses(feature_model, height, width, tile).features(preprocess(rgb), feature_model.layers, [])
    return {layer: gram.astype(np.float32) for layer, gram in grams.items()}


def blended_style_grams(feature_model, styles: Sequence[RGBImage], blend: Sequence[float], layers,
                        tile_for: Callable[[int, int], int | None] = lambda width, height: None) -> dict[str, np.ndarray]:
    """One target Gram per layer: the blend-weighted mean of the styles' Grams.

    Matching the weighted mean has the same gradient as the weighted sum of
    the per-style losses (they differ by a constant), at one style's cost.
    Each style's Grams are computed once per model and size, so a batch of
    content images, or a figure of several tiles, reuses them; ``tile_for(width,
    height)`` says which sizes to compute in tiles (px; None: whole)."""
    total = sum(blend)
    grams = {layer: 0.0 for layer in layers}
    for style, weight in zip(styles, blend):
        if weight == 0:
            continue
        key = (id(feature_model), hashlib.sha1(style.rgb.tobytes()).hexdigest(), style.rgb.shape)
        if key not in _gram_cache:
            _gram_cache[key] = _grams(feature_model, style.rgb, tile_for(style.width, style.height))
        for layer in layers:
            grams[layer] = grams[layer] + (weight / total) * _gram_cache[key][layer]
    return grams


def measuring_sizes(photo: RGBImage, styles, style_scales, side: int) -> tuple[int, int, list]:
    """Where a balance measures a pair: the photo's size (w, h) with its longest side `side` px, and
    each style resized to ``side * style_scale`` px on its longest side."""
    width, height = fit_size(photo.width, photo.height, side)
    sized_styles = [resize_max_side(image, max(1, round(side * scale))) for image, scale in zip(styles, style_scales)]
    return width, height, sized_styles


def measure_pair_distance(feature_model, photo: RGBImage, styles, style_scales, blend, layer_weights, region_masks,
                          image_masks, guides: str, normalise: bool, side: int, tile_for) -> tuple[float, list | None, dict, tuple]:
    """Balance 'pair''s measure of how far `photo` starts from the painting: its style loss at
    style weight 1, as the run counts it (blend, regions and layer weights), with the photo's
    longest side `side` px and each style's ``side * style_scale``. Returns it with what it made
    on the way: the style regions (None without masks), the photo's features and its size (w, h)."""
    width, height, sized_styles = measuring_sizes(photo, styles, style_scales, side)
    regions = None if region_masks is None else style_regions(
        feature_model, region_masks, image_masks, sized_styles, blend, layer_weights, width, height, guides, normalise,
        tile_for)
    targets = {} if regions is not None else blended_style_grams(feature_model, sized_styles, blend, layer_weights,
                                                                  tile_for)
    features = image_features(feature_model, resize(photo, width, height).rgb, tile_for(width, height))
    distance = host_style_loss(features, style_terms(targets, regions or [], 1.0, layer_weights))
    return distance, regions, features, (width, height)


def measure_raw_energies(feature_model, photo: RGBImage, styles, style_scales, blend, layer_weights, content_layers,
                         side: int, tile_for) -> tuple[float, dict[str, float], dict, tuple]:
    """Balance 'raw''s measure: the photo's feature energy ``mean(P²)`` (averaged over `content_layers`)
    and the painting's Gram energy per style layer ``mean(A²) / C²`` (the blended Gram of the styles,
    without masks), with the photo's longest side `side` px and each style's ``side * style_scale``.
    Returns them with the photo's features and its size (w, h), made on the way."""
    width, height, sized_styles = measuring_sizes(photo, styles, style_scales, side)
    grams = blended_style_grams(feature_model, sized_styles, blend, layer_weights, tile_for)
    features = image_features(feature_model, resize(photo, width, height).rgb, tile_for(width, height))
    content_energy = float(np.mean([target_scale(features[layer]) for layer in content_layers]))
    energies = {layer: target_scale(gram) / gram.shape[-1] ** 2 for layer, gram in grams.items()}
    return content_energy, energies, features, (width, height)


def coloured_styles(styles: list, photo: RGBImage, preserve_color: str) -> list:
    """The style images as a run with `preserve_color` paints `photo` with them: given the photo's
    colour statistics ('histogram'), or its luminance's and grey ('luminance'), or as they are."""
    if preserve_color == "histogram":
        return [RGBImage(match_color_statistics(image.rgb, photo.rgb)) for image in styles]
    if preserve_color == "luminance":
        return [RGBImage(gray(matched_luminance(image.rgb, photo.rgb))) for image in styles]
    return styles


def _guided_grams(feature_model: FeatureModel, rgb: np.ndarray, guides: dict, tile: int | None) -> dict:
    """The Gram matrix of each layer's features weighed by its guide (`neuralstyle.core.guides`), float32."""
    layers = list(guides)
    if tile is not None:
        height, width = rgb.shape[:2]
        grams = TiledPasses(feature_model, height, width, tile).grams(preprocess(rgb), list(guides.items()))
        return {layer: gram.astype(np.float32) for layer, gram in zip(layers, grams)}
    features = image_features(feature_model, rgb)
    grams = {}
    for layer in layers:
        weighed = (features[layer][0] * guides[layer][:, :, None]).reshape(-1, features[layer].shape[-1])
        grams[layer] = (weighed.T.astype(np.float64) @ weighed / weighed.shape[0]).astype(np.float32)
    return grams


def style_regions(feature_model, masks, image_masks, styles: list, blend, layer_weights, width: int, height: int,
                   kind: str, normalise: bool, tile_for) -> list[StyleRegion]:
    """One guided term per style mask at a stage of `width` x `height` px: the mask's
    guides, its style's target Grams (of the whole style image, or of its own
    masked part) and its weight: its blend share times its area, so that each
    pixel feels the pull an unmasked run gives it (1, unnormalised)."""
    regions, mean_blend = [], float(np.mean(blend))
    for index, (mask, style) in enumerate(zip(masks, styles)):
        sized = resize_mask(mask, width, height)
        if image_masks is not None and image_masks[index] is not None:
            own = layer_guides(resize_mask(image_masks[index], style.width, style.height), feature_model.model_name,
                               list(layer_weights), kind=kind)
            grams = _guided_grams(feature_model, style.rgb, own, tile_for(style.width, style.height))
        else:
            grams = blended_style_grams(feature_model, [style], [1.0], list(layer_weights), tile_for)
        weight = blend[index] / mean_blend * (area(sized) if normalise else 1.0)
        regions.append(StyleRegion(layer_guides(sized, feature_model.model_name, list(layer_weights), kind=kind,
                                                normalise=normalise), grams, weight))
    return regions


def content_guides(mask: np.ndarray, model: str, layer: str, width: int, height: int) -> dict:
    """A content mask as the content layer's guide: ``sqrt(M / mean(M))`` on its grid,
    so the content loss is a mean over positions weighed by the mask."""
    guide = layer_guides(resize_mask(mask, width, height), model, [layer], normalise=False)[layer].astype(np.float64)
    mean = float(np.mean(guide))
    return {layer: np.sqrt(guide / mean).astype(np.float32) if mean > 0 else guide.astype(np.float32)}
