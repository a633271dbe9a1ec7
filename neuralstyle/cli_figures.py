"""The CLI's commands for the paper's figures (``neuralstyle figure …``) and for
``neuralstyle inspect``: argv → `RunSpec` (figures run through the same
pipeline as a transfer), or straight to `neuralstyle.experiments.inspect`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import pipeline, settings
from .cli import (DryRun, Model, Output, Overwrite, Pooling, Quiet, Seed, ShowInput, Weights, one_line_errors, spec_option,
                  spec_options, app, run_specs)
from .settings import mode_default
from .spec import RunSpec, default_of

figure_app = typer.Typer(help="The paper's figures, one command each.", no_args_is_help=True)
app.add_typer(figure_app, name="figure")

FigureSize = Annotated[int, typer.Option(help="Longest side of each tile in px.")]
FigureIterations = Annotated[int, typer.Option(help="Iterations per tile.")]
FigureGif = Annotated[Optional[Path], typer.Option(help="Write a GIF of the whole grid forming.")]
FigureSaveEvery = Annotated[int, typer.Option(help="With --gif: a grid frame every N iterations.")]
OneStyle = Annotated[Path, typer.Argument(help="Style image.", metavar="STYLE")]


def _figure(mode: str, values: dict) -> None:
    options = spec_options(values)
    if not isinstance(options["styles"], list):
        options["styles"] = [options["styles"]]
    run_specs([RunSpec(mode=mode, **options)], values["quiet"], dry_run=values["dry_run"])


@figure_app.command("reconstructions")
@one_line_errors
def figure_reconstructions(
    content: Annotated[Path, typer.Argument(help="Content image (top row).")],
    styles: OneStyle,
    output: Output,
    size: FigureSize = mode_default("reconstructions", "size"),
    iterations: FigureIterations = mode_default("reconstructions", "iterations"),
    seed: Seed = default_of("seed"),
    model: Model = default_of("model"),
    weights: Weights = default_of("weights"),
    pooling: Pooling = default_of("pooling"),
    gif: FigureGif = None,
    save_every: FigureSaveEvery = mode_default("reconstructions", "save_every"),
    quiet: Quiet = False,
    overwrite: Overwrite = False,
    dry_run: DryRun = False,
):
    """Gatys et al. Fig. 1: content rebuilt from each block, style from growing layer sets."""
    _figure("reconstructions", locals())


@figure_app.command("tradeoff")
@one_line_errors
def figure_tradeoff(
    content: Annotated[Path, typer.Argument(help="Content image.")],
    styles: OneStyle,
    output: Output,
    tradeoff_layers: Annotated[str, spec_option("tradeoff_layers", "--content-layers")]
    = ",".join(default_of("tradeoff_layers")),
    tradeoff_ratios: Annotated[str, spec_option("tradeoff_ratios", "--ratios")]
    = ",".join(f"{ratio:g}" for ratio in default_of("tradeoff_ratios")),
    size: FigureSize = mode_default("tradeoff", "size"),
    iterations: FigureIterations = mode_default("tradeoff", "iterations"),
    seed: Seed = default_of("seed"),
    model: Model = default_of("model"),
    weights: Weights = default_of("weights"),
    pooling: Pooling = default_of("pooling"),
    gif: FigureGif = None,
    save_every: FigureSaveEvery = mode_default("tradeoff", "save_every"),
    quiet: Quiet = False,
    overwrite: Overwrite = False,
    dry_run: DryRun = False,
):
    """Gatys et al. Fig. 3: rows = content layer, columns = content/style weight ratio."""
    _figure("tradeoff", locals())


@figure_app.command("styles")
@one_line_errors
def figure_styles(
    content: Annotated[Path, typer.Argument(help="Content image.")],
    styles: Annotated[list[Path], typer.Argument(help="Style images, one tile each.")],
    output: Output,
    size: FigureSize = mode_default("styles", "size"),
    iterations: FigureIterations = mode_default("styles", "iterations"),
    seed: Seed = default_of("seed"),
    model: Model = default_of("model"),
    weights: Weights = default_of("weights"),
    pooling: Pooling = default_of("pooling"),
    gif: FigureGif = None,
    save_every: FigureSaveEvery = mode_default("styles", "save_every"),
    show_input: ShowInput = default_of("show_input"),
    quiet: Quiet = False,
    overwrite: Overwrite = False,
    dry_run: DryRun = False,
):
    """Gatys et al. Fig. 2: one content in several styles."""
    _figure("styles", locals())


@app.command("inspect")
@one_line_errors
def inspect_command(
    image: Annotated[Path, typer.Argument(help="Image to look at through VGG.")],
    output: Output,
    layer: Annotated[Optional[list[str]], typer.Option(help="Layer to show, repeatable (default: the style layers).")]
    = None,
    channels: Annotated[int, typer.Option(help="Also show each layer's N most active channels.")] = 0,
    size: FigureSize = settings.FIGURE_SIZE,
    model: Model = default_of("model"),
    weights: Weights = default_of("weights"),
    pooling: Pooling = default_of("pooling"),
    show_input: ShowInput = default_of("show_input"),
    overwrite: Overwrite = False,
):
    """Each layer's mean activation map beside its Gram matrix."""
    pipeline.check_backend()
    model = settings.model(model)
    settings.output_suffix("output", output)
    pipeline.check_writable(output, overwrite)
    layer_names = settings.layers("layer", model, layer or list(settings.STYLE_LAYERS))
    if not 0 <= settings.whole("channels", channels) <= 64:
        raise settings.SettingError("channels", f"⟨name⟩ is {channels}; it must be between 0 and 64")
    settings.choice("pooling", pooling, settings.POOLINGS)
    picture = pipeline.read_input(image)
    width, height = pipeline.check_fits("image", picture, settings.whole("size", size, 1), model, layer_names)
    from .resources import check_fits_in_memory

    try:
        check_fits_in_memory(model, [(layer_names, width, height)], picture.image.width * picture.image.height)
    except MemoryError as error:
        raise settings.SettingError("size", f"{error}; lower ⟨size⟩") from None
    from .weights import resolve_weights

    resolved = resolve_weights(model, weights)
    from .experiments import inspect
    from .images import save_image

    figure = inspect(picture.image, layers=layer_names, channels=channels, size=size, model=model, weights=resolved,
                     pooling=pooling, show_input=show_input)
    save_image(output, figure.grid())
    print(f"wrote {output}")
