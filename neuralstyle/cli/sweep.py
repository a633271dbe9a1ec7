"""``neuralstyle sweep``: a grid of transfers (contents × styles × settings given
as lists), run in this process or on Ray, with a contact sheet and an
``index.html``; and the cell runner that ``transfer FOLDER --ray`` shares.

The front end's part: argv → `neuralstyle.jobs.sweep.Grid`, the live bar over
cells, writing each cell's files as its result comes back, the summary files,
one-line messages and exit codes (2 for a bad argument, 1 if a cell failed,
128 + the signal when stopped)."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import inspect
import io
import json
import math
import statistics
import sys
import time
import typing
from pathlib import Path
from typing import Annotated, Optional

import typer
from PIL import Image
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..core.images import ImageError, fit_size
from ..core.interrupts import Interrupted, SignalGuard, current_guard, writing
from ..core.settings import SettingError
from ..core.weights import WeightsError
from ..jobs import cluster, contact_sheet, gallery, outputs, pipeline
from ..jobs.records import duration
from ..jobs.spec import help_for, metadata
from ..jobs.sweep import (
    ONE_FOR_ALL,
    STYLE_MASKS,
    SUMMARY_FILES,
    SWEEPABLE,
    Cell,
    Grid,
    file_sha256,
    input_sha256,
    is_done,
    make_grid,
    read_grid_file,
    split_values,
)
from .options import (
    PANELS,
    REQUIRED,
    DryRun,
    Overwrite,
    Quiet,
    one_line_errors,
    option_name,
    option_type,
    spec_option,
)
from .runner import fetch_missing_weights
from .terminal import console, message_fd

CLUSTER = "Cluster"
RayAddress = Annotated[Optional[str], typer.Option(
    "--ray", envvar="RAY_ADDRESS", show_envvar=True, rich_help_panel=CLUSTER,
    help="Run as Ray tasks (a sweep's cells, a folder's images, a clip's shots): 'local' starts Ray on this "
         "machine, HOST:PORT (or 'auto') joins a running cluster. Needs the cluster extra. Without it, they run "
         "here one after another.")]
Workers = Annotated[Optional[int], typer.Option(
    help="With --ray local: how many runs at once (default: one per CPU core).", rich_help_panel=CLUSTER)]
CpusPerCell = Annotated[int, typer.Option(
    help="With --ray: CPUs each run asks for (TensorFlow's thread count in that worker).", rich_help_panel=CLUSTER)]
THUMBNAIL = 256  # px: the longest side of a cell on the contact sheet
# A grid larger than this asks first: each cell is a whole transfer, minutes each on a CPU, so a few hundred
# are a day's work, and a list typed one value too long multiplies every other axis.
MAX_UNASKED_CELLS = 200


SWEEP_HELP = "Repeat to sweep over several values."
ONE_FOR_ALL_HELP = "One for every cell (not swept)."
STYLE_MASK_HELP = "In a sweep, one per --style: a cell with that style paints only its mask."


def _sweep_help(setting: str) -> str:
    """A setting's help as `transfer` words it, and how a sweep takes several values."""
    return f"{help_for(setting, 'transfer')} {SWEEP_HELP}"


def _axis_type(setting: str):
    """A sweep's option for `setting`: repeated, each value of the type `transfer` takes
    once (a choice as its Enum, so help and completion list them; a list of values as
    its comma-separated text)."""
    single = option_type(setting, "transfer")
    if metadata(setting)["form"] == "list" or typing.get_origin(single) is not typing.Union:
        element = str if metadata(setting)["form"] == "list" else single
    else:
        element = next(argument for argument in typing.get_args(single) if argument is not type(None))
    return Optional[list[element]]


