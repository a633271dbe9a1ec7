"""The web app's runs: visitors' sessions and stop flags, their uploads (checked
before use, read only from Gradio's upload folder), and the Run event, which
turns the widgets' values into a `RunSpec`, runs it through the pipeline in a
worker thread and streams its progress to the page. The page itself is
`neuralstyle.web.app`."""

from __future__ import annotations

import math
import os
import queue
import re
import shutil
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

from ..core.guides import area, checked_masks, mask_array, resize_mask
from ..core.images import ImageError, read_image
from ..core.layers import layer_names
from ..core.settings import SettingError, ended_whole
from ..jobs import roles
from ..jobs.records import duration
from ..jobs.spec import RunSpec, applies_to

MODES = {"Transfer": "transfer", "Content reconstruction": "content", "Style reconstruction": "style"}
LABELS = {"save_every": "frame interval", "tv_weight": "TV weight"}  # widget names in messages, where not the field's
TINT, TINT_OPACITY = (30, 144, 255), 0.5  # how a mask's region shows over the photo (blue: rare in photos)


def offered_roles() -> tuple[roles.Role, ...]:
    """The input roles the page offers (`roles.Role.in_app`), in the role table's order."""
    return tuple(role for role in roles.ROLES if role.in_app)


def is_optional(role: roles.Role) -> bool:
    """Whether no mode needs a file of `role` (a mask): the page offers an optional
    upload for it, without demo images, rather than a picker that must be set."""
    return not any(count in (roles.ONE, roles.ONE_OR_MORE) for count in role.counts.values())


def field_label(name: str) -> str:
    """How the page names a RunSpec field in a message: its widget's words, an
    optional upload's role label ("style mask"), else the field's name in words."""
    optional = {role.field: role.label for role in offered_roles() if is_optional(role)}
    return LABELS.get(name) or optional.get(name) or name.replace("_", " ")


def demo_images() -> dict[str, Path]:
    """The demo images that ship with the package (neuralstyle/data, SOURCES.md
    there): NASA's astronaut photo and the project's own painting."""
    from ..core.images import DEMO_PAINTING, DEMO_PHOTO

    found = {"Astronaut (NASA)": DEMO_PHOTO, "Painting (the project's own)": DEMO_PAINTING}
    return {label: path for label, path in found.items() if path.is_file()}


# --- uploads -------------------------------------------------------------------


def check_upload(path: str | os.PathLike, name: str | None = None) -> Image.Image:
    """Open an uploaded file as an image (the pixel limit checked from its header,
    before decoding), or raise ImageError with a message that names the file as
    the visitor knows it (`name`), never the server's path."""
    return read_image(path, name or Path(path).name)


def tinted(base: Image.Image, mask: np.ndarray) -> Image.Image:
    """`base` with `mask` (float 0–1, any size) laid over it in the tint colour:
    white shows the tint most, black leaves the picture as it is."""
    rgb = np.asarray(base.convert("RGB"), np.float32)
    weight = resize_mask(mask, base.width, base.height)[..., None] * TINT_OPACITY
    return Image.fromarray(np.rint(rgb * (1.0 - weight) + np.asarray(TINT, np.float32) * weight).astype(np.uint8))


def _safe_name(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name).strip("._") or "image"
    return stem[-60:]


# --- settings and runs -----------------------------------------------------------


@dataclass
class Session:
    """One browser session: its stop flag and its runs."""

    stop: threading.Event = field(default_factory=threading.Event)


def _short_layer(name: str) -> str:
    return name.replace("block", "b").replace("_conv", "c")


def _balanced(settings: dict) -> str:
    """' (raw: 3.1)': the content weight a run of balance 'raw' or 'pair' used at its size, where it differs from the
    one given."""
    used = (settings.get("content_weights") or [settings.get("balanced_content_weight")])[-1]  # the latter: older runs
    given = settings.get("content_weight")
    return "" if used is None or used == given else f" ({settings.get('balance', 'pair')}: {used:.3g})"


