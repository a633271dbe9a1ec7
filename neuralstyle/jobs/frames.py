"""Progress frames and the GIF made from them (Pillow writes the GIF)."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from ..core.images import read_image, save_image, to_pil

FRAME_PATTERN = re.compile(r"^frame_(\d+)\.png$")


def frame_path(directory: str | os.PathLike, iteration: int) -> Path:
    """Where the frame of `iteration` goes: ``DIR/frame_00042.png`` (0 = the starting image)."""
    return Path(directory) / f"frame_{iteration:05d}.png"


def save_frame(directory: str | os.PathLike, iteration: int, pixels: np.ndarray) -> Path:
    path = frame_path(directory, iteration)
    save_image(path, pixels)
    return path


def list_frames(directory: str | os.PathLike) -> list[Path]:
    """The frame files in `directory`, in iteration order."""
    found = [(int(match.group(1)), entry) for entry in Path(directory).iterdir()
             if (match := FRAME_PATTERN.match(entry.name))]
    return [path for _, path in sorted(found)]


def make_gif(
    frames: Sequence,
    *,
    duration_ms: int = 80,
    hold_last_ms: int = 1500,
    loop: int = 0,
    every: int = 1,
    max_side: int | None = None,
) -> bytes:
    """Encode frames (``uint8`` arrays, PIL images or paths) as an animated GIF.

    Takes every `every`-th frame and always the last one, so the GIF ends on the
    result, which stays up `hold_last_ms`; `loop` 0 repeats forever; `max_side`
    shrinks the frames (aspect ratio kept). Frames of a coarse-to-fine run come
    in several sizes; all are scaled to the last one's."""
    if not frames:
        raise ValueError("no frames to make a GIF from")
    if every < 1:
        raise ValueError(f"every is {every}; it must be ≥ 1")
    chosen = list(frames[::every])
    if (len(frames) - 1) % every:
        chosen.append(frames[-1])
    images = []
    for frame in chosen:
        image = read_image(frame) if isinstance(frame, (str, os.PathLike)) else frame  # checked, never a bomb
        image = to_pil(image) if isinstance(image, np.ndarray) else image
        image = image.convert("RGB")  # GIF transparency is 1-bit; frames show the painting itself
        if max_side and max(image.size) > max_side:
            image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        images.append(image)
    images = [image if image.size == images[-1].size else image.resize(images[-1].size, Image.Resampling.LANCZOS)
              for image in images]
    durations = [duration_ms] * (len(images) - 1) + [max(duration_ms, hold_last_ms)]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=durations,
                   loop=loop, optimize=False, disposal=1)
    return buffer.getvalue()
