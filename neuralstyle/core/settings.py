"""Every setting of a run, defined once: its default, its allowed values and its
check. `neuralstyle.jobs.spec.RunSpec`, the synthesis API, the CLI and the web app
all read them here. Pure Python (no TensorFlow), so that a bad setting costs
a fraction of a second.

A check raises `SettingError`, whose message echoes the value received and
says what is allowed; it names settings through a template (``⟨style_weight⟩``),
so the CLI says ``--style-weight`` where the Python API says ``style_weight``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence

from .layers import MODELS, check_layers

# --- allowed values -------------------------------------------------------------

RUN_MODES = ("transfer", "content", "style")  # one optimisation each
FIGURES = ("reconstructions", "tradeoff", "styles")  # the paper's figures: many runs, one grid
VIDEO = "video"  # a clip, frame after frame, each held to the earlier ones (neuralstyle.core.video)
MODES = RUN_MODES + FIGURES + (VIDEO,)
TRANSFERS = ("transfer", VIDEO)  # the modes that paint a content in a style
WEIGHT_SOURCES = ("auto", "imagenet", "imagenet-q8")  # or a path to a Keras .h5 file
POOLINGS = ("max", "avg")
PRECISIONS = ("auto", "float32", "bfloat16", "float16")  # auto: bfloat16 where the hardware has it natively
COLOR_MODES = ("none", "luminance", "histogram")
INITS = ("recolored", "content", "noise", "style")  # or a path to an image
OPTIMIZERS = ("lbfgs", "adam")
GUIDES = ("resized", "inside")  # how a region mask reaches each layer (neuralstyle.core.guides)
GUIDE = "resized"
# Keras backends that can take the gradient (KERAS_BACKEND); TensorFlow is the default.
BACKENDS = ("tensorflow", "torch", "jax")
VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv", ".avi", ".gif")  # clips read and written (ffmpeg; a GIF: Pillow)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")  # inputs of a batch
OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff")  # TIFF: 16 bits a channel

# --- defaults -------------------------------------------------------------------

MODEL = "vgg19"
WEIGHTS = "auto"
DEVICE = "auto"  # the first GPU the backend sees, else the CPU
DEVICES = ("auto", "cpu", "gpu", "gpu:N")  # as a message lists them
POOLING = "max"
PRECISION = "auto"  # emulated bfloat16 is slower than float32 (benchmarks/README.md): see neuralstyle.core.hardware

# Gatys et al. (2016): content from conv4_2, style from conv1_1 … conv5_1, equal weights.
CONTENT_LAYER = "block4_conv2"
# Content reconstruction shows most when made from a shallower layer (the Keras VGG16 experiment).
RECONSTRUCTION_CONTENT_LAYER = "block2_conv2"
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")  # the paper's
# Every mode weighs the paper's layers equally; a transfer's balance 'raw' weighs them as neural-style's raw losses do.
EQUAL_STYLE_LAYERS = dict.fromkeys(STYLE_LAYERS, 1.0)
TRANSFER_STYLE_LAYERS = EQUAL_STYLE_LAYERS
# The weights balance 'pair' was chosen with (runs recorded with it keep them): block4_conv1 six times the others.
PAIR_STYLE_LAYERS = {**EQUAL_STYLE_LAYERS, "block4_conv1": 6.0}

# Weights of the normalised losses (see neuralstyle.core.losses): they mean the same at every size. Under balance
# 'raw' they weigh as neural-style's raw losses (content 5, style 100 there); the content weight, 1.15 times
# neural-style's, was chosen against the peers' defaults over many photo x painting pairs by a judge that reads
# neither loss (benchmarks/tradeoff.py, benchmarks/levers.py); the paper's figures keep the paper's balance.
CONTENT_WEIGHT = 5.75
PAIR_CONTENT_WEIGHT = 28.0  # what balance 'pair' was chosen with
FIGURE_CONTENT_WEIGHT = 1.0
STYLE_WEIGHT = 100.0
TV_WEIGHT = 1e-5
# How the weights meet each pair (neuralstyle.core.balance), measured at BALANCE_SIDE whatever the size: "raw" weighs
# the losses as neural-style's raw ones, by the photo's feature energy and the painting's Gram energy per layer, and
# each larger size by the pair measured again there, as neural-style's raw losses weigh at that size; "pair" scales
# the content weight by how far the photo starts from the painting (its style loss at style weight 1), raised by one
# factor at larger sizes; "fixed" takes the weights as given (runs recorded before "pair", the paper's figures).
BALANCES = ("raw", "pair", "fixed")
BALANCE = "raw"
BALANCE_SIDE = 256  # px, the longest side the pair is measured at, whatever the run's size

# Video (Ruder et al., GCPR 2016): the weight of a frame's pull towards the earlier frames warped into it
# (a mean square in units of the 0–255 range), the earlier frames it is held to (1: the previous one), and
# the passes over the clip (more than one alternates direction, Ruder et al.'s multi-pass algorithm).
TEMPORAL_WEIGHT = 1000.0
LONG_TERM = (1, 2, 4)
PASSES = 1
VIDEO_FPS = 24.0  # frames per second of a video made from a folder of frames

SIZE = 512  # longest side of the output, px
STYLE_SCALE = 1.0  # style image's longest side relative to the output's
MAX_STYLE_SCALE = 16.0
# Coarse-to-fine: "auto" halves the output's longest side down to COARSEST_SIDE (one size below twice it), so
# the large structures form at the size the default balance was chosen at and every size has the same look;
# or a number of sizes halving down from SIZE, or the sizes. Each size after the first runs FINER_SHARE of the
# size before it: at the default 200, 100 at 512 px, where content detail still grows (benchmarks/schedule.py,
# benchmarks/results/2026-12-06-schedule.md), and 50 at 1024 px, where a longer stage trades the painting's fine
# texture back for the photo's (benchmarks/results/2026-12-07-finest-size.md).
SCALES = "auto"
COARSEST_SIDE = 256
FINER_SHARE = 1 / 2
# A finer size starts from the smaller one's result upsampled plus the photo's detail the smaller size could not hold,
# up to this longest side (px); above it that band is the photo's own fine texture, which the style loss (weighted
# to block4) leaves in place, and a plain upsample paints more at the same content
# (benchmarks/results/2026-12-07-finest-size.md).
CONTENT_DETAIL_MAX_SIDE = 512
PRESERVE_COLOR = "none"
ITERATIONS = 300  # optimiser iterations of a reconstruction; also the most that iterations=auto runs per size
# A transfer's iterations at its first size: by a judge that reads neither loss its 256 px picture at 200 is within
# 1.2 % of its picture at 300 on every pair measured, and by eye the same (benchmarks/results/2026-12-06-schedule.md).
TRANSFER_ITERATIONS = 200
# iterations=auto stops when the loss fell by less than AUTO_TOLERANCE of itself per iteration over the
# last AUTO_WINDOW iterations (after AUTO_MINIMUM at least): benchmarks/auto_stop.py measured where.
AUTO_TOLERANCE = 5e-4
AUTO_WINDOW = 10
AUTO_MINIMUM = 20
CONVERGED = "converged"  # how a run record's "stopped" begins when iterations=auto ended it


SOLVER_CONVERGED = "CONVERGENCE"  # how SciPy's L-BFGS-B says it met its own tolerances


def ended_whole(stopped) -> bool:
    """Whether a run whose result says `stopped` is complete: it ran every
    iteration (None), iterations=auto found it done, or L-BFGS-B converged
    by its own tolerances (SciPy's 'CONVERGENCE: …')."""
    return stopped is None or (isinstance(stopped, str) and (stopped.startswith(CONVERGED)
                                                             or stopped.upper().startswith(SOLVER_CONVERGED)))
OPTIMIZER = "lbfgs"
LEARNING_RATE = 5.0  # Adam's step, in pixel units (0–255 scale)
HISTORY_SIZE = 10  # L-BFGS-B's memory: the last steps it models the curvature from (SciPy's default)
MAX_HISTORY_SIZE = 1000  # each step kept costs two float64 copies of the image
# A transfer starts from its content image in the style's colours: the colours need not be painted
# in, so the run keeps more of the photo's structure at the same likeness to the painting (docs: paper.md).
TRANSFER_INIT = "recolored"
FIGURE_INIT = "content"  # Gatys's code starts from the content image
RECONSTRUCTION_INIT = "noise"  # the paper's reconstructions start from white noise
SEED = 0
SAVE_EVERY = 1  # a progress frame every N iterations
PRINT_EVERY = 0  # a line of losses every N iterations (0: none; the command line shows a live bar)
CHECKPOINT_EVERY = 20  # iterations between a run's resumable checkpoints (0: none)

FIGURE_SIZE = 256  # longest side of each tile of a figure, px
FIGURE_ITERATIONS = 200
FIGURE_SAVE_EVERY = 10
FIGURE_PRECISION = "float32"  # the paper's figures: the same pictures on every machine, bit for bit where it can
# Fig. 3: rows are content layers, columns content_weight / style_weight (Fig. 2's is 1e-2).
TRADEOFF_LAYERS = ("block2_conv2", "block4_conv2")
TRADEOFF_RATIOS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)

