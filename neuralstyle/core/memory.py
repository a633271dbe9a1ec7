"""How much memory a run needs, and how much the machine has (no TensorFlow).

The estimate counts the truncated VGG's activations per input pixel (every
conv and pooling output down to the deepest layer used), times the copies a
forward and backward pass keeps alive, plus TensorFlow's own footprint and
the weights, plus what the optimiser keeps per pixel (which tiles do not
shrink). Where the whole image's pass does not fit in what a run may use, it
runs in exact tiles (`neuralstyle.core.tiles`) of the largest size that fits.
`ACTIVATION_COPIES` and `BASE_BYTES` were calibrated against the peak resident
memory of real runs (benchmarks/memory.py). What the machine has is the smaller
of the system's MemAvailable and what the process's cgroups (a container's
memory limit, v1 or v2) still allow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import hardware
from .hardware import cgroup_folders, read_text
from .layers import conv_layers, deepest
from .settings import HISTORY_SIZE
from .tiles import halo, largest_window, tile_grid

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


PIXEL_BYTES = 16  # a decoded input held as uint8 RGBA (4) and as float32 RGB (12)

NO_LIMIT = 2**60  # cgroup v1 writes "no limit" as 2**63 rounded down to a page; anything this large is none


def _number(path: Path) -> int | None:
    """The integer in a cgroup file; None where it is missing, or says "max" (no limit)."""
    text = read_text(path)
    return int(text) if text.lstrip("-").isdigit() else None


def _stat(path: Path, key: str) -> int:
    for line in read_text(path).splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


# Per cgroup version: the limit file, the usage file, and memory.stat's count of
# page cache not used lately (the kernel takes it back before it refuses memory).
_CGROUP_MEMORY = {2: ("memory.max", "memory.current", "inactive_file"),
                  1: ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")}


def cgroup_memory_room(proc_root: Path | None = None, cgroup_root: Path | None = None) -> float | None:
    """What this process's cgroups still allow, in bytes: the smallest of limit
    minus usage (less the inactive page cache) over its memory cgroups and their
    parents; None where none sets a limit (or there are no cgroups)."""
    rooms = []
    for version, folder in cgroup_folders("memory", proc_root, cgroup_root):
        limit_file, usage_file, cache_key = _CGROUP_MEMORY[version]
        limit = _number(folder / limit_file)
        if limit is None or limit >= NO_LIMIT:
            continue
        usage = _number(folder / usage_file)
        if usage is None:
            continue
        usage = max(usage - _stat(folder / "memory.stat", cache_key), 0)
        rooms.append(float(max(limit - usage, 0)))
    return min(rooms, default=None)


def host_available_bytes(proc_root: Path | None = None) -> float | None:
    """Memory the system can still give (MemAvailable), or None where unknown.
    `proc_root` defaults to `neuralstyle.core.hardware.PROC_ROOT`."""
    proc_root = hardware.PROC_ROOT if proc_root is None else Path(proc_root)
    for line in read_text(proc_root / "meminfo").splitlines():
        if line.startswith("MemAvailable:"):
            return float(line.split()[1]) * 1024
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def available_bytes(proc_root: Path | None = None, cgroup_root: Path | None = None) -> float | None:
    """Memory this process can still have, in bytes: the smaller of what the system
    can give (MemAvailable) and what its cgroups allow (a container's memory limit
    less its usage); None where neither is known. The roots default to
    `neuralstyle.core.hardware`'s PROC_ROOT and CGROUP_ROOT (tests point them at a fake tree)."""
    known = [value for value in (host_available_bytes(proc_root), cgroup_memory_room(proc_root, cgroup_root))
             if value is not None]
    return min(known, default=None)


def gigabytes(count: float) -> str:
    return f"{count / 1e9:.1f} GB"


# float64 values per optimised value: L-BFGS-B's history (2 x history_size pairs) and
# work arrays (x, gradient, bounds, 5 more), the Evaluator's last point, last
# gradient, best point and scaled gradient; Adam's moments and copies.
LBFGS_WORK_VALUES = 9 + 4
ADAM_VALUES = 8
IMAGE_BYTES = 36  # per output pixel: the float32 image, its gradient and a window's copy
STYLE_IMAGE_BYTES = 24  # per pixel of a scaled style image: float32 RGB and its Caffe copy
MIN_TILE = 128  # px: smaller cores spend most of each pass on their halos
MEMORY_MARGIN = 0.1  # of what is free, left to the rest of the machine by default


def optimizer_bytes(optimizer: str, pixels: int, history_size: int = HISTORY_SIZE) -> float:
    """What the optimiser (L-BFGS-B keeping `history_size` steps, or Adam) and the
    image arrays of one size keep, in bytes."""
    values = ADAM_VALUES if optimizer == "adam" else 2 * history_size + LBFGS_WORK_VALUES
    return pixels * (3 * 8 * values + IMAGE_BYTES)


def pass_bytes(model: str, layers, pixels: int, precision: str = "float32") -> float:
    """One VGG forward and backward pass over `pixels` input pixels, in bytes."""
    return activation_values_per_pixel(model, layers) * pixels * ACTIVATION_COPIES * FLOAT_BYTES.get(precision, 4)


def default_budget() -> float | None:
    """The memory a run may use when the user sets none: what is free, less a margin."""
    have = available_bytes()
    return None if have is None else have * (1 - MEMORY_MARGIN)


@dataclass(frozen=True)
class SizePlan:
    """How one size of a run is evaluated: whole (`tile` None) or in tiles of
    `tile` px with a `halo` px margin; `need` its estimated peak in bytes."""

    width: int
    height: int
    tile: int | None
    tiles: int
    halo: int
    need: float

    def describe(self) -> str:
        if self.tile is None:
            return f"{self.width}x{self.height} whole"
        return f"{self.width}x{self.height} in {self.tiles} tiles of {self.tile} px (+{self.halo} px halo)"


