"""The paper's experiments as figures: reconstruction grids (Gatys et al. 2016,
Fig. 1), the content/style trade-off (Fig. 3), one content in several styles
(Fig. 2), and views of what a layer sees (mean activation maps and Gram
matrices).

Each function takes images (the public image contract) and returns a `Figure`
whose tiles are ``uint8`` images; `Figure.grid()` lays them out with labels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from . import settings
from .images import resize_max_side, to_rgb, to_uint8
from .layers import check_model, conv_layers

# Content rows of Fig. 1 (conv*_2 of VGG19; VGG16's deepest conv per block from block3, as in
# the Keras VGG16 blog experiment), and the style row's cumulative conv*_1 sets.
CONTENT_ROW_LAYERS = {
    "vgg19": ("block1_conv2", "block2_conv2", "block3_conv2", "block4_conv2", "block5_conv2"),
    "vgg16": ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3"),
}
STYLE_ROW_LAYERS = tuple(tuple(f"block{b}_conv1" for b in range(1, last + 1)) for last in range(1, 6))


@dataclass
class Panel:
    """One picture of a figure: `image` ``uint8`` RGB, its `label`, its `row` and
    `column`, the numbers measured on it, and frames when asked for."""

    label: str
    image: np.ndarray
    row: int
    column: int
    metrics: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    frames: list[np.ndarray] = field(default_factory=list, repr=False)


@dataclass
class Figure:
    name: str
    tiles: list[Panel]
    row_labels: list[str] = field(default_factory=list)
    tile_side: int | None = None  # None: the largest tile's side

    def grid(self) -> np.ndarray:
        return compose_grid(self.tiles, self.row_labels, tile_side=self.tile_side)

    def frame_grids(self) -> list[np.ndarray]:
        """The grid at every saved frame (tiles that stopped early repeat their last)."""
        count = max((len(tile.frames) for tile in self.tiles), default=0)
        side = max(max(tile.image.shape[:2]) for tile in self.tiles)
        return [compose_grid([_with_image(tile, tile.frames[min(index, len(tile.frames) - 1)])
                              for tile in self.tiles if tile.frames], self.row_labels, tile_side=side)
                for index in range(count)]

    def record(self) -> dict:
        return {"figure": self.name, "rows": self.row_labels,
                "tiles": [{"label": tile.label, "row": tile.row, "column": tile.column, "metrics": tile.metrics,
                           "settings": tile.settings} for tile in self.tiles]}


def _with_image(tile: Panel, image: np.ndarray) -> Panel:
    return Panel(tile.label, image, tile.row, tile.column)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size
        return ImageFont.load_default()


def compose_grid(tiles: Sequence[Panel], row_labels: Sequence[str] = (), *, tile_side: int | None = None,
                 gap: int = 6) -> np.ndarray:
    """Tiles laid out by (row, column) on white, each scaled to fit `tile_side`
    (default: the largest tile), its label under it; row labels at the left."""
    side = tile_side or max(max(tile.image.shape[:2]) for tile in tiles)
    rows = max(tile.row for tile in tiles) + 1
    columns = max(tile.column for tile in tiles) + 1
    font = _font(max(10, side // 14))
    line_height = int(getattr(font, "size", 10) * 1.3)
    label_height = line_height * max(tile.label.count("\n") + 1 for tile in tiles) + 4
    left = 0
    if any(row_labels):
        left = max(int(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(label, font=font)) for label in row_labels)
        left += 2 * gap
    canvas = Image.new("RGB", (left + columns * (side + gap) + gap, rows * (side + label_height + gap) + gap), "white")
    draw = ImageDraw.Draw(canvas)
    for row, label in enumerate(row_labels):
        draw.text((gap, gap + row * (side + label_height + gap) + side // 2), label, fill="black", font=font)
    for tile in tiles:
        picture = Image.fromarray(tile.image[..., :3])
        if max(picture.size) != side:
            scale = side / max(picture.size)
            picture = picture.resize((round(picture.width * scale), round(picture.height * scale)),
                                     Image.Resampling.LANCZOS)
        x = left + gap + tile.column * (side + gap) + (side - picture.width) // 2
        y = gap + tile.row * (side + label_height + gap) + (side - picture.height) // 2
        canvas.paste(picture, (x, y))
        for line_number, line in enumerate(tile.label.split("\n")):
            text_width = draw.textlength(line, font=font)
            draw.text((left + gap + tile.column * (side + gap) + (side - text_width) / 2,
                       gap + tile.row * (side + label_height + gap) + side + 2 + line_number * line_height),
                      line, fill="black", font=font)
    return np.asarray(canvas)


def psnr(image: np.ndarray, reference: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two ``uint8`` RGB images of one size."""
    error = np.mean((image[..., :3].astype(np.float64) - reference[..., :3].astype(np.float64)) ** 2)
    return float("inf") if error == 0 else float(10 * np.log10(255.0**2 / error))