# The settings whose default depends on the mode; None in a RunSpec means "the mode's default".
_RECONSTRUCTION = {"content_layer": RECONSTRUCTION_CONTENT_LAYER, "style_layers": EQUAL_STYLE_LAYERS,
                   "init": RECONSTRUCTION_INIT, "tv_weight": 0.0,
                   "size": SIZE, "iterations": ITERATIONS, "save_every": SAVE_EVERY}
_FIGURE = {"content_layer": CONTENT_LAYER, "style_layers": EQUAL_STYLE_LAYERS, "init": FIGURE_INIT,
           "tv_weight": TV_WEIGHT, "size": FIGURE_SIZE, "iterations": FIGURE_ITERATIONS, "save_every": FIGURE_SAVE_EVERY}
MODE_DEFAULTS = {
    "transfer": {"content_layer": CONTENT_LAYER, "style_layers": TRANSFER_STYLE_LAYERS, "init": TRANSFER_INIT,
                 "tv_weight": TV_WEIGHT, "size": SIZE, "iterations": TRANSFER_ITERATIONS, "save_every": SAVE_EVERY},
    "content": _RECONSTRUCTION,
    "style": _RECONSTRUCTION,
    **{figure: _FIGURE for figure in FIGURES},
}
MODE_DEFAULTS[VIDEO] = MODE_DEFAULTS["transfer"]


