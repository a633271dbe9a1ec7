"""Sweeps: a grid of transfers over contents × styles × any `RunSpec` setting,
each cell an ordinary run with its own image and record.

A grid is given as lists: an option repeated on the command line
(``--style-weight 10 --style-weight 100``; each value written as `transfer`
takes it, so ``--iterations 40,25`` is one value, a count per scale), or a
TOML (or YAML) file. Every cell is a `RunSpec`, so every value is checked
by `RunSpec` itself (`neuralstyle.core.settings`), once, before anything runs. A
cell's file name is made of its content, its style and the value of each
setting that varies (``photo__painting__style_weight-100.png``), so it is
readable and the same each time the sweep is run. A cell whose record already
matches its spec and its inputs' bytes is done (`is_done`), which makes a
re-run resume where the last one stopped. Pure Python: no TensorFlow.

Region masks are inputs, not axes: a sweep may give a mask per style
(``--style-mask``, a grid file's ``style_mask``), aligned with its styles, so
that a cell with style i paints only mask i's region and keeps the content
elsewhere; and one content mask for every cell. A cell's masks are among its
inputs (`neuralstyle.jobs.roles`), so a changed mask re-runs only the cells
that use it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core import settings
from ..core.images import read_file
from ..core.settings import SettingError, shown
from . import roles
from .spec import RunSpec, applies_to

# RunSpec fields a cell does not take from the grid: the cell sets them itself, or a sweep has no use for them.
NOT_SWEPT = ("mode", "content", "styles", "output", "record", "frames", "save_every", "gif", "overwrite",
             "style_blend",  # one style per cell: nothing to blend
             # Masks are files that go with an image, not choices: a mask per style goes with its style
             # (`STYLE_MASKS`), and one content mask with every cell (`ONE_FOR_ALL`). The others need
             # several styles in one run, which a cell never has.
             "style_masks", "style_image_masks", "content_mask", "style_regions", "style_region_colors")
SWEEPABLE = tuple(spec_field.name for spec_field in dataclasses.fields(RunSpec)
                  if applies_to(spec_field.name, "transfer") and spec_field.name not in NOT_SWEPT)
# Settings whose one value is itself a list (its items separated by commas, as on `transfer`).
LIST_VALUED = ("content_layer", "style_layers", "scales", "iterations")
NAME_SEPARATOR = "+"  # between a list value's items in a cell's name
# Settings a sweep takes one value of, the same for every cell: never an axis.
ONE_FOR_ALL = ("content_mask",)
STYLE_MASKS = "style_masks"  # the RunSpec field a cell's own style mask goes in (one per style of the sweep)
AXES = ("content", "styles", *SWEEPABLE)  # the order of a cell's name and of the contact sheet's rows
GRID_PATHS = ("content", "style", "style_mask", *ONE_FOR_ALL)  # a grid file's paths, relative to it
GRID_KEYS = ("content", "style", "style_mask", "columns", *ONE_FOR_ALL, *SWEEPABLE)  # what a grid file may hold
SUMMARY_FILES = ("contact_sheet.png", "index.html", "sweep.json")  # a sweep's own files, remade by each run


@dataclass(frozen=True)
class Cell:
    """One run of a sweep: its spec, its file stem and its place in the grid
    (the label of its value on each axis, by setting)."""

    spec: RunSpec
    name: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Grid:
    """Every cell of a sweep, in order; `axes` are (setting, labels of its values)
    for the settings that vary, and `columns` the one the contact sheet lays out
    across."""

    cells: tuple[Cell, ...]
    axes: tuple[tuple[str, tuple[str, ...]], ...]
    columns: str | None

    @property
    def rows(self) -> tuple[str, ...]:
        """The varying settings whose values, combined, make the contact sheet's rows."""
        return tuple(setting for setting, _ in self.axes if setting != self.columns)


def split_values(setting: str, given: list[str]) -> list:
    """A command line's values of an axis: the option repeated, each occurrence one
    value written as `transfer` takes it (['10', '100']; a list-valued setting's
    value keeps its commas: ['40,25', '80']). A comma in a one-number setting is
    refused, saying to repeat the option."""
    values = [str(item).strip() for item in given]
    for value in values:
        if not value:
            raise SettingError(setting, "⟨name⟩ has an empty value")
        if "," in value and setting not in LIST_VALUED:
            raise SettingError(setting, f"⟨name⟩ {shown(value)} holds several values; a sweep takes one per option: "
                                        f"repeat ⟨name⟩ for each value to sweep over")
    return values


def grid_values(setting: str, value) -> list:
    """A grid file's entry as a list of values: a list sweeps (each item one
    value, a list-valued setting's item a list or 'a+b'), anything else is one
    value."""
    if not isinstance(value, list):
        return [value]
    if not value:
        raise SettingError(setting, "⟨name⟩ is an empty list; give at least one value")
    return value


