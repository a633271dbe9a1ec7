"""A clip as a resumable job: `neuralstyle video`.

The clip is read by `neuralstyle.jobs.clips.read_clip`, checked before
TensorFlow loads; `prepare` checks the rest as `neuralstyle.jobs.pipeline.prepare` does for a still;
`execute` paints the frames (`neuralstyle.core.video.stylise_clip`), keeping
each finished frame in a work folder beside the output
(``.OUT.neuralstyle-work/``) with the clip's record, so that an interrupted
clip loses at most the frame it was on; `resume` goes on from the first
unfinished frame. At the end the video (same frame rate, the input's audio
copied) or the folder of PNGs is written, the record last, and the work
folder goes. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from ..core import settings
from ..core.images import encode_image
from ..core.interrupts import Interrupted, current_guard, phase_reached
from ..core.settings import SettingError
from . import outputs, pipeline, preload
from .clips import Clip, check_video_extra, encode_video, read_clip
from .inputs import check_fits, read_inputs, region_masks
from .records import base_record
from .spec import RunSpec

STATE = "clip.json"  # the work folder's account of the frames finished so far


# --- the work folder -------------------------------------------------------------------


def work_folder(spec: RunSpec) -> Path:
    """Where a clip keeps its finished frames and flows until it is written: beside the output."""
    return spec.output.with_name(f".{spec.output.name}.neuralstyle-work")


class FlowStore(MutableMapping):
    """Optical flows kept in a folder as float16 (a flow is known to far better
    than a pixel; float16 halves the disk). What is stored is what is read
    back, so a resumed clip sees the very flows an uninterrupted one did."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.memory: dict = {}

    def _path(self, key) -> Path:
        return self.folder / f"{key[0]:05d}_{key[1]:05d}.npy"

    def __getitem__(self, key):
        if key not in self.memory:
            try:
                self.memory[key] = np.load(self._path(key), allow_pickle=False).astype(np.float32)
            except (OSError, ValueError):
                raise KeyError(key) from None
        return self.memory[key]

    def __setitem__(self, key, flow):
        rounded = np.asarray(flow, np.float16)
        self.memory[key] = rounded.astype(np.float32)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary = self._path(key).with_suffix(f".{os.getpid()}.part")
            with open(temporary, "wb") as file:
                np.save(file, rounded)
            os.replace(temporary, self._path(key))
        except OSError:
            pass  # a cache: the flow is computed again when it is missing

    def __delitem__(self, key):
        self.memory.pop(key, None)
        self._path(key).unlink(missing_ok=True)

    def __contains__(self, key):
        return key in self.memory or self._path(key).exists()

    def __iter__(self):
        return iter(self.memory)

    def __len__(self):
        return len(self.memory)


def _frame_file(work: Path, pass_index: int, name: str) -> Path:
    return work / f"pass{pass_index}" / name


def load_state(spec: RunSpec, clip: Clip) -> dict:
    """The frames an interrupted run of `spec` on `clip` finished (its work folder's
    account, checked against the frames on disk): (pass, frame) → ``uint8`` RGB.
    SettingError where the work folder belongs to another run or another clip."""
    work = work_folder(spec)
    path = work / STATE
    if not path.is_file():
        return {"entries": [], "done": {}}
    try:
        state = json.loads(path.read_text())
        entries, recorded_spec, sha256 = list(state["frames"]), state["arguments"], state["clip"]["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SettingError("content", f"{path} is not a clip's work state ({type(error).__name__}); remove "
                                      f"{work} to start again") from None
    other = SettingError("content", f"{work} holds frames of a run with other settings; remove it, or resume that run")
    try:  # read as a record is (an older format migrated), so a work state of an earlier version still resumes
        recorded_spec = RunSpec.from_record(recorded_spec, record_version=2).to_record()
    except (SettingError, TypeError):
        raise other from None
    ours = {key: value for key, value in spec.to_record().items() if key != "overwrite"}
    if {key: value for key, value in recorded_spec.items() if key != "overwrite"} != ours:
        raise other
    if sha256 != clip.sha256:
        raise SettingError("content", f"{clip.path} changed since its frames in {work} were made; resuming would "
                                      f"mix two clips (remove {work} to start again)")
    done, kept = {}, []
    for entry in entries:
        try:
            pass_index, frame = int(entry["pass"]), int(entry["frame"])
            with Image.open(_frame_file(work, pass_index, clip.names[frame])) as image:
                pixels = np.asarray(image.convert("RGB"))
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            break  # a frame missing or damaged: the clip goes on from there
        done[(pass_index, frame)] = pixels
        kept.append(entry)
    return {"entries": kept, "done": done}