def summary(record: dict) -> dict:
    """The settings of a run, one line each, for the gallery and the runs table."""
    settings, arguments = record["settings"], record["arguments"]
    mode = settings["mode"]
    style = settings.get("style_layers") or {}
    return {
        "run": Path(record["output"]["path"]).stem,
        "mode": mode,
        "model": settings["model"],
        "content layer": settings.get("content_layer", "") if mode != "style" else "",
        "style layers": " ".join(f"{_short_layer(name)}:{weight:g}" for name, weight in style.items()),
        "weights c/s/tv": (f"{arguments.get('content_weight', '')}{_balanced(settings)}/{arguments.get('style_weight', '')}/"
                           f"{settings.get('tv_weight', '')}" if mode == "transfer" else f"tv {settings['tv_weight']}"),
        "size": "x".join(map(str, settings["output_size"])),
        "iterations": record["iterations"],
        "init": settings.get("init", ""),
        "seed": settings["seed"],
        "colour": settings.get("preserve_color", ""),
        "loss": f"{record['final_loss']['total']:.4g}",
        "time": duration(record["wall_seconds"]),
        "stopped": "" if ended_whole(record["stopped"]) else record["stopped"],
    }


def caption(record: dict) -> str:
    line = summary(record)
    parts = [line["mode"]]
    if line["content layer"]:
        parts.append(f"content {_short_layer(line['content layer'])}")
    if line["style layers"]:
        parts.append(f"style {line['style layers']}")
    parts += [line["size"], f"{line['iterations']} it", f"loss {line['loss']}"]
    if line["stopped"]:
        parts.append("stopped")
    return " · ".join(parts)