def read_grid_file(path: Path) -> dict:
    """A grid file (``.toml``; ``.yaml``/``.yml`` with PyYAML installed) as a mapping
    of setting → list of values, with "content", "style" and "style_mask" paths
    made relative to the file's folder, "content_mask" one such path and
    "columns" a setting name."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise SettingError("grid", f"cannot read ⟨name⟩ {path} ({getattr(error, 'strerror', None) or error})") from None
    try:
        if suffix == ".toml":
            try:
                import tomllib
            except ImportError:  # Python 3.10: tomli, the same parser before it joined the standard library
                import tomli as tomllib

            data = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise SettingError("grid", f"⟨name⟩ {path} is YAML, which needs PyYAML (pip install pyyaml); "
                                           f"or write it as TOML") from None
            data = yaml.safe_load(text)
        else:
            raise SettingError("grid", f"⟨name⟩ {path} must end in .toml, .yaml or .yml")
    except SettingError:
        raise
    except Exception as error:  # tomllib's and yaml's own errors: the file's fault, said in one line
        message = " ".join(str(error).split())
        raise SettingError("grid", f"⟨name⟩ {path} is not valid {suffix[1:].upper()}: {message}") from None
    if not isinstance(data, dict):
        raise SettingError("grid", f"⟨name⟩ {path} holds {type(data).__name__}, not a table of settings")
    unknown = sorted(set(data) - set(GRID_KEYS))
    if unknown:
        raise SettingError("grid", f"unknown key(s) {', '.join(map(repr, unknown))} in ⟨name⟩ {path}; a grid has "
                                   f"{', '.join(GRID_KEYS)}")
    grid = {}
    for key, value in data.items():
        if key in ONE_FOR_ALL:
            if not isinstance(value, str) or not value:
                raise SettingError("grid", f"{key} in ⟨name⟩ {path} is {shown(value)}; expected one path (a sweep "
                                           f"uses one {key.replace('_', ' ')} for every cell)")
            grid[key] = path.parent / value
        elif key in GRID_PATHS:
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(item, str) and item for item in values):
                raise SettingError("grid", f"{key} in ⟨name⟩ {path} is {shown(value)}; expected paths")
            grid[key] = [path.parent / item for item in values]
        elif key == "columns":
            grid[key] = value
        else:
            grid[key] = grid_values(key, value)
    return grid


def label(setting: str, spec: RunSpec) -> str:
    """How a cell's value of `setting` reads in a name or a label: 100.0 → '100',
    (40, 25) → '40+25', a path → its file name's stem."""
    value = getattr(spec, setting)
    if setting == "content":
        return value.stem
    if setting == "styles":
        return NAME_SEPARATOR.join(path.stem for path in value)
    if setting == "style_layers":
        return NAME_SEPARATOR.join(name if weight == 1 else f"{name}:{weight:g}" for name, weight in value.items())
    if setting in ("init", "weights") and value not in (*settings.INITS, *settings.WEIGHT_SOURCES):
        return Path(value).stem
    if isinstance(value, (list, tuple)):
        return NAME_SEPARATOR.join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def file_part(text: str) -> str:
    """`text` made safe as part of a file name on every system."""
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-.") or "x"


