"""The one run pipeline: `RunSpec` → `Outcome` → files, for the CLI, the web app
and `rerun` alike.

Three steps, so that each front end does only its own part:

* `prepare(spec)` checks what the spec cannot check alone (files to read and
  to write, image sizes, memory, weights) without loading TensorFlow, and
  reads the inputs, hashing the very bytes it decodes.
* `execute(plan, ...)` runs it (Keras and its backend load here), reporting
  each iteration to `callback` (whose return may stop it), and returns an
  `Outcome` holding the image, frames, GIF and run record as data (picklable:
  a worker on another machine can send it back as it is).
* `write(outcome)` puts those on disk: every file through a temporary file
  and a rename, the record last, and never over an existing file unless the
  spec says `overwrite`.

`run(spec)` is the first two. Nothing here prints: lines meant for a person go
to `on_message`.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from ..core import settings
from ..core.balance import balance_passes
from ..core.guides import area
from ..core.images import encode_image, output_format
from ..core.interrupts import phase_reached
from ..core.layers import conv_layers
from ..core.memory import (
    BASE_BYTES,
    MEMORY_MARGIN,
    PIXEL_BYTES,
    MemoryPlan,
    check_fits_in_memory,
    default_budget,
    gigabytes,
    optimizer_bytes,
    plan_memory,
)
from ..core.settings import SettingError
from ..core.weights import Weights, resolve_weights
from . import checkpoints, preload, roles
from .frames import FRAME_PATTERN, frame_path
from .inputs import InputImage, check_fits, read_inputs, region_masks
from .outputs import check_outputs, check_own_outputs, tile_folder, write_files
from .records import base_record, run_record
from .spec import RunSpec

# The one callback convention, the core's too: called with each `neuralstyle.core.evaluator.Progress`, it
# returns a reason to stop (e.g. 'interrupted'), True ('callback'), or nothing to go on.
Callback = Callable[[object], "str | bool | None"]


@dataclass(frozen=True)
class PlannedPasses:
    """What a run's memory plan is made of: the layers used, the optimised sizes
    (width, height), the style images' passes (layers, width, height) and the
    input images' pixels."""

    layers: tuple[str, ...]
    sizes: tuple[tuple[int, int], ...]
    styles: tuple[tuple, ...]
    input_pixels: int


@dataclass
class Plan:
    """A checked spec with its inputs read and its weights found; `execute` runs it."""

    spec: RunSpec
    inputs: dict[str, list[InputImage]]
    weights: Weights | None  # None only from prepare(fetch_weights=False), when a run would fetch them
    memory_bytes: float
    description: str
    memory: MemoryPlan | None = None  # how each size is evaluated (whole or in tiles); None for figures
    sizes: list[tuple[int, int]] = field(default_factory=list)  # (width, height) of each scale
    resume: checkpoints.State | None = None  # where an interrupted run stood, to continue it
    passes: PlannedPasses | None = None  # what the memory plan was made of, to plan again for a GPU

    def memory_line(self) -> str:
        return self.memory.describe() if self.memory else f"about {gigabytes(self.memory_bytes)} of memory"

    def share_done(self, progress) -> float:
        """The share of the run done at `progress`, 0–1, each iteration weighted by its size's pixels (a
        coarse-to-fine run's iteration at twice the side costs about four times one at the first size)."""
        caps, sizes = self.spec.iteration_caps, self.sizes
        if len(sizes) < 2 or len(caps) != len(sizes):
            return progress.iteration / max(progress.iterations, 1)
        costs = [width * height for width, height in sizes]
        scale = min(progress.scale, len(sizes) - 1)
        done = sum(count * cost for count, cost in zip(caps[:scale], costs)) + progress.scale_iteration * costs[scale]
        return min(done / sum(count * cost for count, cost in zip(caps, costs)), 1.0)


