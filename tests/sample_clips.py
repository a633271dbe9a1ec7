"""Clips with known motion, made from one still image, so that the true optical flow is exact.

A frame is ``uint8`` RGB ``(H, W, 3)``; a flow ``(H, W, 2)`` float32 in px from frame t
to frame t-1 (where each pixel of frame t was one frame earlier).
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def _source(image, width: int, height: int) -> np.ndarray:
    """`image` as float RGB, resized to cover at least `width` x `height` px."""
    picture = image if isinstance(image, Image.Image) else Image.open(image)
    picture = picture.convert("RGB")
    scale = max(height / picture.height, width / picture.width)
    size = (max(width, round(picture.width * scale)), max(height, round(picture.height * scale)))
    return np.asarray(picture.resize(size, Image.Resampling.LANCZOS), np.float32)


def pan(image, width: int, height: int, frames: int, step: float = 2.0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A camera pan: each frame `step` px right of the last over `image` (resized to just
    cover the pan's width); returns the frames and the true flows t → t-1 (t ≥ 1): (+step, 0)
    everywhere."""
    import cv2

    source = _source(image, int(np.ceil(width + step * (frames - 1))), height)
    top = (source.shape[0] - height) // 2
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    clip = [np.clip(np.rint(cv2.remap(source, xs + step * t, ys + top, cv2.INTER_LINEAR)), 0, 255).astype(np.uint8)
            for t in range(frames)]
    flow = np.stack([np.full((height, width), step, np.float32), np.zeros((height, width), np.float32)], axis=-1)
    return clip, [flow] * (frames - 1)


def zoom(image, width: int, height: int, frames: int, factor: float = 1.02) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A zoom into the centre of `image` (resized to cover twice the frame), each frame
    `factor` x the last; returns the frames and the true flows t → t-1."""
    import cv2

    source = _source(image, 2 * width, 2 * height)
    centre_x, centre_y = (source.shape[1] - 1) / 2, (source.shape[0] - 1) / 2
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    dx, dy = xs - (width - 1) / 2, ys - (height - 1) / 2
    clip = []
    for t in range(frames):
        magnification = 0.5 * factor ** t  # px of the frame per px of the source
        clip.append(np.clip(np.rint(cv2.remap(source, centre_x + dx / magnification, centre_y + dy / magnification,
                                              cv2.INTER_LINEAR)), 0, 255).astype(np.uint8))
    flow = np.stack([dx * (1 / factor - 1), dy * (1 / factor - 1)], axis=-1).astype(np.float32)
    return clip, [flow] * (frames - 1)