def _parameters() -> list[tuple]:
    settings_options = [(setting, Annotated[_axis_type(setting), spec_option(setting, option_name(setting),
                                                                             help=_sweep_help(setting))], None)
                        for setting in SWEEPABLE]
    return [
        ("output", Annotated[Path, typer.Option(
            "--output", "-o", help="Folder for each cell's image and record, contact_sheet.png, index.html and "
                                   "sweep.json.", rich_help_panel="Output")], REQUIRED),
        ("contents", Annotated[Optional[list[Path]], typer.Argument(
            help="Content image(s): one row (or column) each.", show_default=False, metavar="CONTENT...")], None),
        ("style", Annotated[Optional[list[Path]], typer.Option(
            "--style", "-s", help="Style image, repeatable: one column each.", rich_help_panel=PANELS["style_weight"],
            show_default=False)], None),
        ("style_mask", Annotated[Optional[list[Path]], spec_option(
            STYLE_MASKS, option_name(STYLE_MASKS),
            help=f"{help_for(STYLE_MASKS)} {STYLE_MASK_HELP}")], None),
        *((setting, Annotated[Optional[Path], spec_option(
            setting, option_name(setting), help=f"{help_for(setting)} {ONE_FOR_ALL_HELP}")], None)
          for setting in ONE_FOR_ALL),
        ("grid", Annotated[Optional[Path], typer.Option(
            help="A TOML (or YAML) file with content, style, columns and settings (a list sweeps); options given "
                 "here replace its entries.", rich_help_panel="Output")], None),
        ("columns", Annotated[Optional[str], typer.Option(
            help="The setting whose values are the contact sheet's columns (default: style if it varies, else the "
                 "last setting that does).", rich_help_panel="Output")], None),
        *settings_options,
        ("ray", RayAddress, None), ("workers", Workers, None), ("cpus_per_cell", CpusPerCell, 1),
        ("quiet", Quiet, False), ("overwrite", Overwrite, False), ("dry_run", DryRun, False),
        ("yes", Annotated[bool, typer.Option("--yes", "-y", help=f"Run a grid of more than {MAX_UNASKED_CELLS} cells "
                                             "without asking.", rich_help_panel="Output")], False),
    ]


def sweep_command(**values):
    """Run a grid of transfers: every CONTENT × every --style × every value of each setting given as a list.

    Each cell is an ordinary run with its own image and record in the folder -o,
    named by its content, style and the settings that vary. The folder also gets
    a contact sheet (contact_sheet.png), index.html and sweep.json. Running the
    same sweep again skips the cells already done.

    With a --style-mask per --style, each cell paints only its style's mask
    and keeps the content elsewhere."""
    grid_file = read_grid_file(values["grid"]) if values["grid"] is not None else {}
    contents = values["contents"] or grid_file.get("content") or []
    styles = values["style"] or grid_file.get("style") or []
    if not styles:
        raise SettingError("style", "a sweep needs at least one ⟨style⟩ image")
    masks = values["style_mask"]
    if not masks and grid_file.get("style_mask"):
        if values["style"]:  # the file's masks are aligned with the file's styles, which --style replaced
            raise SettingError(STYLE_MASKS, "the grid file's style_mask list goes with its style list, which --style "
                                            "replaces; give a ⟨name⟩ per --style too")
        masks = grid_file["style_mask"]
    fixed = {setting: values[setting] or grid_file.get(setting) for setting in ONE_FOR_ALL
             if (values[setting] or grid_file.get(setting)) is not None}
    lists = {setting: grid_file[setting] for setting in SWEEPABLE if setting in grid_file}
    lists.update({setting: split_values(setting, [getattr(value, "value", value) for value in values[setting]])
                  for setting in SWEEPABLE if values[setting] is not None})
    output = values["output"]
    if output.exists() and not output.is_dir():
        raise SettingError("output", f"⟨name⟩ {output} is a file; a sweep writes into a folder")
    count = max(len(contents), 1) * len(styles) * math.prod(
        len(value) if isinstance(value, (list, tuple)) else 1 for value in lists.values())
    if values["dry_run"]:
        console.print(f"sweep: {count} cells", markup=False)
    elif count > MAX_UNASKED_CELLS and not values["yes"] and not _confirmed(count):
        raise SettingError("yes", f"this grid has {count} cells, more than the {MAX_UNASKED_CELLS} a sweep starts "
                                  f"without asking (each cell is a whole transfer); pass ⟨name⟩ to run them all, or "
                                  f"--dry-run to check them")
    _check_engine(values["ray"], values["workers"], values["cpus_per_cell"])
    grid = make_grid(contents, styles, lists, output, fixed=fixed, style_masks=masks,
                     columns=values["columns"] or grid_file.get("columns"), overwrite=values["overwrite"])
    output.mkdir(parents=True, exist_ok=True)
    # One sweep at a time into a folder: a second would paint the first's cells again and call them failed.
    with outputs.hold_lock(output / ".neuralstyle-sweep-lock", SettingError(
            "output", f"another neuralstyle sweep is running into {output}; wait for it, or choose another ⟨name⟩")):
        run_cells(list(grid.cells), values, resume=True, grid=grid)