def mode_default(mode: str, setting: str):
    """The default of `setting` in `mode` (e.g. the content layer of a content reconstruction)."""
    return MODE_DEFAULTS[choice("mode", mode, MODES)][setting]


# --- errors -------------------------------------------------------------------------


class SettingError(ValueError):
    """A setting that cannot be used. The message is a template in which
    ``⟨name⟩`` stands for the setting itself and ``⟨other_setting⟩`` for any
    other, so that each front end names them its own way (`render`)."""

    def __init__(self, setting: str, template: str):
        super().__init__(template)
        self.setting, self.template = setting, template

    def render(self, namer: Callable[[str], str] = str) -> str:
        """The message with every setting named by `namer` (default: its Python name)."""
        return render(self.template, namer, self.setting)

    def __str__(self) -> str:
        return self.render()


def render(template: str, namer: Callable[[str], str] = str, setting: str = "") -> str:
    """A message template with ``⟨name⟩`` (`setting`) and ``⟨other_setting⟩`` named
    by `namer`. The brackets are not ASCII braces, so a path or value the message
    echoes (``out{size}.png``) is never taken for a setting."""
    return re.sub(r"⟨([A-Za-z_]+)⟩", lambda match: namer(setting if match[1] == "name" else match[1]), template)


def shown(value, limit: int = 60) -> str:
    """`value` as a message echoes it: its repr, cut short (a hostile record may hold megabytes)."""
    return cut(repr(value), limit)