class App:
    """The app's state: its output folder, the sessions' stop flags, and the
    count of runs in progress (to say "waiting" to a second request)."""

    def __init__(self, output_dir: Path):
        self.output_dir = Path(output_dir)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.sessions: dict[str, Session] = {}
        self.active = 0
        self.lock = threading.Lock()
        self.counter = 0
        self.demos = demo_images()

    # --- input images ---

    def pick_image(self, upload: str | None, demo: str | None, role: str) -> tuple[Path, str]:
        """The image for `role`: the upload if any, else the chosen demo image."""
        if upload:
            return uploaded_path(upload), Path(upload).name
        if demo and demo in self.demos:
            return self.demos[demo], self.demos[demo].name
        raise gr.Error(f"Choose a {role} image: upload one, or pick a demo image.")

    def on_upload(self, upload: str | None, role: str):
        """Check an upload: a preview and its size, or a message and no file."""
        if not upload:
            return None, gr.update(), ""
        name = Path(upload).name
        try:
            image = check_upload(uploaded_path(upload), name)
        except ImageError as error:
            gr.Warning(f"{role.capitalize()} image refused: {error}")
            return None, None, f"⚠️ **{role.capitalize()} image refused:** {error}"
        preview = image.copy()
        preview.thumbnail((512, 512))
        return upload, preview, f"{name}: {image.size[0]}x{image.size[1]} px"

    def base_image(self, upload: str | None, demo: str | None) -> Image.Image | None:
        """The image the content picker holds now (its upload, else its demo image), or None."""
        try:
            source, name = self.pick_image(upload, demo, "content")
            return check_upload(source, name)
        except (ImageError, gr.Error):
            return None

    def on_mask(self, upload: str | None, base_upload: str | None, base_demo: str | None, role: roles.Role):
        """An optional mask's upload, checked: (the file or None, a preview of its
        region tinted over the content image, a line saying what it covers or why a
        run would refuse it)."""
        if not upload:
            return None, None, ""
        name = Path(upload).name
        title = role.label.capitalize()
        try:
            image = check_upload(uploaded_path(upload), name)
            mask = mask_array(image)
        except (ImageError, ValueError) as error:
            gr.Warning(f"{title} refused: {error}")
            return None, None, f"⚠️ **{title} refused:** {error}"
        base = self.base_image(base_upload, base_demo)
        try:
            checked_masks(role.field, [image], [(base or image).size], required=True)
        except SettingError as error:  # shown, and refused for good by the pipeline at Run
            problem = f"⚠️ **A run would refuse it:** {error.render(field_label)}"
        else:
            problem = ""
        picture = (base or Image.new("RGB", image.size, (128, 128, 128))).copy()
        picture.thumbnail((512, 512))
        line = (f"{name}: {image.size[0]}x{image.size[1]} px, covering {area(mask):.0%} of the "
                f"{'photo' if base is not None else 'picture'} (tinted)")
        return upload, tinted(picture, mask), f"{problem}\n\n{line}" if problem else line

    def on_demo(self, demo: str | None):
        if demo in self.demos:
            with Image.open(self.demos[demo]) as image:
                image.load()
                return None, image.copy(), self.demo_info(demo)
        return gr.update(), gr.update(), gr.update()

    def demo_info(self, demo: str) -> str:
        """The size line under a demo image's preview."""
        with Image.open(self.demos[demo]) as image:
            return f"{self.demos[demo].name}: {image.size[0]}x{image.size[1]} px"

    # --- running ---

    def session(self, token: str | None) -> tuple[str, Session]:
        token = token or uuid.uuid4().hex
        with self.lock:
            return token, self.sessions.setdefault(token, Session())

    def announce(self, token: str | None):
        """Runs at once on Run, before the queued run: a fresh stop flag, and a
        line saying whether this run must wait for another."""
        token, session = self.session(token)
        session.stop = threading.Event()
        with self.lock:
            busy = self.active > 0
        message = ("⏳ **Waiting:** another run is in progress; this one starts when it ends (one run at a time)."
                   if busy else "Starting…")
        return token, message

    def stop(self, token: str | None):
        if token and token in self.sessions:
            self.sessions[token].stop.set()
            return "⏹ Stopping: the best image so far will be kept…"
        return gr.update()

    def next_run_dir(self, mode: str) -> tuple[Path, str]:
        with self.lock:
            self.counter += 1
            stem = f"{mode}-{time.strftime('%Y%m%d-%H%M%S')}-{self.counter}"
        folder = self.output_dir / stem
        folder.mkdir(parents=True, exist_ok=False)
        return folder, stem


def uploaded_path(path: str | os.PathLike) -> Path:
    """An upload's path, checked to lie in Gradio's upload folder: the app reads
    files that came through the page, never a path a visitor names."""
    path, root = Path(path).resolve(), Path(gr.utils.get_upload_folder()).resolve()
    if not path.is_relative_to(root):
        raise gr.Error("Only images uploaded through the page can be used.")
    return path


def copy_input(source: Path, folder: Path, role: str, name: str) -> Path:
    """Copy an input into the run's folder (the record points there, so that
    `rerun` finds the exact bytes even after Gradio clears its upload cache)."""
    target = folder / f"{role}-{_safe_name(name)}"
    shutil.copyfile(source, target)
    return target