def _confirmed(count: int) -> bool:
    """At a terminal, whether the user says yes to `count` cells; elsewhere (a script, CI) no."""
    if not sys.stdin.isatty():
        return False
    return typer.confirm(f"run all {count} cells of this sweep?", default=False, err=True)


def _check_engine(ray: str | None, workers: int | None, cpus_per_cell: int) -> None:
    """Bad engine options fail at once, before any input is read (Ray itself starts later, if cells need it)."""
    if ray is not None and importlib.util.find_spec("ray") is None:
        raise SettingError("ray", cluster.INSTALL)
    cluster.check_engine_options(ray, workers, cpus_per_cell)


def register(root) -> None:
    """Add ``sweep`` to the root command."""
    parameters = _parameters()
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    sweep_command.__signature__ = inspect.Signature(
        [inspect.Parameter(name, kind, annotation=annotation, default=default)
         for name, annotation, default in parameters])
    sweep_command.__annotations__ = {name: annotation for name, annotation, _ in parameters}
    root.command("sweep")(one_line_errors(sweep_command))


def run_batch(specs: list, ray: str, workers: int | None, cpus_per_cell: int, quiet: bool, dry_run: bool) -> None:
    """``transfer FOLDER --ray``: the folder's transfers as cells on the engine;
    existing outputs are refused as in a batch run here (no resuming)."""
    _check_engine(ray, workers, cpus_per_cell)
    cells = [Cell(spec, spec.output.stem, {}) for spec in specs]
    run_cells(cells, {"ray": ray, "workers": workers, "cpus_per_cell": cpus_per_cell, "quiet": quiet,
                      "dry_run": dry_run}, resume=False)


# --- running cells ------------------------------------------------------------------------


def run_cells(cells: list[Cell], options: dict, resume: bool, grid: Grid | None = None) -> None:
    """Check, prepare and run `cells` on the engine `options` name, writing each
    cell's files as it comes back; with `resume`, cells whose record matches are
    skipped; with `grid`, the contact sheet, index.html and sweep.json follow.
    Exits 1 if a cell failed, 128 + the signal if stopped."""
    quiet = options["quiet"]
    say = (lambda line: None) if quiet else (lambda line: console.print(line, markup=False, soft_wrap=True))
    status: dict[int, dict] = {}
    digest = functools.cache(file_sha256)
    with contextlib.ExitStack() as stack:
        guard = current_guard() or stack.enter_context(SignalGuard(message_fd()))
        todo = []
        for index, cell in enumerate(cells):
            record = None
            if resume:
                with contextlib.suppress(ImageError):
                    record = is_done(cell.spec, input_sha256(cell.spec, digest))
            if record is not None:
                status[index] = {"status": "skipped", "record_data": record}
                continue
            outputs.check_outputs(cell.spec)  # a file in the way is a bad argument: exit 2 before any work
            todo.append(index)
        skipped = len(cells) - len(todo)
        if options["dry_run"]:
            say(f"would run {len(todo)} of {len(cells)} cells ({skipped} done already); "
                f"{'on Ray at ' + options['ray'] if options['ray'] else 'in this process'}; "
                f"{_expected_time([cells[index] for index in todo], status)}")
            return
        started = time.time()
        try:
            jobs = _prepare(cells, todo, status, say)
            if jobs:
                _run_jobs(cells, jobs, status, options, guard, say)
        except (Interrupted, KeyboardInterrupt):
            pass
        finally:
            if grid is not None:
                guard.iterating = True  # the summary of what is done is written, whatever signal came
                with writing():
                    _write_summary(grid, status)
        _report(cells, status, skipped, started, guard, say)


