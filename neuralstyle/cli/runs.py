"""The commands of single runs: ``transfer`` (also a folder of photos),
``content`` and ``style`` (the reconstructions), ``rerun`` (a record again),
``resume`` (an interrupted run) and ``app`` (the local web app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core import settings
from ..core.interrupts import current_guard
from ..core.settings import SettingError
from ..jobs import checkpoints, outputs, pipeline, preload
from ..jobs.records import read_record
from ..jobs.spec import RunSpec
from .options import COMMON, REQUIRED, DryRun, Output, Overwrite, Quiet, fail, one_line_errors, run_parameters
from .runner import register_run_command, run_specs
from .sweep import CpusPerCell, RayAddress, Workers, run_batch
from .terminal import console
from .video import resume_clip, run_clip


def _transfer(spec_values: dict, values: dict) -> None:
    """Paint one content image, or each image of a folder into the folder OUTPUT."""
    content, quiet, dry_run = values["content"], values["quiet"], values["dry_run"]
    if content.is_dir():
        del spec_values["content"], spec_values["output"]
        specs = pipeline.folder_specs(content, values["output"], **spec_values)
        if values["ray"] is not None:
            return run_batch(specs, values["ray"], values["workers"], values["cpus_per_cell"], quiet, dry_run)
    else:
        if values["ray"] is not None or values["workers"] is not None:
            raise SettingError("ray", "⟨name⟩ and ⟨workers⟩ run the images of a folder; CONTENT is one image")
        specs = [RunSpec(mode="transfer", **spec_values)]
    run_specs(specs, quiet, dry_run=dry_run)


def _run_command(root: typer.Typer, mode: str, summary: str, inputs: list[tuple], extra=(), run=None) -> None:
    """Register the command of a single run of `mode`: its input arguments, -o, every
    option of that mode (`run_parameters`: RunSpec's own declarations) and `extra`."""
    register_run_command(root, mode, summary, [*inputs, ("output", Output, REQUIRED), *run_parameters(mode),
                                               *COMMON, *extra], run)


def _image(help: str, metavar: str = "IMAGE"):
    return Annotated[Path, typer.Argument(help=help, metavar=metavar)]


@one_line_errors
def rerun(
    record: Annotated[Path, typer.Argument(help="Run record (the .json written beside an output).")],
    output: Output,
    extend_to: Annotated[Optional[int], typer.Option(
        help="Extend the run instead: go on from its image to this many iterations in all (at its last size; the "
             "optimiser's history starts afresh).", rich_help_panel="Optimisation", show_default=False)] = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    dry_run: DryRun = False,
):
    """Re-do a run exactly from its record, writing a new OUTPUT (a clip: a video or a folder); with
    --extend-to, go on from its image instead."""
    data, spec = read_record(record)
    try:
        spec = spec.replace(output=output, record=None, frames=None, gif=None, overwrite=overwrite)
        if extend_to is not None:
            spec = pipeline.extended_spec(data, spec, extend_to)
    except SettingError as error:
        raise SettingError(error.setting, f"{record}: {error.template}") from None
    if spec.mode == settings.VIDEO:
        return run_clip(spec, quiet, dry_run, recorded=data if extend_to is None else None)
    run_specs([spec], quiet, recorded=data, dry_run=dry_run, compare_image=extend_to is None)


@one_line_errors
def resume(
    run: Annotated[Path, typer.Argument(
        help="The interrupted run's record, output or checkpoint (OUT.json, OUT.png or OUT.checkpoint.npz; a clip's "
             "OUT.json, video or folder).")],
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    dry_run: DryRun = False,
):
    """Continue an interrupted run (Ctrl-C, a kill, a crash, a reboot) from its last
    checkpoint to the iterations it asked for, writing its own outputs beside the
    checkpoint (files another run wrote there since are replaced only with
    --overwrite); a clip goes on from its first unfinished frame."""
    if resume_clip(run, quiet, dry_run):
        return
    checkpoint = checkpoints.find(run)
    state = checkpoints.load(checkpoint)
    run_specs([pipeline.resumed_spec(state, checkpoint, overwrite)], quiet, dry_run=dry_run, resume_from=state)


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
    preload.check_backend()
    if output_dir is not None:
        if output_dir.exists() and not output_dir.is_dir():
            raise SettingError("output_dir", f"--output-dir {output_dir} is not a folder")
        output_dir.mkdir(parents=True, exist_ok=True)
        outputs.check_writable(output_dir / ".neuralstyle-app", overwrite=True, setting="output_dir")
    from ..web.app import launch

    launch(host=host, port=port, output_dir=output_dir, on_start=lambda line: print(line, flush=True))
    guard = current_guard()
    if guard is not None and guard.received is not None:
        console.print(f"neuralstyle: app stopped ({guard.signal_name})", markup=False)
        raise typer.Exit(guard.exit_code)


def register(root: typer.Typer) -> None:
    """Add the commands of single runs to the root command."""
    _run_command(root, "transfer", "Paint CONTENT in the style of STYLE (several styles blend).\n\nCONTENT may be "
                 "a folder: each image in it is painted into the folder OUTPUT, reusing the model and the style "
                 "targets.",
                 [("content", _image("Content image, or a folder of them (OUTPUT is then a folder).", "CONTENT"),
                   REQUIRED),
                  ("styles", Annotated[list[Path], typer.Argument(help="Style image(s).", metavar="STYLE...")],
                   REQUIRED)], [("ray", RayAddress, None), ("workers", Workers, None), ("cpus_per_cell", CpusPerCell, 1)],
                 _transfer)
    _run_command(root, "content", "Reconstruct an image from one layer's features, starting from noise.",
                 [("content", _image("Image to reconstruct."), REQUIRED)])
    _run_command(root, "style", "Synthesise a style image's texture from noise, matching Gram matrices.",
                 [("styles", _image("Style image to synthesise a texture from."), REQUIRED)])
    root.command(no_args_is_help=True)(rerun)
    root.command(no_args_is_help=True)(resume)
    root.command("app")(app_command)