def style_distance(image, style, *, layers=settings.STYLE_LAYERS, model: str = settings.MODEL,
                   weights=settings.WEIGHTS, pooling: str = settings.POOLING, device: str = settings.DEVICE) -> float:
    """Mean over `layers` of the style loss with unit weight, ``mean((G − A)²) / mean(A²)``
    (`neuralstyle.core.losses.style_loss`): how far the Gram matrices of `image` are
    from those of `style` (0 = the same texture)."""
    from .backend import device_scope, resolve_device
    from .losses import gram_array, style_loss, target_scale
    from .stages import cached_feature_model
    from .targets import image_features

    place = resolve_device(settings.device(device))
    with device_scope(place):
        feature_model = cached_feature_model(list(layers), model, weights, pooling, device=place.setting)
        ours = image_features(feature_model, to_rgb(image).rgb)
        theirs = image_features(feature_model, to_rgb(style).rgb)
    distances = []
    for layer in layers:
        target = gram_array(theirs[layer])
        distances.append(float(style_loss(ours[layer], target, 1.0 / target_scale(target))))
    return float(np.mean(distances))


Callback = Callable[[str, object], bool | None]


def _tile_callback(callback: Callback | None, label: str):
    return None if callback is None else (lambda progress: callback(label, progress))


def reconstructions(content, style, *, model: str = settings.MODEL, size: int = 256, iterations: int = 200,
                    seed: int = settings.SEED, weights=settings.WEIGHTS, pooling: str = settings.POOLING,
                    frames_every: int | None = None, callback: Callback | None = None,
                    device: str = settings.DEVICE) -> Figure:
    """Gatys et al. (2016) Fig. 1: the content image rebuilt from noise from each
    block's conv*_2 (top row), and the style from conv1_1, conv1_1+conv2_1, …
    (bottom row). Content tiles carry their PSNR against the content; style
    tiles their `style_distance` to the style over their own layers."""
    from .reconstruction import reconstruct_content, reconstruct_style

    model = check_model(model)
    reference = to_uint8(resize_max_side(to_rgb(content), size).rgb)
    tiles = []
    common = dict(size=size, iterations=iterations, seed=seed, model=model, weights=weights, pooling=pooling,
                  frames_every=frames_every, precision=settings.FIGURE_PRECISION, device=device)
    for column, layer in enumerate(CONTENT_ROW_LAYERS[model]):
        result = reconstruct_content(content, content_layer=layer, callback=_tile_callback(callback, layer), **common)
        tiles.append(Panel(layer, result.image, 0, column, {"psnr_db": round(psnr(result.image, reference), 3)},
                          result.settings, result.frames))
    for column, layers in enumerate(STYLE_ROW_LAYERS):
        label = layers[0] if len(layers) == 1 else f"{layers[0]} …\n{layers[-1]}"
        result = reconstruct_style(style, style_layers=layers, callback=_tile_callback(callback, label), **common)
        distance = style_distance(result.image, resize_max_side(to_rgb(style), size).rgb, layers=layers, model=model,
                                  weights=weights, pooling=pooling, device=device)
        tiles.append(Panel(label, result.image, 1, column, {"style_distance": round(distance, 6),
                                                           "final_style_loss": result.loss["style"]},
                          result.settings, result.frames))
    return Figure("reconstructions", tiles, ["content", "style"])


# What the paper's transfer figures give every tile's transfer, named so a transfer's own defaults (its start, layer
# weights, balance, precision) never leak into them.
FIGURE_TRANSFER = {"precision": settings.FIGURE_PRECISION, "style_layers": settings.STYLE_LAYERS, "balance": "fixed",
                   "init": settings.FIGURE_INIT}


def tradeoff(content, style, *, content_layers: Sequence[str] = settings.TRADEOFF_LAYERS,
             ratios: Sequence[float] = settings.TRADEOFF_RATIOS, size: int = 256, iterations: int = 200,
             callback: Callback | None = None, frames_every: int | None = None, **options) -> Figure:
    """Gatys et al. (2016) Fig. 3: rows are content layers, columns the ratio
    content_weight / style_weight (the style weight fixed at its default)."""
    from .synthesis import transfer

    tiles = []
    for row, layer in enumerate(content_layers):
        for column, ratio in enumerate(ratios):
            label = f"{ratio:.0e}"
            result = transfer(content, style, content_layer=layer, content_weight=ratio * settings.STYLE_WEIGHT,
                              style_weight=settings.STYLE_WEIGHT, size=size, iterations=iterations,
                              frames_every=frames_every, callback=_tile_callback(callback, f"{layer} {label}"),
                              **{**FIGURE_TRANSFER, **options})
            tiles.append(Panel(label, result.image, row, column, {"loss": result.loss}, result.settings,
                              result.frames))
    return Figure("tradeoff", tiles, list(content_layers))


