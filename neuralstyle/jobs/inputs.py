"""A run's input images, read once and checked before TensorFlow loads: each
file's bytes are hashed and decoded together, its size checked against the
layers that will see it, and a transfer's masks checked against its images.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor

from ..core.guides import COVERED, checked_masks, masks_from_regions, resize_mask, same_aspect
from ..core.images import decode_image, fit_size, read_file
from ..core.layers import minimum_size
from ..core.settings import SettingError
from . import roles
from .spec import RunSpec


@dataclass
class InputImage:
    """An input as read: its path, the sha256 of the bytes decoded, and the image."""

    path: Path
    sha256: str
    image: Image.Image = field(repr=False)

    def record(self) -> dict:
        return {"path": str(self.path.resolve()), "sha256": self.sha256, "size": list(self.image.size)}


def read_input(path: Path) -> InputImage:
    """Read an input image once: its bytes are hashed and decoded together, so the
    record's sha256 is of exactly what the run used."""
    path = Path(path)
    data = read_file(path, str(path))
    return InputImage(path, hashlib.sha256(data).hexdigest(), decode_image(data, str(path)))


def read_inputs(spec: RunSpec) -> dict[str, list[InputImage]]:
    """Every input image of `spec` by role (`neuralstyle.jobs.roles`), read and checked."""
    paths_by_role: dict[str, list[Path]] = {}
    for role in roles.used_by(spec.mode):
        if role.is_clip(spec.mode):  # a video or a folder of frames: `neuralstyle.jobs.video` reads it
            continue
        paths = role.paths(spec)
        for path in paths:
            if role.choices and not path.exists():  # neither a named choice nor a file
                raise SettingError(role.field, f"unknown ⟨name⟩ {str(path)!r}; choose "
                                               f"{', '.join(role.choices[spec.mode])} or a path to an image")
        paths_by_role[role.name] = paths
    read: dict[Path, InputImage] = {}  # an image in two roles is read once
    for path in (path for paths in paths_by_role.values() for path in paths):
        if path not in read:
            read[path] = read_input(path)
    return {role: [read[path] for path in paths] for role, paths in paths_by_role.items()}


def check_fits(what: str, source: InputImage, side: int, model: str, layer_names) -> tuple[int, int]:
    """`source`'s size with its longest side at `side` px, if the layers can see it."""
    width, height = fit_size(*source.image.size, side)
    needed = minimum_size(model, layer_names)
    if min(width, height) < needed:
        raise SettingError("size", f"{what} {source.path.name} at ⟨size⟩ {side} would be {width}x{height} px; "
                                   f"the layers used need at least {needed} px on each side")
    return width, height


def region_masks(spec: RunSpec, inputs: dict, first_size: tuple[int, int] | None = None) -> list | None:
    """The style masks of a transfer as float32 arrays: its ⟨style_masks⟩, or its
    ⟨style_regions⟩ map split by ⟨style_region_colors⟩; None without regions.
    Every mask of the run (content and style-image masks too) is checked here,
    before TensorFlow loads: one per style, the shape of its image, covering
    something, and at the first scale's size (`first_size`) all of them
    together still covering a pixel. Raises SettingError."""
    content = inputs["content"][0]
    styles = [item.image.size for item in inputs["style"]]
    checked_masks("style_image_masks", [item.image for item in inputs.get("style_image_mask", [])], styles)
    checked_masks("content_mask", [item.image for item in inputs.get("content_mask", [])], [content.image.size])
    if inputs.get("style_regions"):
        item = inputs["style_regions"][0]
        if not same_aspect(*item.image.size, *content.image.size):
            raise SettingError("style_regions", f"⟨name⟩ {item.path.name} is {item.image.width}x{item.image.height} "
                                                f"px and the content image {content.image.width}x"
                                                f"{content.image.height}: another aspect ratio, so resizing would "
                                                f"shift its regions; give a map of the content's shape")
        rgb = np.asarray(item.image.convert("RGB"))
        masks = masks_from_regions(rgb, [ImageColor.getrgb(color) for color in spec.style_region_colors])
        for color, mask in zip(spec.style_region_colors, masks):
            if not mask.any():
                colors, counts = np.unique(rgb.reshape(-1, 3), axis=0, return_counts=True)
                common = ", ".join("#%02x%02x%02x" % tuple(colors[index]) for index in np.argsort(-counts)[:6])
                raise SettingError("style_region_colors", f"⟨name⟩ {color} is nowhere in {item.path.name}; its "
                                                          f"most common colours are {common}")
    elif inputs.get("style_mask"):
        masks = checked_masks("style_masks", [item.image for item in inputs["style_mask"]],
                              [content.image.size] * len(styles), required=True)
    else:
        return None
    if first_size is not None:
        union = resize_mask(np.clip(np.sum(masks, axis=0), 0.0, 1.0), *first_size)
        if float(union.max()) < COVERED:
            raise SettingError("style_masks", f"at {first_size[0]}x{first_size[1]} px the masks together cover no "
                                              f"pixel; give larger regions or a larger ⟨size⟩")
    return masks