@dataclass
class Outcome:
    """What a run made, as data. `image` is ``uint8`` RGB(A); `frames` are
    (iteration, ``uint8`` RGB(A) image), as a `neuralstyle.core.stages.Result`'s; `tiles` (file name, PNG bytes) of a figure; `record`
    the run record; `stopped` None for a complete run, else why it ended early."""

    spec: RunSpec
    image: np.ndarray = field(repr=False)
    record: dict = field(repr=False)
    frames: list[tuple[int, bytes]] = field(default_factory=list, repr=False)
    gif: bytes | None = field(default=None, repr=False)
    tiles: list[tuple[str, bytes]] = field(default_factory=list, repr=False)
    stopped: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    encoded: bytes = field(default=b"", repr=False)  # the output file's bytes (its sha256 is in the record)
    image16: np.ndarray | None = field(default=None, repr=False)  # uint16: what a 16-bit TIFF output holds
    resumed: bool = False  # continued from a checkpoint: the frames folder holds the run's earlier frames

    def __post_init__(self):
        if not self.encoded:
            format = output_format(self.spec.output)
            self.encoded = encode_image(self.image16 if format == "TIFF" and self.image16 is not None else self.image,
                                        format)
            if isinstance(self.record.get("output"), dict):
                self.record["output"]["sha256"] = hashlib.sha256(self.encoded).hexdigest()

    def files(self) -> list[tuple[Path, bytes]]:
        """Every file this outcome writes, as (path, bytes), the record last."""
        spec = self.spec
        files = [(frame_path(spec.frames, iteration), encode_image(pixels, "PNG")) for iteration, pixels in self.frames]
        files += [(tile_folder(spec) / name, data) for name, data in self.tiles]
        if self.gif is not None and spec.gif is not None:
            files.append((spec.gif, self.gif))
        files.append((spec.output, self.encoded))
        files.append((spec.record_path, json.dumps(self.record, indent=1).encode()))
        return files


class FigureStopped(Exception):
    """A figure was asked to stop: its grid is incomplete and nothing is written."""


# --- prepare: every check that needs no TensorFlow -------------------------------


def _layers_used(spec: RunSpec) -> list[str]:
    if spec.mode == "content":
        return [spec.content_layer]
    if spec.mode == "style":
        return list(spec.style_layers)
    if spec.mode == "transfer":
        return list(dict.fromkeys([*spec.content_layers, *spec.style_layers]))
    return [conv_layers(spec.model)[-1].name if spec.mode == "reconstructions" else "block5_conv1"]


def prepare(spec: RunSpec, fetch_weights: bool = True, preload_backend: bool = False) -> Plan:
    """Check everything a run needs before it loads TensorFlow, read its inputs and
    find its weights (downloading them if `fetch_weights` and none are here); with
    `preload_backend`, TensorFlow starts loading once the inputs passed their checks
    (`neuralstyle.jobs.preload`), for a run that `execute`s the plan next.
    Raises SettingError, ImageError or WeightsError."""
    check_outputs(spec)
    inputs = read_inputs(spec)
    layer_names = _layers_used(spec)
    main = inputs[roles.sizing_role(spec.mode).name][0]
    sizes = [check_fits("content image" if spec.mode != "style" else "image", main, side, spec.model, layer_names)
             for side in spec.scales]
    style_passes = []
    if spec.mode == "transfer":
        style_layers = list(spec.style_layers)
        for side in spec.scales:
            for style, scale in zip(inputs["style"], spec.style_scales):
                style_passes.append((style_layers, *check_fits("style image", style, max(1, round(side * scale)),
                                                               spec.model, style_layers)))
        if spec.balance != "fixed":  # its measure's passes, at a size of their own
            style_passes += balance_passes(main.image.size, [style.image.size for style in inputs["style"]],
                                           spec.style_scales, spec.model, layer_names, style_layers, spec.scales[0])[1]
    elif spec.is_figure:
        for style in inputs["style"]:
            style_passes.append((layer_names, *check_fits("style image", style, spec.size, spec.model, layer_names)))
    regions = region_masks(spec, inputs, sizes[0]) if spec.mode == "transfer" else None
    pixels = sum(item.image.width * item.image.height for items in inputs.values() for item in items)
    passes = PlannedPasses(tuple(layer_names), tuple(sizes), tuple(style_passes), pixels)
    if spec.is_figure:  # many small runs: never tiled
        memory = None
        try:
            need = check_fits_in_memory(spec.model, [(layer_names, *size) for size in sizes] + style_passes, pixels,
                                        spec.precision)
        except MemoryError as error:
            raise SettingError("size", f"{error}; lower ⟨size⟩") from None
    else:
        memory = plan_run_memory(spec, passes, spec.max_memory or default_budget())
        need = memory.need
    if preload_backend:  # the settings, images and memory passed their checks: TensorFlow loads meanwhile
        preload.start()
    phase_reached("weights")
    from ..core.weights import needs_fetch

    # Without fetching, weights that a run would fetch first are left for it (None).
    weights = None if not fetch_weights and needs_fetch(spec.model, spec.weights) else \
        resolve_weights(spec.model, spec.weights, download=fetch_weights)
    return Plan(spec, inputs, weights, need, _describe(spec, inputs, sizes, regions), memory, sizes, passes=passes)


