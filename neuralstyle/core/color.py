"""Colour preservation (Gatys, Bethge, Hertzmann, Shechtman 2016, "Preserving
Color in Neural Artistic Style Transfer"), in YIQ (the NTSC luminance and two
chrominance channels; the same matrix as scikit-image's ``rgb2yiq``).

* ``luminance``: the transfer runs on luminance alone (content and style as
  gray images, the style's luminance matched to the content's mean and
  spread), and the content's chrominance (I, Q) is put back on the result.
* ``histogram``: the style image's colours are mapped, before the run, so that
  their RGB mean and covariance equal the content's.

A transfer's ``recolored`` start goes the other way: the content image with each
channel's histogram matched to the style's (`matched_histograms`).

All functions take and return float RGB ``(H, W, 3)`` arrays in 0–255.
"""

from __future__ import annotations

import numpy as np

# RGB (0–1) to YIQ: Y the luminance (ITU-R BT.601 weights), I and Q the chrominance;
# YIQ back to RGB is its inverse.
YIQ_FROM_RGB = np.array([[0.299, 0.587, 0.114],
                         [0.59590059, -0.27455667, -0.32134392],
                         [0.21153661, -0.52273617, 0.31119955]])
RGB_FROM_YIQ = np.linalg.inv(YIQ_FROM_RGB)


def _convert(matrix: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`matrix` applied to each pixel of ``(..., 3)`` `values`, in their float type (float64 for integers)."""
    values = np.asarray(values)
    if not np.issubdtype(values.dtype, np.floating):
        values = values.astype(np.float64)
    return values @ matrix.T.astype(values.dtype)


def rgb2yiq(rgb: np.ndarray) -> np.ndarray:
    """RGB in 0–1 to YIQ, ``(..., 3)``."""
    return _convert(YIQ_FROM_RGB, rgb)


def yiq2rgb(yiq: np.ndarray) -> np.ndarray:
    """YIQ to RGB in 0–1 (not clipped), ``(..., 3)``."""
    return _convert(RGB_FROM_YIQ, yiq)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Y of YIQ, ``(H, W)`` in 0–255."""
    return rgb2yiq(rgb / 255.0)[..., 0] * 255.0


def gray(y: np.ndarray) -> np.ndarray:
    """A luminance map as a gray RGB image, ``(H, W, 3)`` float32 0–255."""
    return np.repeat(np.clip(y, 0, 255)[..., None], 3, axis=2).astype(np.float32)


def matched_luminance(style_rgb: np.ndarray, content_rgb: np.ndarray) -> np.ndarray:
    """The style's luminance shifted and scaled to the content's mean and standard deviation."""
    style_y, content_y = luminance(style_rgb), luminance(content_rgb)
    return (style_y - style_y.mean()) * (content_y.std() / max(style_y.std(), 1e-6)) + content_y.mean()


def with_chrominance(luminance_rgb: np.ndarray, content_rgb: np.ndarray) -> np.ndarray:
    """The luminance of `luminance_rgb` with the chrominance (I, Q) of `content_rgb`."""
    yiq = rgb2yiq(content_rgb / 255.0)
    yiq[..., 0] = luminance(luminance_rgb) / 255.0
    return np.clip(yiq2rgb(yiq) * 255.0, 0, 255).astype(np.float32)


def matched_histograms(rgb: np.ndarray, references: list[np.ndarray], shares: list[float],
                       weights: list[np.ndarray | None] | None = None) -> np.ndarray:
    """`rgb` ``(H, W, 3)`` with each channel mapped, monotonically, so that its distribution
    is the `references`' pooled: reference ``i`` counts ``shares[i]`` (> 0) in all, each of its
    pixels by its weight in ``weights[i]`` (``(h, w)``, ≥ 0; None: alike). A pixel keeps its
    rank in the channel, so every edge stays where it was; float32, within the references' range.
    (scikit-image's ``match_histograms`` does this for one reference, unweighted.)"""
    weights = weights or [None] * len(references)
    counts = [np.ones(reference.shape[:2]) if weight is None else np.asarray(weight, np.float64)
              for reference, weight in zip(references, weights)]
    counts = [share * count.reshape(-1) / max(count.sum(), 1e-12) for share, count in zip(shares, counts)]
    pooled_weights = np.concatenate(counts)
    counted = pooled_weights > 0  # a value no pixel counts for is no step of the target's distribution
    mapped = np.empty(np.shape(rgb), np.float32)
    for channel in range(3):
        pooled = np.concatenate([np.asarray(reference, np.float32)[..., channel].reshape(-1) for reference in references])
        values, where = np.unique(pooled[counted], return_inverse=True)
        target_quantiles = np.cumsum(np.bincount(where.reshape(-1), weights=pooled_weights[counted]))
        own, position, own_counts = np.unique(np.asarray(rgb, np.float32)[..., channel], return_inverse=True,
                                              return_counts=True)
        own_quantiles = np.cumsum(own_counts) / own_counts.sum()
        mapped[..., channel] = np.interp(own_quantiles, target_quantiles / target_quantiles[-1],
                                         values)[position.reshape(np.shape(rgb)[:2])]
    return mapped


def _symmetric_power(covariance: np.ndarray, power: float) -> np.ndarray:
    values, vectors = np.linalg.eigh(covariance)
    return (vectors * np.maximum(values, 1e-6) ** power) @ vectors.T


def match_color_statistics(style_rgb: np.ndarray, content_rgb: np.ndarray) -> np.ndarray:
    """`style_rgb` mapped by ``x → A (x − μs) + μc`` with ``A = Σc^½ Σs^-½``, so that
    its RGB mean and covariance become the content's (before clipping to 0–255)."""
    style = style_rgb.reshape(-1, 3).astype(np.float64)
    content = content_rgb.reshape(-1, 3).astype(np.float64)
    transform = _symmetric_power(np.cov(content, rowvar=False), 0.5) @ _symmetric_power(
        np.cov(style, rowvar=False), -0.5)
    mapped = (style - style.mean(axis=0)) @ transform.T + content.mean(axis=0)
    return np.clip(mapped, 0, 255).reshape(style_rgb.shape).astype(np.float32)
