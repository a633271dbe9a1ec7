"""The command line's options and errors, made once from `RunSpec` and the settings.

Every command takes its options' help, defaults and choices from here (which
read `neuralstyle.jobs.spec.RunSpec` and `neuralstyle.core.settings`), and turns
the errors a user can cause into one line and exit code 2 (`one_line_errors`).
"""

from __future__ import annotations

import enum
import functools
import inspect
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.images import ImageError
from ..core.interrupts import Interrupted
from ..core.settings import SettingError
from ..core.weights import WeightsError
from ..jobs import preload
from ..jobs.spec import RunSpec, applies_to, help_for, metadata, run_default
from .terminal import console

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

# How the CLI names a RunSpec field in messages, where that is not --field-name.
OPTION_NAMES = {"content": "CONTENT", "styles": "STYLE", "output": "--output", "style_layers": "--style-layer",
                "style_masks": "--style-mask", "style_image_masks": "--style-image-mask",
                "tradeoff_layers": "--content-layers", "tradeoff_ratios": "--ratios", "mode": "the command",
                "show_input": "--show-input/--hide-input", "KERAS_BACKEND": "KERAS_BACKEND", "arguments": "arguments"}
# RunSpec fields no command takes as an option, and why.
NOT_OPTIONS = {"mode": "the command is the mode", "record": "always the output with .json beside it"}


def option_name(setting: str) -> str:
    return OPTION_NAMES.get(setting, "--" + setting.replace("_", "-"))


def fail(message: str, code: int = EXIT_BAD_INPUT):
    console.print(f"neuralstyle: error: {one_line(message)}", markup=False, soft_wrap=True)
    raise typer.Exit(code)


def one_line(message: str) -> str:
    """A message as one line, whatever a path in it holds."""
    return message.replace("\r", "\\r").replace("\n", "\\n")


def one_line_errors(command):
    """Turn the errors a user can cause into one line on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except SettingError as error:
            fail(error.render(option_name))
        except (ImageError, WeightsError, ValueError) as error:
            fail(str(error))
        except OSError as error:  # a full disk, a folder that takes no files: the environment, not the input
            fail(f"cannot write {error.filename or 'the results'} ({error.strerror or error}); nothing was written "
                  f"or replaced", 1)
        except Interrupted as interrupted:
            console.print(f"neuralstyle: interrupted ({interrupted.signal_name}) {interrupted.when}", markup=False)
            raise typer.Exit(interrupted.exit_code) from None
        except preload.BackendError as error:  # the installation, not the input
            fail(str(error), 1)

    return wrapper


# --- options: made from RunSpec's declarations ------------------------------------------


# Where each option shows in --help: its setting's group.
PANELS = {name: spec_field.metadata["group"] for name, spec_field in RunSpec.__dataclass_fields__.items()
          if spec_field.metadata["group"]}


def spec_option(setting: str, *names: str, help: str | None = None, mode: str | None = None, show_default=True):
    """A Typer option for a RunSpec field, with the field's help (in `mode`'s words)
    unless a command words it for itself."""
    return typer.Option(*names, help=help or help_for(setting, mode), rich_help_panel=PANELS.get(setting),
                        case_sensitive=False, show_default=show_default)


_CHOICE_TYPES: dict[str, type[enum.Enum]] = {}


def choice_type(setting: str) -> type[enum.Enum]:
    """A setting's allowed values as an Enum, so that --help shows them and the shell completes them."""
    if setting not in _CHOICE_TYPES:
        name = "".join(part.capitalize() for part in setting.split("_")) + "Choice"
        _CHOICE_TYPES[setting] = enum.Enum(name, {value: value for value in metadata(setting)["choices"]}, type=str)
    return _CHOICE_TYPES[setting]