def plan_run_memory(spec: RunSpec, passes: PlannedPasses, budget: float | None, where: str = "") -> MemoryPlan:
    """How each size of a single run is evaluated within `budget` bytes (whole or in
    exact tiles); what cannot fit is refused in one line (SettingError)."""
    try:
        return plan_memory(spec.model, list(passes.layers), list(passes.sizes), list(passes.styles),
                           input_pixels=passes.input_pixels, precision=spec.precision, optimizer=spec.optimizer,
                           budget=budget, history_size=spec.history_size)
    except MemoryError as error:
        raise SettingError("size", f"{error}{where}; lower ⟨size⟩" + (" or ⟨style_scale⟩" if spec.mode == "transfer"
                                                                       else "") + " or raise ⟨max_memory⟩") from None


def plan_for_device(plan: Plan, device) -> Plan:
    """`plan` with its memory planned for a GPU's free memory (`device`, a
    `neuralstyle.core.backend.Device`), which only the loaded backend can tell;
    unchanged on the CPU, for figures, where the GPU's memory is unknown, or where
    ⟨max_memory⟩ gave the budget. The host keeps the process itself (BASE_BYTES)."""
    if device.kind != "gpu" or device.free is None or plan.memory is None or plan.spec.max_memory is not None:
        return plan
    # The VGG passes run on the GPU; the process, the inputs and the optimiser's arrays stay on the host.
    passes = plan.passes
    host = BASE_BYTES + passes.input_pixels * PIXEL_BYTES + max(
        optimizer_bytes(plan.spec.optimizer, width * height, plan.spec.history_size) for width, height in passes.sizes)
    memory = plan_run_memory(plan.spec, passes, host + device.free * (1 - MEMORY_MARGIN), f" on {device.describe()}")
    return replace(plan, memory=memory, memory_bytes=memory.need)


def _describe(spec: RunSpec, inputs: dict, sizes, regions: list | None = None) -> str:
    names = lambda role: ", ".join(item.path.name for item in inputs[role])  # noqa: E731
    scale_text = " → ".join(f"{width}x{height}" for width, height in sizes)
    budget = (f"up to {'+'.join(map(str, spec.iteration_caps))} {spec.optimizer} iterations, stopping when the loss "
              f"stops falling" if spec.iterations == "auto" else
              f"{'+'.join(map(str, spec.iterations))} {spec.optimizer} iterations")
    if spec.mode == "transfer":
        where = ""
        if regions is not None:
            covered = area(np.clip(np.sum(regions, axis=0), 0.0, 1.0))
            where = (f", each style in its own region ({spec.guides} guides): the masks cover {covered:.0%} of the "
                     f"photo" + (f"; the other {1 - covered:.0%} keeps the content" if covered < 0.995 else ""))
        return (f"{names('content')} in the style of {names('style')}{where} → {spec.output} ({scale_text} px, "
                f"{budget})")
    if spec.mode == "content":
        return f"{names('content')} from {spec.content_layer} → {spec.output} ({scale_text} px, {budget})"
    if spec.mode == "style":
        return f"texture of {names('style')} → {spec.output} ({scale_text} px, {budget})"
    return (f"{_tile_count(spec)} tiles of {spec.size} px, {spec.iterations[0]} iterations each → {spec.output}")