def make_grid(contents, styles, values: Mapping[str, list], output: Path, fixed: Mapping | None = None,
              columns: str | None = None, overwrite: bool = False, style_masks=None) -> Grid:
    """Every cell of contents × styles × `values` (setting → its values), each a
    transfer into the folder `output` with the settings `fixed` besides (a
    setting of `SWEEPABLE` or `ONE_FOR_ALL`). `style_masks`, if given, holds a
    mask per style, in their order: a cell with style i paints only mask i's
    region. Paths are made absolute, so a cell's spec means the same on any
    worker. Raises SettingError for an unknown setting, a bad value, a mask
    count that is not the style count, or two cells with one name."""
    contents = [Path(path).absolute() for path in contents]
    styles = [Path(path).absolute() for path in styles]
    masks = [Path(path).absolute() for path in style_masks or ()]
    fixed = dict(fixed or {})
    for setting in ONE_FOR_ALL:
        if fixed.get(setting) is not None:
            if isinstance(fixed[setting], (list, tuple)):
                raise SettingError(setting, "⟨name⟩ cannot be swept; give one, used by every cell")
            fixed[setting] = Path(fixed[setting]).absolute()
    if not contents:
        raise SettingError("content", "a sweep needs at least one ⟨name⟩ image")
    if not styles:
        raise SettingError("styles", "a sweep needs at least one style image (⟨styles⟩)")
    if masks and len(masks) != len(styles):
        raise SettingError(STYLE_MASKS, f"{len(masks)} ⟨name⟩ for {len(styles)} style image(s); give one per "
                                        f"style, in the styles' order")
    for setting in values:
        if setting not in SWEEPABLE:
            raise SettingError(setting, f"⟨name⟩ cannot be swept; a sweep varies {', '.join(SWEEPABLE)}")
    for setting in fixed:
        if setting not in (*SWEEPABLE, *ONE_FOR_ALL):
            raise SettingError(setting, f"⟨name⟩ cannot be set for a sweep; a sweep takes "
                                        f"{', '.join((*SWEEPABLE, *ONE_FOR_ALL))}")
    # A style comes with its own mask, if any: the two are one value of the styles axis.
    style_items = [{"styles": (path,), **({STYLE_MASKS: (masks[index],)} if masks else {})}
                   for index, path in enumerate(styles)]
    axes = [("content", contents), ("styles", style_items)]
    axes += [(setting, list(values[setting])) for setting in SWEEPABLE if setting in values]
    for setting, items in axes:
        if not items:
            raise SettingError(setting, "⟨name⟩ has no values; give at least one")
    output = Path(output).absolute()
    cells, names = [], {}
    for combination in itertools.product(*(items for _, items in axes)):
        chosen = {}
        for (setting, _), value in zip(axes, combination):
            chosen.update(value if setting == "styles" else {setting: value})
        spec = RunSpec(mode="transfer", output=output / "cell.png", overwrite=overwrite, **fixed, **chosen)
        labels = {setting: label(setting, spec) for setting, _ in axes}
        cells.append((spec, labels))
    varying = [setting for setting, _ in axes
               if len({labels[setting] for _, labels in cells}) > 1 or setting in ("content", "styles")]
    built = []
    for spec, labels in cells:
        parts = [labels["content"], labels["styles"]] + [f"{setting}-{labels[setting]}" for setting in varying
                                                          if setting not in ("content", "styles")]
        name = "__".join(map(file_part, parts))
        if name in names:
            raise SettingError("content", f"two cells would both be written to {name}.png ({names[name]} and "
                                          f"{spec.content}, {', '.join(map(str, spec.styles))}); rename an input")
        names[name] = f"{spec.content}, {', '.join(map(str, spec.styles))}"
        built.append(Cell(spec.replace(output=output / f"{name}.png"), name,
                          {setting: labels[setting] for setting in varying}))
    shown_axes = tuple((setting, labels) for setting in varying
                       if len(labels := tuple(dict.fromkeys(cell.labels[setting] for cell in built))) > 1)
    really_varying = [setting for setting, _ in shown_axes]
    if columns is not None:
        columns = {"style": "styles"}.get(columns, columns)
        if columns not in AXES:
            raise SettingError("columns", f"unknown ⟨name⟩ {shown(columns)}; choose content, style or a setting "
                                          f"of the grid")
        if columns not in really_varying:
            raise SettingError("columns", f"⟨name⟩ {columns} does not vary in this grid; choose one of "
                                          f"{', '.join(really_varying) or '(none: every setting has one value)'}")
    elif really_varying:
        columns = "styles" if "styles" in really_varying else really_varying[-1]
    return Grid(tuple(built), shown_axes, columns)


# --- done cells ------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes (hex)."""
    return hashlib.sha256(read_file(path, str(path))).hexdigest()


def is_done(spec: RunSpec, input_sha256: Mapping[str, list[str]]) -> dict | None:
    """The record of `spec`'s finished run if it is on disk and still matches:
    same settings (every RunSpec field but `overwrite`), same input bytes
    (`input_sha256`: role → sha256s, as a record's inputs list them), a whole
    run that ended without error, and its image unchanged. Else None."""
    try:
        record = json.loads(spec.record_path.read_text())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    arguments = record.get("arguments")
    wanted = spec.to_record()
    if not isinstance(arguments, dict) or {**arguments, "overwrite": None} != {**wanted, "overwrite": None}:
        return None
    inputs = record.get("inputs")
    if not isinstance(inputs, dict):
        return None
    recorded = {role: [entry.get("sha256") if isinstance(entry, dict) else None for entry in entries]
                for role, entries in inputs.items() if isinstance(entries, list)}
    if {role: list(hashes) for role, hashes in input_sha256.items()} != recorded:
        return None
    if not settings.ended_whole(record.get("stopped")) or record.get("error") is not None:
        return None
    output = record.get("output")
    try:
        if not isinstance(output, dict) or file_sha256(spec.output) != output.get("sha256"):
            return None
    except (ValueError, OSError):
        return None
    return record


def input_sha256(spec: RunSpec, digest=file_sha256) -> dict[str, list[str]]:
    """The sha256 of each input file of `spec`, by role, as its record lists them."""
    return {role.name: [digest(path) for path in role.paths(spec)] for role in roles.used_by(spec.mode)}
