"""The commands of single runs: ``transfer`` (also a folder of photos),
``content`` and ``style`` (the reconstructions), ``rerun`` (a record again),
``resume`` (an interrupted run) and ``app`` (the local web app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.settings import SettingError, mode_default
from ..jobs import checkpoints, pipeline
from ..jobs.records import read_record
from ..jobs.spec import RunSpec, default_of
from .options import (
    REQUIRED,
    CheckpointEvery,
    ColorChoice,
    ContentLayer,
    DryRun,
    Frames,
    Gif,
    Init,
    Iterations,
    LearningRate,
    MaxMemory,
    Model,
    ModelChoice,
    NoiseInit,
    OneScaleIterations,
    OneSize,
    Optimizer,
    OptimizerChoice,
    Output,
    Overwrite,
    Pooling,
    PoolingChoice,
    Precision,
    PrecisionChoice,
    Quiet,
    SaveEvery,
    Seed,
    Size,
    StyleLayers,
    TVWeight,
    Weights,
    fail,
    one_line_errors,
    spec_option,
    spec_options,
)
from .runner import register_run_command, run_specs
from .sweep import run_batch


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
            return run_batch(specs, ray, None, 1, quiet, dry_run)
    else:
        specs = [RunSpec(mode="transfer", **options)]
    run_specs(specs, quiet, dry_run=dry_run)


def _reconstruction_command(root: typer.Typer, mode: str, summary: str, field: str, image_help: str,
                            layers: tuple) -> None:
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
    register_run_command(root, mode, summary, [(field, image, REQUIRED), ("output", Output, REQUIRED), *options])


@one_line_errors
def rerun(
    record: Annotated[Path, typer.Argument(help="Run record (the .json written beside an output).")],
    output: Output,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    dry_run: DryRun = False,
):
    """Re-do a run exactly from its record, writing a new OUTPUT."""
    data, spec = read_record(record)
    try:
        spec = spec.replace(output=output, record=None, frames=None, gif=None, overwrite=overwrite)
    except SettingError as error:
        raise SettingError(error.setting, f"{record}: {error.template}") from None
    inputs = data.get("inputs")
    run_specs([spec], quiet, recorded_inputs=inputs if isinstance(inputs, dict) else None, dry_run=dry_run)


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
        fail(APP_INSTALL)
    if not 0 <= port <= 65535:
        raise SettingError("port", f"--port {port} must be between 0 and 65535")
    pipeline.check_backend()
    if output_dir is not None:
        if output_dir.exists() and not output_dir.is_dir():
            raise SettingError("output_dir", f"--output-dir {output_dir} is not a folder")
        output_dir.mkdir(parents=True, exist_ok=True)
        pipeline.check_writable(output_dir / ".neuralstyle-app", overwrite=True, setting="output_dir")
    from ..web.app import launch

    launch(host=host, port=port, output_dir=output_dir, on_start=lambda line: print(line, flush=True))


def register(root: typer.Typer) -> None:
    """Add the commands of single runs to the root command."""
    root.command()(transfer)
    _reconstruction_command(root, "content", "Reconstruct an image from one layer's features, starting from noise.", "content",
                            "Image to reconstruct.",
                            ("content_layer", ContentLayer, mode_default("content", "content_layer")))
    _reconstruction_command(root, "style", "Synthesise a style image's texture from noise, matching Gram matrices.", "styles",
                            "Style image to synthesise a texture from.", ("style_layers", StyleLayers, None))
    root.command()(rerun)
    root.command()(resume)
    root.command("app")(app_command)