def _tile_count(spec: RunSpec) -> int:
    from ..core.experiments import CONTENT_ROW_LAYERS, STYLE_ROW_LAYERS

    if spec.mode == "reconstructions":
        return len(CONTENT_ROW_LAYERS[spec.model]) + len(STYLE_ROW_LAYERS)
    if spec.mode == "tradeoff":
        return len(spec.tradeoff_layers) * len(spec.tradeoff_ratios)
    return len(spec.styles)


# --- execute -----------------------------------------------------------------------


def device_lines(setting: str = "auto"):
    """The device a run with ``device=setting`` takes (a `neuralstyle.core.backend.Device`),
    and the lines that say it (a faster backend where there is one). Keras and its
    backend load here; a GPU that is not there is refused (DeviceError, one line)."""
    preload.load()
    from ..core.backend import faster_backend_tip, resolve_device

    device = resolve_device(setting)
    tip = faster_backend_tip() if device.kind == "cpu" else None
    return device, [f"device: {device.describe()}", *([tip] if tip else [])]


def precision_line(precision: str, mode: str, device: str = "auto") -> str:
    """The line that says what a run of `mode` on `device` computes in (for 'auto', why)."""
    from ..core.backend import resolve_precision

    resolved, why = resolve_precision(precision, mode, device)
    return f"precision: {resolved}" + (f" (auto: {why})" if why else "")


def run(spec: RunSpec, callback: Callback | None = None, on_message: Callable[[str], None] | None = None) -> Outcome:
    """Prepare and execute `spec`; see `prepare` and `execute`."""
    return execute(prepare(spec), callback, on_message)


def execute(plan: Plan, callback: Callback | None = None, on_message: Callable[[str], None] | None = None,
            keep_checkpoints: bool = True) -> Outcome:
    """Run a prepared spec. `callback(progress)` sees iteration 0 and every
    later one (for figures, iterations count across tiles and `progress.tile`
    names the tile), as `neuralstyle.transfer`'s does: a true return ends a run
    early keeping the best image so far (a string says why, e.g. 'interrupted'),
    and ends a figure with `FigureStopped`. Ctrl-C where no signal guard holds it
    raises `neuralstyle.core.stages.RunInterrupted` with the `outcome` made so
    far; KeyboardInterrupt before the first iteration propagates.
    Every `checkpoint_every` iterations a run keeps a checkpoint beside its output
    (`neuralstyle.jobs.checkpoints`), unless `keep_checkpoints` is false (a sweep's
    cells, which resume by cell, perhaps on a machine without the output folder)."""
    spec = plan.spec
    say = on_message or (lambda line: None)
    say(f"{spec.command}: {plan.description}; {plan.memory_line()}")
    if plan.resume:
        state = plan.resume
        say(f"resuming at iteration {state.iterations} of {'at most ' if spec.iterations == 'auto' else ''}"
            f"{sum(spec.iteration_caps)}"
            + (f" (scale {state.scale + 1} of {len(spec.scales)})" if len(spec.scales) > 1 else "")
            + f"; the {spec.optimizer} optimiser starts its history afresh there")
    say(f"weights: {plan.weights.describe()}")
    phase_reached("imports")
    device, lines = device_lines(spec.device)  # Keras and its backend load here, after every check passed
    for line in lines:
        say(line)
    on_gpu = plan_for_device(plan, device)
    if on_gpu is not plan:
        plan = on_gpu
        say(f"memory on {device.describe()}: {plan.memory_line()}")
    say(precision_line(spec.precision, spec.mode, device.setting))
    if spec.optimizer == "lbfgs" or spec.is_figure:
        from ..core.lbfgsb import fallback_line

        slow = fallback_line()
        if slow:
            say(slow)
    started = time.time()
    if spec.is_figure:
        return _execute_figure(plan, device.describe(), started, callback)
    return _execute_single(plan, device.describe(), started, callback, keep_checkpoints, say)


