"""How much memory a run needs, and how much the machine has (no TensorFlow).

The estimate counts the truncated VGG's activations per input pixel (every
conv and pooling output down to the deepest layer used), times the copies a
forward and backward pass keeps alive, plus TensorFlow's own footprint and
the weights. `ACTIVATION_COPIES` and `BASE_BYTES` were calibrated against the
peak resident memory of real runs (benchmarks/memory.py).
"""

from __future__ import annotations

import os

from .layers import conv_layers, deepest

ACTIVATION_COPIES = 4.0  # conv output, ReLU output, their gradients (float32)
BASE_BYTES = 1.3e9  # TensorFlow, Keras, the VGG weights and the Python process
FLOAT_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


def activation_values_per_pixel(model: str, layers) -> float:
    """Activation values per input pixel of the VGG truncated after `layers`' deepest."""
    last = deepest(model, layers)
    total, previous = 3.0, None  # the input image
    for layer in conv_layers(model):
        if previous is not None and layer.block != previous.block:
            total += previous.channels / layer.stride**2  # the pooling output that starts a block
        total += layer.channels / layer.stride**2
        previous = layer
        if layer.name == last:
            break
    return total


def estimate_bytes(model: str, layers, width: int, height: int, precision: str = "float32") -> float:
    """Peak resident memory of a run at width x height px, in bytes."""
    values = activation_values_per_pixel(model, layers) * width * height
    return BASE_BYTES + values * ACTIVATION_COPIES * FLOAT_BYTES.get(precision, 4)


PIXEL_BYTES = 16  # a decoded input held as uint8 RGBA (4) and as float32 RGB (12)


def estimate_run_bytes(model: str, passes, input_pixels: int = 0, precision: str = "float32") -> float:
    """Peak resident memory of a run, in bytes: the largest of its VGG passes
    (``(layers, width, height)`` each: the output at every scale, every style
    image at its scaled size), plus its decoded inputs (`input_pixels` in all)."""
    largest = max(activation_values_per_pixel(model, layers) * width * height for layers, width, height in passes)
    return BASE_BYTES + largest * ACTIVATION_COPIES * FLOAT_BYTES.get(precision, 4) + input_pixels * PIXEL_BYTES


def available_bytes() -> float | None:
    """Memory the system can still give (MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def gigabytes(count: float) -> str:
    return f"{count / 1e9:.1f} GB"


def check_fits_in_memory(model: str, passes, input_pixels: int = 0, precision: str = "float32") -> float:
    """`estimate_run_bytes`; raises MemoryError naming the largest pass when it exceeds what is available."""
    need = estimate_run_bytes(model, passes, input_pixels, precision)
    have = available_bytes()
    if have is not None and need > have:
        _, width, height = max(passes, key=lambda item: activation_values_per_pixel(model, item[0]) * item[1] * item[2])
        raise MemoryError(
            f"this run needs about {gigabytes(need)} of memory (its largest image is {width}x{height} px) and "
            f"{gigabytes(have)} is available"
        )
    return need