def styles(content, style_images: Sequence, *, labels: Sequence[str] | None = None, size: int = 256,
           iterations: int = 200, callback: Callback | None = None, frames_every: int | None = None,
           show_input: bool = True, **options) -> Figure:
    """Gatys et al. (2016) Fig. 2: one content painted in several styles; the
    first tile is the content itself unless `show_input` is False. The feature
    model is built once and reused; each style's targets are computed once."""
    from .synthesis import transfer

    labels = list(labels or [f"style {index + 1}" for index in range(len(style_images))])
    tiles = []
    if show_input:
        content_tile = to_uint8(resize_max_side(to_rgb(content), size).rgb)
        tiles.append(Panel("content", content_tile, 0, 0, frames=[content_tile] if frames_every else []))
    for column, (style, label) in enumerate(zip(style_images, labels), start=len(tiles)):
        result = transfer(content, style, size=size, iterations=iterations, frames_every=frames_every,
                          callback=_tile_callback(callback, label),
                          **{**FIGURE_TRANSFER, "content_weight": settings.FIGURE_CONTENT_WEIGHT, **options})
        tiles.append(Panel(label, result.image, 0, column, {"loss": result.loss}, result.settings, result.frames))
    return Figure("styles", tiles)


def _normalised(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return np.zeros_like(values, dtype=np.uint8) if high <= low else \
        np.rint(255 * (values - low) / (high - low)).astype(np.uint8)


def _heat(gray: np.ndarray) -> np.ndarray:
    """A 0–255 map in a dark-blue → yellow colour ramp (readable in print)."""
    t = gray.astype(np.float32)[..., None] / 255.0
    dark, bright = np.array([20, 24, 82], np.float32), np.array([250, 230, 60], np.float32)
    return np.rint(dark + t * (bright - dark)).astype(np.uint8)


def inspect(image, *, layers: Sequence[str] = settings.STYLE_LAYERS, channels: int = 0, size: int = 256,
            model: str = settings.MODEL, weights=settings.WEIGHTS, pooling: str = settings.POOLING,
            show_input: bool = True, device: str = settings.DEVICE) -> Figure:
    """What each layer sees: row 0 holds the image (unless `show_input` is
    False) and each layer's mean activation map; row 1 each layer's Gram matrix
    ``FᵀF/(H·W)`` scaled to 0–255; with `channels` N, a further row per layer
    shows its N most active channels."""
    from .backend import device_scope, resolve_device
    from .losses import gram_array
    from .stages import cached_feature_model
    from .targets import image_features

    source = resize_max_side(to_rgb(image), size)
    place = resolve_device(settings.device(device))
    with device_scope(place):
        feature_model = cached_feature_model(list(layers), model, weights, pooling, device=place.setting)
        features = image_features(feature_model, source.rgb)
    strides = {layer.name: layer.stride for layer in conv_layers(model)}
    tiles = [Panel("image", to_uint8(source.rgb), 0, 0)] if show_input else []
    for column, layer in enumerate(layers, start=len(tiles)):
        maps = features[layer][0]
        mean_map = _heat(_normalised(maps.mean(axis=-1)))
        tiles.append(Panel(f"{layer} (1/{strides[layer]})", mean_map, 0, column,
                          {"mean_activation": float(maps.mean())}))
        gram = gram_array(features[layer])
        tiles.append(Panel(f"Gram {gram.shape[0]}x{gram.shape[1]}", _heat(_normalised(np.sqrt(np.abs(gram)))), 1,
                          column))
    rows = ["mean activation", "Gram (sqrt, scaled)"]
    for row, layer in enumerate(layers if channels else [], start=2):
        maps = features[layer][0]
        strongest = np.argsort(maps.mean(axis=(0, 1)))[::-1][:channels]
        rows.append(f"{layer} top {channels}")
        for column, channel in enumerate(strongest):
            tiles.append(Panel(f"#{channel}", _heat(_normalised(maps[..., channel])), row, column))
    return Figure("inspect", tiles, rows, tile_side=max(source.width, source.height))