def run_event(state: App, values: dict, widgets: dict, c: dict, layer_boxes: dict, layer_weights: dict):
    """The Run event: widgets → RunSpec, checked and prepared by the pipeline; run
    in a worker thread, its progress streamed to the page; then write and offer
    the image, GIF and record."""
    from ..jobs import pipeline

    with state.lock:
        state.active += 1
    try:
        token, session = state.session(values[c["token"]])
        if session.stop.is_set():
            yield {c["status"]: "Cancelled before it started."}
            return
        mode = MODES[values[widgets["mode"]]]
        for name, component in widgets.items():
            if values[component] is None:
                raise gr.Error(f"Give a value for {LABELS.get(name, name)}.")
        pick = {}
        for role in (role for role in roles.used_by(mode) if role.in_app):
            upload = values[c[f"{role.name}_file"]]
            if is_optional(role):  # a mask: an upload, or none
                if not upload:
                    continue
                source, name = uploaded_path(upload), Path(upload).name
            else:
                source, name = state.pick_image(upload, values[c[f"{role.name}_demo"]], role.name)
            try:
                check_upload(source, name)
            except ImageError as error:
                raise gr.Error(f"{role.label.capitalize()} refused: {error}") from None
            pick[role.name] = (source, name)
        folder, stem = state.next_run_dir(mode)
        copies = {role: copy_input(source, folder, role, name) for role, (source, name) in pick.items()}
        chosen = {name: values[component] for name, component in widgets.items() if applies_to(name, mode)}
        chosen["mode"] = mode  # the radio shows the modes' names in words
        for name in ("size", "iterations", "save_every", "seed"):
            if name in chosen:
                chosen[name] = int(chosen[name])
        if applies_to("style_layers", mode):
            chosen["style_layers"] = {name: float(values[layer_weights[name]] or 0.0)
                                      for name in layer_names(chosen["model"]) if values[layer_boxes[name]]}
            if not chosen["style_layers"]:
                shutil.rmtree(folder, ignore_errors=True)
                raise gr.Error("Tick at least one style layer.")
        try:
            spec = RunSpec(**chosen, **roles.spec_fields({role: [path] for role, path in copies.items()}),
                           output=folder / f"{stem}.png", frames=folder / "frames", gif=folder / f"{stem}.gif")
            plan = pipeline.prepare(spec)
        except SettingError as error:
            shutil.rmtree(folder, ignore_errors=True)
            raise gr.Error(error.render(field_label)) from None
        except (ValueError, RuntimeError) as error:  # ImageError, WeightsError
            shutil.rmtree(folder, ignore_errors=True)
            raise gr.Error(str(error)) from None
        yield {c["status"]: "Loading TensorFlow and the VGG weights…",
               c["result_image"]: None, c["image_file"]: None, c["gif_file"]: None, c["record_file"]: None}
        yield from _execute(session, plan, folder, c, values[c["history"]])
    finally:
        with state.lock:
            state.active -= 1


def resume_event(state: App, values: dict, c: dict):
    """The Resume event: the session's most recent run that stopped early goes on
    from its checkpoint to the iterations it asked for, in its own folder."""
    from ..jobs import checkpoints, pipeline

    with state.lock:
        state.active += 1
    try:
        _, session = state.session(values[c["token"]])
        history = list(values[c["history"]] or [])
        stopped = [entry for entry in history if checkpoints.checkpoint_path(Path(entry["image"])).exists()]
        if not stopped:
            raise gr.Error("No stopped run of this session to resume: a run stopped with Stop can be resumed.")
        entry = stopped[-1]
        try:
            plan = pipeline.resume_plan(checkpoints.load(checkpoints.checkpoint_path(Path(entry["image"]))))
        except SettingError as error:
            raise gr.Error(error.render(field_label)) from None
        yield {c["status"]: f"Resuming {Path(entry['image']).name} at iteration {plan.resume.iterations}…"}
        yield from _execute(session, plan, Path(entry["image"]).parent, c,
                            [item for item in history if item is not entry], keep_folder=True)
    finally:
        with state.lock:
            state.active -= 1


PAGE_INTERVAL = 0.25  # s: the least time between two progress updates sent to the page


