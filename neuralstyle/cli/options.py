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

from ..core import settings
from ..core.images import ImageError
from ..core.interrupts import Interrupted
from ..core.settings import SettingError
from ..core.weights import WeightsError
from ..jobs import preload
from ..jobs.spec import RunSpec, help_for
from .terminal import console

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

# How the CLI names a RunSpec field in messages, where that is not --field-name.
OPTION_NAMES = {"content": "CONTENT", "styles": "STYLE", "output": "--output", "style_layers": "--style-layer",
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


# --- options: help and defaults from RunSpec ------------------------------------------


# Where each option shows in --help.
PANELS = {
    **dict.fromkeys(["content_layer", "content_weight", "init"], "Content"),
    **dict.fromkeys(["style_layers", "style_weight", "style_blend", "style_scale", "preserve_color"], "Style"),
    **dict.fromkeys(["iterations", "optimizer", "learning_rate", "tv_weight", "seed", "scales"], "Optimisation"),
    **dict.fromkeys(["model", "weights", "pooling", "precision"], "Model"),
    **dict.fromkeys(["output", "size", "frames", "save_every", "gif", "overwrite"], "Output"),
    **dict.fromkeys(["tradeoff_layers", "tradeoff_ratios", "show_input"], "Figure"),
    **dict.fromkeys(["max_memory", "checkpoint_every"], "Memory and resume"),
}


def spec_option(setting: str, *names: str, help: str | None = None):
    """A Typer option for a RunSpec field, with the field's help unless a command words it for itself."""
    return typer.Option(*names, help=help or help_for(setting), rich_help_panel=PANELS.get(setting),
                        case_sensitive=False)


def _choices(name: str, values) -> type[enum.Enum]:
    """The allowed values of a setting as an Enum, so that --help shows them and the shell completes them."""
    return enum.Enum(name, {value: value for value in values}, type=str)


ModelChoice = _choices("ModelChoice", settings.MODELS)
PoolingChoice = _choices("PoolingChoice", settings.POOLINGS)
PrecisionChoice = _choices("PrecisionChoice", settings.PRECISIONS)
OptimizerChoice = _choices("OptimizerChoice", settings.OPTIMIZERS)
ColorChoice = _choices("ColorChoice", settings.COLOR_MODES)

Output = Annotated[Path, spec_option("output", "--output", "-o")]
ContentLayer = Annotated[str, spec_option("content_layer")]
StyleLayers = Annotated[Optional[list[str]], spec_option("style_layers", "--style-layer")]
TVWeight = Annotated[float, spec_option("tv_weight")]
Init = Annotated[str, spec_option("init")]
Seed = Annotated[int, spec_option("seed")]
Size = Annotated[int, spec_option("size")]
Iterations = Annotated[str, spec_option("iterations")]
Optimizer = Annotated[OptimizerChoice, spec_option("optimizer")]
LearningRate = Annotated[float, spec_option("learning_rate")]
Model = Annotated[ModelChoice, spec_option("model")]
Weights = Annotated[str, spec_option("weights")]
Pooling = Annotated[PoolingChoice, spec_option("pooling")]
Precision = Annotated[PrecisionChoice, spec_option("precision")]
Frames = Annotated[Optional[Path], spec_option("frames")]
SaveEvery = Annotated[int, spec_option("save_every")]
Gif = Annotated[Optional[Path], spec_option("gif")]
Overwrite = Annotated[bool, spec_option("overwrite")]
ShowInput = Annotated[bool, spec_option("show_input", "--show-input/--hide-input")]
MaxMemory = Annotated[Optional[str], spec_option("max_memory")]
CheckpointEvery = Annotated[int, spec_option("checkpoint_every")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.", rich_help_panel="Output")]
# The reconstructions' own wording of three fields.
OneScaleIterations = Annotated[str, spec_option("iterations", help="Optimiser iterations.")]
NoiseInit = Annotated[str, spec_option("init", help="Start image: noise, or a path to an image.")]
OneSize = Annotated[int, spec_option("size", help="Longest side of the output in px (aspect ratio kept).")]
DryRun = Annotated[bool, typer.Option(
    "--dry-run", help="Check the settings, files, sizes, memory and weights and say what would run; run nothing.",
    rich_help_panel="Output")]


REQUIRED = inspect.Parameter.empty  # a parameter without a default in `register_run_command`'s triples

_SPEC_FIELDS = set(RunSpec.__dataclass_fields__)


def spec_options(values: dict) -> dict:
    """A command's parameters that are RunSpec fields (the rest are the CLI's own, like --quiet)."""
    return {name: value.value if isinstance(value, enum.Enum) else value
            for name, value in values.items() if name in _SPEC_FIELDS}
