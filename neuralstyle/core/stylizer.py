"""`Stylizer`: the model, its weights, the device and the precision chosen once, for many calls.

    stylizer = Stylizer(device="gpu")
    first = stylizer.transfer(photo, painting, size=512)
    second = stylizer.transfer(other_photo, painting, size=512)   # no model built again

The functions `neuralstyle.transfer` and the rest stay as shorthands: they
keep the last model in the process too, and a Stylizer is the same calls with
its settings fixed (weights found, or fetched, once; the device checked once).
"""

from __future__ import annotations

from . import settings
from .backend import resolve_device
from .reconstruction import reconstruct_content, reconstruct_style
from .stages import Result
from .synthesis import transfer
from .weights import resolve_weights


class Stylizer:
    """Neural style transfer with one network on one device. `model`, `weights`,
    `pooling`, `precision` and `device` are those of `neuralstyle.transfer`; every
    other setting is given per call."""

    def __init__(self, *, model: str = settings.MODEL, weights=settings.WEIGHTS, pooling: str = settings.POOLING,
                 precision: str = settings.PRECISION, device: str = settings.DEVICE):
        self.model = settings.model(model)
        self.weights = resolve_weights(self.model, weights)
        self.pooling = settings.choice("pooling", pooling, settings.POOLINGS)
        self.precision = settings.choice("precision", precision, settings.PRECISIONS)
        self.device = resolve_device(settings.device(device)).setting

    def _network(self) -> dict:
        return {"model": self.model, "weights": self.weights, "pooling": self.pooling, "precision": self.precision,
                "device": self.device}

    def transfer(self, content, style, **options) -> Result:
        """`neuralstyle.transfer` with this Stylizer's network and device."""
        return transfer(content, style, **self._network(), **options)

    def reconstruct_content(self, image, **options) -> Result:
        """`neuralstyle.reconstruct_content` with this Stylizer's network and device."""
        return reconstruct_content(image, **self._network(), **options)

    def reconstruct_style(self, image, **options) -> Result:
        """`neuralstyle.reconstruct_style` with this Stylizer's network and device."""
        return reconstruct_style(image, **self._network(), **options)

    def stylise_clip(self, frames, style, **options) -> list:
        """`neuralstyle.stylise_clip` (a video's frames) with this Stylizer's network and device."""
        from .video import stylise_clip

        return stylise_clip(frames, style, **self._network(), **options)

    def __repr__(self) -> str:
        return (f"Stylizer(model={self.model!r}, weights={self.weights.describe() if self.weights else None!r}, "
                f"pooling={self.pooling!r}, precision={self.precision!r}, device={self.device!r})")
