"""Colour preservation (Gatys, Bethge, Hertzmann, Shechtman 2016, "Preserving
Color in Neural Artistic Style Transfer"). scikit-image does the YIQ conversions.

* ``luminance``: the transfer runs on luminance alone (content and style as
  gray images, the style's luminance matched to the content's mean and
  spread), and the content's chrominance (I, Q) is put back on the result.
* ``histogram``: the style image's colours are mapped, before the run, so that
  their RGB mean and covariance equal the content's.

All functions take and return float RGB ``(H, W, 3)`` arrays in 0–255.
"""

from __future__ import annotations

import numpy as np

# scikit-image is imported where colour control is used, not with this module: it
# brings much of SciPy, which every run's start-up would otherwise wait for.


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Y of YIQ, ``(H, W)`` in 0–255."""
    from skimage.color import rgb2yiq

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
    from skimage.color import rgb2yiq, yiq2rgb

    yiq = rgb2yiq(content_rgb / 255.0)
    yiq[..., 0] = luminance(luminance_rgb) / 255.0
    return np.clip(yiq2rgb(yiq) * 255.0, 0, 255).astype(np.float32)


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
