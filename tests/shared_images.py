"""The classic test images in ../shared/images (never copied into the repository).

A clone elsewhere points at them with NEURALSTYLE_TEST_IMAGES=DIR."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

SHARED = Path(os.environ.get("NEURALSTYLE_TEST_IMAGES") or Path(__file__).resolve().parents[2] / "shared" / "images")
needs_shared = pytest.mark.skipif(not (SHARED / "tubingen.jpg").exists(),
                                  reason=f"needs the test images in {SHARED} (set NEURALSTYLE_TEST_IMAGES=DIR)")


def open_shared(name: str) -> Image.Image:
    """A shared image as a PIL image (decoded)."""
    with Image.open(SHARED / name) as image:
        image.load()
        return image.copy()


def shared_rgb(name: str, size: int | None = None):
    """A shared image as an `RGBImage`, scaled to longest side `size` when given."""
    from neuralstyle import images

    image = images.to_rgb(images.read_image(SHARED / name))
    return image if size is None else images.resize_max_side(image, size)