# --- prepare and execute ---------------------------------------------------------------


@dataclass
class ClipPlan:
    """A checked clip job: the still-run plan of its frames (inputs, weights,
    memory), the clip, and the frames an interrupted run finished."""

    plan: pipeline.Plan
    clip: Clip
    done: dict = field(default_factory=dict, repr=False)
    entries: list = field(default_factory=list)

    @property
    def spec(self) -> RunSpec:
        return self.plan.spec

    @property
    def total(self) -> int:
        return len(self.clip.frames) * self.spec.passes


@contextlib.contextmanager
def claim_clip(spec: RunSpec):
    """Hold the clip that writes `spec`'s output for the length of a run: a second
    run or resume of it meanwhile is refused at once (SettingError), before it
    works; the system lets go when a process dies."""
    with outputs.hold_lock(spec.output.with_name(f".{spec.output.name}.neuralstyle-clip-lock"), SettingError(
            "output", f"another neuralstyle run is painting {spec.output}; wait for it, or choose another ⟨output⟩")):
        yield


def check_unfinished(spec: RunSpec) -> None:
    """A fresh run of `spec` would throw away the finished frames of an interrupted
    one: refused (SettingError) unless ⟨overwrite⟩, naming the way to go on."""
    if not spec.overwrite and (work_folder(spec) / STATE).exists():
        raise SettingError("output", f"an interrupted run of {spec.output} left its finished frames in "
                                     f"{work_folder(spec)}; continue it with `neuralstyle resume "
                                     f"{spec.record_path}`, or pass ⟨overwrite⟩ to start again")


def prepare(spec: RunSpec, fetch_weights: bool = True, resume: bool = False, preload_backend: bool = False) -> ClipPlan:
    """Every check of a clip before TensorFlow loads (the `video` extra, the clip,
    the outputs, the other inputs, sizes, masks, memory, weights). A fresh run
    refuses an interrupted run's work folder (resume it, or ⟨overwrite⟩)."""
    check_video_extra()
    clip = read_clip(spec.content, spec.frame_range)
    if not resume:
        check_unfinished(spec)
        shutil.rmtree(work_folder(spec), ignore_errors=True)  # frames of a run that is started again
        outputs.check_outputs(spec)
    inputs = {"content": [clip.first_image()], **read_inputs(spec)}
    layer_names = list(dict.fromkeys([*spec.content_layers, *spec.style_layers]))
    main = inputs["content"][0]
    sizes = [check_fits("a frame of", main, side, spec.model, layer_names) for side in spec.scales]
    style_passes = [(list(spec.style_layers), *check_fits("style image", style, max(1, round(
        side * scale)), spec.model, list(spec.style_layers))) for side in spec.scales
        for style, scale in zip(inputs["style"], spec.style_scales)]
    regions = region_masks(spec, inputs, sizes[0])
    pixels = sum(item.image.width * item.image.height for items in inputs.values() for item in items)
    passes = pipeline.PlannedPasses(tuple(layer_names), tuple(sizes), tuple(style_passes), pixels)
    memory = pipeline.plan_run_memory(spec, passes, spec.max_memory or pipeline.default_budget())
    if preload_backend:
        preload.start()
    phase_reached("weights")
    from ..core.weights import needs_fetch, resolve_weights

    weights = None if not fetch_weights and needs_fetch(spec.model, spec.weights) else \
        resolve_weights(spec.model, spec.weights, download=fetch_weights)
    width, height = sizes[-1]
    styles = ", ".join(item.path.name for item in inputs["style"])
    where = "" if regions is None else f", each style in its own region ({spec.guides} guides)"
    description = (f"{clip.path.name} ({len(clip.frames)} frames of {clip.total}, {clip.fps:g} fps) in the style of "
                   f"{styles}{where} → {spec.output} ({width}x{height} px, {'+'.join(map(str, spec.iteration_caps))} "
                   f"{spec.optimizer} iterations a frame, temporal weight {spec.temporal_weight:g}, long-term "
                   f"{','.join(map(str, spec.long_term))}, {spec.passes} pass{'es' if spec.passes > 1 else ''})")
    plan = pipeline.Plan(spec, inputs, weights, memory.need, description, memory, sizes, passes=passes)
    state = load_state(spec, clip) if resume else {"entries": [], "done": {}}
    return ClipPlan(plan, clip, state["done"], state["entries"])


