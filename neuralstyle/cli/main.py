"""The ``neuralstyle`` command line: the root command, with each group of
commands registered on it (`runs`, `video`, `figures`, `model`, `sweep`), and the
console entry point. Options take their defaults and help from `RunSpec` and
the settings (`neuralstyle.cli.options`); a run is the pipeline's
(`neuralstyle.jobs.pipeline`).

Arguments and files are checked before TensorFlow is imported, so a bad input
costs a fraction of a second and gets one line on stderr and exit code 2.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Annotated

import typer
from typer.exceptions import TyperException

from .. import __version__
from ..core.interrupts import SignalGuard
from ..jobs import preload
from . import figures, model, runs, sweep, video
from .options import EXIT_BAD_INPUT, EXIT_INTERRUPTED, one_line
from .terminal import console, flush_output, keep_native_noise_off_the_terminal, message_fd

root = typer.Typer(
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},  # every command's contexts inherit it
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    help="Neural style transfer after Gatys, Ecker and Bethge, with VGG19/VGG16 on Keras 3.",
)


def _version(value: bool):
    if value:
        print(f"neuralstyle {__version__}")
        raise typer.Exit()


@root.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
):
    """Neural style transfer after Gatys, Ecker and Bethge, with VGG19/VGG16 on Keras 3."""


for group in (runs, video, figures, model, sweep):  # the order of --help
    group.register(root)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: a terminal free of TensorFlow's noise, signals held as a
    flag for the whole command (see `neuralstyle.core.interrupts`), and its exit code.
    It ends the process (`run_command` is the one to call and carry on)."""
    keep_native_noise_off_the_terminal()
    with SignalGuard(message_fd()) as guard:
        code = run_command(argv)
        if guard.received is not None and code == 0:  # a command finished whole while a signal waited
            console.print(f"neuralstyle: interrupted ({guard.signal_name}) as it finished; what it wrote is whole",
                          markup=False)
            code = guard.exit_code
    # The interpreter's last garbage collections would walk every object TensorFlow
    # made (a visible part of the exit: benchmarks/startup.py); the process is
    # ending, so nothing is left for them to free that exiting does not.
    gc.freeze()
    if preload.importing():
        # A signal before the first iteration can end the command while TensorFlow's
        # native libraries are still loading in the background; the interpreter's
        # normal exit then aborts (C++ terminate, SIGABRT), so end the process here.
        flush_output()
        os._exit(code)
    sys.exit(code)


def run_command(argv: list[str] | None = None) -> int:
    """Run one command line; return its exit code. Usage errors are one line and 2."""
    try:
        return root(args=argv, prog_name="neuralstyle", standalone_mode=False) or 0
    except TyperException as error:
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        if message.strip():  # a bare command has printed its help already (no_args_is_help): nothing to add
            console.print(f"neuralstyle: error: {one_line(message)}", markup=False)
        return getattr(error, "exit_code", EXIT_BAD_INPUT)
    except KeyboardInterrupt:  # only where no guard holds the signals (the Python API's callers)
        console.print("neuralstyle: interrupted (SIGINT); nothing written", markup=False)
        return EXIT_INTERRUPTED
