"""The convolutional layers of VGG16 and VGG19, by their Keras names.

Pure Python (no TensorFlow import), so that the CLI can check layer names and
image sizes before it pays for loading TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

# Convolutions per block; channels per block are the same for both models.
_CONVS_PER_BLOCK = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
_CHANNELS_PER_BLOCK = (64, 128, 256, 512, 512)

MODELS = tuple(_CONVS_PER_BLOCK)


@dataclass(frozen=True)
class ConvLayer:
    """One `block{b}_conv{c}` layer: its output has `channels` feature maps at
    1/`stride` of the input's height and width (ReLU applied, as in Keras)."""

    name: str
    block: int
    channels: int
    stride: int


def check_model(model: str) -> str:
    """Return `model` lower-cased, or raise ValueError naming the allowed ones."""
    name = str(model).lower()
    if name not in _CONVS_PER_BLOCK:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    return name


def conv_layers(model: str) -> list[ConvLayer]:
    """All convolutional layers of `model` ('vgg16' or 'vgg19'), input to output."""
    model = check_model(model)
    layers = []
    for block, (convs, channels) in enumerate(
        zip(_CONVS_PER_BLOCK[model], _CHANNELS_PER_BLOCK), start=1
    ):
        for conv in range(1, convs + 1):
            layers.append(ConvLayer(f"block{block}_conv{conv}", block, channels, 2 ** (block - 1)))
    return layers


def layer_names(model: str) -> list[str]:
    return [layer.name for layer in conv_layers(model)]


def check_layers(model: str, names) -> list[str]:
    """Return `names` as a list if every one is a conv layer of `model`.

    Raises ValueError naming the first bad layer and the valid range, e.g.
    "unknown layer 'block6_conv1'; VGG19 has block1_conv1 … block5_conv4 (16 layers: …)".
    """
    valid = layer_names(model)
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ValueError("no layers given; at least one is needed")
    for name in names:
        if name not in valid:
            raise ValueError(
                f"unknown layer {name!r}; {check_model(model).upper()} has "
                f"{valid[0]} … {valid[-1]} ({', '.join(valid)})"
            )
    return names


def deepest(model: str, names) -> str:
    """The layer of `names` that lies furthest from the input."""
    order = layer_names(model)
    return max(check_layers(model, names), key=order.index)


def minimum_size(model: str, names) -> int:
    """The smallest image side (px) for which every layer in `names` still has
    at least one pixel: the layer's stride."""
    by_name = {layer.name: layer for layer in conv_layers(model)}
    return max(by_name[name].stride for name in check_layers(model, names))