def _write_state(work: Path, spec: RunSpec, clip: Clip, entries: list) -> None:
    data = json.dumps({"arguments": spec.to_record(), "clip": clip.record(), "frames": entries}).encode()
    outputs.write_files([(work / STATE, data)], overwrite=True)


@dataclass
class ClipOutcome:
    """How a clip run ended: the frames finished (`entries`, one per frame and
    pass), the record, and why it stopped early (None: every frame)."""

    spec: RunSpec
    record: dict = field(repr=False)
    frames_done: int
    total: int
    stopped: str | None = None
    error: str | None = None
    written: list[Path] = field(default_factory=list)


def execute(clip_plan: ClipPlan, callback: Callable | None = None,
            on_message: Callable[[str], None] | None = None, ray: str | None = None,
            workers: int | None = None, cpus_per_shot: int = 1) -> ClipOutcome:
    """Paint the clip's frames that are not done, keeping each in the work folder
    as it finishes; `callback(step, progress)` sees every iteration (a
    `neuralstyle.core.video.FrameStep` and the frame's Progress), and a true
    return ends the clip at the frame it is on (whose best image so far is not
    kept). With `ray` (an address, as `neuralstyle.jobs.cluster.start_ray` takes it)
    the clip's shots are painted as Ray tasks, `cpus_per_shot` CPUs each: frames
    within a shot depend on each other, shots do not; a shot comes back whole
    (no per-iteration callback; a signal cancels the shots not back yet), and a
    resumed shot that was begun is painted again. Writes the video or folder at
    the end (`finish`)."""
    plan, clip, spec = clip_plan.plan, clip_plan.clip, clip_plan.spec
    say = on_message or (lambda line: None)
    say(f"video: {plan.description}; {plan.memory_line()}")
    if clip_plan.done:
        say(f"resuming: {len(clip_plan.done)} of {clip_plan.total} frames were finished; going on from there")
    say(f"weights: {plan.weights.describe()}")
    phase_reached("imports")
    device, lines = pipeline.device_lines(spec.device)
    for line in lines:
        say(line)
    plan = pipeline.plan_for_device(plan, device)
    say(pipeline.precision_line(spec.precision, "transfer", device.setting))
    from ..core import video

    work = work_folder(spec)
    work.mkdir(parents=True, exist_ok=True)
    entries = list(clip_plan.entries)
    started = time.time()
    outcome = {"stopped": None, "error": None}

    def on_frame(step, result):
        if outcome["stopped"]:
            return  # a frame cut short is not kept: a resumed clip runs it whole
        data = encode_image(result.image[..., :3], "PNG")
        outputs.write_files([(_frame_file(work, step.pass_index, clip.names[step.frame]), data)], overwrite=True)
        entries.append({"pass": step.pass_index, "frame": step.frame, "name": clip.names[step.frame],
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "iterations": result.iterations, "evaluations": result.evaluations,
                        "seconds": round(result.seconds, 3), "loss": result.loss, "stopped": result.stopped,
                        **{name: result.settings[name] for name in ("pair_distance", "content_weights")
                           if name in result.settings}})
        _write_state(work, spec, clip, entries)

    def each_iteration(step, progress):
        if spec.print_every and progress.iteration % spec.print_every == 0:
            say(f"frame {step.frame + 1}/{step.frames}, {pipeline.loss_line(progress)}")
        reason = None if callback is None else pipeline.stop_reason(lambda item: callback(step, item), progress)
        if reason:
            outcome["stopped"] = reason
        return reason

    function, arguments = pipeline.synthesis_call(plan, video.stylise_clip)
    arguments.update(frames=clip.frames, done=clip_plan.done, flow_store=FlowStore(work / "flows"),
                     on_frame=on_frame, callback=each_iteration)
    from ..core.evaluator import NonFiniteLossError

    try:
        if ray is None:
            frames = function(**arguments)
        else:
            frames = _shots_on_ray(clip_plan, arguments, ray, workers, cpus_per_shot, on_frame, outcome, say)
    except NonFiniteLossError as error:  # the frames before are kept; the record says what went wrong
        frames, outcome["stopped"], outcome["error"] = [], "error", str(error)
    except (Interrupted, KeyboardInterrupt):  # before a frame's first iteration: the finished frames are kept
        _write_record(spec, {**base_record(spec, plan.inputs, plan.weights, device.describe()), "clip": clip.record(),
                             "frames": entries, "stopped": "interrupted", "interrupted": True})
        raise
    record = {**base_record(spec, plan.inputs, plan.weights, device.describe()),
              "clip": clip.record(), "frames": entries,
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
              "wall_seconds": round(time.time() - started, 3), "stopped": outcome["stopped"],
              "error": outcome["error"]}
    result = ClipOutcome(spec, record, len(entries), clip_plan.total, outcome["stopped"], outcome["error"])
    if outcome["stopped"] is None:
        result.written = finish(spec, clip, frames, record)
    else:
        record["interrupted"] = outcome["stopped"] == "interrupted"
        _write_record(spec, record)
        result.written = [spec.record_path]
    return result


