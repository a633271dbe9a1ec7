"""A run's image inputs, each role declared once.

A role says which `RunSpec` field names its files, how many each mode takes,
which image sets the output's size, whether the web app offers a picker for
it, and under which argument the core's entry point receives it. The pipeline
reads and hashes inputs by it, `RunSpec` checks their counts by it, a sweep
hashes a cell's inputs by it, the web app builds its pickers and specs by it,
and the call into synthesis is derived from it. A run record's ``inputs``
are keyed by role name. Adding an input (a mask per style, the frames of a
video) is one entry here, its use in the core, and its CLI option.

Pure Python: no TensorFlow, no file access.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..core import settings
from ..core.settings import SettingError

NONE, ONE, ONE_OR_MORE, OPTIONAL = "no", "one", "one or more", "optional"  # how many files a mode takes
PER_STYLE = "one per style image"  # none, or exactly as many as the run's style images, in their order


@dataclass(frozen=True)
class Role:
    """One kind of image input. `counts` maps each mode that takes the role to
    how many files it takes (a mode not listed takes none); `core` maps a mode
    to the keyword its core entry point receives the image(s) under (a list
    where the mode takes ONE_OR_MORE); `choices` are the named values the field
    may hold instead of a path (an init of 'noise' reads no file)."""

    name: str  # the key of a plan's and a record's inputs
    field: str  # the RunSpec field holding the path(s)
    label: str  # how a message names one such image
    counts: Mapping[str, str]
    core: Mapping[str, str] = field(default_factory=dict)
    sets_size: tuple[str, ...] = ()  # the modes whose output takes this image's aspect ratio
    in_app: bool = False  # the web app offers a picker for it
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    clip_modes: tuple[str, ...] = ()  # the modes in which the file is a clip (a video or a folder of frames)

    def is_clip(self, mode: str) -> bool:
        return mode in self.clip_modes

    @property
    def many(self) -> bool:
        """The field holds a list of paths."""
        return any(count in (ONE_OR_MORE, PER_STYLE) for count in self.counts.values())

    def count(self, mode: str) -> str:
        return self.counts.get(mode, NONE)

    def paths(self, spec) -> list[Path]:
        """The files this role reads for `spec` (a checked RunSpec)."""
        value = getattr(spec, self.field)
        if value is None or self.count(spec.mode) == NONE:
            return []
        if self.many:
            return [Path(item) for item in value]
        if str(value) in self.choices.get(spec.mode, ()):
            return []
        return [Path(value)]

    def check_count(self, mode: str, paths: list, styles: int = 0) -> None:
        """SettingError unless `mode` takes this many of this role (`styles`: the run's style images)."""
        count, given = self.count(mode), len(paths)
        if count == PER_STYLE:
            if given not in (0, styles):
                raise SettingError(self.field, f"{given} {self.label}(s) for {styles} style image(s); give one per "
                                               f"style, in the styles' order")
            return
        if count == ONE and not self.many and given == 0:
            raise SettingError(self.field, f"{mode} needs a ⟨name⟩ image")
        if count == NONE and given and not self.many:
            raise SettingError(self.field, f"{mode} takes no ⟨name⟩ image"
                               + (" (the style image is in ⟨styles⟩)" if self.name == "content" else ""))
        ok = {NONE: given == 0, ONE: given == 1, ONE_OR_MORE: given >= 1, OPTIONAL: given <= 1}[count]
        if not ok:
            raise SettingError(self.field, f"{mode} takes {count} {self.label}(s); ⟨name⟩ has {given}")

    def spec_value(self, paths: list[Path]):
        """The RunSpec field's value for these files."""
        return list(paths) if self.many else (paths[0] if paths else None)


VIDEO = settings.VIDEO  # a clip's frames are its content; its masks hold for every frame
CONTENT = Role(
    "content", "content", "content image",
    counts={"transfer": ONE, "content": ONE, **dict.fromkeys(settings.FIGURES, ONE), VIDEO: ONE},
    core={"transfer": "content", "content": "image", VIDEO: "frames"},
    sets_size=("transfer", "content", *settings.FIGURES, VIDEO), in_app=True, clip_modes=(VIDEO,))
STYLE = Role(
    "style", "styles", "style image",
    counts={"transfer": ONE_OR_MORE, "style": ONE, "reconstructions": ONE, "tradeoff": ONE, "styles": ONE_OR_MORE,
            VIDEO: ONE_OR_MORE},
    core={"transfer": "style", "style": "image", VIDEO: "style"},
    sets_size=("style",), in_app=True)
INIT = Role(
    "init", "init", "start image",
    counts=dict.fromkeys((*settings.RUN_MODES, VIDEO), OPTIONAL),
    core=dict.fromkeys((*settings.RUN_MODES, VIDEO), "init"),
    choices={"transfer": settings.INITS, "content": (settings.RECONSTRUCTION_INIT,),
             "style": (settings.RECONSTRUCTION_INIT,), VIDEO: settings.INITS})

STYLE_MASK = Role(
    "style_mask", "style_masks", "style mask", counts=dict.fromkeys(settings.TRANSFERS, PER_STYLE),
    core=dict.fromkeys(settings.TRANSFERS, "style_masks"), in_app=True)
STYLE_IMAGE_MASK = Role(
    "style_image_mask", "style_image_masks", "style image mask", counts=dict.fromkeys(settings.TRANSFERS, PER_STYLE),
    core=dict.fromkeys(settings.TRANSFERS, "style_image_masks"))
CONTENT_MASK = Role("content_mask", "content_mask", "content mask", counts=dict.fromkeys(settings.TRANSFERS, OPTIONAL),
                    core=dict.fromkeys(settings.TRANSFERS, "content_mask"))
STYLE_REGIONS = Role("style_regions", "style_regions", "region map",  # made masks by the pipeline
                     counts=dict.fromkeys(settings.TRANSFERS, OPTIONAL))

ROLES = (CONTENT, STYLE, INIT, STYLE_MASK, STYLE_IMAGE_MASK, CONTENT_MASK, STYLE_REGIONS)  # the order of a record's inputs


def used_by(mode: str) -> tuple[Role, ...]:
    """The roles a run of `mode` may read files for."""
    return tuple(role for role in ROLES if role.count(mode) != NONE)


def sizing_role(mode: str) -> Role:
    """The role whose image sets a run's output size and aspect ratio."""
    return next(role for role in ROLES if mode in role.sets_size)


def spec_fields(paths_by_role: Mapping[str, list[Path]]) -> dict:
    """RunSpec field values from files by role name (the web app's picks)."""
    by_name = {role.name: role for role in ROLES}
    return {by_name[name].field: by_name[name].spec_value(list(paths)) for name, paths in paths_by_role.items()}


def core_arguments(mode: str, images_by_role: Mapping[str, list], spec) -> dict:
    """The keyword arguments a core entry point of `mode` receives its images
    under: each role's image(s), or a role's named choice where it read no file."""
    arguments = {}
    for role in used_by(mode):
        keyword = role.core.get(mode)
        if keyword is None:
            continue
        images = list(images_by_role.get(role.name, []))
        if role.count(mode) in (ONE_OR_MORE, PER_STYLE):
            arguments[keyword] = images
        elif images:
            arguments[keyword] = images[0]
        else:
            arguments[keyword] = getattr(spec, role.field)  # a named choice, e.g. init='noise'
    return arguments