def _expected_time(todo: list[Cell], status: dict) -> str:
    """What the cells left should take one after another, timed by the cells done here
    already (optimiser seconds per iteration per pixel, their median); a sweep with none
    done says so."""
    rates = []
    for entry in status.values():
        record = entry.get("record_data") or {}
        width, height = (record.get("output") or {}).get("size") or (0, 0)
        if record.get("optimizer_seconds") and record.get("iterations") and width * height:
            rates.append(record["optimizer_seconds"] / record["iterations"] / (width * height))
    if not todo:
        return "nothing left to run"
    if not rates:
        return "no cell has run here yet to time the rest by (each cell is a whole transfer)"
    work = 0.0
    for cell in todo:
        with Image.open(cell.spec.content) as picture:  # the header only
            sides = [fit_size(*picture.size, side) for side in cell.spec.scales]
        work += sum(caps * width * height for caps, (width, height) in zip(cell.spec.iteration_caps, sides))
    return f"about {duration(statistics.median(rates) * work)} one after another, timed by the {len(rates)} done"


def _prepare(cells: list[Cell], todo: list[int], status: dict, say) -> list:
    """Each cell's checks and inputs (`pipeline.prepare`) as a job; a cell that cannot run (an unreadable
    image, a size its layers cannot see) is failed here and the others go on."""
    jobs = []
    read = functools.cache(cluster.read_bytes)
    for index in todo:
        try:
            plan = pipeline.prepare(cells[index].spec, fetch_weights=False)
            jobs.append(cluster.job_for(index, plan, read))
        except (SettingError, ImageError, WeightsError) as error:
            _fail_cell(cells, status, index, error.render(option_name) if isinstance(error, SettingError)
                       else str(error))
    return jobs


def _fail_cell(cells, status, index: int, error: str, **details) -> None:
    status[index] = {"status": "failed", "error": error, **details}
    console.print(f"neuralstyle: cell {cells[index].name} failed: {error}", markup=False, soft_wrap=True)


def _run_jobs(cells: list[Cell], jobs: list, status: dict, options: dict, guard, say) -> None:
    """Run the jobs on the engine with a live bar over the cells; write each result as it comes."""
    if options["ray"] is None:
        fetch_missing_weights([job.spec for job, _ in jobs], say)
    engine = cluster.engine(options["ray"], options["workers"], options["cpus_per_cell"])
    try:
        say(f"sweep: {len(jobs)} cell(s) {engine.description}")
        bar = Progress(TextColumn("cells {task.completed:.0f}/{task.total}"), BarColumn(bar_width=20),
                       TextColumn("{task.fields[last]}"), TimeElapsedColumn(), TextColumn("left"),
                       TimeRemainingColumn(), console=console, disable=options["quiet"])
        task = bar.add_task("cells", total=len(jobs), last="")
        finished = [0]

        def on_start(job):
            guard.iterating = False  # each cell has its own start, which a signal may cut short

        def each_iteration(job, progress):
            bar.update(task, completed=finished[0] + progress.iteration / max(1, progress.iterations),
                       last=f"{cells[job.index].name}: iteration {progress.iteration}/{progress.iterations}")
            return guard.should_stop()

        with bar:
            for result in engine.run(jobs, lambda: guard.received is not None, on_start=on_start,
                                     callback=each_iteration):
                _take(cells, status, result)
                finished[0] += 1
                bar.update(task, completed=finished[0],
                           last=f"{cells[result.index].name}: {status[result.index]['status']}")
    finally:
        engine.close()


def _take(cells: list[Cell], status: dict, result) -> None:
    """Write a cell's result (its image and record) or note why it failed."""
    details = {"worker": result.worker, "seconds": round(result.seconds, 1)}
    outcome = result.outcome
    if outcome is None:
        _fail_cell(cells, status, result.index, result.error, **details)
        return
    if outcome.stopped == "interrupted":
        status[result.index] = {"status": "not run", "error": "interrupted; not written", **details}
        return
    try:
        pipeline.write(outcome)
    except SettingError as error:
        _fail_cell(cells, status, result.index, error.render(option_name), **details)
        return
    except OSError as error:
        _fail_cell(cells, status, result.index, f"cannot write ({error.strerror or error}: {error.filename})",
                   **details)
        return
    status[result.index] = {"status": "written", "record_data": outcome.record, **details}


