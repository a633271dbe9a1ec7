"""The images the tests run on: made from images that come with the dependencies
(scikit-image's data: the coffee cup, Chelsea the cat, the immunohistochemistry
slide) and the project's own generated painting (neuralstyle/data/painting.png), so a
clone needs nothing beside it. `../shared/images` stays for the paper's
figures and the benchmarks.

| file | from | size | stands for |
|---|---|---|---|
| photo.png | skimage coffee, cropped to 4:3 | 1024x768 | a landscape photo (content) |
| photo2.png | skimage chelsea | 451x300 | a second photo |
| painting.png | neuralstyle/data/painting.png | 512x512 | a painting (style) |
| portrait.png | skimage immunohistochemistry, cropped | 402x512 | a second style, portrait |
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def _build(folder: Path) -> None:
    import skimage.data

    data = Path(skimage.data.__file__).parent
    made = folder.with_name(folder.name + f".{os.getpid()}.part")
    made.mkdir(parents=True, exist_ok=True)
    with Image.open(data / "coffee.png") as coffee:  # 600x400
        coffee.convert("RGB").crop((33, 0, 566, 400)).resize((1024, 768), Image.Resampling.LANCZOS).save(
            made / "photo.png")
    with Image.open(data / "chelsea.png") as chelsea:
        chelsea.convert("RGB").save(made / "photo2.png")
    with Image.open(ROOT / "neuralstyle" / "data" / "painting.png") as painting:
        painting.convert("RGB").save(made / "painting.png")
    with Image.open(data / "ihc.png") as slide:  # 512x512
        slide.convert("RGB").crop((55, 0, 457, 512)).save(made / "portrait.png")
    try:
        made.rename(folder)
    except OSError:  # another process made it first
        pass


def _samples() -> Path:
    # Keyed by this file, so a change to what the images are makes them anew.
    key = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"neuralstyle-test-images-{key}"
    if not (folder / "portrait.png").exists():
        _build(folder)
    return folder


SAMPLES = _samples()


def open_sample(name: str) -> Image.Image:
    """A sample image as a PIL image (decoded)."""
    with Image.open(SAMPLES / name) as image:
        image.load()
        return image.copy()


def sample_rgb(name: str, size: int | None = None):
    """A sample image as an `RGBImage`, scaled to longest side `size` when given."""
    from neuralstyle.core import images

    image = images.to_rgb(images.read_image(SAMPLES / name))
    return image if size is None else images.resize_max_side(image, size)
