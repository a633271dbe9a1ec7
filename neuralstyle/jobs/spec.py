"""`RunSpec`: every setting of one run (a transfer, a reconstruction, or one of
the paper's figures), checked once, when it is made.

A spec is what the CLI and the web app build from their arguments and
widgets, what `neuralstyle.jobs.pipeline.run` takes, and what a run record keeps
(`to_record`; `from_record` reads it back, records of the first format
included). Pure Python: no TensorFlow, no file access.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..core import settings
from ..core.balance import PAIR_SIZE_FACTOR
from ..core.settings import SettingError, shown
from . import roles
from .frames import FRAME_PATTERN

SCHEMA_VERSION = 3  # of the serialised spec, a run record's "arguments"; 3 added balance


# Groups of settings (the command line's help panels).
CONTENT, STYLE, REGIONS, VIDEO, OPTIMISATION, MODEL, OUTPUT, FIGURE, MEMORY = (
    "Content", "Style", "Regions", "Video", "Optimisation", "Model", "Output", "Figure", "Memory and resume")
# How a face takes a setting whose type alone does not say: a LIST of values (an option
# given once, separated by commas), free TEXT (checked by RunSpec), a PATH, PATHS (an option repeated), or an INPUT file (see
# `neuralstyle.jobs.roles`); None: a number, a flag or a choice, as its default and choices say.
LIST, TEXT, PATH, PATHS, INPUT = "list", "text", "path", "paths", "input"


def _setting(default, help, modes=None, *, group=None, choices=None, form=None):
    """A RunSpec field: its default, its help text (a str, or a mapping from mode,
    'figures' or None to the text for those modes), the modes it applies to (None:
    all), its group, its allowed values and its form. The command line, the web
    app and sweeps are made from these."""
    return field(default=default, metadata={"help": help, "modes": modes, "group": group, "choices": choices,
                                            "form": form})


_TRANSFER = settings.TRANSFERS  # a still or a clip
_VIDEO = (settings.VIDEO,)
_SINGLE = settings.RUN_MODES + _VIDEO
_ONE_IMAGE = settings.RUN_MODES  # progress frames and checkpoints of one optimisation (a clip resumes by frame)
_OPTIMISED = _SINGLE  # figures fix their own optimiser settings
_WITH_CONTENT_LAYER = ("transfer", "content", *_VIDEO)
_WITH_STYLE_LAYERS = ("transfer", "style", *_VIDEO)


@dataclass(frozen=True)
class RunSpec:
    """One run's settings. None stands for the mode's default (`settings.MODE_DEFAULTS`)
    and is replaced by it on construction, so a made spec holds every value it
    runs with. Paths are kept as given; `to_record` stores them absolute."""

    mode: str = _setting("transfer", f"What to make: {', '.join(settings.MODES)}.", choices=settings.MODES)
    content: Path | None = _setting(None, "Content image (transfer, content reconstruction, figures); for video, the "
                                          "clip: a video file or a folder of frames.", form=INPUT)
    styles: tuple[Path, ...] = _setting((), "Style image(s) (transfer, style reconstruction, figures).", form=INPUT)
    output: Path | None = _setting(None, {None: "Image to write (.png, .jpg, .webp; .tif keeps 16 bits a channel).",
                                          "video": "Video to write (.mp4, .mov, .webm, .mkv, .avi, .gif), or a folder "
                                                   "(DIR/): one PNG per frame and the record."},
                                   group=OUTPUT, form=PATH)
    content_layer: str | None = _setting(
        None, {None: "Layer whose features carry the content.",
               "transfer": "Layer(s) whose features carry the content, separated by commas (their losses averaged)."},
        _WITH_CONTENT_LAYER, group=CONTENT, form=LIST)
    style_layers: Mapping[str, float] | None = _setting(
        None, {None: "NAME[:WEIGHT], separated by commas; default block1_conv1 … block5_conv1, equal weights.",
               "transfer": "NAME[:WEIGHT], separated by commas; default block1_conv1 … block5_conv1, equal weights "
                           "(under balance raw, as neural-style weighs its layers)."},
        _WITH_STYLE_LAYERS,
        group=STYLE, form=LIST)
    content_weight: float = _setting(settings.CONTENT_WEIGHT, "Weight of the content loss.", _TRANSFER, group=CONTENT)
    style_weight: float = _setting(settings.STYLE_WEIGHT, "Weight of the style loss.", _TRANSFER, group=STYLE)
    balance: str = _setting(
        settings.BALANCE, "raw: the weights act as on neural-style's raw losses (scaled by the photo's feature energy "
        f"and the painting's Gram energy per layer, measured at {settings.BALANCE_SIDE} px and again at each larger "
        "size), so a bold painting takes more of the picture than a pale one; "
        "pair: the content weight grows with how far the photo starts from the painting (chosen with "
        f"--content-weight {settings.PAIR_CONTENT_WEIGHT:g} and block4_conv1 weighted "
        f"{settings.PAIR_STYLE_LAYERS['block4_conv1']:g}), measured at {settings.BALANCE_SIDE} px, and "
        f"{PAIR_SIZE_FACTOR:g} times that above it, where a run paints more; fixed: the weights as "
        "given (the paper's figures, runs recorded before pair).", _TRANSFER, group=CONTENT,
        choices=settings.BALANCES)
    tv_weight: float | None = _setting(None, "Weight of the total-variation smoothness term.", _SINGLE,
                                       group=OPTIMISATION)
    style_blend: tuple[float, ...] | None = _setting(None, "Weights of several styles, e.g. 0.7,0.3.", _TRANSFER,
                                                     group=STYLE, form=LIST)
    style_scale: float | tuple[float, ...] = _setting(
        settings.STYLE_SCALE, "Style image size relative to the output: one for all, or one per style image, "
        "separated by commas.", _TRANSFER, group=STYLE, form=LIST)
    style_masks: tuple[Path, ...] = _setting(
        (), "A greyscale mask per style image, repeated in the styles' order, the content image's shape: white paints "
        "that style, grey in part; pixels no mask covers keep the content.", _TRANSFER, group=REGIONS, form=PATHS)
    style_image_masks: tuple[Path, ...] = _setting(
        (), "A mask per style image, in its own shape: the style is taken from the white part only (default: the "
        "whole style image).", _TRANSFER, group=REGIONS, form=PATHS)
    content_mask: Path | None = _setting(
        None, "Where the content loss holds, the content image's shape: white weighs it (e.g. a face), black leaves "
        "the style alone. To leave a region unpainted, let no --style-mask cover it.", _TRANSFER,
        group=REGIONS, form=PATH)
    style_regions: Path | None = _setting(
        None, "A colour-coded map in the content image's shape instead of --style-mask: each colour of "
        "--style-region-colors paints its style.", _TRANSFER, group=REGIONS, form=PATH)
    style_region_colors: tuple[str, ...] | None = _setting(
        None, "The colours of --style-regions, one per style image in order, e.g. #ff0000,#00ff00 or red,blue.",
        _TRANSFER, group=REGIONS, form=LIST)
    guides: str = _setting(
        settings.GUIDE, "How masks reach each layer: resized, or inside (eroded by each layer's receptive field: less "
        "bleeding across a border; thin regions fade in the deep layers).", _TRANSFER, group=REGIONS,
        choices=settings.GUIDES)
    temporal_weight: float = _setting(
        settings.TEMPORAL_WEIGHT, "Weight of each frame's pull towards the earlier frames warped into it (0: warped "
        "starts only).", _VIDEO, group=VIDEO)
    long_term: tuple[int, ...] = _setting(
        settings.LONG_TERM, "The earlier frames each frame is held to, as distances (1: the previous frame); a pixel "
        "keeps the look of the nearest one in which it is visible.", _VIDEO, group=VIDEO, form=LIST)
    passes: int = _setting(settings.PASSES, "Passes over the clip, alternating direction; more make both ends "
                                            "consistent, each costs a pass.", _VIDEO, group=VIDEO)
    frame_range: str | None = _setting(None, "Part of the clip: START:END, frames counted from 0, END not included "
                                             "(e.g. 0:48, 100:).", _VIDEO, group=VIDEO, form=TEXT)
    size: int | None = _setting(None, {None: "Longest side of the output in px (aspect ratio kept).",
                                       "figures": "Longest side of each tile in px."}, group=OUTPUT)
    scales: tuple[int, ...] | int | str = _setting(
        settings.SCALES,
        f"Coarse-to-fine: auto halves --size down to {settings.COARSEST_SIDE} px (512 → 256,512; one size below "
        f"{2 * settings.COARSEST_SIDE}, and for a clip's frames); 1 for one size; a number of sizes halving down to "
        "--size (3 → 256,512,1024 at 1024); or the sizes, e.g. 384,768,1536.", _TRANSFER, group=OPTIMISATION,
        form=TEXT)
    iterations: tuple[int, ...] | int | str | None = _setting(
        None, {"transfer": f"Optimiser iterations at the first size, each later size of --scales running "
                           f"{settings.FINER_SHARE:.0%} of the previous size's (200 → 200,100,50 at 1024); or one "
                           f"number per size (e.g. 300,100,25); or auto: "
                           f"stop each size when the loss stops falling (at most {settings.ITERATIONS} each).",
               None: f"Optimiser iterations, or auto: stop when the loss stops falling (at most "
                     f"{settings.ITERATIONS}).",
               "figures": "Iterations per tile."}, group=OPTIMISATION, form=TEXT)
    preserve_color: str = _setting(
        settings.PRESERVE_COLOR, "none; luminance (transfer on luminance, keep the content's colours); "
        "histogram (give the style the content's colour statistics).", _TRANSFER, group=STYLE,
        choices=settings.COLOR_MODES)
    init: str | None = _setting(None, {"transfer": "Start image: recolored (the content in the style's colours), "
                                                   "content, noise, style, or a path to an image.",
                                       None: "Start image: noise, or a path to an image."}, _SINGLE, group=CONTENT)
    seed: int = _setting(settings.SEED, "Seed of whatever a run draws at random (a noise start image): one seed, "
                                        "one result.", group=OPTIMISATION)
    optimizer: str = _setting(settings.OPTIMIZER, "lbfgs (one long L-BFGS-B run) or adam.", _OPTIMISED,
                              group=OPTIMISATION, choices=settings.OPTIMIZERS)
    learning_rate: float = _setting(settings.LEARNING_RATE, "Adam's step size, in pixel units (0–255).", _OPTIMISED,
                                    group=OPTIMISATION)
    history_size: int = _setting(settings.HISTORY_SIZE, "L-BFGS-B's memory: how many recent steps model the "
                                                        "curvature (more: steadier steps, two image copies each).",
                                 _OPTIMISED, group=OPTIMISATION)
    model: str = _setting(settings.MODEL, f"Network: {' or '.join(settings.MODELS)}.", group=MODEL,
                          choices=settings.MODELS)
    weights: str = _setting(settings.WEIGHTS,
                            f"{', '.join(settings.WEIGHT_SOURCES)}, or a path to a Keras .h5 weights file.",
                            group=MODEL)
    pooling: str = _setting(settings.POOLING, "max (VGG's own) or avg (Gatys et al.'s choice).", group=MODEL,
                            choices=settings.POOLINGS)
    precision: str = _setting(
        settings.PRECISION, "auto (bfloat16 where the CPU or GPU has it natively, else float32), float32, or "
        "bfloat16/float16 (mixed precision).", _SINGLE, group=MODEL, choices=settings.PRECISIONS)
    device: str = _setting(settings.DEVICE, "Where to compute: auto (the first GPU the backend sees, else the CPU), "
                                            "cpu, or gpu[:N] (the Nth GPU, from 0).", group=MODEL, form=TEXT)
    frames: Path | None = _setting(None, "Folder for progress frames frame_00000.png … (0 = start).", _ONE_IMAGE,
                                   group=OUTPUT, form=PATH)
    print_every: int = _setting(settings.PRINT_EVERY, "Print the losses every N iterations, one line each, for logs "
                                                      "(0: only the live bar).", _SINGLE, group=OUTPUT)
    save_every: int | None = _setting(None, {None: "A progress frame every N iterations.",
                                             "figures": "With --gif: a grid frame every N iterations."},
                                      settings.RUN_MODES + settings.FIGURES, group=OUTPUT)
    gif: Path | None = _setting(None, {None: "Write a progress GIF here at the end (needs --frames).",
                                       "figures": "Write a GIF of the whole grid forming."},
                            settings.RUN_MODES + settings.FIGURES, group=OUTPUT, form=PATH)
    max_memory: int | str | None = _setting(
        None, "Memory the run may use, e.g. 6GB (default: what the machine has free, less 10 %); an image whose "
        "VGG pass needs more runs in exact tiles.", _SINGLE, group=MEMORY, form=TEXT)
    checkpoint_every: int = _setting(
        settings.CHECKPOINT_EVERY, "Keep a resumable checkpoint beside the output every N iterations (0: never); "
        "`neuralstyle resume OUT.json` continues from it.", _ONE_IMAGE, group=MEMORY)
    record: Path | None = _setting(None, "Run record to write (default: the output with .json).", form=PATH)
    overwrite: bool = _setting(False, "Replace existing output files.", group=OUTPUT)
    tradeoff_layers: tuple[str, ...] = _setting(settings.TRADEOFF_LAYERS, "Rows: content layers.", ("tradeoff",),
                                                group=FIGURE, form=LIST)
    tradeoff_ratios: tuple[float, ...] = _setting(settings.TRADEOFF_RATIOS, "Columns: content/style weight ratios.",
                                                  ("tradeoff",), group=FIGURE, form=LIST)
    show_input: bool = _setting(True, "Include the input image itself as the first tile.", ("styles",), group=FIGURE)

    def __post_init__(self):
        values = _checked(self)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    # --- derived ---

    @property
    def is_figure(self) -> bool:
        return self.mode in settings.FIGURES

    @property
    def iteration_caps(self) -> tuple[int, ...]:
        """The most iterations each scale runs (iterations 'auto' may stop earlier)."""
        return settings.iteration_caps(self.iterations, len(self.scales))

    @property
    def style_scales(self) -> tuple[float, ...]:
        """Each style image's size relative to the output, in the styles' order."""
        return settings.style_scales(self.style_scale, max(len(self.styles), 1))

    @property
    def content_layers(self) -> tuple[str, ...]:
        """The layer(s) whose features carry the content."""
        return tuple(self.content_layer.split(","))

    @property
    def record_path(self) -> Path:
        """Where the run record goes: `record`, or the output with ``.json``."""
        if self.record is not None:
            return self.record
        if self.writes_folder:
            return self.output / "record.json"
        return self.output.with_suffix(".json")

    @property
    def writes_folder(self) -> bool:
        """A video written as a folder of frames (an output with no suffix, or an existing folder)."""
        return self.mode == settings.VIDEO and (not self.output.suffix or self.output.is_dir())

    @property
    def command(self) -> str:
        """The CLI command that makes this run, e.g. 'transfer' or 'figure tradeoff'."""
        return f"figure {self.mode}" if self.is_figure else self.mode

    def replace(self, **changes) -> RunSpec:
        """A copy with `changes` (checked again); settings not named keep their
        values, except that a single-scale spec's one scale, and the sizes of a
        spec on the default schedule, follow a new size."""
        if "size" in changes and "scales" not in changes:
            on_schedule = self.mode not in _TRANSFER or self.scales == _sizes(self.mode, self.size, settings.SCALES)
            follows = on_schedule or len(self.scales) == 1
            if follows:
                changes["scales"] = settings.SCALES if on_schedule else 1
            # iterations made from one number follow the new count of sizes
            if follows and "iterations" not in changes and isinstance(self.iterations, tuple) and \
                    self.iterations == settings.per_scale("iterations", self.iterations[0], len(self.iterations)):
                changes["iterations"] = self.iterations[0]
        return dataclasses.replace(self, **changes)

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_record(), sort_keys=True))

    # --- records ---

    def to_record(self) -> dict:
        """The spec as JSON-ready values, with its schema version; paths absolute."""
        data = {"schema": SCHEMA_VERSION}
        for spec_field in dataclasses.fields(self):
            data[spec_field.name] = _jsonable(getattr(self, spec_field.name))
        # init and weights name a choice or a file: a file is kept absolute, so a record reruns from anywhere.
        if self.init not in settings.INITS:
            data["init"] = str(Path(self.init).resolve())
        if self.weights not in settings.WEIGHT_SOURCES:
            data["weights"] = str(Path(self.weights).resolve())
        return data

    @classmethod
    def from_record(cls, arguments, command: str | None = None, record_version: int = 1) -> RunSpec:
        """The spec a run record's ``arguments`` describe; a first-format record
        (``record_version`` 1, the CLI command's keyword arguments) is migrated.
        Unknown or missing settings and wrong types raise SettingError."""
        if not isinstance(arguments, Mapping):
            raise SettingError("arguments", f"the record's ⟨name⟩ are {type(arguments).__name__}, not a mapping")
        if record_version == 1 or "schema" not in arguments:
            arguments = migrate_v1(command, arguments)
        arguments = dict(arguments)
        schema = arguments.pop("schema", SCHEMA_VERSION)
        if schema == 2:  # before balance existed, a transfer's weights were taken as given
            if arguments.get("mode") in settings.TRANSFERS:
                arguments.setdefault("balance", "fixed")
            schema = SCHEMA_VERSION
        if schema != SCHEMA_VERSION:
            raise SettingError("schema", f"record ⟨name⟩ {shown(schema)} is not one this version reads ({SCHEMA_VERSION})")
        known = {spec_field.name for spec_field in dataclasses.fields(cls)}
        unknown = sorted(set(arguments) - known)
        if unknown:
            raise SettingError("arguments", f"unknown setting(s) {', '.join(map(repr, unknown))} in the record; "
                                            f"a run has {', '.join(sorted(known))}")
        for required in ("mode", "output"):
            if required not in arguments:
                raise SettingError(required, "the record has no ⟨name⟩")
        if isinstance(arguments["mode"], str) and arguments["mode"] in settings.MODES:
            # A record holds every setting; those its mode does not use kept the defaults of their day.
            arguments = {name: value for name, value in arguments.items() if applies_to(name, arguments["mode"])}
        return cls(**arguments)


def applies_to(setting: str, mode: str) -> bool:
    """Whether a RunSpec field means something in `mode` (else it must keep its default)."""
    modes = _FIELDS[setting].metadata["modes"]
    return modes is None or mode in modes


def help_for(setting: str, mode: str | None = None) -> str:
    """The help text of a RunSpec field, in the words for `mode` where it has its own."""
    text = _FIELDS[setting].metadata["help"]
    if isinstance(text, str):
        return text
    group = "figures" if mode in settings.FIGURES else mode
    if group not in text and mode == settings.VIDEO:  # a clip's frames are transfers
        group = "transfer"
    return text.get(group, text.get(None, next(iter(text.values()))))


def metadata(setting: str) -> Mapping:
    """A RunSpec field's declaration: help, modes, group, choices and form (see `_setting`)."""
    return _FIELDS[setting].metadata


def run_default(setting: str, mode: str):
    """The value a run of `mode` takes for `setting` when none is given."""
    value = _FIELDS[setting].default
    if value is None and setting in settings.MODE_DEFAULTS[mode]:
        return settings.mode_default(mode, setting)
    return value


def default_of(setting: str):
    """The default of a RunSpec field (None: the mode's default, see `settings.mode_default`)."""
    return _FIELDS[setting].default


def _jsonable(value):
    if isinstance(value, Path):
        return str(value.resolve())
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


def _path(setting: str, value, required: bool = False) -> Path | None:
    if value is None:
        if required:
            raise SettingError(setting, "⟨name⟩ is missing")
        return None
    if not isinstance(value, (str, Path)) or not str(value):
        raise SettingError(setting, f"⟨name⟩ is {shown(value)}; expected a path")
    return Path(value)


def _sizes(mode: str, size: int, scales) -> tuple[int, ...]:
    """The longest sides a transfer of `mode` optimises: a clip's frames one size each (each starts from the
    last one warped, not from a coarse picture)."""
    return settings.scale_sizes(size, scales, schedule=mode != settings.VIDEO)


def _checked(spec: RunSpec) -> dict:
    """Every value of `spec` checked and in its canonical form, mode defaults filled in."""
    mode = settings.choice("mode", spec.mode, settings.MODES)
    model = settings.model(spec.model)
    values = {"mode": mode, "model": model}
    for name in ("content_layer", "init", "tv_weight", "size", "iterations", "save_every"):
        value = getattr(spec, name)
        values[name] = settings.mode_default(mode, name) if value is None else value

    # Settings that apply to other modes only must keep their defaults: a value given there would be ignored.
    for spec_field in dataclasses.fields(RunSpec):
        modes = spec_field.metadata["modes"]
        if modes is None or mode in modes:
            continue
        value = getattr(spec, spec_field.name)
        if spec_field.name in values:  # a mode-dependent default: this mode's own is the only value it takes
            if value is not None and _jsonable(value) != _jsonable(settings.mode_default(mode, spec_field.name)):
                raise SettingError(spec_field.name, f"⟨name⟩ ({shown(value)}) does not apply to {mode}; "
                                                    f"it is used by {', '.join(modes)}")
            continue
        if spec_field.name == "scales" and _jsonable(value) in ([values["size"]], [str(values["size"])]):
            continue  # a made spec of any mode holds its one scale
        if value is not None and value != spec_field.default and _jsonable(value) != _jsonable(spec_field.default):
            raise SettingError(spec_field.name, f"⟨name⟩ ({shown(value)}) does not apply to {mode}; "
                                                f"it is used by {', '.join(modes)}")

    # Inputs: the files of each role (`neuralstyle.jobs.roles`), as many as the mode takes.
    for role in roles.ROLES:
        if role.choices:  # a setting that may name a file instead (init): checked with the choices below
            continue
        value = getattr(spec, role.field)
        if role.many:
            if isinstance(value, (str, Path)):
                raise SettingError(role.field, f"⟨name⟩ is {shown(value)}; expected a list of paths")
            values[role.field] = tuple(_path(role.field, item, required=True)
                                       for item in settings.as_list(role.field, value))
            given = list(values[role.field])
        else:
            values[role.field] = _path(role.field, value)
            given = [] if values[role.field] is None else [values[role.field]]
        role.check_count(mode, given, len(values.get("styles", ())))
    styles = values["styles"]
    if values["style_masks"] and values["style_regions"] is not None:
        raise SettingError("style_regions", "give ⟨style_masks⟩ or ⟨name⟩ (a colour map), not both")
    colors = spec.style_region_colors
    if values["style_regions"] is None:
        if colors:
            raise SettingError("style_region_colors", "⟨name⟩ needs ⟨style_regions⟩, the map they colour")
        values["style_region_colors"] = None
    else:
        values["style_region_colors"] = tuple(settings.color(item) for item in settings.as_list(
            "style_region_colors", colors or []))
        if len(values["style_region_colors"]) != len(styles):
            raise SettingError("style_region_colors", f"{len(values['style_region_colors'])} ⟨name⟩ for "
                                                      f"{len(styles)} style image(s); give one colour per style, "
                                                      f"in the styles' order")
    values["guides"] = settings.choice("guides", spec.guides, settings.GUIDES)

    # Layers and weights.
    content_layers = settings.layers("content_layer", model, settings.as_list("content_layer", values["content_layer"]))
    if len(content_layers) > 1 and mode not in _TRANSFER:
        raise SettingError("content_layer", f"⟨name⟩ {','.join(content_layers)}: a {mode} reconstruction takes "
                                            f"one layer")
    values["content_layer"] = ",".join(content_layers)
    values["style_layers"] = (settings.style_layers(settings.mode_default(mode, "style_layers") if spec.style_layers is None
                                                    else spec.style_layers, model)
                              if mode in _WITH_STYLE_LAYERS else spec.style_layers)
    values["content_weight"] = settings.non_negative("content_weight", spec.content_weight)
    values["style_weight"] = settings.non_negative("style_weight", spec.style_weight)
    values["balance"] = settings.choice("balance", spec.balance, settings.BALANCES)
    values["tv_weight"] = settings.non_negative("tv_weight", values["tv_weight"])
    values["style_blend"] = settings.style_blend(spec.style_blend, len(styles)) if mode in _TRANSFER else None
    scales = settings.style_scales(spec.style_scale, max(len(styles), 1))
    values["style_scale"] = scales[0] if len(set(scales)) == 1 else scales

    # Sizes and budgets.
    size = values["size"] = settings.whole("size", values["size"], 1)
    values["scales"] = _sizes(mode, size, spec.scales) if mode in _TRANSFER else (size,)
    values["iterations"] = settings.iterations(values["iterations"], len(values["scales"]))
    if values["iterations"] == "auto" and mode in settings.FIGURES:
        raise SettingError("iterations", f"⟨name⟩ auto is for single runs; a figure runs the same number for every "
                                         f"tile (e.g. {settings.FIGURE_ITERATIONS})")
    values["save_every"] = settings.whole("save_every", values["save_every"], 1)
    values["print_every"] = settings.whole("print_every", spec.print_every, 0)
    values["max_memory"] = settings.memory_amount("max_memory", spec.max_memory)
    values["checkpoint_every"] = settings.whole("checkpoint_every", spec.checkpoint_every, 0)
    values["seed"] = settings.whole("seed", spec.seed, 0)

    # Choices.
    values["preserve_color"] = settings.choice("preserve_color", spec.preserve_color, settings.COLOR_MODES)
    values["optimizer"] = settings.choice("optimizer", spec.optimizer, settings.OPTIMIZERS)
    values["learning_rate"] = settings.positive("learning_rate", spec.learning_rate)
    values["history_size"] = settings.history_size(spec.history_size)
    values["pooling"] = settings.choice("pooling", spec.pooling, settings.POOLINGS)
    values["device"] = settings.device(spec.device)
    values["precision"] = settings.choice("precision", spec.precision, settings.PRECISIONS)
    weights = spec.weights
    if not isinstance(weights, (str, Path)) or not str(weights):
        raise SettingError("weights", f"⟨name⟩ is {shown(weights)}; use {', '.join(settings.WEIGHT_SOURCES)} or a path")
    weights = str(weights)
    if weights.lower() in settings.WEIGHT_SOURCES:
        weights = weights.lower()
        if weights == "imagenet-q8" and model != "vgg19":
            raise SettingError("weights", "⟨name⟩ imagenet-q8 exist for VGG19 only; VGG16 needs imagenet or a file")
    elif not weights.lower().endswith(".h5") and not Path(weights).exists():
        raise SettingError("weights", f"unknown ⟨name⟩ {shown(weights)}; use one of "
                                      f"{', '.join(settings.WEIGHT_SOURCES)} or a path to a .h5 weights file")
    values["weights"] = weights
    init = values["init"]
    named_inits = settings.INITS if mode in _TRANSFER else (settings.RECONSTRUCTION_INIT,)
    if mode in settings.FIGURES:
        pass  # figures start each tile as the paper's figure does
    elif not isinstance(init, (str, Path)) or not str(init) or (init in settings.INITS and init not in named_inits):
        raise SettingError("init", f"⟨name⟩ is {shown(init)} for {mode}; choose {', '.join(named_inits)} "
                                   f"or a path to an image")
    values["init"] = str(init)

    # Outputs.
    output = values["output"] = _path("output", spec.output, required=True)
    if mode != settings.VIDEO:
        settings.output_suffix("output", output)
    elif output.suffix and not output.is_dir():
        settings.output_suffix("output", output, settings.VIDEO_SUFFIXES)
    values["record"] = _path("record", spec.record)
    if values["record"] is not None and values["record"].suffix.lower() != ".json":
        raise SettingError("record", f"⟨name⟩ {str(values['record'])!r} must end in .json")
    values["frames"] = _path("frames", spec.frames)
    values["gif"] = _path("gif", spec.gif)
    if values["gif"] is not None:
        if values["gif"].suffix.lower() != ".gif":
            raise SettingError("gif", f"⟨name⟩ {str(values['gif'])!r} must end in .gif")
        if not values["frames"] and mode in settings.RUN_MODES:
            raise SettingError("gif", "⟨name⟩ needs ⟨frames⟩ DIR (the GIF is made from the saved frames)")
    record_path = values["record"] or output.with_suffix(".json")
    written = {"output": output, "record": record_path, "gif": values["gif"], "frames": values["frames"]}
    seen: dict[Path, str] = {}
    for setting, path in written.items():
        if path is None:
            continue
        key = Path(os.path.abspath(path))
        if key in seen:
            raise SettingError(setting, f"⟨name⟩ and ⟨{seen[key]}⟩ are both {str(path)!r}; each file a run "
                                        f"writes needs a place of its own")
        seen[key] = setting
        if values["frames"] is not None and setting != "frames" and key.parent == Path(os.path.abspath(values["frames"])) \
                and FRAME_PATTERN.match(key.name):
            raise SettingError(setting, f"⟨name⟩ {str(path)!r} is where a progress frame goes; choose another name")
    values["overwrite"] = settings.flag("overwrite", spec.overwrite)
    values["show_input"] = settings.flag("show_input", spec.show_input)
    values["temporal_weight"] = settings.non_negative("temporal_weight", spec.temporal_weight)
    values["long_term"] = settings.frame_distances(spec.long_term)
    values["passes"] = settings.whole("passes", spec.passes, 1)
    values["frame_range"] = None if spec.frame_range is None else \
        ":".join("" if part is None else str(part) for part in settings.frame_range(spec.frame_range))
    values["tradeoff_layers"] = tuple(settings.layers("tradeoff_layers", model,
                                                      settings.as_list("tradeoff_layers", spec.tradeoff_layers)))
    values["tradeoff_ratios"] = tuple(settings.positive("tradeoff_ratios", ratio)
                                      for ratio in settings.as_list("tradeoff_ratios", spec.tradeoff_ratios))
    if not values["tradeoff_ratios"]:
        raise SettingError("tradeoff_ratios", "⟨name⟩ is empty; give at least one ratio")
    return values


def migrate_v1(command, arguments: Mapping) -> dict:
    """A first-format record's ``arguments`` (the keyword arguments of the CLI
    command `command`) as the serialised RunSpec they meant."""
    if not isinstance(command, str):
        raise SettingError("command", f"the record's ⟨name⟩ is {shown(command)}")
    mode = command.removeprefix("figure ").strip()
    if mode not in settings.MODES:
        raise SettingError("command", f"the record's ⟨name⟩ {shown(command)} is not one of "
                                      f"{', '.join(settings.RUN_MODES)}, figure {'|'.join(settings.FIGURES)}")
    arguments = dict(arguments)
    arguments.pop("quiet", None)
    if arguments.get("precision") is None and mode in settings.RUN_MODES:  # the default then; it is 'auto' now
        arguments["precision"] = "float32"
    moves = {"style_layer": "style_layers", "content_layers": "tradeoff_layers", "ratios": "tradeoff_ratios"}
    for old, new in moves.items():
        if old in arguments:
            arguments[new] = arguments.pop(old)
    if arguments.get("style_layers") is None and mode in settings.TRANSFERS:  # the default then: the paper's, equal
        arguments["style_layers"] = dict(settings.EQUAL_STYLE_LAYERS)
    if arguments.get("init") is None and mode in settings.TRANSFERS:  # the default then: the content image itself
        arguments["init"] = "content"
    if mode == "content":
        arguments["content"] = arguments.pop("image", None)
    elif mode == "style":
        arguments["styles"] = [arguments.pop("image", None)]
    elif "style" in arguments:
        arguments["styles"] = [arguments.pop("style")]
    if "style_blend" in arguments and isinstance(arguments["style_blend"], list):
        arguments["style_blend"] = ",".join(map(str, arguments["style_blend"])) or None
    return {"schema": 2, "mode": mode, **arguments}  # as the second format wrote it: migrated on from there


_FIELDS = {spec_field.name: spec_field for spec_field in dataclasses.fields(RunSpec)}