@dataclass(frozen=True)
class MemoryPlan:
    """The sizes of a run (`outputs`: optimised; `styles`: style images, forward
    passes only), how each is evaluated, and the peak estimate `need` (bytes)
    against `budget` (None where the machine does not say)."""

    outputs: tuple[SizePlan, ...]
    styles: tuple[SizePlan, ...]
    need: float
    budget: float | None

    def tile_for(self, width: int, height: int) -> int | None:
        """The tile side planned for an image of this size (None: whole)."""
        for item in self.outputs + self.styles:
            if (item.width, item.height) == (width, height):
                return item.tile
        return None

    @property
    def tiled(self) -> bool:
        return any(item.tile is not None for item in self.outputs + self.styles)

    def describe(self) -> str:
        text = f"about {gigabytes(self.need)} of memory"
        if self.budget is not None:
            text += f" (of {gigabytes(self.budget)} allowed)"
        tiled = [item.describe() for item in self.outputs if item.tile is not None]
        tiled += ["style image " + item.describe() for item in self.styles if item.tile is not None]
        return text + ("; " + ", ".join(tiled) if tiled else "")


def _size_plan(model: str, layers, width: int, height: int, precision: str, room: float | None) -> SizePlan:
    """`width` x `height` whole if its pass fits in `room` bytes, else in the largest tiles that fit."""
    whole = pass_bytes(model, layers, width * height, precision)
    if room is None or whole <= room:
        return SizePlan(width, height, None, 1, 0, whole)
    margin = halo(model, layers)
    side = (max(width, height) // 16) * 16
    while side >= MIN_TILE:
        need = pass_bytes(model, layers, largest_window(height, width, side, margin), precision)
        if need <= room:
            return SizePlan(width, height, side, len(tile_grid(height, width, side, margin)), margin, need)
        side -= 16
    raise MemoryError(f"even tiles of {MIN_TILE} px need {gigabytes(pass_bytes(model, layers, (MIN_TILE + 2 * margin) ** 2, precision))}"
                      f" and {gigabytes(max(room, 0))} is left for them")


def plan_memory(model: str, layers, outputs, styles=(), *, input_pixels: int = 0, precision: str = "float32",
                optimizer: str = "lbfgs", budget: float | None = None,
                history_size: int = HISTORY_SIZE) -> MemoryPlan:
    """How each size of a run is evaluated within `budget` bytes: `outputs` are
    the (width, height) it optimises, `styles` ``(layers, width, height)`` of
    the style images it only reads. Raises MemoryError saying which part does
    not fit: the optimiser's arrays (they grow with the pixels, tiles or not)
    or even the smallest tile."""
    fixed_base = BASE_BYTES + input_pixels * PIXEL_BYTES
    plans, needs = [], []
    # Largest first: where a size does not fit, the largest is the one to name.
    for width, height in reversed(outputs):
        fixed = fixed_base + optimizer_bytes(optimizer, width * height, history_size)
        if budget is not None and fixed > budget:
            raise MemoryError(
                f"at {width}x{height} px the {optimizer} optimiser's arrays alone need about "
                f"{gigabytes(optimizer_bytes(optimizer, width * height, history_size))} (with TensorFlow and the inputs "
                f"{gigabytes(fixed)}), more than the {gigabytes(budget)} allowed, tiles or not")
        try:
            plan = _size_plan(model, layers, width, height, precision, None if budget is None else budget - fixed)
        except MemoryError as error:
            raise MemoryError(f"at {width}x{height} px, {error} (the optimiser's arrays take "
                              f"{gigabytes(fixed)} of the {gigabytes(budget)} allowed)") from None
        plans.insert(0, plan)
        needs.append(fixed + plan.need)
    style_plans = []
    for style_layers, width, height in styles:
        fixed = fixed_base + width * height * STYLE_IMAGE_BYTES
        if budget is not None and fixed > budget:
            raise MemoryError(f"a style image scaled to {width}x{height} px alone takes about "
                              f"{gigabytes(fixed - fixed_base)} of memory (with TensorFlow and the inputs "
                              f"{gigabytes(fixed)}), more than the {gigabytes(budget)} allowed")
        try:
            plan = _size_plan(model, style_layers, width, height, precision, None if budget is None else budget - fixed)
        except MemoryError as error:
            raise MemoryError(f"the style image at {width}x{height} px: {error}") from None
        style_plans.append(plan)
        needs.append(fixed + plan.need)
    return MemoryPlan(tuple(plans), tuple(style_plans), max(needs), budget)


def largest_fitting_side(fits, side: int) -> int | None:
    """The largest longest side (px, a multiple of 16, at most `side`) for which
    ``fits(side)`` holds, or None."""
    low, high = 0, side // 16
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle * 16):
            low = middle
        else:
            high = middle - 1
    return low * 16 or None


def check_fits_in_memory(model: str, passes, input_pixels: int = 0, precision: str = "float32") -> float:
    """Peak bytes of runs that are never tiled (the figures, `inspect`): their largest
    whole pass (``(layers, width, height)`` each) and the inputs; raises MemoryError
    naming the largest image when that exceeds what is available."""
    largest = max(passes, key=lambda item: pass_bytes(model, item[0], item[1] * item[2], precision))
    need = BASE_BYTES + pass_bytes(model, largest[0], largest[1] * largest[2], precision) + input_pixels * PIXEL_BYTES
    have = available_bytes()
    if have is not None and need > have:
        raise MemoryError(f"this run needs about {gigabytes(need)} of memory (its largest image is "
                          f"{largest[1]}x{largest[2]} px) and {gigabytes(have)} is available")
    return need