def paint_shot(frames: list, styles: list, arguments: dict, cpus: int) -> list[tuple]:
    """One shot of a clip inside a Ray worker: `neuralstyle.core.video.stylise_clip` on
    its frames, TensorFlow with `cpus` threads, the weights found (or fetched) where
    the worker is. Returns each finished frame as (FrameStep, Result)."""
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(cpus))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", str(cpus))
    from ..core.video import stylise_clip
    from ..core.weights import resolve_weights

    arguments = {**arguments, "weights": resolve_weights(arguments["model"], arguments["weights"], download=True)}
    finished: list[tuple] = []
    stylise_clip(frames, styles, on_frame=lambda step, result: finished.append((step, replace(result, frames=[]))),
                 **arguments)
    return finished


def _shots_on_ray(clip_plan: ClipPlan, arguments: dict, address: str, workers, cpus: int, on_frame, outcome: dict,
                  say) -> list:
    """The clip's unfinished shots as Ray tasks; each shot's frames are kept as it comes
    back. A signal (the front end's guard) cancels the shots not back yet."""
    from ..core.video import FrameStep, shot_ranges
    from . import cluster

    spec, clip = clip_plan.spec, clip_plan.clip
    shots = shot_ranges(clip.frames, spec.size, arguments["flow_store"])
    ray = cluster.start_ray(address, workers)
    try:
        task = ray.remote(paint_shot).options(num_cpus=cpus, max_retries=cluster.RETRIES, retry_exceptions=False)
        shared = {key: value for key, value in arguments.items()
                  if key not in ("frames", "done", "flow_store", "on_frame", "callback", "memory")}
        shared["weights"] = spec.weights  # found again where each task runs
        styles, pending = shared.pop("style"), {}
        shared["balance_content"] = clip.frames[0]  # every shot takes the clip's first frame's balance
        for shot in shots:
            if all((pass_index, frame) in clip_plan.done for pass_index in range(spec.passes) for frame in shot):
                continue
            pending[task.remote([clip.frames[frame] for frame in shot], styles, shared, cpus)] = shot
        say(f"{len(shots)} shot(s); {len(pending)} to paint as Ray tasks, {cpus} CPU(s) each")
        guard = current_guard()
        while pending:
            if guard is not None and guard.received is not None:
                for reference in pending:
                    ray.cancel(reference, force=True)
                outcome["stopped"] = "interrupted"
                return []
            finished, _ = ray.wait(list(pending), num_returns=1, timeout=0.25)
            for reference in finished:
                shot = pending.pop(reference)
                for step, result in ray.get(reference):
                    frame = shot[step.frame]
                    on_frame(FrameStep(step.pass_index, frame, frame, len(clip.frames), spec.passes), result)
                say(f"shot of frames {shot.start + 1}–{shot.stop} painted")
    finally:
        ray.shutdown()
    work = work_folder(spec)
    return [np.asarray(Image.open(_frame_file(work, spec.passes - 1, name)).convert("RGB")) for name in clip.names]


