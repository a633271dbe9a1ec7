"""``neuralstyle app``: a local web app for layer experiments, built with Gradio.

Upload a content and a style image (or take the demo images), tick the VGG
layers that carry content and style, set the weights, and watch the image form.
Every run writes what the CLI writes: the image, the progress GIF and the run
record (`neuralstyle.records`), with the command's arguments in the CLI's own
form, so ``neuralstyle rerun RECORD.json -o NEW.png`` repeats a run made here.

Safety: the app never opens a path a visitor types. It reads only the files
Gradio received as uploads and the bundled demo images, and writes only under
its output folder (a temporary one unless ``--output-dir`` says otherwise).
Uploads are checked before use: not an image, corrupt, empty, or above
`neuralstyle.images.MAX_INPUT_PIXELS` pixels (checked from the header, before
decoding, against decompression bombs) gives a message in the page.

One run at a time: the Run event has a concurrency limit of 1, so a second
request (another tab, another visitor) waits in Gradio's queue, and the page
says so. Gradio is an optional extra: ``pip install "neuralstyle[app]"``.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import tempfile
import threading
import time
import traceback
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # a local tool: no calls home

import gradio as gr  # noqa: E402
from PIL import Image  # noqa: E402

from . import defaults, images as image_io  # noqa: E402
from .images import ImageError, fit_size, read_image  # noqa: E402
from .layers import MODELS, conv_layers, layer_names  # noqa: E402

MAX_UPLOAD = "100mb"  # Gradio refuses bigger uploads before they reach us
MODES = {"Transfer": "transfer", "Content reconstruction": "content", "Style reconstruction": "style"}
INITS = ("content", "noise", "style")
COLOR_MODES = ("none", "luminance", "histogram")
UPLOADED = "(uploaded file)"
ALL_LAYERS = layer_names("vgg19")  # VGG16's layers are a subset of VGG19's names


def demo_images() -> dict[str, Path]:
    """The bundled demo images that exist here: scikit-image's astronaut photo
    (in its wheel) and the project's own painting (examples/painting.png, in a
    source checkout)."""
    found = {}
    try:
        import skimage.data

        astronaut = Path(skimage.data.__file__).with_name("astronaut.png")
        if astronaut.is_file():
            found["Astronaut (scikit-image)"] = astronaut
    except ImportError:
        pass
    painting = Path(__file__).resolve().parents[1] / "examples" / "painting.png"
    if painting.is_file():
        found["Painting (examples/painting.png)"] = painting
    return found


# --- uploads -------------------------------------------------------------------


def check_upload(path: str | os.PathLike, name: str | None = None) -> Image.Image:
    """Open an uploaded file as an image, or raise ImageError with a message that
    names the file as the visitor knows it (`name`), never the server's path."""
    path = Path(path)
    name = name or path.name
    limit = image_io.MAX_INPUT_PIXELS
    try:
        if path.stat().st_size == 0:
            raise ImageError(f"{name} is empty (0 bytes)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as header:  # reads the header only
                width, height = header.size
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageError(f"{name} has more than {limit:,} pixels; refusing to decode it") from None
    except Exception:
        raise ImageError(f"{name} is not an image Pillow can read") from None
    if width * height > limit:
        raise ImageError(f"{name} is {width}x{height} px = {width * height:,} pixels; the limit is {limit:,}")
    if width < 1 or height < 1:
        raise ImageError(f"{name} is empty ({width}x{height} px)")
    try:
        return read_image(path)
    except ImageError as error:
        raise ImageError(str(error).replace(str(path), name)) from None


def _safe_name(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name).strip("._") or "image"
    return stem[-60:]


# --- settings and runs -----------------------------------------------------------


@dataclass
class Session:
    """One browser session: its stop flag and its runs."""

    stop: threading.Event = field(default_factory=threading.Event)


def _style_layer_specs(checked: dict[str, bool], weights: dict[str, float], model: str) -> list[str]:
    """Ticked style layers as the CLI's ``--style-layer NAME:WEIGHT`` values."""
    names = layer_names(model)
    return [f"{name}:{float(weights.get(name) or 0.0)!r}" for name in names if checked.get(name)]


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def _short_layer(name: str) -> str:
    return name.replace("block", "b").replace("_conv", "c")


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
        "weights c/s/tv": (f"{arguments.get('content_weight', '')}/{arguments.get('style_weight', '')}/"
                           f"{settings.get('tv_weight', '')}" if mode == "transfer" else f"tv {settings['tv_weight']}"),
        "size": "x".join(map(str, settings["output_size"])),
        "iterations": record["iterations"],
        "init": settings.get("init", ""),
        "seed": settings["seed"],
        "colour": settings.get("preserve_color", ""),
        "loss": f"{record['final_loss']['total']:.4g}",
        "time": _duration(record["wall_seconds"]),
        "stopped": record["stopped"] or "",
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
            return _uploaded(upload), Path(upload).name
        if demo and demo in self.demos:
            return self.demos[demo], self.demos[demo].name
        raise gr.Error(f"Choose a {role} image: upload one, or pick a demo image.")

    def on_upload(self, upload: str | None, role: str):
        """Check an upload: a preview and its size, or a message and no file."""
        if not upload:
            return None, gr.update(), ""
        name = Path(upload).name
        try:
            image = check_upload(_uploaded(upload), name)
        except ImageError as error:
            gr.Warning(f"{role.capitalize()} image refused: {error}")
            return None, None, f"⚠️ **{role.capitalize()} image refused:** {error}"
        preview = image.copy()
        preview.thumbnail((512, 512))
        return upload, preview, f"{name}: {image.size[0]}x{image.size[1]} px"

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


def _uploaded(path: str | os.PathLike) -> Path:
    """An upload's path, checked to lie in Gradio's upload folder: the app reads
    files that came through the page, never a path a visitor names."""
    path, root = Path(path).resolve(), Path(gr.utils.get_upload_folder()).resolve()
    if not path.is_relative_to(root):
        raise gr.Error("Only images uploaded through the page can be used.")
    return path


def _copy_input(source: Path, folder: Path, role: str, name: str) -> Path:
    """Copy an input into the run's folder (the record points there, so that
    `rerun` finds the exact bytes even after Gradio clears its upload cache)."""
    target = folder / f"{role}-{_safe_name(name)}"
    shutil.copyfile(source, target)
    return target


def _image_picker(state: App, role: str, demos: list[str], default: str | None):
    """One image input (upload or demo) with its preview and size line, wired; returns (file, demo)."""
    with gr.Column(min_width=200):
        upload = gr.File(label=f"{role.capitalize()} image (upload)", file_types=["image"], type="filepath",
                         elem_id=f"{role}-file", height=120)
        demo = gr.Dropdown([UPLOADED, *demos], value=default, label="…or a demo image", elem_id=f"{role}-demo")
        preview = gr.Image(label=role.capitalize(), interactive=False, height=150, elem_id=f"{role}-preview",
                           value=str(state.demos[default]) if default else None)
        info = gr.Markdown(state.demo_info(default) if default else "", elem_id=f"{role}-info")
    upload.upload(lambda path: state.on_upload(path, role), upload, [upload, preview, info]).then(
        lambda path: gr.update(value=UPLOADED) if path else gr.update(), upload, demo)
    demo.input(state.on_demo, demo, [upload, preview, info])
    return upload, demo


def build(output_dir: str | os.PathLike) -> gr.Blocks:
    """The Gradio app; its outputs go under `output_dir`."""
    from .cli import command_arguments

    state = App(Path(output_dir))
    demos = list(state.demos)
    content_demo_default = next((name for name in demos if "Astronaut" in name), None)
    style_demo_default = next((name for name in demos if "Painting" in name), None)

    with gr.Blocks(title="neuralstyle", analytics_enabled=False, **_style_options("blocks")) as blocks:
        token = gr.State(None)
        history = gr.State([])
        gr.Markdown(
            "## neuralstyle: which layers carry content, which carry style?\n"
            "Gatys et al.'s neural style transfer on VGG. Pick two images, tick layers, press **Run** and watch "
            "the image form. Each run writes the image, a progress GIF and a run record that "
            "`neuralstyle rerun RECORD.json -o NEW.png` repeats."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=460):
                with gr.Row():
                    content_file, content_demo = _image_picker(state, "content", demos, content_demo_default)
                    style_file, style_demo = _image_picker(state, "style", demos, style_demo_default)
                mode = gr.Radio(list(MODES), value="Transfer", label="Mode", elem_id="mode")
                with gr.Row():
                    size = gr.Number(defaults.SIZE, precision=0, minimum=16, maximum=2048, label="Size (px)",
                                     elem_id="size", min_width=90)
                    iterations = gr.Number(defaults.ITERATIONS, precision=0, minimum=0, maximum=5000,
                                           label="Iterations", elem_id="iterations", min_width=90)
                    every = gr.Number(5, precision=0, minimum=1, label="Frame every", elem_id="every", min_width=90)
                    seed = gr.Number(defaults.SEED, precision=0, label="Seed", elem_id="seed", min_width=90)
            with gr.Column(scale=3, min_width=480):
                with gr.Row():
                    live = gr.Image(label="Forming", interactive=False, height=290, elem_id="live", format="png")
                    result_image = gr.Image(label="Result (best image)", interactive=False, height=290,
                                            elem_id="result", format="png")
                status = gr.Markdown("Ready.", elem_id="status")
                with gr.Row():
                    run_button = gr.Button("Run", variant="primary", elem_id="run")
                    stop_button = gr.Button("Stop (keep best so far)", variant="stop", elem_id="stop")
                image_file = gr.File(label="Image", elem_id="image-file", interactive=False)
                gif_file = gr.File(label="Progress GIF", elem_id="gif-file", interactive=False)
                record_file = gr.File(label="Run record (JSON): neuralstyle rerun RECORD.json -o NEW.png",
                                      elem_id="record-file", interactive=False)

        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                content_layer = gr.Radio(layer_names(defaults.MODEL), value=defaults.CONTENT_LAYER,
                                         label="Content layer (transfer, content reconstruction)",
                                         elem_id="content-layer")
                gr.Markdown("**Style layers** (transfer, style reconstruction): tick the layers whose Gram "
                            "matrices are matched; the number beside each is its weight.")
                layer_boxes, layer_weights, layer_columns = {}, {}, {}
                by_block: dict[int, list] = {}
                for layer in conv_layers("vgg19"):
                    by_block.setdefault(layer.block, []).append(layer)
                for block, layers in by_block.items():
                    with gr.Row():
                        for layer in layers:
                            visible = layer.name in layer_names(defaults.MODEL)
                            with gr.Column(visible=visible, min_width=150, elem_classes="layer") as cell:
                                layer_boxes[layer.name] = gr.Checkbox(
                                    value=layer.name in defaults.STYLE_LAYERS, elem_id=f"style-{layer.name}",
                                    label=layer.name, container=False)
                                layer_weights[layer.name] = gr.Number(
                                    1.0, minimum=0, show_label=False, container=False,
                                    elem_id=f"weight-{layer.name}")
                            layer_columns[layer.name] = cell
                        for _ in range(4 - len(layers)):
                            gr.Column(min_width=150, elem_classes="layer")
            with gr.Column(scale=1, min_width=260):
                model = gr.Radio(list(MODELS), value=defaults.MODEL, label="Model", elem_id="model")
                with gr.Row():
                    content_weight = gr.Number(defaults.CONTENT_WEIGHT, minimum=0, label="Content weight",
                                               elem_id="content-weight", min_width=70)
                    style_weight = gr.Number(defaults.STYLE_WEIGHT, minimum=0, label="Style weight",
                                             elem_id="style-weight", min_width=70)
                    tv_weight = gr.Number(defaults.TV_WEIGHT, minimum=0, label="TV weight", elem_id="tv-weight",
                                          min_width=70)
                init = gr.Radio(list(INITS), value=defaults.TRANSFER_INIT, elem_id="init",
                                label="Start from (reconstructions: noise)")
                preserve_color = gr.Radio(list(COLOR_MODES), value=defaults.PRESERVE_COLOR,
                                          label="Preserve colour", elem_id="preserve-color")
                pooling = gr.Radio(["max", "avg"], value=defaults.POOLING, label="Pooling", elem_id="pooling")

        gr.Markdown("### This session's runs")
        gallery = gr.Gallery(label="Runs, newest first", columns=5, height="auto", elem_id="gallery",
                             object_fit="contain", **_supported(gr.Gallery, fit_columns=False))
        runs_table = gr.Dataframe(label="Their settings", elem_id="runs", interactive=False)

        # --- events ---

        def on_model(name):
            names = layer_names(name)
            updates = [gr.update(choices=names, value=defaults.CONTENT_LAYER if defaults.CONTENT_LAYER in names
                                 else names[-1])]
            updates += [gr.update(visible=layer in names) for layer in ALL_LAYERS]
            return updates

        model.change(on_model, model, [content_layer, *(layer_columns[name] for name in ALL_LAYERS)])

        def on_mode(label):
            command = MODES[label]
            arguments = command_arguments(command, **_REQUIRED[command])
            return (gr.update(value=arguments["tv_weight"]),
                    gr.update(value=arguments["content_layer"]) if "content_layer" in arguments else gr.update(),
                    gr.update(value=arguments["init"]))

        mode.input(on_mode, mode, [tv_weight, content_layer, init])

        settings_inputs = {mode, model, pooling, init, preserve_color, size, iterations, every, seed, content_weight,
                           style_weight, tv_weight, content_layer, content_file, content_demo, style_file, style_demo,
                           token, history, *layer_boxes.values(), *layer_weights.values()}
        outputs = [live, result_image, status, image_file, gif_file, record_file, gallery, runs_table, history]

        named = dict(mode=mode, model=model, pooling=pooling, init=init, preserve_color=preserve_color, size=size,
                     iterations=iterations, every=every, seed=seed, content_weight=content_weight,
                     style_weight=style_weight, tv_weight=tv_weight, content_layer=content_layer,
                     content_file=content_file, content_demo=content_demo, style_file=style_file,
                     style_demo=style_demo, token=token, history=history, live=live, result_image=result_image,
                     status=status, image_file=image_file, gif_file=gif_file, record_file=record_file,
                     gallery=gallery, runs_table=runs_table)

        def run(values: dict):
            yield from _run(state, values, named, layer_boxes, layer_weights)

        run_button.click(state.announce, token, [token, status], queue=False).then(
            run, settings_inputs, outputs, concurrency_limit=1, concurrency_id="run", show_progress="minimal")
        stop_button.click(state.stop, token, status, queue=False)
    blocks.neuralstyle_state = state
    return blocks


CSS = """
#live img, #result img { width: 100%; height: 100%; object-fit: contain; }
.layer { gap: 2px; }
"""


def _style_options(where: str) -> dict:
    """The page's CSS and a theme without web fonts (the app works offline), given
    to gr.Blocks (Gradio 5) or to launch (Gradio 6), wherever this Gradio takes them."""
    import inspect

    target = gr.Blocks.launch if where == "launch" else gr.Blocks.__init__
    options = {"css": CSS, "theme": gr.themes.Default(font=["system-ui", "sans-serif"],
                                                       font_mono=["ui-monospace", "monospace"])}
    return {key: value for key, value in options.items() if key in inspect.signature(target).parameters}


def _supported(component, **options) -> dict:
    """The `options` that this Gradio's `component` takes (newer ones are left out on older Gradios)."""
    import inspect

    return {key: value for key, value in options.items() if key in inspect.signature(component.__init__).parameters}


_REQUIRED = {"transfer": {"content": None, "styles": [], "output": None},
             "content": {"image": None, "output": None}, "style": {"image": None, "output": None}}


def _run(state: App, values: dict, c: dict, layer_boxes: dict, layer_weights: dict):
    """The Run event: check the settings, run in a worker thread, stream its
    progress to the page, then write and offer the image, GIF and record."""
    from .cli import BadInput, command_arguments, parse_counts, parse_scales, parse_style_layers

    with state.lock:
        state.active += 1
    try:
        token, session = state.session(values[c["token"]])
        if session.stop.is_set():
            yield {c["status"]: "Cancelled before it started."}
            return
        command = MODES[values[c["mode"]]]
        model = values[c["model"]]
        checked = {name: bool(values[box]) for name, box in layer_boxes.items()}
        weights = {name: values[number] for name, number in layer_weights.items()}
        number_fields = {"size": c["size"], "iterations": c["iterations"], "seed": c["seed"],
                         "frame interval": c["every"], "content weight": c["content_weight"],
                         "style weight": c["style_weight"], "TV weight": c["tv_weight"]}
        for label, component in number_fields.items():
            if values[component] is None:
                raise gr.Error(f"Give a number for {label}.")
        size, iterations, every = int(values[c["size"]]), int(values[c["iterations"]]), int(values[c["every"]])
        if size < 16 or size > 2048:
            raise gr.Error(f"Size is {size} px; choose 16 to 2048.")
        if iterations < 0 or every < 1:
            raise gr.Error("Iterations must be ≥ 0 and the frame interval ≥ 1.")
        pick = {}
        roles = {"transfer": ("content", "style"), "content": ("content",), "style": ("style",)}[command]
        for role in roles:
            source, name = state.pick_image(values[c[f"{role}_file"]], values[c[f"{role}_demo"]], role)
            try:
                check_upload(source, name)
            except ImageError as error:
                raise gr.Error(f"{role.capitalize()} image refused: {error}") from None
            pick[role] = (source, name)

        folder, stem = state.next_run_dir(command)
        copies = {role: _copy_input(source, folder, role, name) for role, (source, name) in pick.items()}
        output, frames_dir, gif = folder / f"{stem}.png", folder / "frames", folder / f"{stem}.gif"
        common = dict(output=output, seed=int(values[c["seed"]]), size=size, model=model,
                      pooling=values[c["pooling"]], frames=frames_dir, save_every=every, gif=gif, quiet=True)
        try:
            if command == "transfer":
                specs = _style_layer_specs(checked, weights, model)
                if not specs:
                    raise gr.Error("Tick at least one style layer.")
                arguments = command_arguments(
                    "transfer", content=copies["content"], styles=[copies["style"]],
                    content_layer=values[c["content_layer"]], style_layer=specs,
                    content_weight=float(values[c["content_weight"]]), style_weight=float(values[c["style_weight"]]),
                    tv_weight=float(values[c["tv_weight"]]), init=values[c["init"]],
                    preserve_color=values[c["preserve_color"]], iterations=str(iterations), **common)
            elif command == "content":
                arguments = command_arguments("content", image=copies["content"],
                                              content_layer=values[c["content_layer"]], init="noise",
                                              iterations=iterations, tv_weight=float(values[c["tv_weight"]]), **common)
            else:
                specs = _style_layer_specs(checked, weights, model)
                if not specs:
                    raise gr.Error("Tick at least one style layer.")
                arguments = command_arguments("style", image=copies["style"], style_layer=specs, init="noise",
                                              iterations=iterations, tv_weight=float(values[c["tv_weight"]]),
                                              **common)
            # The CLI's own parsing of these arguments: what `rerun` will do with the record.
            style_layers = parse_style_layers(arguments.get("style_layer"), model) if command != "content" else None
            if command == "transfer":
                sides = parse_scales(arguments["scales"], size)
                counts = parse_counts(arguments["iterations"], "--iterations", len(sides))
        except (BadInput, ValueError) as error:
            shutil.rmtree(folder, ignore_errors=True)
            raise gr.Error(str(error)) from None

        inputs = {"transfer": {"content": [copies.get("content")], "style": [copies.get("style")], "init": []},
                  "content": {"content": [copies.get("content")], "init": []},
                  "style": {"style": [copies.get("style")], "init": []}}[command]
        images = {role: [read_image(path) for path in paths] for role, paths in inputs.items()}

        def job(weights_resolved, callback):
            from . import synthesis

            options = dict(size=size, seed=arguments["seed"], optimizer=arguments["optimizer"],
                           learning_rate=arguments["learning_rate"], tv_weight=arguments["tv_weight"], model=model,
                           weights=weights_resolved, pooling=arguments["pooling"], precision=arguments["precision"],
                           callback=callback)
            if command == "transfer":
                return synthesis.transfer(
                    images["content"][0], images["style"], content_layer=arguments["content_layer"],
                    style_layers=style_layers, content_weight=arguments["content_weight"],
                    style_weight=arguments["style_weight"], style_blend=None, style_scale=arguments["style_scale"],
                    scales=sides, preserve_color=arguments["preserve_color"], init=arguments["init"],
                    iterations=counts, **options)
            if command == "content":
                return synthesis.reconstruct_content(images["content"][0], content_layer=arguments["content_layer"],
                                                     init="noise", iterations=iterations, **options)
            return synthesis.reconstruct_style(images["style"][0], style_layers=style_layers, init="noise",
                                               iterations=iterations, **options)

        yield {c["status"]: "Loading TensorFlow and the VGG weights…",
               c["result_image"]: None, c["image_file"]: None, c["gif_file"]: None, c["record_file"]: None}
        yield from _execute(state, session, command, arguments, inputs, images, job, folder, c, values[c["history"]])
    finally:
        with state.lock:
            state.active -= 1


def _execute(state, session, command, arguments, inputs, images, job, folder, c, history):
    from .frames import make_gif, save_frame
    from .images import save_image, write_atomically
    from .records import run_record, write_record
    from .resources import check_fits_in_memory
    from .weights import WeightsError, resolve_weights

    model = arguments["model"]
    layers = ([arguments["content_layer"]] if command != "style" else []) + \
        ([spec.partition(":")[0] for spec in arguments["style_layer"] or []] if command != "content" else [])
    source = images["content" if command != "style" else "style"][0]
    width, height = fit_size(*source.size, arguments["size"])
    try:
        check_fits_in_memory(model, layers, width, height, arguments["precision"])
        weights = resolve_weights(model, arguments["weights"])
    except (MemoryError, WeightsError, ValueError) as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise gr.Error(str(error)) from None

    from .backend import describe_device

    device = describe_device()
    frames_dir: Path = arguments["frames"]
    frames_dir.mkdir(exist_ok=True)
    every = arguments["save_every"]
    updates: queue.Queue = queue.Queue()
    saved: list[Path] = []
    timing = {}

    def callback(progress):
        if progress.iteration == 1:
            timing["first"] = progress.elapsed
        if progress.iteration % every == 0 or progress.iteration == progress.iterations:
            pixels = progress.image()
            if progress.iteration % every == 0:
                saved.append(save_frame(frames_dir, progress.iteration, pixels))
            updates.put(("progress", progress, pixels))
        return session.stop.is_set()

    outcome = {}

    def work():
        try:
            outcome["result"] = job(weights, callback)
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
            if kind == "done":
                break
            loss = progress.loss
            left = ""
            if "first" in timing and progress.iteration > 1:
                per_iteration = (progress.elapsed - timing["first"]) / (progress.iteration - 1)
                left = f" · about {_duration(per_iteration * (progress.iterations - progress.iteration))} left"
            yield {c["live"]: pixels,
                   c["status"]: (f"**Iteration {progress.iteration}/{progress.iterations}** · loss {loss.total:.4g} "
                                 f"= content {loss.content:.3g} + style {loss.style:.3g} + tv {loss.tv:.2g} · "
                                 f"{progress.elapsed:.1f} s{left}")}
    finally:
        if worker.is_alive():  # the page went away: stop the run and wait for it
            session.stop.set()
            worker.join()
    if "error" in outcome:
        error = outcome["error"]
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(error, ValueError):
            raise gr.Error(str(error))
        print(outcome["trace"], flush=True)
        raise gr.Error(f"The run failed: {type(error).__name__}: {error}")
    result = outcome["result"]
    output: Path = arguments["output"]
    save_image(output, result.image)
    if saved:
        write_atomically(arguments["gif"], make_gif(saved))
    record = run_record(command, arguments, inputs, images, weights, device, result, frames=saved,
                        gif=arguments["gif"], started=started)
    record_file = write_record(output, record)
    history = [*history, {"image": str(output), "caption": caption(record), "summary": summary(record)}]
    ended = {None: "Done", "callback": "Stopped (best image so far kept)"}.get(result.stopped, f"Ended: {result.stopped}")
    if result.error:
        gr.Warning(f"The run stopped early: {result.error}")
    rows = [entry["summary"] for entry in history]
    import pandas as pd

    yield {
        c["live"]: result.image, c["result_image"]: str(output),
        c["status"]: (f"**{ended}**: {result.iterations} iterations in {_duration(time.time() - started)}, "
                      f"loss {result.loss['total']:.4g}. Files in `{folder.name}`."),
        c["image_file"]: str(output), c["gif_file"]: str(arguments["gif"]) if saved else None,
        c["record_file"]: str(record_file),
        c["gallery"]: [(entry["image"], entry["caption"]) for entry in reversed(history)],
        c["runs_table"]: pd.DataFrame(list(reversed(rows))), c["history"]: history,
    }


def launch(host: str = "127.0.0.1", port: int = 7860, output_dir: str | os.PathLike | None = None,
           on_start=print) -> None:
    """Build the app, start serving it, report its URL through `on_start`, and
    block until Ctrl-C."""
    folder = Path(output_dir) if output_dir else Path(tempfile.mkdtemp(prefix="neuralstyle-app-"))
    blocks = build(folder)
    blocks.queue(default_concurrency_limit=1)
    options = dict(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True,
                   allowed_paths=[str(folder.resolve())], max_file_size=MAX_UPLOAD, show_error=False,
                   **_style_options("launch"))
    _, url, _ = blocks.launch(**options)
    on_start(f"neuralstyle app: {url}  (outputs in {folder.resolve()}; Ctrl-C to stop)")
    try:
        blocks.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        blocks.close()