def synthesis_call(plan: Plan, function=None):
    """The core entry point of a single run (or `function`, e.g. a clip's) and its
    keyword arguments, derived from the spec: its images by role
    (`neuralstyle.jobs.roles`), every setting the entry point takes under the spec
    field's own name (for a clip, the transfer's settings too), and the plan's
    weights, memory plan and resume state."""
    from ..core import reconstruction, stages, synthesis

    spec = plan.spec
    function = function or {"transfer": synthesis.transfer, "content": reconstruction.reconstruct_content,
                            "style": reconstruction.reconstruct_style}[spec.mode]
    images = {role: [item.image for item in items] for role, items in plan.inputs.items()}
    arguments = roles.core_arguments(spec.mode, images, spec)
    if plan.inputs.get("style_regions"):  # a colour map: one mask per style, made here
        arguments["style_masks"] = region_masks(spec, plan.inputs)
    names = [*inspect.signature(function).parameters]
    if spec.mode == settings.VIDEO:  # each frame is a transfer
        names += [*inspect.signature(synthesis.transfer).parameters]
    inputs = {role.field for role in roles.ROLES}  # given by role above (a clip's frames by its caller)
    for name in names:
        if name not in arguments and name in RunSpec.__dataclass_fields__ and name not in inputs:
            value = getattr(spec, name)
            arguments[name] = list(value) if isinstance(value, tuple) else value
    state = plan.resume
    resume = None if state is None else stages.Resume(
        scale=state.scale, scale_iterations=state.scale_iterations, iterations=state.iterations,
        evaluations=state.evaluations, x=state.x.astype(np.float64), history=state.history, seconds=state.seconds)
    arguments.update(weights=plan.weights, memory=plan.memory, **({} if resume is None else {"resume": resume}))
    return function, arguments


def stop_reason(callback: Callback | None, progress) -> str | None:
    """Why `callback` asks to stop at `progress` ('callback' for a bare True), or None."""
    if callback is None:
        return None
    reason = callback(progress)
    return (reason if isinstance(reason, str) else "callback") if reason else None


