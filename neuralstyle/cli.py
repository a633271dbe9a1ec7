"""The ``neuralstyle`` command line: the only part that touches paths, prints
and exit codes.

Arguments and files are checked before TensorFlow is imported, so a bad input
costs a fraction of a second and gets one line on stderr and exit code 2.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from typer.exceptions import TyperException

from . import __version__, defaults
from .images import SAVE_FORMATS, ImageError, fit_size, read_image, scale_sizes, write_atomically
from .layers import MODELS, check_layers, check_model, conv_layers, minimum_size
from .records import base_record, run_record, write_record
from .resources import check_fits_in_memory, gigabytes
from .weights import SOURCES, WeightsError, resolve_weights, sha256_of

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Neural style transfer after Gatys, Ecker and Bethge, with VGG19/VGG16 on Keras 3.",
)
console = Console(stderr=True, highlight=False)


class BadInput(ValueError):
    """A user error: reported as one line and exit code 2."""


def _fail(message: str, code: int = EXIT_BAD_INPUT):
    console.print(f"neuralstyle: error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(code)


def _one_line_errors(command):
    """Turn the errors a user can cause into one line on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (BadInput, ImageError, WeightsError, ValueError) as error:
            _fail(str(error))

    return wrapper


# --- options shared by the commands (each defined once) ----------------------

Output = Annotated[Path, typer.Option("--output", "-o", help="Image to write (.png, .jpg, .webp).")]
Model = Annotated[str, typer.Option(help=f"Network: {' or '.join(MODELS)}.")]
Weights = Annotated[str, typer.Option(help=f"{', '.join(SOURCES)}, or a path to a Keras .h5 weights file.")]
Pooling = Annotated[str, typer.Option(help="max (VGG's own) or avg (Gatys et al.'s choice).")]
Precision = Annotated[str, typer.Option(
    help="float32, or bfloat16/float16 (mixed precision: faster on CPUs with AVX-512 BF16 and on GPUs).")]
