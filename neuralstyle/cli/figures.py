"""The CLI's commands that make pictures for study: the paper's figures
(``neuralstyle figure …``: argv → `RunSpec`, through the same pipeline as a
transfer), ``neuralstyle inspect`` (what each layer sees), ``neuralstyle plot``
(loss curves from run records) and ``neuralstyle gif`` (frames → GIF)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core import settings
from ..jobs import inputs, outputs, pipeline, preload
from ..jobs.spec import default_of
from .options import (
    COMMON,
    PANELS,
    REQUIRED,
    Device,
    Model,
    ModelChoice,
    Output,
    Overwrite,
    Pooling,
    PoolingChoice,
    Weights,
    list_values,
    one_line_errors,
    run_parameters,
    spec_option,
)
from .runner import register_run_command

figure_app = typer.Typer(help="The figures of Gatys, Ecker and Bethge (CVPR 2016), one command each.",
                         no_args_is_help=True)

OUTPUT_PANEL = PANELS["output"]
FigureSize = Annotated[int, spec_option("size", mode="reconstructions")]  # the figures' words: each tile
OneStyle = Annotated[Path, typer.Argument(help="Style image.", metavar="STYLE")]
ShowInput = Annotated[bool, spec_option("show_input", "--show-input/--hide-input")]


def _figure_command(mode: str, summary: str, content_help: str, styles) -> None:
    """Register ``neuralstyle figure MODE``: CONTENT, STYLE(S), -o and every option of
    that figure (`run_parameters`: RunSpec's own declarations, with its defaults)."""
    content = Annotated[Path, typer.Argument(help=content_help, metavar="CONTENT")]
    register_run_command(figure_app, mode, summary, [("content", content, REQUIRED), ("styles", styles, REQUIRED),
                                                     ("output", Output, REQUIRED), *run_parameters(mode), *COMMON])


_figure_command("reconstructions", "Reconstructions (Fig. 1): content rebuilt from each block, style from growing "
                "layer sets.", "Content image (top row).", OneStyle)
_figure_command("tradeoff", "Trade-off (Fig. 3): rows are content layers, columns content/style weight ratios.",
                "Content image.", OneStyle)
_figure_command("styles", "Styles (Fig. 2): one content image in several styles.", "Content image.",
                Annotated[list[Path], typer.Argument(help="Style images, one tile each.", metavar="STYLE...")])


@one_line_errors
def inspect_command(
    image: Annotated[Path, typer.Argument(help="Image to look at through VGG.")],
    output: Output,
    layer: Annotated[Optional[list[str]], typer.Option(
        help="Layers to show, separated by commas (default: the style layers).")] = None,
    channels: Annotated[int, typer.Option(help="Also show each layer's N most active channels.")] = 0,
    size: FigureSize = settings.FIGURE_SIZE,
    model: Model = ModelChoice(default_of("model")),
    weights: Weights = default_of("weights"),
    pooling: Pooling = PoolingChoice(default_of("pooling")),
    show_input: ShowInput = default_of("show_input"),
    device: Device = default_of("device"),
    overwrite: Overwrite = False,
):
    """Each layer's mean activation map beside its Gram matrix; a record beside it as for every run."""
    preload.check_backend()
    model, pooling, device = settings.model(model.value), pooling.value, settings.device(device)
    settings.output_suffix("output", output)
    outputs.check_writable(output, overwrite)
    outputs.check_writable(output.with_suffix(".json"), overwrite, "record")
    layer_names = settings.layers("layer", model, list_values("layer", layer) or list(settings.STYLE_LAYERS))
    if not 0 <= settings.whole("channels", channels) <= 64:
        raise settings.SettingError("channels", f"⟨name⟩ is {channels}; it must be between 0 and 64")
    settings.choice("pooling", pooling, settings.POOLINGS)
    picture = inputs.read_input(image)
    width, height = inputs.check_fits("image", picture, settings.whole("size", size, 1), model, layer_names)
    from ..core.memory import check_fits_in_memory

    try:
        check_fits_in_memory(model, [(layer_names, width, height)], picture.image.width * picture.image.height)
    except MemoryError as error:
        raise settings.SettingError("size", f"{error}; lower ⟨size⟩") from None
    from ..core.weights import resolve_weights

    resolved = resolve_weights(model, weights)
    from ..core.experiments import inspect as inspect_layers
    from ..core.images import encode_image, output_format
    from ..jobs.records import inspect_record

    place, _ = pipeline.device_lines(device)
    figure = inspect_layers(picture.image, layers=layer_names, channels=channels, size=size, model=model,
                            weights=resolved, pooling=pooling, show_input=show_input, device=place.setting)
    encoded = encode_image(figure.grid(), output_format(output))
    arguments = dict(image=picture.path, layers=layer_names, channels=channels, size=size, model=model,
                     weights=weights, pooling=pooling, show_input=show_input, device=device)
    record = inspect_record(arguments, {"image": [picture]}, resolved, place.describe(), figure, output, encoded)
    outputs.write_files([(output, encoded), (output.with_suffix(".json"), json.dumps(record, indent=1).encode())],
                        overwrite)
    print(f"wrote {output}, {output.with_suffix('.json')}")


@one_line_errors
def plot(
    records: Annotated[list[Path], typer.Argument(help="Run records (.json) of transfer, content or style runs.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="PNG to write.", rich_help_panel=OUTPUT_PANEL)],
    overwrite: Overwrite = False,
):
    """The loss parts per iteration (log scale); several records are overlaid."""
    from ..jobs.plots import PLOT_INSTALL, curves, loss_curves

    if output.suffix.lower() != ".png":
        raise settings.SettingError("output", f"{output} must end in .png")
    outputs.check_writable(output, overwrite)
    runs = []
    for path in records:
        try:
            record = json.loads(path.read_text())
            curves(record)
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
            raise settings.SettingError("records", f"cannot plot {path}: {error or type(error).__name__}") from None
        runs.append((path.stem, record))
    try:
        picture = loss_curves(runs)
    except ImportError:
        raise settings.SettingError("records", PLOT_INSTALL) from None
    outputs.write_files([(output, picture)], overwrite)
    print(f"wrote {output}")


@one_line_errors
def gif(
    frames_dir: Annotated[Path, typer.Argument(help="Folder of frame_NNNNN.png files.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="GIF to write.", rich_help_panel=OUTPUT_PANEL)],
    duration: Annotated[int, typer.Option(help="Milliseconds per frame.")] = 80,
    hold_last: Annotated[int, typer.Option(help="Milliseconds the last frame stays up.")] = 1500,
    loop: Annotated[int, typer.Option(help="Times to loop; 0 = forever.")] = 0,
    every: Annotated[int, typer.Option(help="Use every N-th frame (the last is always kept).")] = 1,
    size: Annotated[Optional[int], spec_option("size")] = None,
    overwrite: Overwrite = False,
):
    """Assemble saved frames into an animated GIF."""
    from ..jobs.frames import list_frames, make_gif

    if not frames_dir.is_dir():
        raise settings.SettingError("frames_dir", f"{frames_dir} is not a folder of frames")
    if output.suffix.lower() != ".gif":
        raise settings.SettingError("output", f"{output} must end in .gif")
    outputs.check_writable(output, overwrite)
    for name, value, minimum in (("duration", duration, 1), ("every", every, 1), ("loop", loop, 0),
                                 ("hold_last", hold_last, 0), ("size", 1 if size is None else size, 1)):
        settings.whole(name, value, minimum)
    paths = list_frames(frames_dir)
    if not paths:
        raise settings.SettingError("frames_dir", f"no frame_NNNNN.png files in {frames_dir}")
    outputs.write_files([(output, make_gif(paths, duration_ms=duration, hold_last_ms=hold_last, loop=loop,
                                           every=every, max_side=size))], overwrite)
    print(f"wrote {output} from {len(paths)} frames")


def register(root) -> None:
    """Add ``figure …``, ``inspect``, ``plot`` and ``gif`` to the root command."""
    root.add_typer(figure_app, name="figure")
    root.command("inspect", no_args_is_help=True)(inspect_command)
    root.command(no_args_is_help=True)(plot)
    root.command(no_args_is_help=True)(gif)
