"""The ``video`` command: a clip painted frame after frame without flicker, resumable by frame."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from ..core.interrupts import Interrupted, SignalGuard, current_guard
from ..jobs import cluster, outputs, preload, video
from ..jobs.records import duration
from ..jobs.spec import RunSpec
from .options import COMMON, REQUIRED, run_parameters, spec_option
from .runner import fetch_missing_weights, register_run_command, report_reproduction
from .sweep import CpusPerCell, RayAddress, Workers
from .terminal import ProgressDisplay, console, message_fd


def run_clip(spec: RunSpec, quiet: bool, dry_run: bool = False, resume: bool = False, ray: str | None = None,
             workers: int | None = None, cpus_per_cell: int = 1, recorded: dict | None = None) -> None:
    """Check, paint and write one clip with a progress bar (frames done, the frame's
    iteration, the clip's time left); exit with the code its end calls for. With
    `recorded` (the record a rerun reruns), say whether its frames are the recorded ones."""
    say = (lambda line: None) if quiet else (lambda line: console.print(line, markup=False, soft_wrap=True))
    with contextlib.ExitStack() as stack:
        guard = current_guard() or stack.enter_context(SignalGuard(message_fd()))
        stack.enter_context(video.claim_clip(spec))
        if not resume:
            video.check_unfinished(spec)
        with outputs.claim(spec) if not resume else contextlib.nullcontext():
            if not dry_run:
                fetch_missing_weights([spec], say)
            plan = video.prepare(spec, fetch_weights=not dry_run, resume=resume, preload_backend=not dry_run)
            if dry_run:
                say(f"would run video: {plan.plan.description}; {plan.plan.memory_line()}")
                return
            preload.load()
            display = ProgressDisplay(quiet, stops_when_converged=spec.iterations == "auto")
            per_frame = sum(spec.iteration_caps)

            def each_iteration(step, progress):
                passes = f", pass {step.pass_index + 1}/{step.passes}" if step.passes > 1 else ""
                display(replace(progress, iteration=step.done_before * per_frame + progress.iteration,
                                iterations=step.total * per_frame,
                                tile=f"frame {step.frame + 1}/{step.frames}{passes}, iteration {progress.iteration}, "
                                     f"{step.done_before} frames done; clip "))
                return guard.should_stop()

            try:
                outcome = video.execute(plan, each_iteration, on_message=say, ray=ray, workers=workers,
                                        cpus_per_shot=cpus_per_cell)
            except (Interrupted, KeyboardInterrupt):
                display.stop()
                console.print(f"neuralstyle: interrupted ({guard.signal_name}) before a frame's first iteration; "
                              f"the finished frames are kept; continue with: neuralstyle resume {spec.record_path}",
                              markup=False)
                raise typer.Exit(guard.exit_code) from None
            finally:
                display.stop()
    if outcome.stopped is not None:
        reason = f"interrupted ({guard.signal_name})" if outcome.stopped == "interrupted" else \
            f"error: {outcome.error or outcome.stopped}"
        console.print(f"neuralstyle: {reason} with {outcome.frames_done} of {outcome.total} frames finished "
                      f"(kept in {video.work_folder(spec)}); continue with: neuralstyle resume {spec.record_path}",
                      markup=False)
        raise typer.Exit(guard.exit_code if outcome.stopped == "interrupted" else 1)
    seconds = outcome.record["wall_seconds"]
    say(f"wrote {', '.join(map(str, outcome.written))} ({outcome.total} frames in {duration(seconds)}, "
        f"{seconds / max(outcome.total, 1):.1f} s a frame)")
    if recorded is not None:
        report_reproduction(recorded, outcome.record, say)


def _video(spec_values: dict, values: dict) -> None:
    cluster.check_engine_options(values["ray"], values["workers"], values["cpus_per_cell"])
    run_clip(RunSpec(mode="video", **spec_values), values["quiet"], values["dry_run"], ray=values["ray"],
             workers=values["workers"], cpus_per_cell=values["cpus_per_cell"])


def resume_clip(path: Path, quiet: bool, dry_run: bool) -> bool:
    """Continue the clip that `path` names (its record, video or folder); False where it names no clip."""
    spec = video.find_clip_run(path)
    if spec is None:
        return False
    run_clip(video.resume_spec(spec), quiet, dry_run, resume=True)
    return True


def register(root: typer.Typer) -> None:
    """Add ``video`` to the root command."""
    clip = Annotated[Path, typer.Argument(help="The clip: a video file (.mp4, .mov, .webm, .mkv, .avi, .gif) or a "
                                               "folder of frames, sorted by name.", metavar="CLIP")]
    styles = Annotated[list[Path], typer.Argument(help="Style image(s).", metavar="STYLE...")]
    output = Annotated[Path, spec_option("output", "--output", "-o", mode="video")]
    register_run_command(
        root, "video", "Paint every frame of CLIP in the style of STYLE, each held to the earlier ones by optical "
        "flow so that the clip does not flicker (Ruder et al., 2016).\n\nNeeds the video extra. An interrupted clip "
        "keeps its finished frames: `neuralstyle resume OUT.json` goes on from there. With --ray, the clip's shots "
        "(cut apart where the flow finds a cut) are painted as Ray tasks; the frames of one shot run in order.",
        [("content", clip, REQUIRED), ("styles", styles, REQUIRED), ("output", output, REQUIRED),
         *run_parameters("video"), *COMMON, ("ray", RayAddress, None), ("workers", Workers, None),
         ("cpus_per_cell", CpusPerCell, 1)], _video)