def _execute_single(plan: Plan, device: str, started: float, callback: Callback | None,
                    keep_checkpoints: bool, say: Callable[[str], None] = lambda line: None) -> Outcome:
    spec = plan.spec
    frames: list[tuple[int, bytes]] = []
    frame_pixels: list[np.ndarray] = []

    history = list(plan.resume.history) if plan.resume else []
    warnings: list[str] = []
    earlier_frames = _earlier_frames(plan)
    frame_pixels += [pixels for _, pixels in earlier_frames]
    where = checkpoints.checkpoint_path(spec.output)
    run_started = time.perf_counter() - (plan.resume.seconds if plan.resume else 0.0)

    def each_iteration(progress):
        if spec.frames is not None and progress.iteration % spec.save_every == 0:
            pixels = progress.image()
            frames.append((progress.iteration, pixels))
            if spec.gif is not None:
                frame_pixels.append(pixels)
        if spec.print_every and progress.iteration % spec.print_every == 0:
            say(loss_line(progress))
        history.append({"iteration": progress.iteration, **progress.loss.as_dict(),
                        "evaluations": progress.evaluations, "elapsed": round(progress.elapsed, 4),
                        "scale": progress.scale})
        reason = stop_reason(callback, progress)
        every = spec.checkpoint_every if keep_checkpoints else 0
        # A checkpoint every N iterations, and where the run stops early (it may be resumed from there).
        if every and progress.iteration > 0 and (progress.iteration % every == 0 or reason) and not warnings:
            try:
                checkpoints.save(where, checkpoints.State(
                    spec=spec.to_record(), inputs=_input_hashes(plan), scale=progress.scale,
                    scale_iterations=progress.scale_iteration, iterations=progress.iteration,
                    evaluations=progress.evaluations, seconds=time.perf_counter() - run_started,
                    history=history, x=np.asarray(progress.x, np.float32), size=progress.size))
            except OSError as error:  # no folder here (a remote worker), a full disk: the run itself goes on
                warnings.append(f"no checkpoint could be kept beside the output ({error.strerror or error}); "
                                f"the run went on without")
        return reason

    def outcome_of(result) -> Outcome:
        return _single_outcome(plan, result, device, started, frames, frame_pixels, earlier_frames, warnings)

    from ..core.evaluator import NonFiniteLossError
    from ..core.stages import RunInterrupted

    function, arguments = synthesis_call(plan)
    try:
        result = function(callback=each_iteration, **arguments)
    except RunInterrupted as stop:  # Ctrl-C where no signal guard holds it (a script): raised, with what was made
        stop.outcome = outcome_of(stop.result)
        raise
    except NonFiniteLossError as error:
        if error.result is None:
            raise
        result = error.result  # NaN after a good start: the best image so far is the outcome, with the error
    return outcome_of(result)


def loss_line(progress) -> str:
    """One iteration's losses as a line of text (`print_every`)."""
    loss = progress.loss
    return (f"iteration {progress.iteration}/{progress.iterations}: loss {loss.total:.6g} (content {loss.content:.4g}, "
            f"style {loss.style:.4g}, tv {loss.tv:.3g}"
            + (f", temporal {loss.temporal:.4g}" if loss.temporal else "") + f"), {progress.elapsed:.1f} s")


def _single_outcome(plan: Plan, result, device: str, started: float, frames: list, frame_pixels: list,
                    earlier_frames: list, warnings: list) -> Outcome:
    """The Outcome of a single run's `result`: its GIF, record and warnings."""
    spec = plan.spec
    gif = None
    if spec.gif is not None and frame_pixels:
        from .frames import make_gif

        gif = make_gif(frame_pixels)
    frame_paths = [frame_path(spec.frames, number) for number, _ in earlier_frames + frames]
    record = run_record(spec, plan.inputs, plan.weights, device, result, frames=frame_paths,
                        gif=spec.gif if gif is not None else None, started=started)
    if plan.resume:
        record["resumed_at"] = plan.resume.iterations
    spread = float(result.image[..., :3].std())
    if spread < 2.0:
        warnings.append(f"the result is almost uniform (pixel std {spread:.2f}); "
                        f"try a lower ⟨style_weight⟩ or another ⟨init⟩")
    return Outcome(spec, result.image, record, frames, gif, stopped=result.stopped, error=result.error,
                   warnings=warnings, resumed=plan.resume is not None, image16=result.image16)


def _input_hashes(plan: Plan) -> dict[str, list[str]]:
    return {role: [item.sha256 for item in items] for role, items in plan.inputs.items()}


def _earlier_frames(plan: Plan) -> list[tuple[int, np.ndarray]]:
    """A resumed run's frames from before its checkpoint, as the frames folder holds them."""
    spec = plan.spec
    if plan.resume is None or spec.frames is None or not spec.frames.is_dir():
        return []
    found = []
    for path in sorted(spec.frames.iterdir()):
        match = FRAME_PATTERN.match(path.name)
        if match and int(match.group(1)) <= plan.resume.iterations:
            with Image.open(path) as image:
                found.append((int(match.group(1)), np.asarray(image.convert("RGBA" if image.mode == "RGBA" else "RGB"))))
    return found