def _execute(session: Session, plan, folder: Path, c: dict, history: list, keep_folder: bool = False):
    from ..jobs import pipeline

    spec = plan.spec
    updates: queue.Queue = queue.Queue()
    timing = {}

    points: list[dict] = []  # the loss curve: one row per part and iteration
    curve_drawn, shown_at = [0.0], [0.0]

    def show(progress):
        if progress.iteration == 1:
            timing["first"] = (progress.elapsed, plan.share_done(progress))
        for part in ("content", "style", "tv"):
            # From iteration 1 on: a transfer starts at content loss 0, which a log scale cannot show.
            value = getattr(progress.loss, part)
            if progress.iteration >= 1 and value > 0:
                points.append({"iteration": progress.iteration, "log10 loss": math.log10(value), "part": part})
        if progress.iteration % spec.save_every == 0 or progress.iteration == progress.iterations:
            updates.put(("progress", progress, progress.image()))

    outcome = {}

    def work():
        try:
            outcome["result"] = pipeline.execute(plan, lambda progress: show(progress) or session.stop.is_set())
        except BaseException as error:  # reported in the page, never raised in the worker thread
            outcome["error"] = error
            outcome["trace"] = traceback.format_exc()
        finally:
            updates.put(("done", None, None))

    started = time.time()
    worker = threading.Thread(target=work, name="neuralstyle-run", daemon=True)
    worker.start()
    try:
        while True:
            kind, progress, pixels = updates.get()
            # At most one picture per PAGE_INTERVAL, the newest: a browser that draws slower than the run
            # would otherwise fall ever further behind it, and a Stop pressed at what it shows come too late.
            pause = shown_at[0] + PAGE_INTERVAL - time.monotonic()
            if kind != "done" and pause > 0:
                time.sleep(pause)
            while kind != "done" and not updates.empty():
                kind, progress, pixels = updates.get_nowait()
            if kind == "done":
                break
            shown_at[0] = time.monotonic()
            loss = progress.loss
            left = ""
            if "first" in timing and progress.iteration > 1:
                # Per share of the run rather than per iteration: a coarse-to-fine run's larger sizes cost more.
                first_seconds, first_share = timing["first"]
                share = plan.share_done(progress)
                per_share = (progress.elapsed - first_seconds) / max(share - first_share, 1e-12)
                left = f" · about {duration(per_share * (1 - share))} left"
            update = {c["live"]: pixels}
            if points and time.monotonic() - curve_drawn[0] >= 1.0:  # redrawn at every iteration, it swamps the page
                import pandas as pd

                update[c["curve"]] = pd.DataFrame(list(points))
                curve_drawn[0] = time.monotonic()
            yield {**update,
                   c["status"]: (f"**Iteration {progress.iteration}/{progress.iterations}** · loss {loss.total:.4g} "
                                 f"= content {loss.content:.3g} + style {loss.style:.3g} + tv {loss.tv:.2g} · "
                                 f"{progress.elapsed:.1f} s{left}")}
    finally:
        if worker.is_alive():  # the page went away: stop the run and wait for it
            session.stop.set()
            worker.join()
    if "error" in outcome:
        error = outcome["error"]
        if not keep_folder:  # a resumed run's folder holds its earlier part
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(error, (ValueError, ArithmeticError)):  # a bad setting, or a loss that is not finite
            raise gr.Error(str(error))
        print(outcome["trace"], flush=True)
        raise gr.Error(f"The run failed: {type(error).__name__}: {error}")
    result = outcome["result"]
    pipeline.write(result)
    record = result.record
    history = [*history, {"image": str(spec.output), "caption": caption(record), "summary": summary(record)}]
    ended = ("Done" if ended_whole(result.stopped) else
             {"callback": "Stopped (best image so far kept)"}.get(result.stopped, f"Ended: {result.stopped}"))
    if result.error:
        gr.Warning(f"The run stopped early: {result.error}")
    rows = [entry["summary"] for entry in history]
    import pandas as pd

    yield {
        c["live"]: result.image, c["result_image"]: str(spec.output), c["curve"]: pd.DataFrame(list(points)),
        c["status"]: (f"**{ended}**: {record['iterations']} iterations in {duration(time.time() - started)}, "
                      f"loss {record['final_loss']['total']:.4g}. Files in `{folder.name}`."),
        c["image_file"]: str(spec.output), c["gif_file"]: str(spec.gif) if result.gif is not None else None,
        c["record_file"]: str(spec.record_path),
        c["gallery"]: [(entry["image"], entry["caption"]) for entry in reversed(history)],
        c["runs_table"]: pd.DataFrame(list(reversed(rows))), c["history"]: history,
    }