Size = Annotated[int, typer.Option(help="Longest side of the output in px (aspect ratio kept).")]
Iterations = Annotated[int, typer.Option(help="Optimiser iterations.")]
Optimizer = Annotated[str, typer.Option(help="lbfgs (one long L-BFGS-B run) or adam.")]
LearningRate = Annotated[float, typer.Option(help="Adam's step size, in pixel units (0–255).")]
Seed = Annotated[int, typer.Option(help="Seed of the noise image (runs are reproducible).")]
TVWeight = Annotated[float, typer.Option(help="Weight of the total-variation smoothness term.")]
StyleLayers = Annotated[
    Optional[list[str]],
    typer.Option("--style-layer", help="NAME[:WEIGHT], repeatable; default block1_conv1 … block5_conv1, equal weights."),
]
Frames = Annotated[Optional[Path], typer.Option(help="Folder for progress frames frame_00000.png … (0 = start).")]
SaveEvery = Annotated[int, typer.Option(help="Save a frame every N iterations.")]
Gif = Annotated[Optional[Path], typer.Option(help="Write a progress GIF here at the end.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
Overwrite = Annotated[bool, typer.Option(help="Replace an existing output file.")]


def _version(value: bool):
    if value:
        print(f"neuralstyle {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
):
    """Neural style transfer after Gatys, Ecker and Bethge, with VGG19/VGG16 on Keras 3."""


# --- checks that need no TensorFlow ------------------------------------------


def parse_style_layers(specs: list[str] | None, model: str) -> dict[str, float]:
    """``["block1_conv1:0.5", "block2_conv1"]`` → ``{"block1_conv1": 0.5, "block2_conv1": 1.0}``."""
    if not specs:
        return {layer: 1.0 for layer in defaults.STYLE_LAYERS}
    weights = {}
    for spec in specs:
        name, _, weight = spec.partition(":")
        try:
            value = float(weight) if weight else 1.0
        except ValueError:
            raise BadInput(f"bad style layer {spec!r}; expected NAME or NAME:WEIGHT, e.g. block1_conv1:0.5") from None
        if not math.isfinite(value) or value < 0:
            raise BadInput(f"style layer weight in {spec!r} must be a number ≥ 0")
        weights[name] = value
    check_layers(model, list(weights))
    if not any(weights.values()):
        raise BadInput("every style layer weight is 0; at least one must be positive")
    return weights


def parse_blend(specs: list[str] | None, styles: int) -> list[float] | None:
    """``--style-blend 0.7,0.3`` or ``--style-blend 0.7 --style-blend 0.3`` → [0.7, 0.3]."""
    if not specs:
        return None
    try:
        blend = [float(part) for spec in specs for part in spec.split(",") if part.strip()]
    except ValueError:
        raise BadInput(f"bad --style-blend {' '.join(specs)!r}; expected numbers, e.g. 0.7,0.3") from None
    if len(blend) != styles:
        raise BadInput(f"{len(blend)} --style-blend weights for {styles} style image(s); give one per style")
    if any(not math.isfinite(weight) or weight < 0 for weight in blend) or not any(blend):
        raise BadInput(f"--style-blend weights {blend} must be ≥ 0 and not all 0")
    return blend


def parse_counts(text: str, option: str, count: int) -> list[int]:
    """``"300"`` → [300] * count; ``"300,100"`` → [300, 100] (one per scale)."""
    try:
        values = [int(part) for part in str(text).split(",")]
    except ValueError:
        raise BadInput(f"bad {option} {text!r}; expected a whole number, or one per scale like 300,100") from None
    if any(value < 0 for value in values):
        raise BadInput(f"{option} {text!r} must be ≥ 0")
    if len(values) == 1:
        return values * count
    if len(values) != count:
        raise BadInput(f"{option} gives {len(values)} numbers for {count} scales; give one, or one per scale")
    return values


def parse_scales(text: str, size: int) -> list[int]:
    """``--scales 3`` → sizes halving down to --size; ``--scales 256,512`` → those sizes (last = --size)."""
    try:
        values = [int(part) for part in str(text).split(",")]
    except ValueError:
        raise BadInput(f"bad --scales {text!r}; expected a count like 3 or sizes like 256,512,1024") from None
    return scale_sizes(size, values[0] if len(values) == 1 else values)


def _check_non_negative(**values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value) or value < 0:
            raise BadInput(f"--{name.replace('_', '-')} is {value}; it must be ≥ 0")


def _check_output(path: Path, overwrite: bool) -> Path:
    if path.suffix.lower() not in SAVE_FORMATS:
        raise BadInput(f"cannot write {path}: unknown image type {path.suffix!r}; use {', '.join(SAVE_FORMATS)}")
    return _check_writable(path, overwrite)


def _check_writable(path: Path, overwrite: bool) -> Path:
    if path.exists() and not overwrite:
        raise BadInput(f"{path} exists; pass --overwrite to replace it")
    if path.is_dir():
        raise BadInput(f"{path} is a directory")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise BadInput(f"cannot write {path}: folder {folder} does not exist")
    try:  # a real write test: permission bits lie under root and on read-only mounts
        probe = folder / f".neuralstyle-probe-{time.time_ns()}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise BadInput(f"cannot write to {folder} ({error.strerror})") from None
    return path


def _check_fits(path: Path, image, size: int, model: str, layers, what: str) -> None:
    width, height = fit_size(*image.size, size)
    needed = minimum_size(model, layers)
    if min(width, height) < needed:
        raise BadInput(
            f"{what} {path.name} at --size {size} would be {width}x{height} px; the layers used need at least "
            f"{needed} px on each side"
        )


# --- running -------------------------------------------------------------------


class _ProgressDisplay:
    """A live bar with iteration, loss parts, elapsed and time left; saves frames."""

    def __init__(self, iterations: int, quiet: bool, frames: Path | None, save_every: int):
        self.frames, self.save_every = frames, save_every
        self.saved_frames: list[Path] = []
        self.quiet = quiet
        self.progress = Progress(
            TextColumn("{task.completed}/{task.total}"), BarColumn(bar_width=20),
            TextColumn("{task.fields[losses]}"), TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
            console=console, disable=quiet,
        )
        self.task = self.progress.add_task("iterations", total=iterations, losses="")
        self.first: tuple[float, int] | None = None

    def __call__(self, progress) -> None:
        if self.frames is not None and progress.iteration % self.save_every == 0:
            from .frames import save_frame

            self.saved_frames.append(save_frame(self.frames, progress.iteration, progress.image()))
        loss = progress.loss
        self.progress.update(
            self.task, completed=progress.iteration,
            losses=f"loss {loss.total:.4g} = content {loss.content:.3g} + style {loss.style:.3g} + tv {loss.tv:.2g}",
        )
        # Time from iteration 1 on: iteration 0 includes compiling the step.
        if progress.iteration == 1:
            self.first = (progress.elapsed, progress.iteration)
        elif progress.iteration == 4 and self.first and not self.quiet:
            per_iteration = (progress.elapsed - self.first[0]) / (progress.iteration - self.first[1])
            self.progress.console.print(
                f"about {per_iteration:.2f} s per iteration: expect {_duration(per_iteration * progress.iterations)} "
                f"for {progress.iterations} iterations"
            )


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


class _StopAtIterationEnd:
    """SIGINT handler for a run: once iterations have begun, Ctrl-C asks the run
    to stop at the end of the current iteration (the callback raises
    KeyboardInterrupt there, which the optimiser turns into a clean stop), so
    the interrupt never lands inside TensorFlow's or SciPy's native code. A
    second Ctrl-C, or one before the first iteration, stops at once. Where
    SIGINT is ignored (a background job of a script), it stays ignored."""

    def __init__(self):
        self.armed = self.requested = False
        self.previous = None

    def __enter__(self):
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _handle(self, signum, frame):
        if not self.armed or self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def check(self) -> None:
        """Call once per iteration."""
        self.armed = True
        if self.requested:
            raise KeyboardInterrupt


def _device_lines(say) -> str:
    """Say the device the run takes (and a faster backend where there is one); return the device."""
    from .backend import describe_device, faster_backend_tip

    device = describe_device()
    say(f"device: {device}")
    tip = faster_backend_tip()
    if tip:
        say(tip)
    return device


def _finish_run(command: str, arguments: dict, inputs: dict[str, list[Path]], images: dict, run, description: str,
                footprint: tuple):
    """Check memory, say what will happen, run, then write the output, the
    frames' GIF and the run record. `footprint` is (layers, width, height) of the
    largest step."""
    output: Path = arguments["output"]
    layers_used, width, height = footprint
    try:
        need = check_fits_in_memory(arguments["model"], layers_used, width, height, arguments["precision"])
    except MemoryError as error:
        raise BadInput(str(error)) from None
    quiet, frames, gif = arguments["quiet"], arguments["frames"], arguments["gif"]
    weights = resolve_weights(arguments["model"], arguments["weights"])

    def say(message: str) -> None:
        if not quiet:
            console.print(message, markup=False, soft_wrap=True)

    say(f"{command}: {description}; about {gigabytes(need)} of memory")
    say(f"weights: {weights.describe()}")
    device = _device_lines(say)  # Keras and its backend load here, after every check passed
    if frames is not None:
        frames.mkdir(parents=True, exist_ok=True)

    started = time.time()
    display = None

    ctrl_c = _StopAtIterationEnd()

    def callback(progress):
        nonlocal display
        if display is None:
            display = _ProgressDisplay(progress.iterations, quiet, frames, arguments["save_every"])
            display.progress.start()
        display(progress)
        ctrl_c.check()

    try:
        with ctrl_c:
            result = run(images, weights, callback)
    except KeyboardInterrupt:
        if display is not None:
            display.progress.stop()
        console.print("neuralstyle: interrupted before the first iteration; nothing written")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        if display is not None:
            display.progress.stop()

    from .images import save_image

    save_image(output, result.image)
    written = [str(output)]
    gif_frames = display.saved_frames if display is not None else []
    if gif is not None and gif_frames:
        from .frames import make_gif

        write_atomically(gif, make_gif(gif_frames))
        written.append(str(gif))
    record = run_record(command, arguments, inputs, images, weights, device, result, frames=gif_frames,
                        gif=gif, started=started)
    written.append(str(write_record(output, record)))
    spread = float(result.image[..., :3].std())
    if spread < 2.0:
        console.print(f"neuralstyle: warning: the result is almost uniform (pixel std {spread:.2f}); "
                      "try a lower --style-weight or another --init")
    if result.interrupted:
        console.print(f"neuralstyle: interrupted at iteration {result.iterations}; best image so far written: "
                      f"{', '.join(written)}")
        raise typer.Exit(EXIT_INTERRUPTED)
    if result.error:
        console.print(f"neuralstyle: error: {result.error}; best image so far written to {output}")
        raise typer.Exit(1)
    say(f"wrote {', '.join(written)} ({result.iterations} iterations, {result.evaluations} evaluations, "
        f"{_duration(result.seconds)}, loss {result.loss['total']:.4g})")


def _check_backend() -> None:
    """KERAS_BACKEND names a backend neuralstyle can take gradients on, and it is installed."""
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend not in defaults.BACKENDS:
        raise BadInput(f"KERAS_BACKEND is {backend!r}; neuralstyle runs on {', '.join(defaults.BACKENDS)}")
    if importlib.util.find_spec(backend) is None:
        raise BadInput(f"KERAS_BACKEND is {backend!r} but {backend} is not installed; pip install 'neuralstyle[{backend}]'")


def _common_checks(arguments: dict, output_is_folder: bool = False) -> str:
    _check_backend()
    model = check_model(arguments["model"])
    if output_is_folder:
        if arguments["frames"] is not None or arguments["gif"] is not None:
            raise BadInput("--frames and --gif need a single content image, not a folder")
    else:
        _check_output(arguments["output"], arguments["overwrite"])
    if arguments["gif"] is not None:
        if arguments["frames"] is None:
            raise BadInput("--gif needs --frames DIR (the GIF is made from the saved frames)")
        if arguments["gif"].suffix.lower() != ".gif":
            raise BadInput(f"--gif {arguments['gif']} must end in .gif")
        _check_writable(arguments["gif"], arguments["overwrite"])
    if arguments["frames"] is not None and arguments["frames"].exists() and not arguments["frames"].is_dir():
        raise BadInput(f"--frames {arguments['frames']} exists and is not a folder")
    if arguments["save_every"] < 1:
        raise BadInput(f"--save-every is {arguments['save_every']}; it must be ≥ 1")
    parse_counts(arguments["iterations"], "--iterations", 1 + str(arguments["iterations"]).count(","))
    if arguments["optimizer"] not in ("lbfgs", "adam"):
        raise BadInput(f"unknown --optimizer {arguments['optimizer']!r}; choose lbfgs or adam")
    if not (math.isfinite(arguments["learning_rate"]) and arguments["learning_rate"] > 0):
        raise BadInput(f"--learning-rate is {arguments['learning_rate']}; it must be > 0")
    if arguments["precision"] not in ("float32", "bfloat16", "float16"):
        raise BadInput(f"unknown --precision {arguments['precision']!r}; choose float32, bfloat16 or float16")
    if arguments["pooling"] not in ("max", "avg"):
        raise BadInput(f"unknown --pooling {arguments['pooling']!r}; choose max or avg")
    _check_non_negative(tv_weight=arguments["tv_weight"])
    return model


def _init_option(init: str, allowed: tuple[str, ...]):
    """--init is a named start or a path to an image."""
    if init in allowed:
        return init, []
    path = Path(init)
    if not path.exists():
        raise BadInput(f"unknown --init {init!r}; choose {', '.join(allowed)} or a path to an image")
    return None, [path]


@app.command()
@_one_line_errors
def transfer(
    content: Annotated[Path, typer.Argument(help="Content image.")],
    styles: Annotated[list[Path], typer.Argument(help="Style image(s).")],
    output: Output,
    content_layer: Annotated[str, typer.Option(help="Layer whose features carry the content.")] = defaults.CONTENT_LAYER,
    style_layer: StyleLayers = None,
    content_weight: Annotated[float, typer.Option(help="Weight of the content loss.")] = defaults.CONTENT_WEIGHT,
    style_weight: Annotated[float, typer.Option(help="Weight of the style loss.")] = defaults.STYLE_WEIGHT,
    tv_weight: TVWeight = defaults.TV_WEIGHT,
    style_blend: Annotated[Optional[list[str]], typer.Option(help="Weights of several styles, e.g. 0.7,0.3.")] = None,
    init: Annotated[str, typer.Option(help="content, noise, style, or a path to an image.")] = defaults.TRANSFER_INIT,
    seed: Seed = defaults.SEED,
    size: Size = defaults.SIZE,
    style_scale: Annotated[float, typer.Option(help="Style image size relative to the output.")] = defaults.STYLE_SCALE,
    scales: Annotated[str, typer.Option(
        help="Coarse-to-fine: a number of sizes halving down from --size (3 → 256,512,1024 at 1024), "
             "or the sizes, e.g. 384,768,1536. It trades some content for style; "
             "--content-weight 1.3 keeps the content (see the README).")] = str(defaults.SCALES),
    preserve_color: Annotated[str, typer.Option(
        help="none; luminance (transfer on luminance, keep the content's colours); "
             "histogram (give the style the content's colour statistics).")] = defaults.PRESERVE_COLOR,
    iterations: Annotated[str, typer.Option(
        help="Optimiser iterations; with --scales, one number per scale or one for all (e.g. 300,150,50).")]
    = str(defaults.ITERATIONS),
    optimizer: Optimizer = defaults.OPTIMIZER,
    learning_rate: LearningRate = defaults.LEARNING_RATE,
    model: Model = defaults.MODEL,
    weights: Weights = defaults.WEIGHTS,
    pooling: Pooling = defaults.POOLING,
    precision: Precision = defaults.PRECISION,
    frames: Frames = None,
    save_every: SaveEvery = 1,
    gif: Gif = None,
    quiet: Quiet = False,
    overwrite: Overwrite = False,
):
    """Paint CONTENT in the style of STYLE (several styles blend). CONTENT may be
    a folder: each image in it is painted into the folder OUTPUT, reusing the
    model and the style targets."""
    arguments = dict(locals())
    batch = content.is_dir()
    model = _common_checks(arguments, output_is_folder=batch)
    layer_weights = parse_style_layers(style_layer, model)
    check_layers(model, [content_layer])
    blend = parse_blend(style_blend, len(styles))
    _check_non_negative(content_weight=content_weight, style_weight=style_weight)
    if not (math.isfinite(style_scale) and style_scale > 0):
        raise BadInput(f"--style-scale is {style_scale}; it must be > 0")
    if preserve_color not in ("none", "luminance", "histogram"):
        raise BadInput(f"unknown --preserve-color {preserve_color!r}; choose none, luminance or histogram")
    sides = parse_scales(scales, size)
    iteration_counts = parse_counts(iterations, "--iterations", len(sides))
    init_name, init_paths = _init_option(init, ("content", "noise", "style"))
    jobs = _batch_jobs(content, output, overwrite) if batch else [(content, output)]
    style_images = [read_image(path) for path in styles]
    for path, image in zip(styles, style_images):
        _check_fits(path, image, max(1, round(sides[0] * style_scale)), model, list(layer_weights), "style image")
    started = time.time()
    for content_path, output_path in jobs:
        inputs = {"content": [content_path], "style": list(styles), "init": init_paths}
        images = {"content": [read_image(content_path)], "style": style_images,
                  "init": [read_image(path) for path in init_paths]}
        _check_fits(content_path, images["content"][0], sides[0], model, [content_layer, *layer_weights],
                    "content image")
        scale_text = " → ".join("x".join(map(str, fit_size(*images["content"][0].size, side))) for side in sides)

        def run(images, resolved, callback):
            from .synthesis import transfer as run_transfer

            return run_transfer(
                images["content"][0], images["style"], content_layer=content_layer, style_layers=layer_weights,
                content_weight=content_weight, style_weight=style_weight, tv_weight=tv_weight, style_blend=blend,
                size=size, style_scale=style_scale, scales=sides, preserve_color=preserve_color,
                init=init_name or images["init"][0], seed=seed, iterations=iteration_counts, optimizer=optimizer,
                learning_rate=learning_rate, model=model, weights=resolved, pooling=pooling, precision=precision,
                callback=callback,
            )

        _finish_run("transfer", {**arguments, "content": content_path, "output": output_path}, inputs, images, run,
                    f"{content_path.name} in the style of {', '.join(path.name for path in styles)} → "
                    f"{output_path} ({scale_text} px, {'+'.join(map(str, iteration_counts))} {optimizer} iterations)",
                    ([content_layer, *layer_weights], *fit_size(*images["content"][0].size, size)))
    if batch and not quiet:
        minutes = (time.time() - started) / 60
        console.print(f"{len(jobs)} images in {minutes:.1f} min: {len(jobs) / minutes:.2f} images per minute",
                      markup=False)


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")


def _batch_jobs(folder: Path, output: Path, overwrite: bool) -> list[tuple[Path, Path]]:
    """(content, output) pairs for a folder of content images: OUTPUT/<name>.png each."""
    contents = sorted(path for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)
    if not contents:
        raise BadInput(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    if output.exists() and not output.is_dir():
        raise BadInput(f"with a folder of content images, -o must be a folder; {output} is a file")
    output.mkdir(parents=True, exist_ok=True)
    jobs = [(path, output / f"{path.stem}.png") for path in contents]
    for _, target in jobs:
        _check_writable(target, overwrite)
    return jobs


@app.command("content")
@_one_line_errors
def content_command(
    image: Annotated[Path, typer.Argument(help="Image to reconstruct.")],
    output: Output,
    content_layer: Annotated[str, typer.Option(help="Layer to reconstruct from.")] = defaults.RECONSTRUCTION_CONTENT_LAYER,
    init: Annotated[str, typer.Option(help="noise, or a path to an image.")] = defaults.RECONSTRUCTION_INIT,
    seed: Seed = defaults.SEED,
    size: Size = defaults.SIZE,
    iterations: Iterations = defaults.ITERATIONS,
    optimizer: Optimizer = defaults.OPTIMIZER,
    learning_rate: LearningRate = defaults.LEARNING_RATE,
    tv_weight: TVWeight = 0.0,
    model: Model = defaults.MODEL,
    weights: Weights = defaults.WEIGHTS,
    pooling: Pooling = defaults.POOLING,
    precision: Precision = defaults.PRECISION,
    frames: Frames = None,
    save_every: SaveEvery = 1,
    gif: Gif = None,
    quiet: Quiet = False,
    overwrite: Overwrite = False,
):
    """Reconstruct IMAGE from one layer's features, starting from noise."""
    arguments = dict(locals())
    model = _common_checks(arguments)
    _reconstruct("content", arguments, check_layers(model, [content_layer]))


@app.command("style")
@_one_line_errors
def style_command(
    image: Annotated[Path, typer.Argument(help="Style image to synthesise a texture from.")],
    output: Output,
    style_layer: StyleLayers = None,
    init: Annotated[str, typer.Option(help="noise, or a path to an image.")] = defaults.RECONSTRUCTION_INIT,
    seed: Seed = defaults.SEED,
    size: Size = defaults.SIZE,
    iterations: Iterations = defaults.ITERATIONS,
    optimizer: Optimizer = defaults.OPTIMIZER,
    learning_rate: LearningRate = defaults.LEARNING_RATE,
    tv_weight: TVWeight = 0.0,
    model: Model = defaults.MODEL,
    weights: Weights = defaults.WEIGHTS,
    pooling: Pooling = defaults.POOLING,
    precision: Precision = defaults.PRECISION,
    frames: Frames = None,
    save_every: SaveEvery = 1,
    gif: Gif = None,
    quiet: Quiet = False,
    overwrite: Overwrite = False,
):
    """Synthesise IMAGE's style (texture) from noise, matching Gram matrices."""
    arguments = dict(locals())
    model = _common_checks(arguments)
    _reconstruct("style", arguments, parse_style_layers(style_layer, model))


def _reconstruct(command: str, arguments: dict, layers) -> None:
    """The content and style commands: `layers` is [content_layer], or the style layers' weights."""
    image, size, iterations = arguments["image"], arguments["size"], arguments["iterations"]
    init_name, init_paths = _init_option(arguments["init"], ("noise",))
    inputs = {command: [image], "init": init_paths}
    images = {role: [read_image(path) for path in paths] for role, paths in inputs.items()}
    _check_fits(image, images[command][0], size, arguments["model"], list(layers), "image")
    width, height = fit_size(*images[command][0].size, size)

    def run(images, resolved, callback):
        from . import synthesis

        options = {key: arguments[key] for key in ("size", "seed", "iterations", "optimizer", "learning_rate",
                                                   "tv_weight", "model", "pooling", "precision")}
        options.update(init=init_name or images["init"][0], weights=resolved, callback=callback)
        if command == "content":
            return synthesis.reconstruct_content(images[command][0], content_layer=layers[0], **options)
        return synthesis.reconstruct_style(images[command][0], style_layers=layers, **options)

    what = f"{image.name} from {layers[0]}" if command == "content" else f"texture of {image.name}"
    _finish_run(command, arguments, inputs, images, run,
                f"{what} → {arguments['output']} ({width}x{height} px, {iterations} iterations)",
                (list(layers), width, height))


@app.command()
@_one_line_errors
def gif(
    frames_dir: Annotated[Path, typer.Argument(help="Folder of frame_NNNNN.png files.")],
    output: Output,
    duration: Annotated[int, typer.Option(help="Milliseconds per frame.")] = 80,
    hold_last: Annotated[int, typer.Option(help="Milliseconds the last frame stays up.")] = 1500,
    loop: Annotated[int, typer.Option(help="Times to loop; 0 = forever.")] = 0,
    every: Annotated[int, typer.Option(help="Use every N-th frame (the last is always kept).")] = 1,
    size: Annotated[Optional[int], typer.Option(help="Longest side of the GIF in px.")] = None,
    overwrite: Overwrite = False,
):
    """Assemble saved frames into an animated GIF."""
    from .frames import list_frames, make_gif

    if not frames_dir.is_dir():
        raise BadInput(f"{frames_dir} is not a folder of frames")
    if output.suffix.lower() != ".gif":
        raise BadInput(f"{output} must end in .gif")
    _check_writable(output, overwrite)
    if duration < 1 or every < 1 or loop < 0 or (size is not None and size < 1):
        raise BadInput("--duration, --every and --size must be ≥ 1, --loop ≥ 0")
    paths = list_frames(frames_dir)
    if not paths:
        raise BadInput(f"no frame_NNNNN.png files in {frames_dir}")
    write_atomically(output, make_gif(paths, duration_ms=duration, hold_last_ms=hold_last, loop=loop, every=every,
                                      max_side=size))
    print(f"wrote {output} from {len(paths)} frames")


@app.command()
@_one_line_errors
def layers(model: Model = defaults.MODEL):
    """List the model's layers with channels and stride, marking the defaults."""
    model = check_model(model)
    print(f"{'layer':<14} {'channels':>8} {'stride':>6}  default use")
    for layer in conv_layers(model):
        uses = []
        if layer.name == defaults.CONTENT_LAYER:
            uses.append("content (transfer)")
        if layer.name == defaults.RECONSTRUCTION_CONTENT_LAYER:
            uses.append("content (content command)")
        if layer.name in defaults.STYLE_LAYERS:
            uses.append("style")
        print(f"{layer.name:<14} {layer.channels:>8} {layer.stride:>6}  {', '.join(uses)}")


figure_app = typer.Typer(help="The paper's figures, one command each.", no_args_is_help=True)
app.add_typer(figure_app, name="figure")

FigureSize = Annotated[int, typer.Option(help="Longest side of each tile in px.")]
FigureIterations = Annotated[int, typer.Option(help="Iterations per tile.")]
FigureGif = Annotated[Optional[Path], typer.Option(help="Write a GIF of the whole grid forming.")]
ShowInput = Annotated[bool, typer.Option("--show-input/--hide-input",
                                         help="Include the input image itself as the first tile.")]


def _check_figure_arguments(arguments: dict) -> str:
    _check_backend()
    model = check_model(arguments["model"])
    _check_output(arguments["output"], arguments["overwrite"])
    if arguments["gif"] is not None:
        if arguments["gif"].suffix.lower() != ".gif":
            raise BadInput(f"--gif {arguments['gif']} must end in .gif")
        _check_writable(arguments["gif"], arguments["overwrite"])
    if arguments["iterations"] < 0 or arguments["save_every"] < 1:
        raise BadInput("--iterations must be ≥ 0 and --save-every ≥ 1")
    return model


def _run_figure(command: str, arguments: dict, inputs: dict[str, list[Path]], make, tiles: int) -> None:
    """Run `make(images, weights, callback)` → Figure; write the grid, each tile,
    the record and (with --gif) the grid's progress GIF."""
    images = {role: [read_image(path) for path in paths] for role, paths in inputs.items()}
    for role, paths in inputs.items():
        for path, image in zip(paths, images[role]):
            _check_fits(path, image, arguments["size"], arguments["model"], ["block5_conv1"], role)
    weights = resolve_weights(arguments["model"], arguments["weights"])
    quiet, output = arguments["quiet"], arguments["output"]
    if not quiet:
        console.print(f"figure {command}: {tiles} tiles of {arguments['size']} px, "
                      f"{arguments['iterations']} iterations each → {output}", markup=False)
        console.print(f"weights: {weights.describe()}", markup=False)
    device = _device_lines(lambda line: None if quiet else console.print(line, markup=False))
    bar = Progress(TextColumn("{task.fields[tile]:<28}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(), console=console, disable=quiet)
    task = bar.add_task("tiles", total=tiles * max(arguments["iterations"], 1), tile="")
    finished = {"iterations": 0, "label": None}

    def callback(label, progress):
        if label != finished["label"]:
            if finished["label"] is not None:
                finished["iterations"] += max(arguments["iterations"], 1)
            finished["label"] = label
        bar.update(task, completed=finished["iterations"] + progress.iteration, tile=label)

    started = time.time()
    with bar:
        try:
            figure = make(images, weights, callback)
        except KeyboardInterrupt:
            raise typer.Exit(EXIT_INTERRUPTED) from None
    from .images import save_image

    tile_folder = output.with_name(f"{output.stem}_tiles")
    tile_folder.mkdir(exist_ok=True)
    for index, tile in enumerate(figure.tiles):
        name = "_".join("".join(char if char.isalnum() else " " for char in tile.label).split())
        save_image(tile_folder / f"{index:02d}_{name}.png", tile.image)
    save_image(output, figure.grid())
    written = [str(output), f"{tile_folder}/"]
    if arguments["gif"] is not None:
        from .frames import make_gif

        write_atomically(arguments["gif"], make_gif(figure.frame_grids(), max_side=1200))
        written.append(str(arguments["gif"]))
    record = {**base_record(f"figure {command}", arguments, inputs, images, weights, device), **figure.record(),
              "wall_seconds": round(time.time() - started, 3)}
    written.append(str(write_record(output, record)))
    if not quiet:
        console.print(f"wrote {', '.join(written)}", markup=False)


_FIGURE_SAVE_EVERY = Annotated[int, typer.Option(help="With --gif: a grid frame every N iterations.")]


@figure_app.command("reconstructions")
@_one_line_errors
def figure_reconstructions(
    content: Annotated[Path, typer.Argument(help="Content image (top row).")],
    style: Annotated[Path, typer.Argument(help="Style image (bottom row).")],
    output: Output,
    size: FigureSize = 256,
    iterations: FigureIterations = 200,
    seed: Seed = defaults.SEED,
    model: Model = defaults.MODEL,
    weights: Weights = defaults.WEIGHTS,
    pooling: Pooling = defaults.POOLING,
    gif: FigureGif = None,
    save_every: _FIGURE_SAVE_EVERY = 10,
    quiet: Quiet = False,
    overwrite: Overwrite = False,
):
    """Gatys et al. Fig. 1: content rebuilt from each block, style from growing layer sets."""
    arguments = dict(locals())
    _check_figure_arguments(arguments)

    def make(images, resolved, callback):
        from .experiments import reconstructions

        return reconstructions(images["content"][0], images["style"][0], model=model, size=size,
                               iterations=iterations, seed=seed, weights=resolved, pooling=pooling,
                               frames_every=save_every if gif else None, callback=callback)

    _run_figure("reconstructions", arguments, {"content": [content], "style": [style]}, make, tiles=10)


def _parse_floats(text: str, option: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise BadInput(f"bad {option} {text!r}; expected numbers like 1e-3,1e-2") from None
    if any(not math.isfinite(value) or value <= 0 for value in values):
        raise BadInput(f"{option} values must be > 0")
    return values


@figure_app.command("tradeoff")
@_one_line_errors
def figure_tradeoff(
    content: Annotated[Path, typer.Argument(help="Content image.")],
    style: Annotated[Path, typer.Argument(help="Style image.")],
    output: Output,
    content_layers: Annotated[str, typer.Option(help="Rows: content layers, comma-separated.")]
    = "block2_conv2,block4_conv2",
    ratios: Annotated[str, typer.Option(help="Columns: content/style weight ratios, comma-separated.")]
    = "1e-4,1e-3,1e-2,1e-1,1",
    size: FigureSize = 256,
    iterations: FigureIterations = 200,
    seed: Seed = defaults.SEED,
    model: Model = defaults.MODEL,
    weights: Weights = defaults.WEIGHTS,
    pooling: Pooling = defaults.POOLING,
    gif: FigureGif = None,
    save_every: _FIGURE_SAVE_EVERY = 10,
    quiet: Quiet = False,
    overwrite: Overwrite = False,
):
    """Gatys et al. Fig. 3: rows = content layer, columns = content/style weight ratio."""
    arguments = dict(locals())
    model = _check_figure_arguments(arguments)
    layer_names = check_layers(model, [name.strip() for name in content_layers.split(",")])
    ratio_values = _parse_floats(ratios, "--ratios")

    def make(images, resolved, callback):
        from .experiments import tradeoff

        return tradeoff(images["content"][0], images["style"][0], content_layers=layer_names, ratios=ratio_values,
                        size=size, iterations=iterations, seed=seed, model=model, weights=resolved,
                        pooling=pooling, frames_every=save_every if gif else None, callback=callback)

    _run_figure("tradeoff", arguments, {"content": [content], "style": [style]}, make,
                tiles=len(layer_names) * len(ratio_values))


@figure_app.command("styles")
@_one_line_errors
def figure_styles(
    content: Annotated[Path, typer.Argument(help="Content image.")],
    styles: Annotated[list[Path], typer.Argument(help="Style images, one tile each.")],
    output: Output,
    size: FigureSize = 256,
    iterations: FigureIterations = 200,
    seed: Seed = defaults.SEED,
    model: Model = defaults.MODEL,
    weights: Weights = defaults.WEIGHTS,
    pooling: Pooling = defaults.POOLING,
    gif: FigureGif = None,
    save_every: _FIGURE_SAVE_EVERY = 10,
    show_input: ShowInput = True,
    quiet: Quiet = False,
    overwrite: Overwrite = False,
):
    """Gatys et al. Fig. 2: one content in several styles."""
    arguments = dict(locals())
    model = _check_figure_arguments(arguments)

    def make(images, resolved, callback):
        from .experiments import styles as styles_figure

        return styles_figure(images["content"][0], images["style"], labels=[path.stem for path in styles], size=size,
                             iterations=iterations, seed=seed, model=model, weights=resolved, pooling=pooling,
                             frames_every=save_every if gif else None, callback=callback, show_input=show_input)

    _run_figure("styles", arguments, {"content": [content], "style": list(styles)}, make, tiles=len(styles))


@app.command("inspect")
@_one_line_errors
def inspect_command(
    image: Annotated[Path, typer.Argument(help="Image to look at through VGG.")],
    output: Output,
    layer: Annotated[Optional[list[str]], typer.Option(help="Layer to show, repeatable (default: the style layers).")]
    = None,
    channels: Annotated[int, typer.Option(help="Also show each layer's N most active channels.")] = 0,
    size: Size = 256,
    model: Model = defaults.MODEL,
    weights: Weights = defaults.WEIGHTS,
    pooling: Pooling = defaults.POOLING,
    show_input: ShowInput = True,
    overwrite: Overwrite = False,
):
    """Each layer's mean activation map beside its Gram matrix."""
    _check_backend()
    model = check_model(model)
    _check_output(output, overwrite)
    layer_names = check_layers(model, layer or list(defaults.STYLE_LAYERS))
    if channels < 0 or channels > 64:
        raise BadInput(f"--channels is {channels}; it must be between 0 and 64")
    picture = read_image(image)
    _check_fits(image, picture, size, model, layer_names, "image")
    resolved = resolve_weights(model, weights)
    from .experiments import inspect
    from .images import save_image

    figure = inspect(picture, layers=layer_names, channels=channels, size=size, model=model, weights=resolved,
                     pooling=pooling, show_input=show_input)
    save_image(output, figure.grid())
    print(f"wrote {output}")


_MODE_COMMANDS = {"transfer": transfer, "content": content_command, "style": style_command}


def command_arguments(command: str, **values) -> dict:
    """All keyword arguments of the `transfer`, `content` or `style` command: its
    defaults, updated with `values`. A run record keeps these, and `rerun` calls
    the command with them, so the web app builds its records here."""
    import inspect

    parameters = inspect.signature(_MODE_COMMANDS[command].__wrapped__).parameters
    unknown = values.keys() - parameters.keys()
    if unknown:
        raise TypeError(f"{command} has no argument(s) {', '.join(sorted(unknown))}")
    missing = [name for name, parameter in parameters.items()
               if parameter.default is inspect.Parameter.empty and name not in values]
    if missing:
        raise TypeError(f"{command} needs {', '.join(missing)}")
    return {name: values.get(name, parameter.default) for name, parameter in parameters.items()}


@app.command()
@_one_line_errors
def rerun(
    record: Annotated[Path, typer.Argument(help="Run record (the .json written beside an output).")],
    output: Output,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
):
    """Re-do a run exactly from its record, writing a new OUTPUT."""
    try:
        data = json.loads(record.read_text())
        command, arguments = data["command"], dict(data["arguments"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BadInput(f"{record} is not a neuralstyle run record ({error})") from None
    if command not in _MODE_COMMANDS:
        raise BadInput(f"{record} records an unknown command {command!r}")
    for role, entries in data.get("inputs", {}).items():
        for entry in entries:
            path = Path(entry["path"])
            if path.is_file() and sha256_of(path) != entry["sha256"]:
                console.print(f"neuralstyle: warning: {path} changed since the recorded run")
    path_arguments = {"content", "styles", "image", "frames", "gif"}
    for key in path_arguments & arguments.keys():
        value = arguments[key]
        if value is not None:
            arguments[key] = [Path(item) for item in value] if isinstance(value, list) else Path(value)
    arguments.update(output=output, overwrite=overwrite, quiet=quiet, frames=None, gif=None)
    _MODE_COMMANDS[command].__wrapped__(**arguments)


APP_INSTALL = 'the web app needs Gradio: pip install "neuralstyle[app]" (in a clone: pip install -e ".[app]")'


@app.command("app")
@_one_line_errors
def app_command(
    host: Annotated[str, typer.Option(help="Address to serve on; 127.0.0.1 keeps it on this machine.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 7860,
    output_dir: Annotated[Optional[Path], typer.Option(
        help="Folder for the runs' images, GIFs and records (default: a new temporary folder).")] = None,
):
    """Start the local web app: pick images and layers, watch the image form, download the results."""
    try:
        import gradio  # noqa: F401
    except ImportError:
        _fail(APP_INSTALL)
    if not 0 <= port <= 65535:
        raise BadInput(f"--port {port} must be between 0 and 65535")
    _check_backend()
    if output_dir is not None:
        if output_dir.exists() and not output_dir.is_dir():
            raise BadInput(f"--output-dir {output_dir} is not a folder")
        output_dir.mkdir(parents=True, exist_ok=True)
        _check_writable(output_dir / ".neuralstyle-app", overwrite=True)
    from .app import launch

    launch(host=host, port=port, output_dir=output_dir, on_start=lambda line: print(line, flush=True))


def main(argv: list[str] | None = None) -> int:
    """Console entry point: usage errors become one line and exit code 2."""
    try:
        code = app(args=argv, prog_name="neuralstyle", standalone_mode=False)
    except TyperException as error:
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        console.print(f"neuralstyle: error: {message}", markup=False, soft_wrap=True)
        code = getattr(error, "exit_code", EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    sys.exit(code or 0)