def extended_spec(data: dict, spec: RunSpec, iterations: int) -> RunSpec:
    """The spec that takes a recorded run on to `iterations` in all: from its output
    image, at its last size, for the iterations it has not run (SettingError naming
    ⟨extend_to⟩ where it cannot)."""
    if spec.mode not in settings.RUN_MODES:
        raise SettingError("extend_to", f"a {spec.command} cannot be extended; rerun it with its own settings")
    done = data.get("iterations")
    recorded = data.get("output", {}).get("path") if isinstance(data.get("output"), dict) else None
    if not isinstance(done, int) or not recorded:
        raise SettingError("extend_to", "the record does not say how far its run went, or where its image is")
    if iterations <= done:
        raise SettingError("extend_to", f"⟨name⟩ {iterations}: the run already made {done}; give more to extend it")
    image = Path(recorded)
    sha256 = data["output"].get("sha256")
    if not image.is_file() or (sha256 and hashlib.sha256(image.read_bytes()).hexdigest() != sha256):
        raise SettingError("extend_to", f"the run's image {image} is gone or changed since; it is where an "
                                        f"extension starts")
    return spec.replace(init=str(image), iterations=iterations - done, scales=1, size=spec.scales[-1])


def resumed_spec(state: checkpoints.State, checkpoint: Path | None = None, overwrite: bool = False) -> RunSpec:
    """The spec of the run a checkpoint holds, writing beside `checkpoint` (where
    it was moved, its outputs go with it), and allowed to replace its own outputs
    (the image and record written when it was interrupted) but nothing else: a
    file there that another run wrote since is refused (SettingError) unless
    `overwrite`."""
    spec = RunSpec.from_record(state.spec, record_version=2)
    if checkpoint is not None and Path(os.path.abspath(checkpoint)) != Path(
            os.path.abspath(checkpoints.checkpoint_path(spec.output))):
        here = Path(checkpoint).parent
        spec = spec.replace(output=here / spec.output.name,
                            **{name: here / getattr(spec, name).name for name in ("record", "frames", "gif")
                               if getattr(spec, name) is not None})
    if not overwrite:
        check_own_outputs(spec)
    return spec.replace(overwrite=True)


def resume_plan(state: checkpoints.State, fetch_weights: bool = True, spec: RunSpec | None = None) -> Plan:
    """The plan that continues the run whose checkpoint `state` is (see
    `neuralstyle.jobs.checkpoints.load`), from where it stood, as `spec` (default:
    `resumed_spec(state)`). Refuses (SettingError) when an input changed since."""
    spec = spec or resumed_spec(state)
    plan = prepare(spec, fetch_weights)
    for role, items in plan.inputs.items():
        recorded = state.inputs.get(role, [])
        for item, sha256 in zip(items, recorded):
            if item.sha256 != sha256:
                raise SettingError("checkpoint", f"{item.path} changed since the interrupted run; resuming would mix "
                                                 f"two runs (start it again instead)")
    if state.scale >= len(plan.sizes) or tuple(plan.sizes[state.scale]) != tuple(state.size) \
            or state.scale_iterations > spec.iteration_caps[state.scale]:
        raise SettingError("checkpoint", f"the checkpoint's scale {state.scale + 1} at {state.size[0]}x{state.size[1]} "
                                         f"px, iteration {state.scale_iterations}, is not one of its run's")
    return replace(plan, resume=state)