def option_type(setting: str, mode: str):
    """The Python type a command takes `setting` as: its form's, else its default's (a choice as its Enum)."""
    form, default = metadata(setting)["form"], run_default(setting, mode)
    if form == "list":
        return Optional[list[str]]
    if form == "path":
        return Optional[Path]
    if form == "paths":
        return Optional[list[Path]]
    if form == "text" or (default is None and not metadata(setting)["choices"]):
        return Optional[str] if default is None else str
    if metadata(setting)["choices"]:
        return choice_type(setting)
    return type(default)  # bool, int, float or str


def option_default(setting: str, mode: str):
    """The default a command shows and takes for `setting` in `mode`."""
    form, default = metadata(setting)["form"], run_default(setting, mode)
    if form in ("list", "paths") or default is None or default == ():
        return None
    if metadata(setting)["choices"]:
        return choice_type(setting)(default)
    return str(default) if form == "text" else default


def spec_parameter(setting: str, mode: str, *names: str) -> tuple:
    """(name, annotation, default) of `setting` as an option of the command of `mode`."""
    if not names and OPTION_NAMES.get(setting, "").startswith("--"):  # a name of its own, e.g. --style-layer
        names = (OPTION_NAMES[setting],)
    default = run_default(setting, mode)
    shown = ",".join(f"{item:g}" if isinstance(item, float) else str(item) for item in default) \
        if metadata(setting)["form"] == "list" and isinstance(default, tuple) else True
    return (setting, Annotated[option_type(setting, mode), spec_option(setting, *names, mode=mode, show_default=shown)],
            option_default(setting, mode))


def run_parameters(mode: str) -> list[tuple]:
    """The options of the command of `mode`: every RunSpec field that applies to it,
    in the order RunSpec declares them, but the inputs, the output and those no
    command takes (`NOT_OPTIONS`)."""
    return [spec_parameter(name, mode) for name, spec_field in RunSpec.__dataclass_fields__.items()
            if applies_to(name, mode) and name not in NOT_OPTIONS and spec_field.metadata["form"] != "input"
            and name != "output"]


def list_values(setting: str, values) -> list[str] | None:
    """A list option's values, given once and separated by commas: one form for a
    list of values on every command (a list of files repeats its option instead,
    as a file name may hold a comma; a sweep repeats an option to sweep over it)."""
    if values is None:
        return None
    if len(values) > 1:
        raise SettingError(setting, f"⟨name⟩ is given {len(values)} times; give it once, its values separated by "
                                    f"commas ({','.join(values)})")
    return [part.strip() for part in str(values[0]).split(",") if part.strip()]


ModelChoice = choice_type("model")
PoolingChoice = choice_type("pooling")
Output = Annotated[Path, spec_option("output", "--output", "-o")]
Model = Annotated[ModelChoice, spec_option("model")]
Weights = Annotated[str, spec_option("weights")]
Pooling = Annotated[PoolingChoice, spec_option("pooling")]
Device = Annotated[str, spec_option("device")]
Overwrite = Annotated[bool, spec_option("overwrite")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.", rich_help_panel="Output")]
DryRun = Annotated[bool, typer.Option(
    "--dry-run", help="Check the settings, files, sizes, memory and weights and say what would run; run nothing.",
    rich_help_panel="Output")]
COMMON = [("quiet", Quiet, False), ("dry_run", DryRun, False)]  # every run command's own options


REQUIRED = inspect.Parameter.empty  # a parameter without a default in `register_run_command`'s triples

_SPEC_FIELDS = set(RunSpec.__dataclass_fields__)


def spec_options(values: dict) -> dict:
    """A command's parameters that are RunSpec fields (the rest are the CLI's own, like
    --quiet), as RunSpec takes them: choices as their values, list options with their
    comma-separated items split, and what was not given (None) left to RunSpec."""
    options = {}
    for name, value in values.items():
        if name not in _SPEC_FIELDS or value is None:
            continue
        if isinstance(value, enum.Enum):
            value = value.value
        elif metadata(name)["form"] == "list":
            value = list_values(name, value)
        options[name] = value
    return options
