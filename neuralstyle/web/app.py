"""``neuralstyle app``: a local web app for layer experiments, built with Gradio.

Upload a content and a style image (or take the demo images), optionally a
style mask (the style paints its white part only; a preview tints it over the
photo), tick the VGG layers that carry content and style, set the weights, and
watch the image form.
The widgets map to `RunSpec` fields and each run goes through the CLI's own
pipeline (`neuralstyle.web.runs`), so it writes what the CLI writes: the image,
the progress GIF and the run record, and ``neuralstyle rerun RECORD.json -o
NEW.png`` repeats a run made here.

Safety: the app never opens a path a visitor types. It reads only the files
Gradio received as uploads and the bundled demo images, and writes only under
its output folder (a temporary one unless ``--output-dir`` says otherwise).
Uploads are checked before use: not an image, corrupt, empty, or above
`neuralstyle.core.images.MAX_INPUT_PIXELS` pixels (checked from the header, before
decoding, against decompression bombs) gives a message in the page.

One run at a time: the Run event has a concurrency limit of 1, so a second
request (another tab, another visitor) waits in Gradio's queue, and the page
says so. Gradio is an optional extra: ``pip install "neuralstyle[app]"``.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # a local tool: no calls home

import gradio as gr  # noqa: E402

from ..core import settings  # noqa: E402
from ..core.interrupts import current_guard  # noqa: E402
from ..core.layers import MODELS, conv_layers, layer_names  # noqa: E402
from ..jobs import roles  # noqa: E402
from ..jobs.spec import applies_to, default_of, help_for  # noqa: E402
from .runs import MODES, App, is_optional, offered_roles, resume_event, run_event  # noqa: E402

APP_SAVE_EVERY = 5  # the page shows (and the GIF holds) every 5th iteration by default
# RunSpec fields the app sets itself, and how.
APP_SET_FIELDS = {"content": "the upload or demo image, copied into the run's folder",
                  "styles": "the upload or demo image, copied into the run's folder",
                  "output": "the run's folder", "frames": "the run's folder", "gif": "the run's folder",
                  "record": "beside the output", "overwrite": "never: each run has a new folder",
                  "max_memory": "the default: what the machine has free, less a margin",
                  "checkpoint_every": "the default, so that a stopped run can be resumed"}
MAX_UPLOAD = "100mb"  # Gradio refuses bigger uploads before they reach us
UPLOADED = "(uploaded file)"
ALL_LAYERS = layer_names("vgg19")  # VGG16's layers are a subset of VGG19's names
# What an optional upload's line says before a file is given, where the page words it better than RunSpec's help.
HINTS = {"style_mask": "Optional. **White:** paint the style there (grey: in part); **black:** keep the photo. "
                       "The photo's shape (aspect ratio), any size."}


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


def _optional_upload(state: App, role: roles.Role, base: tuple):
    """An optional input (a mask): its upload and a line, and a preview of it tinted
    over the content image (`base`: that picker's file and demo), redrawn when
    either changes; wired. Returns (its row, its file)."""
    hint = HINTS.get(role.name) or help_for(role.field)
    with gr.Row(equal_height=False) as row:
        with gr.Column(min_width=200):
            upload = gr.File(label=f"{role.label.capitalize()} (optional upload)", file_types=["image"],
                             type="filepath", elem_id=f"{role.name}-file", height=120)
            info = gr.Markdown(hint, elem_id=f"{role.name}-info")
        preview = gr.Image(label=f"The {role.label}'s region (tinted)", interactive=False, height=150,
                           elem_id=f"{role.name}-preview", min_width=200)

    def redraw(path, base_file, base_demo):
        checked, picture, line = state.on_mask(path, base_file, base_demo, role)
        return checked, picture, line or hint

    upload.upload(redraw, [upload, *base], [upload, preview, info])
    upload.clear(lambda: (None, hint), None, [preview, info])
    for widget in base:
        widget.change(lambda *values: redraw(*values)[1:], [upload, *base], [preview, info])
    return row, upload


def build(output_dir: str | os.PathLike) -> gr.Blocks:
    """The Gradio app; its outputs go under `output_dir`."""
    state = App(Path(output_dir))
    demos = list(state.demos)
    demo_defaults = {"content": next((name for name in demos if "Astronaut" in name), None),
                     "style": next((name for name in demos if "Painting" in name), None)}

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
                with gr.Row():  # a picker for each input role the app offers (`neuralstyle.jobs.roles`)
                    pickers = {role.name: _image_picker(state, role.name, demos, demo_defaults.get(role.name))
                               for role in offered_roles() if not is_optional(role)}
                base = pickers[roles.sizing_role("transfer").name]  # a mask is in the content image's shape
                optional = {role.name: (role, *_optional_upload(state, role, base))
                            for role in offered_roles() if is_optional(role)}
                mode = gr.Radio(list(MODES), value="Transfer", label="Mode", elem_id="mode")
                with gr.Row():
                    size = gr.Number(settings.SIZE, precision=0, minimum=16, maximum=2048, label="Size (px)",
                                     elem_id="size", min_width=90)
                    iterations = gr.Number(settings.mode_default("transfer", "iterations"), precision=0, minimum=0, maximum=5000,
                                           label="Iterations", elem_id="iterations", min_width=90)
                    every = gr.Number(APP_SAVE_EVERY, precision=0, minimum=1, label="Frame every", elem_id="every", min_width=90)
                    seed = gr.Number(default_of("seed"), precision=0, label="Seed", elem_id="seed", min_width=90)
            with gr.Column(scale=3, min_width=480):
                with gr.Row():
                    live = gr.Image(label="Forming", interactive=False, height=290, elem_id="live", format="png")
                    result_image = gr.Image(label="Result (best image)", interactive=False, height=290,
                                            elem_id="result", format="png")
                curve = gr.LinePlot(x="iteration", y="log10 loss", color="part", height=250, elem_id="curve",
                                    color_map={"content": "#1f77b4", "style": "#ff7f0e", "tv": "#d62728"},
                                    label="Loss per iteration (log10): content blue, style orange, TV red",
                                    x_title="iteration", y_title="log10 loss")
                status = gr.Markdown("Ready.", elem_id="status")
                with gr.Row():
                    run_button = gr.Button("Run", variant="primary", elem_id="run")
                    stop_button = gr.Button("Stop (keep best so far)", variant="stop", elem_id="stop")
                    resume_button = gr.Button("Resume the last stopped run", elem_id="resume")
                image_file = gr.File(label="Image", elem_id="image-file", interactive=False)
                gif_file = gr.File(label="Progress GIF", elem_id="gif-file", interactive=False)
                record_file = gr.File(label="Run record (JSON): neuralstyle rerun RECORD.json -o NEW.png",
                                      elem_id="record-file", interactive=False)

        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                content_layer = gr.Radio(layer_names(settings.MODEL), value=settings.CONTENT_LAYER,
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
                            visible = layer.name in layer_names(settings.MODEL)
                            with gr.Column(visible=visible, min_width=150, elem_classes="layer") as cell:
                                layer_boxes[layer.name] = gr.Checkbox(
                                    value=layer.name in settings.STYLE_LAYERS, elem_id=f"style-{layer.name}",
                                    label=layer.name, container=False)
                                layer_weights[layer.name] = gr.Number(
                                    settings.TRANSFER_STYLE_LAYERS.get(layer.name, 1.0), minimum=0, show_label=False, container=False,
                                    elem_id=f"weight-{layer.name}")
                            layer_columns[layer.name] = cell
                        for _ in range(4 - len(layers)):
                            gr.Column(min_width=150, elem_classes="layer")
            with gr.Column(scale=1, min_width=260):
                model = gr.Radio(list(MODELS), value=settings.MODEL, label="Model", elem_id="model")
                with gr.Row():
                    content_weight = gr.Number(settings.CONTENT_WEIGHT, minimum=0, label="Content weight",
                                               elem_id="content-weight", min_width=70)
                    style_weight = gr.Number(settings.STYLE_WEIGHT, minimum=0, label="Style weight",
                                             elem_id="style-weight", min_width=70)
                    tv_weight = gr.Number(settings.TV_WEIGHT, minimum=0, label="TV weight", elem_id="tv-weight",
                                          min_width=70)
                balance = gr.Radio(list(settings.BALANCES), value=default_of("balance"), label="Balance", elem_id="balance",
                                   info="raw: the weights act as on neural-style's raw losses, so a bold painting "
                                        "takes more of the picture; pair: the content weight grows with how far the "
                                        "photo starts from the painting")
                init = gr.Radio(list(settings.INITS), value=settings.TRANSFER_INIT, elem_id="init",
                                label="Start from (reconstructions: noise)",
                                info="recolored: the content image in the style's colours")
                preserve_color = gr.Radio(list(settings.COLOR_MODES), value=default_of("preserve_color"),
                                          label="Preserve colour", elem_id="preserve-color")
                pooling = gr.Radio(list(settings.POOLINGS), value=default_of("pooling"), label="Pooling", elem_id="pooling")
                device = gr.Dropdown(["auto", "cpu", "gpu:0", "gpu:1"], value=default_of("device"), label="Device",
                                     allow_custom_value=True, elem_id="device",
                                     info="auto: the first GPU the backend sees, else the CPU")

        gr.Markdown("### This session's runs")
        gallery = gr.Gallery(label="Runs, newest first", columns=5, height="auto", elem_id="gallery",
                             object_fit="contain", **_supported(gr.Gallery, fit_columns=False))
        runs_table = gr.Dataframe(label="Their settings", elem_id="runs", interactive=False)

        # --- events ---

        def on_model(name):
            names = layer_names(name)
            updates = [gr.update(choices=names, value=settings.CONTENT_LAYER if settings.CONTENT_LAYER in names
                                 else names[-1])]
            updates += [gr.update(visible=layer in names) for layer in ALL_LAYERS]
            return updates

        model.change(on_model, model, [content_layer, *(layer_columns[name] for name in ALL_LAYERS)])

        def on_mode(label):
            mode = MODES[label]
            return (gr.update(value=settings.mode_default(mode, "tv_weight")),
                    gr.update(value=settings.mode_default(mode, "iterations")),
                    gr.update(value=settings.mode_default(mode, "content_layer")) if applies_to("content_layer", mode)
                    else gr.update(),
                    gr.update(value=settings.mode_default(mode, "init")),
                    gr.update(visible=applies_to("balance", mode)),
                    *(gr.update(visible=role.count(mode) != roles.NONE) for role, _, _ in optional.values()),
                    # A transfer's default weighs block4_conv1 more; a style reconstruction's is the paper's, equal.
                    *(gr.update(value=settings.mode_default(mode, "style_layers").get(name, 1.0)) for name in ALL_LAYERS))

        mode.input(on_mode, mode, [tv_weight, iterations, content_layer, init, balance, *(row for _, row, _ in optional.values()),
                                   *(layer_weights[name] for name in ALL_LAYERS)])

        settings_inputs = {mode, model, pooling, device, init, preserve_color, balance, size, iterations, every, seed, content_weight,
                           style_weight, tv_weight, content_layer, *(widget for pair in pickers.values() for widget in pair),
                           *(upload for _, _, upload in optional.values()),
                           token, history, *layer_boxes.values(), *layer_weights.values()}
        outputs = [live, result_image, curve, status, image_file, gif_file, record_file, gallery, runs_table, history]

        # The widgets that set RunSpec fields, by field name: the spec is built from these.
        widgets = dict(mode=mode, model=model, pooling=pooling, device=device, init=init, preserve_color=preserve_color,
                       balance=balance, size=size,
                       iterations=iterations, save_every=every, seed=seed, content_weight=content_weight,
                       style_weight=style_weight, tv_weight=tv_weight, content_layer=content_layer)
        named = dict(**{f"{role}_{part}": widget for role, pair in pickers.items()
                        for part, widget in zip(("file", "demo"), pair)},
                     **{f"{name}_file": upload for name, (_, _, upload) in optional.items()},
                     token=token, history=history, live=live, result_image=result_image,
                     status=status, image_file=image_file, gif_file=gif_file, record_file=record_file,
                     gallery=gallery, runs_table=runs_table, curve=curve)

        def run(values: dict):
            yield from run_event(state, values, widgets, named, layer_boxes, layer_weights)

        run_button.click(state.announce, token, [token, status], queue=False).then(
            run, settings_inputs, outputs, concurrency_limit=1, concurrency_id="run", show_progress="minimal")
        stop_button.click(state.stop, token, status, queue=False)

        def resume(values: dict):
            yield from resume_event(state, values, named)

        resume_button.click(state.announce, token, [token, status], queue=False).then(
            resume, {token, history}, outputs, concurrency_limit=1, concurrency_id="run", show_progress="minimal")
    blocks.neuralstyle_state = state
    # The RunSpec fields a visitor sets here (the style layers through their boxes), and those the app sets itself.
    blocks.neuralstyle_fields = {**{name: "widget" for name in widgets}, "style_layers": "layer boxes",
                                 **{role.field: "an optional upload, copied into the run's folder"
                                    for role, _, _ in optional.values()},
                                 **APP_SET_FIELDS}
    # The Run event and the components it reads, for tests that drive it without a browser.
    blocks.neuralstyle_run, blocks.neuralstyle_inputs = run, settings_inputs
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


# Requests Gradio refuses (a file the page never uploaded, a path outside the app's folders): the server is
# fine and the terminal says so in one line, where Gradio prints a whole traceback.
REFUSALS = ("gradio.exceptions.InvalidPathError", "gradio.exceptions.Error")


class OneLineRefusals(io.TextIOBase):
    """A stderr through which a traceback that ends in one of `REFUSALS` becomes
    one line; every other line, tracebacks of real faults included, passes as it is."""

    def __init__(self, stream):
        self.stream, self.pending, self.traceback = stream, "", None

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.pending += text
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            self._line(line + "\n")
        return len(text)

    def _line(self, line: str) -> None:
        if self.traceback is None:
            if line.startswith("Traceback (most recent call last):"):
                self.traceback = [line]
            else:
                self.stream.write(line)
            return
        self.traceback.append(line)
        if line[:1].isspace():  # a frame of the traceback
            return
        lines, self.traceback = self.traceback, None
        kind, _, message = line.partition(": ")
        if kind in REFUSALS:
            self.stream.write(f"neuralstyle app: refused a request: {message.strip()}\n")
        else:
            self.stream.write("".join(lines))

    def flush(self) -> None:
        if self.pending and self.traceback is None:
            self.stream.write(self.pending)
            self.pending = ""
        self.stream.flush()


def launch(host: str = "127.0.0.1", port: int = 7860, output_dir: str | os.PathLike | None = None,
           on_start=print) -> None:
    """Build the app, start serving it, report its URL through `on_start`, and
    serve until Ctrl-C or SIGTERM: where a front end holds the signals as a flag
    (`neuralstyle.core.interrupts.SignalGuard`, as the CLI does), until that flag
    is set; then the server closes and this returns."""
    folder = Path(output_dir) if output_dir else Path(tempfile.mkdtemp(prefix="neuralstyle-app-"))
    terminal, sys.stderr = sys.stderr, OneLineRefusals(sys.stderr)
    blocks = build(folder)
    blocks.queue(default_concurrency_limit=1)
    options = dict(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True,
                   allowed_paths=[str(folder.resolve())], max_file_size=MAX_UPLOAD, show_error=False,
                   **_style_options("launch"))
    _, url, _ = blocks.launch(**options)
    on_start(f"neuralstyle app: {url}  (outputs in {folder.resolve()}; Ctrl-C to stop)")
    guard = current_guard()
    try:
        if guard is None:
            blocks.block_thread()
        else:  # a signal only sets the guard's flag: no KeyboardInterrupt reaches this thread
            while guard.received is None:
                time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        blocks.close()
        sys.stderr.flush()
        sys.stderr = terminal