def _execute_figure(plan: Plan, device: str, started: float, callback: Callback | None) -> Outcome:
    from ..core import experiments

    spec = plan.spec
    content = plan.inputs["content"][0].image
    styles = [item.image for item in plan.inputs["style"]]
    iterations = spec.iterations[0]
    per_tile = max(iterations, 1)
    total = _tile_count(spec) * per_tile
    state = {"label": None, "done": -per_tile}

    def each_iteration(label, progress):
        if label != state["label"]:
            state["label"], state["done"] = label, state["done"] + per_tile
        if stop_reason(callback, replace(progress, iteration=state["done"] + progress.iteration, iterations=total,
                                         tile=label)):
            raise FigureStopped(label)

    common = dict(size=spec.size, iterations=iterations, seed=spec.seed, model=spec.model, weights=plan.weights,
                  device=spec.device, pooling=spec.pooling, frames_every=spec.save_every if spec.gif else None,
                  callback=each_iteration)
    if spec.mode == "reconstructions":
        figure = experiments.reconstructions(content, styles[0], **common)
    elif spec.mode == "tradeoff":
        figure = experiments.tradeoff(content, styles[0], content_layers=list(spec.tradeoff_layers),
                                      ratios=list(spec.tradeoff_ratios), **common)
    else:
        figure = experiments.styles(content, styles, labels=[item.path.stem for item in plan.inputs["style"]],
                                    show_input=spec.show_input, **common)
    tiles = []
    for index, tile in enumerate(figure.tiles):
        name = "_".join("".join(char if char.isalnum() else " " for char in tile.label).split())
        tiles.append((f"{index:02d}_{name}.png", encode_image(tile.image, "PNG")))
    gif = None
    if spec.gif is not None:
        from .frames import make_gif

        gif = make_gif(figure.frame_grids(), max_side=1200)
    grid = figure.grid()
    record = {**base_record(spec, plan.inputs, plan.weights, device), **figure.record(),
              "output": {"path": str(spec.output.resolve()), "size": [grid.shape[1], grid.shape[0]]},
              "wall_seconds": round(time.time() - started, 3)}
    return Outcome(spec, grid, record, gif=gif, tiles=tiles)


# --- write ---------------------------------------------------------------------------


def write(outcome: Outcome) -> list[Path]:
    """Put an outcome's files on disk (`write_files`) and return their paths; with
    `overwrite`, an earlier run's frames in the frames folder go too."""
    spec = outcome.spec
    files = outcome.files()
    write_files(files, spec.overwrite)
    if settings.ended_whole(outcome.stopped) and outcome.error is None and not spec.is_figure:
        checkpoints.remove(checkpoints.checkpoint_path(spec.output))  # complete: nothing to resume
    if spec.overwrite and spec.frames is not None and not outcome.resumed:  # an earlier run's frames go
        kept = {path.name for path, _ in files}
        for stale in spec.frames.iterdir():
            if FRAME_PATTERN.match(stale.name) and stale.name not in kept:
                stale.unlink(missing_ok=True)
    written = [spec.output, spec.record_path]
    if outcome.gif is not None and spec.gif is not None:
        written.insert(1, spec.gif)
    if outcome.tiles:
        written.insert(1, tile_folder(spec))
    return written


# --- batches -------------------------------------------------------------------------


def folder_specs(folder: Path, output_folder: Path, **spec_settings) -> list[RunSpec]:
    """A transfer of every image in `folder`: one spec per image, each painted into
    `output_folder` (made if missing) as ``<name>.png`` with its record."""
    if spec_settings.get("frames") is not None or spec_settings.get("gif") is not None:
        raise SettingError("frames", "⟨frames⟩ and ⟨gif⟩ need a single content image, not a folder")
    contents = sorted(path for path in folder.iterdir() if path.suffix.lower() in settings.IMAGE_SUFFIXES)
    if not contents:
        raise SettingError("content", f"no images ({', '.join(settings.IMAGE_SUFFIXES)}) in {folder}")
    stems: dict[str, Path] = {}
    for path in contents:
        if path.stem in stems:
            raise SettingError("content", f"{stems[path.stem].name} and {path.name} in {folder} would both be "
                                          f"painted to {path.stem}.png; rename one")
        stems[path.stem] = path
    if output_folder.exists() and not output_folder.is_dir():
        raise SettingError("output", f"with a folder of content images, ⟨name⟩ must be a folder; "
                                     f"{output_folder} is a file")
    specs = [RunSpec(mode="transfer", content=path, output=output_folder / f"{path.stem}.png", **spec_settings)
             for path in contents]
    output_folder.mkdir(parents=True, exist_ok=True)
    return specs