def _write_record(spec: RunSpec, record: dict) -> None:
    """An unfinished clip's record, for `resume` to find (the frames are in the work folder)."""
    outputs.write_files([(spec.record_path, json.dumps(record, indent=1).encode())], overwrite=True)


def finish(spec: RunSpec, clip: Clip, frames: list[np.ndarray], record: dict) -> list[Path]:
    """Write the painted clip (a video at the clip's frame rate with its audio, or
    one PNG per frame in a folder), then the record, then remove the work folder."""
    record["output"] = {"path": str(spec.output.resolve()), "size": [frames[0].shape[1], frames[0].shape[0]],
                        "frames": len(frames)}
    phase_reached("writing")
    if spec.writes_folder:
        spec.output.mkdir(parents=True, exist_ok=True)
        files = [(spec.output / name, encode_image(frame, "PNG")) for name, frame in zip(clip.names, frames)]
    else:
        data = encode_video(frames, clip.fps, spec.output.suffix.lower(), clip.path if clip.has_audio else None,
                            clip.start / clip.fps)
        record["output"]["sha256"] = hashlib.sha256(data).hexdigest()
        files = [(spec.output, data)]
    files.append((spec.record_path, json.dumps(record, indent=1).encode()))
    outputs.write_files(files, overwrite=True)
    shutil.rmtree(work_folder(spec), ignore_errors=True)
    return [spec.output, spec.record_path]


def find_clip_run(path: Path) -> RunSpec | None:
    """The clip run that `path` names for `resume`: its record (OUT.json), its output
    (a video or a folder) or its work folder; the work folder's own account
    serves where no record was written (a killed run). None where `path` names
    no clip (a still's checkpoint or record)."""
    from .records import read_record

    path = Path(path)
    if path.name.endswith(".neuralstyle-work"):
        works = [path]
    elif path.suffix.lower() == ".json":
        if path.is_file():
            _, spec = read_record(path)
            return spec if spec.mode == settings.VIDEO else None
        works = sorted(path.parent.glob(f".{glob_escape(path.stem)}.*.neuralstyle-work"))
        if path.name == "record.json":
            works.append(path.parent.with_name(f".{path.parent.name}.neuralstyle-work"))
    elif path.suffix.lower() in settings.VIDEO_SUFFIXES or path.is_dir() or not path.suffix:
        works = [path.with_name(f".{path.name}.neuralstyle-work")]
    else:
        return None
    for work in works:
        if (work / STATE).is_file():
            try:
                return RunSpec.from_record(json.loads((work / STATE).read_text())["arguments"], record_version=2)
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise SettingError("checkpoint", f"{work / STATE} is not a clip's work state "
                                                 f"({type(error).__name__})") from None
    if path.suffix.lower() in settings.VIDEO_SUFFIXES or path.is_dir():
        raise SettingError("checkpoint", f"no interrupted clip at {path}: no record, and no finished frames beside it")
    return None


def glob_escape(text: str) -> str:
    """`text` with glob's special characters taken literally."""
    return "".join(f"[{char}]" if char in "*?[" else char for char in text)


def resume_spec(spec: RunSpec) -> RunSpec:
    """A recorded clip's spec, allowed to replace its own outputs."""
    if not work_folder(spec).is_dir():
        raise SettingError("checkpoint", f"{spec.output}'s run left no unfinished frames ({work_folder(spec)} is "
                                         f"gone: the clip was finished, or started again)")
    return replace(spec, overwrite=True)