def _report(cells: list[Cell], status: dict, skipped: int, started: float, guard, say) -> None:
    written = [cells[index].name for index, entry in sorted(status.items()) if entry["status"] == "written"]
    failed = [index for index, entry in sorted(status.items()) if entry["status"] == "failed"]
    not_run = [cell.name for index, cell in enumerate(cells) if status.get(index, {}).get("status") in (None, "not run")]
    minutes = (time.time() - started) / 60
    rate = f"; {len(written) / minutes:.2f} cells per minute" if written and minutes > 0 else ""
    say(f"{len(cells)} cells: {len(written)} written, {skipped} skipped (done before), {len(failed)} failed{rate}")
    if guard.received is not None:
        console.print(f"neuralstyle: interrupted ({guard.signal_name}); finished: {', '.join(written) or 'none'}; "
                      f"not run: {', '.join(not_run) or 'none'} (run the same command again to go on)", markup=False,
                      soft_wrap=True)
        raise typer.Exit(guard.exit_code)
    if failed:
        console.print(f"neuralstyle: error: {len(failed)} of {len(cells)} cells failed: "
                      + "; ".join(f"{cells[index].name} ({status[index]['error']})" for index in failed),
                      markup=False, soft_wrap=True)
        raise typer.Exit(1)


def _write_summary(grid: Grid, status: dict) -> None:
    """contact_sheet.png, index.html and sweep.json in the grid's folder, from what is done so far."""
    folder = grid.cells[0].spec.output.parent
    entries, images, notes = [], {}, {}
    layout = contact_sheet.arrange([cell.labels for cell in grid.cells], grid.columns, grid.rows)
    # Each image is read back at the size the sheet shows it: a sheet of 10,000 cells holds 80 px thumbnails.
    side = max(32, min(THUMBNAIL, contact_sheet.MAX_SIDE // max(len(layout.rows), len(layout.columns))))
    for index, cell in enumerate(grid.cells):
        entry = status.get(index, {"status": "not run"})
        record = entry.get("record_data") or {}
        done = entry["status"] in ("written", "skipped")
        if done:
            with contextlib.suppress(OSError, ValueError), Image.open(cell.spec.output) as picture:
                picture.thumbnail((side, side), Image.Resampling.LANCZOS)
                images[index] = picture.convert("RGB")
        notes[index] = f"{entry['status']}: {entry['error']}" if entry.get("error") else entry["status"]
        entries.append({
            "name": cell.name, "labels": dict(cell.labels), "status": entry["status"], "error": entry.get("error"),
            "image": cell.spec.output.name if done else None, "record": cell.spec.record_path.name if done else None,
            "final_loss": record.get("final_loss"), "iterations": record.get("iterations"),
            "seconds": entry.get("seconds") or record.get("wall_seconds"), "worker": entry.get("worker"),
            "arguments": cell.spec.to_record()})
    sheet = io.BytesIO()
    contact_sheet.draw(layout, images, notes).save(sheet, "PNG")
    varying = [setting for setting, _ in grid.axes]
    shared = {key: value for key, value in grid.cells[0].spec.to_record().items()
              if key not in (*varying, "content", "styles", STYLE_MASKS, "output", "record", "overwrite",
                             "schema")}
    title = f"neuralstyle sweep: {len(grid.cells)} cells"
    page = gallery.page(title, list(dict.fromkeys(("content", "styles", *varying))), entries, shared)
    summary = {"cells": [{key: value for key, value in entry.items() if key != "arguments"} for entry in entries],
               "axes": {setting: list(labels) for setting, labels in grid.axes}, "columns": grid.columns,
               "rows": list(grid.rows)}
    files = dict(zip(SUMMARY_FILES, (sheet.getvalue(), page.encode(), json.dumps(summary, indent=1).encode())))
    outputs.write_files([(folder / name, data) for name, data in files.items()], overwrite=True)
