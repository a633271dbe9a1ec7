"""Optical flow between video frames, warping, and where a warp can be trusted.

After Ruder, Dosovitskiy and Brox, "Artistic style transfer for videos"
(GCPR 2016). Frames are ``uint8`` or float RGB ``(H, W, 3)`` 0–255; a flow is
float32 ``(H, W, 2)`` in px, (dx, dy). Flow is OpenCV's DIS (Kroeger et al.,
ECCV 2016): no learned weights, milliseconds a frame where the paper's DeepFlow
took seconds. Departures from the paper, one line each:

* flow: DIS (OpenCV, preset 'medium') instead of DeepFlow/EpicFlow.
* a warp that leaves the frame is untrusted (weight 0), as a disocclusion is.

OpenCV (``opencv-python-headless``, the ``video`` extra) is imported when a
function needs it.
"""

from __future__ import annotations

import numpy as np

# Ruder et al.'s thresholds: a pixel is disoccluded where the forward and the
# backward flow disagree by more than CONSISTENCY·(|w|² + |ŵ|²) + CONSISTENCY_OFFSET,
# and on a motion boundary where |∇ŵ|² > BOUNDARY·|ŵ|² + BOUNDARY_OFFSET.
CONSISTENCY, CONSISTENCY_OFFSET = 0.01, 0.5
BOUNDARY, BOUNDARY_OFFSET = 0.01, 0.002


def _cv2():
    import cv2

    return cv2


def _gray(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    rgb = np.clip(frame[..., :3], 0, 255).astype(np.uint8)
    return _cv2().cvtColor(rgb, _cv2().COLOR_RGB2GRAY)


def optical_flow(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The flow from `source` to `target` (RGB frames of one size): for each pixel
    x of `source`, the offset d such that ``source[x] ≈ target[x + d]``."""
    cv2 = _cv2()
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(_gray(source), _gray(target), None).astype(np.float32)


def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return xs, ys


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """`image` (``(H, W, C)`` or ``(H, W)``) sampled at ``x + flow(x)``, bilinear,
    float32: with the flow from frame t to frame t-1, frame t-1's image moved to
    where it is in frame t. Outside the image the nearest edge pixel is used."""
    cv2 = _cv2()
    height, width = flow.shape[:2]
    xs, ys = _grid(height, width)
    return cv2.remap(np.asarray(image, np.float32), xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def inside(flow: np.ndarray) -> np.ndarray:
    """1 where ``x + flow(x)`` lands inside the frame, else 0 (float32 ``(H, W)``)."""
    height, width = flow.shape[:2]
    xs, ys = _grid(height, width)
    x, y = xs + flow[..., 0], ys + flow[..., 1]
    return ((x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)).astype(np.float32)


def reliability(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Where frame t's pixels can be taken from frame t-k (Ruder et al., eq. 4's
    weights): `backward` is the flow t → t-k, `forward` t-k → t. 1 where the
    two agree, 0 at disocclusions, motion boundaries and warps out of the
    frame; float32 ``(H, W)``."""
    forward_there = warp(forward, backward)  # ŵ at the point x + w(x) lands on
    disagreement = np.sum(np.square(backward + forward_there), axis=-1)
    magnitude = np.sum(np.square(backward), axis=-1) + np.sum(np.square(forward_there), axis=-1)
    consistent = disagreement <= CONSISTENCY * magnitude + CONSISTENCY_OFFSET
    gradient = sum(np.square(part) for component in (backward[..., 0], backward[..., 1])
                   for part in np.gradient(component))
    boundary = gradient > BOUNDARY * np.sum(np.square(backward), axis=-1) + BOUNDARY_OFFSET
    return (consistent & ~boundary).astype(np.float32) * inside(backward)


def long_term_weights(reliabilities: list[np.ndarray]) -> list[np.ndarray]:
    """Per-pixel weights of the temporal terms to earlier frames, nearest first
    (Ruder et al., eq. 6): each pixel is held to the nearest earlier frame in
    which it is visible, ``c_j = max(c_j − Σ_{k<j} c_k, 0)``."""
    weights, taken = [], np.zeros_like(reliabilities[0]) if reliabilities else None
    for reliable in reliabilities:
        weights.append(np.maximum(reliable - taken, 0.0).astype(np.float32))
        taken = taken + reliable
    return weights


def temporal_error(frame: np.ndarray, previous: np.ndarray, flow: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Mean absolute difference (0–255) between `frame` and `previous` warped by
    `flow` (t → t-1), over pixels whose `weight` is 1 (default: every pixel the warp
    keeps inside the frame): how much a stylised clip flickers."""
    weight = inside(flow) if weight is None else np.asarray(weight, np.float32)
    difference = np.abs(np.asarray(frame, np.float32)[..., :3] - warp(np.asarray(previous, np.float32)[..., :3], flow))
    total = float(np.sum(weight))
    return float(np.sum(difference.mean(axis=-1) * weight) / total) if total else 0.0