def cut(text: str, limit: int = 60) -> str:
    """`text` cut to at most `limit` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fail(setting: str, template: str):
    raise SettingError(setting, template)


# --- checks: each returns the value in its canonical form ---------------------------


def choice(setting: str, value, allowed: Sequence[str]) -> str:
    if value not in allowed:
        _fail(setting, f"unknown ⟨name⟩ {shown(value)}; choose one of {', '.join(allowed)}")
    return value


def non_negative(setting: str, value) -> float:
    """A finite number ≥ 0 (a weight)."""
    number = _number(setting, value)
    if not math.isfinite(number) or number < 0:
        _fail(setting, f"⟨name⟩ is {shown(value)}; it must be a finite number ≥ 0")
    return number


def raw_energies(value, layers) -> list[dict]:
    """Balance 'raw''s measures as a record holds them: a list of ``{'side': px, 'content': e,
    'style': {layer: e_l}}``, one per longest side measured (the first at the balance's side), with a
    finite number ≥ 0 for the content and one for each of the style `layers` (names), no other."""
    form = "[{'side': px, 'content': number, 'style': {layer: number}}, ...]"
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)) or not value or not all(
            isinstance(entry, Mapping) and set(entry) == {"side", "content", "style"}
            and isinstance(entry["style"], Mapping) for entry in value):
        _fail("raw_energies", f"⟨name⟩ is {shown(value)}; it must be {form}")
    sides = [whole("raw_energies", entry["side"], 1) for entry in value]
    if len(set(sides)) != len(sides):
        _fail("raw_energies", f"⟨name⟩ measures the sides {sides}; each side once")
    for entry in value:
        if set(entry["style"]) != set(layers):
            _fail("raw_energies", f"⟨name⟩ measures the style layers {sorted(entry['style'])}; this run's are "
                                  f"{sorted(layers)}")
    return [{"side": side, "content": non_negative("raw_energies", entry["content"]),
             "style": {layer: non_negative("raw_energies", entry["style"][layer]) for layer in layers}}
            for side, entry in zip(sides, value)]


def positive(setting: str, value) -> float:
    """A finite number > 0 (a rate, a scale)."""
    number = _number(setting, value)
    if not math.isfinite(number) or number <= 0:
        _fail(setting, f"⟨name⟩ is {shown(value)}; it must be a finite number > 0")
    return number


def history_size(value) -> int:
    """L-BFGS-B's memory, in steps: a whole number from 1 to MAX_HISTORY_SIZE."""
    number = whole("history_size", value, 1)
    if number > MAX_HISTORY_SIZE:
        _fail("history_size", f"⟨name⟩ is {shown(value)}; it must be at most {MAX_HISTORY_SIZE} (each step kept "
                              f"holds two copies of the image)")
    return number


def frame_distances(value) -> tuple[int, ...]:
    """The earlier frames a video frame is held to, as distances ≥ 1 (1: the previous frame), ascending."""
    distances = sorted({whole("long_term", item, 1) for item in as_list("long_term", value)})
    if not distances:
        _fail("long_term", f"⟨name⟩ is {shown(value)}; give frame distances such as 1,2,4")
    return tuple(distances)


def frame_range(value) -> tuple[int, int | None] | None:
    """'START:END' (frames START to END-1, counted from 0; either may be left out) → (start, end or None)."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)) and len(value) == 2:
        value = f"{'' if value[0] is None else value[0]}:{'' if value[1] is None else value[1]}"
    match = re.fullmatch(r"\s*(\d*)\s*:\s*(\d*)\s*", value) if isinstance(value, str) else None
    if match is None:
        _fail("frame_range", f"⟨name⟩ is {shown(value)}; give START:END, frames counted from 0 with END not "
                             f"included (e.g. 0:48, 100: or :24)")
    start, end = int(match.group(1) or 0), (int(match.group(2)) if match.group(2) else None)
    if end is not None and end <= start:
        _fail("frame_range", f"⟨name⟩ {value!r} holds no frame: END must be above START")
    return start, end


def whole(setting: str, value, minimum: int = 0) -> int:
    """A whole number ≥ `minimum`."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) and not hasattr(value, "__index__"):
        _fail(setting, f"⟨name⟩ is {shown(value)}; it must be a whole number ≥ {minimum}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        _fail(setting, f"⟨name⟩ is {shown(value)}; it must be a whole number ≥ {minimum}")
    if number < minimum:
        _fail(setting, f"⟨name⟩ is {shown(value)}; it must be a whole number ≥ {minimum}")
    return number


def flag(setting: str, value) -> bool:
    if not isinstance(value, bool):
        _fail(setting, f"⟨name⟩ is {shown(value)}; it must be true or false")
    return value


def _number(setting: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) and not hasattr(value, "__float__"):
        _fail(setting, f"⟨name⟩ is {shown(value)}; it must be a number")
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        _fail(setting, f"⟨name⟩ is {shown(value)}; it must be a number")


def as_list(setting: str, value) -> list:
    """'a,b' or ['a', 'b'] or ('a', 'b') → ['a', 'b']; one value → [value]."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [value]
    _fail(setting, f"⟨name⟩ is {shown(value)}; expected a value or a list of values")


_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_AMOUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def memory_amount(setting: str, value) -> int | None:
    """An amount of memory in bytes: 6GB, 6.5G, 500MB, 4GiB or a number of bytes
    (at least 100 MB; None stays None, for the default)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        _fail(setting, f"⟨name⟩ is {shown(value)}; give an amount like 6GB, 500MB or 4GiB")
    match = _AMOUNT.match(str(value))
    unit = match.group(2).lower() if match else None
    if unit not in _UNITS:
        _fail(setting, f"⟨name⟩ is {shown(value)}; give an amount like 6GB, 500MB or 4GiB "
                       f"(units: KB, MB, GB, TB, KiB, MiB, GiB, TiB)")
    amount = float(match.group(1)) * _UNITS[unit]
    if not 1e8 <= amount < 1e15:
        _fail(setting, f"⟨name⟩ is {shown(value)}; it must be between 100MB and 1000TB")
    return int(amount)


_DEVICE = re.compile(r"^(auto|cpu|gpu)(?::(\d+))?$")


def device(value) -> str:
    """Where a run computes: 'auto', 'cpu' or 'gpu:N' ('gpu' is 'gpu:0'), any case."""
    match = _DEVICE.match(value.strip().lower()) if isinstance(value, str) else None
    if not match or (match[2] is not None and match[1] != "gpu"):
        _fail("device", f"unknown ⟨name⟩ {shown(value)}; choose {', '.join(DEVICES)} (N: the GPU's number, from 0)")
    return f"gpu:{int(match[2] or 0)}" if match[1] == "gpu" else match[1]


def color(value) -> str:
    """A colour as ``#rrggbb``, from a CSS name or a hex or rgb() form ('red', '#f00', 'rgb(255,0,0)')."""
    from PIL import ImageColor

    try:
        red, green, blue = ImageColor.getrgb(str(value).strip())[:3]
    except ValueError:
        _fail("style_region_colors", f"⟨name⟩ has {shown(value)}, not a colour; give names or hex, e.g. "
                                     f"#ff0000,#00ff00 or red,blue")
    return f"#{red:02x}{green:02x}{blue:02x}"


def model(value) -> str:
    return choice("model", str(value).lower() if isinstance(value, str) else value, MODELS)


_PAPER_LAYER = re.compile(r"^(?:conv|relu)(\d)_(\d)$")


def layer_name(name):
    """A layer's Keras name; the paper's names are taken too: conv4_2 and relu4_2 are block4_conv2
    (Keras's conv layers include their ReLU)."""
    match = _PAPER_LAYER.match(name) if isinstance(name, str) else None
    return f"block{match[1]}_conv{match[2]}" if match else name


def layers(setting: str, model_name: str, names) -> list[str]:
    """Layer names of `model_name` (the paper's names accepted), or a SettingError naming the valid ones."""
    names = [names] if isinstance(names, str) else names
    try:
        return check_layers(model_name, [layer_name(name) for name in names])
    except ValueError as error:
        _fail(setting, f"⟨name⟩: {error}")


def style_layers(value, model_name: str, setting: str = "style_layers") -> dict[str, float]:
    """Style layers and their relative weights, from a mapping ``name -> weight``,
    a list of names (equal weights) or of ``"NAME:WEIGHT"`` strings; None gives
    the paper's (equal weights). At least one weight must be positive."""
    if value is None:
        return dict(EQUAL_STYLE_LAYERS)
    if isinstance(value, Mapping):
        pairs = [(layer_name(name), weight) for name, weight in value.items()]
    else:
        pairs = []
        for item in [value] if isinstance(value, str) else as_list(setting, value):
            if not isinstance(item, str):
                _fail(setting, f"⟨name⟩ has {shown(item)}; expected a layer NAME or NAME:WEIGHT")
            name, _, weight = item.partition(":")
            pairs.append((layer_name(name.strip()), weight or 1.0))
    if not pairs:
        _fail(setting, "⟨name⟩ is empty; give at least one layer, e.g. block1_conv1")
    weights = {}
    for name, weight in pairs:
        try:
            number = float(weight)
        except (TypeError, ValueError):
            _fail(setting, f"⟨name⟩ has {name}:{weight}; expected NAME or NAME:WEIGHT, e.g. block1_conv1:0.5")
        if isinstance(weight, bool) or not math.isfinite(number) or number < 0:
            _fail(setting, f"⟨name⟩ weight of {name} is {shown(weight)}; it must be a finite number ≥ 0")
        weights[str(name)] = number
    layers(setting, model_name, list(weights))
    if not any(weights.values()):
        _fail(setting, f"every ⟨name⟩ weight is 0 ({weights}); at least one must be positive")
    return weights


def style_blend(value, styles: int) -> tuple[float, ...] | None:
    """One weight ≥ 0 per style image (not all 0), from '0.7,0.3' or a list; None: equal."""
    if value is None:
        return None
    items = [part for item in as_list("style_blend", value)
             for part in (as_list("style_blend", item) if isinstance(item, str) else [item])]
    blend = tuple(non_negative("style_blend", item) for item in items)
    if len(blend) != styles:
        _fail("style_blend", f"{len(blend)} ⟨name⟩ weights {list(blend)} for {styles} style image(s); "
                             f"give one per style")
    if not any(blend):
        _fail("style_blend", f"⟨name⟩ weights {list(blend)} are all 0; at least one must be positive")
    return blend


def style_scales(value, styles: int) -> tuple[float, ...]:
    """Each style image's size relative to the output's: one value for all, or one per
    style image ('1,0.5' or a list), each positive and at most MAX_STYLE_SCALE."""
    items = [part for item in as_list("style_scale", value)
             for part in (as_list("style_scale", item) if isinstance(item, str) else [item])]
    scales = tuple(positive("style_scale", item) for item in items)
    if len(scales) not in (1, styles):
        _fail("style_scale", f"{len(scales)} ⟨name⟩ values {list(scales)} for {styles} style image(s); give one for "
                             f"all, or one per style")
    for scale in scales:
        if scale > MAX_STYLE_SCALE:
            _fail("style_scale", f"⟨name⟩ is {shown(scale)}; it must be at most {MAX_STYLE_SCALE:g} (the style "
                                 f"image's side relative to the output's)")
    return scales * styles if len(scales) == 1 else scales


def scale_sizes(size: int, scales, schedule: bool = True) -> tuple[int, ...]:
    """The longest sides of a coarse-to-fine run: 'auto' halves `size` while
    the half is at least COARSEST_SIDE (512 → 256, 512; 1024 → 256, 512, 1024;
    one size below 512), or one size where `schedule` is false (a clip's frames);
    a count of sizes halving down to `size` (3 at 1024 → 256, 512, 1024); or
    ascending sizes ending at `size` (``"384,768"`` or a list)."""
    if isinstance(scales, str) and scales.strip().lower() == "auto":
        sides = [size]
        while schedule and sides[0] / 2 >= COARSEST_SIDE:
            sides.insert(0, round(sides[0] / 2))
        return tuple(sides)
    items = as_list("scales", scales)
    sides = [whole("scales", item, 1) for item in items]
    if not sides:
        _fail("scales", f"⟨name⟩ is {shown(scales)}; give auto, a count like 3 or sizes like 256,512,1024")
    is_count = not isinstance(scales, (list, tuple)) and sides[0] != size  # a list is always sizes
    if len(sides) == 1 and is_count:
        count = sides[0]
        if not 1 <= count <= 8:
            _fail("scales", f"⟨name⟩ is {shown(scales)}; a count of sizes must be between 1 and 8")
        return tuple(max(1, round(size / 2 ** (count - 1 - index))) for index in range(count))
    if sides != sorted(sides) or sides[-1] != size:
        _fail("scales", f"⟨name⟩ {sides} must be ascending sizes ending at the output ⟨size⟩ {size}")
    return tuple(sides)


def per_scale(setting: str, value, count: int) -> tuple[int, ...]:
    """Iterations per scale: one number per scale ('300,100'), or one number for
    the first scale, each later scale running FINER_SHARE of the one before it
    (200 → 200, 100, 50)."""
    values = [whole(setting, item, 0) for item in as_list(setting, value)]
    if len(values) == 1:
        return tuple(round(values[0] * FINER_SHARE ** index) for index in range(count))
    if len(values) != count:
        _fail(setting, f"⟨name⟩ gives {len(values)} numbers {values} for {count} scale(s); give one, or one per scale")
    return tuple(values)


def iterations(value, count: int) -> tuple[int, ...] | str:
    """Iterations per scale, as `per_scale` takes them, or 'auto': until the loss
    stops falling (`neuralstyle.core.evaluator.Convergence`), at most ITERATIONS per scale."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        return per_scale("iterations", value, count)
    except SettingError as error:
        raise SettingError("iterations", f"{error.template}, or auto (stop when the loss stops falling)") from None


def iteration_caps(value, count: int) -> tuple[int, ...]:
    """The most iterations each of `count` scales runs: ITERATIONS for 'auto'."""
    checked = iterations(value, count)
    return (ITERATIONS,) * count if checked == "auto" else checked


def output_suffix(setting: str, path, allowed: Sequence[str] = OUTPUT_SUFFIXES) -> None:
    suffix = str(path).rpartition(".")[2].lower() if "." in str(path) else ""
    if f".{suffix}" not in allowed:
        _fail(setting, f"cannot write ⟨name⟩ {str(path)!r}: unknown file type {'.' + suffix if suffix else '(none)'!r}; "
                       f"use {', '.join(allowed)}")
