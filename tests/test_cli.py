"""The neuralstyle command line, as a user runs it (subprocesses, real images at 64 px)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image
from processes import default_signals
from sample_images import SAMPLES

PHOTO = SAMPLES / "photo.png"
PAINTING = SAMPLES / "painting.png"
PORTRAIT = SAMPLES / "portrait.png"



def neuralstyle(*args, env=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "neuralstyle", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


@pytest.fixture(scope="module")
def no_tensorflow_env(tmp_path_factory) -> dict:
    """An environment in which importing TensorFlow fails loudly: a bad-input
    error that still comes out as one clean line was caught before the import."""
    fake = tmp_path_factory.mktemp("fake_tf") / "tensorflow"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('tensorflow was imported')\n")
    return {**os.environ, "PYTHONPATH": f"{fake.parent}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def test_a_broken_tensorflow_is_one_line_and_exit_1_once_the_inputs_passed(no_tensorflow_env, tmp_path):
    """TensorFlow loads in the background while the inputs are read; when it cannot, the run says so in one line."""
    result = neuralstyle("transfer", PHOTO, PAINTING, "-o", tmp_path / "out.png", "--size", 48, "--iterations", 2,
                         env=no_tensorflow_env)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("neuralstyle: error:")]
    assert errors == ["neuralstyle: error: cannot load Keras on tensorflow (ImportError: tensorflow was imported); "
                      "the installation is broken: pip install --force-reinstall neuralstyle-keras"]
    assert "Traceback" not in result.stderr and not (tmp_path / "out.png").exists()


def test_version_is_printed():
    result = neuralstyle("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("neuralstyle ")


def test_layers_lists_vgg19_channels_strides_and_defaults():
    lines = neuralstyle("layers").stdout.splitlines()
    rows = {line.split()[0]: line for line in lines[1:]}
    assert len(rows) == 16 and "block5_conv4" in rows
    assert rows["block4_conv2"].split()[1:3] == ["512", "8"] and "content (transfer)" in rows["block4_conv2"]
    assert "style" in rows["block1_conv1"] and "style" not in rows["block1_conv2"]


def test_layers_lists_vgg16():
    rows = [line.split()[0] for line in neuralstyle("layers", "--model", "vgg16").stdout.splitlines()[1:]]
    assert len(rows) == 13 and rows[-1] == "block5_conv3"


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("bad")
    (folder / "notes.txt").write_text("not an image")
    (folder / "truncated.jpg").write_bytes(PHOTO.read_bytes()[:2000])
    (folder / "exists.png").write_bytes(b"")
    return {"folder": folder, "text": folder / "notes.txt", "truncated": folder / "truncated.jpg",
            "exists": folder / "exists.png"}


BAD_INPUTS = {
    "missing content file": (["transfer", "nope.jpg", PAINTING, "-o", "{out}"], "no such file"),
    "not an image": (["transfer", "{text}", PAINTING, "-o", "{out}"], "not an image"),
    "corrupt image": (["transfer", "{truncated}", PAINTING, "-o", "{out}"], "corrupt or truncated"),
    "unknown layer lists valid ones": (["transfer", PHOTO, PAINTING, "-o", "{out}", "--content-layer",
                                        "block6_conv1"], "block5_conv4"),
    "unknown style layer": (["style", PAINTING, "-o", "{out}", "--style-layer", "block1_conv9:1"], "block1_conv2"),
    "negative style weight": (["transfer", PHOTO, PAINTING, "-o", "{out}", "--style-weight", "-1"], "≥ 0"),
    "negative style layer weight": (["style", PAINTING, "-o", "{out}", "--style-layer", "block1_conv1:-2"], "≥ 0"),
    "size below what VGG needs": (["transfer", PHOTO, PAINTING, "-o", "{out}", "--size", "12"], "at least 16 px"),
    "more blend weights than styles": (["transfer", PHOTO, PAINTING, "-o", "{out}", "--style-blend", "0.5,0.5"],
                                       "one per style"),
    "output folder missing": (["content", PHOTO, "-o", "{folder}/missing/out.png"], "does not exist"),
    "existing output": (["content", PHOTO, "-o", "{exists}"], "--overwrite"),
    "unknown output type": (["content", PHOTO, "-o", "{folder}/out.bmp2"], "unknown file type"),
    "unknown weights": (["content", PHOTO, "-o", "{out}", "--weights", "resnet"], "imagenet-q8"),
    "unknown init": (["transfer", PHOTO, PAINTING, "-o", "{out}", "--init", "sketch"], "content, noise, style"),
    "gif without frames": (["content", PHOTO, "-o", "{out}", "--gif", "{folder}/a.gif"], "--frames"),
    "unknown option": (["transfer", PHOTO, PAINTING, "-o", "{out}", "--colour", "red"], "--colour"),
    "missing argument": (["transfer", PHOTO], "Missing argument"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_on_stderr_with_exit_code_2_before_tensorflow_loads(case, bad_files, no_tensorflow_env):
    args, expected = BAD_INPUTS[case]
    fields = {**{key: str(value) for key, value in bad_files.items()}, "out": str(bad_files["folder"] / "out.png")}
    args = [arg.format(**fields) if isinstance(arg, str) else arg for arg in args]
    result = neuralstyle(*args, env=no_tensorflow_env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("neuralstyle: error: ")
    assert expected in lines[0]
    assert not (bad_files["folder"] / "out.png").exists()


@pytest.fixture(scope="module")
def transfer_run(tmp_path_factory) -> dict:
    """One small transfer with frames every 2 iterations and a GIF."""
    folder = tmp_path_factory.mktemp("transfer")
    out, frames, gif = folder / "out.png", folder / "frames", folder / "progress.gif"
    result = neuralstyle("transfer", PHOTO, PAINTING, "-o", out, "--size", 64, "--iterations", 6,
                         "--frames", frames, "--save-every", 2, "--gif", gif)
    assert result.returncode == 0, result.stderr
    return {"folder": folder, "out": out, "frames": frames, "gif": gif, "stderr": result.stderr,
            "record": json.loads((folder / "out.json").read_text())}


def test_transfer_writes_image_keeping_aspect_ratio(transfer_run):
    with Image.open(transfer_run["out"]) as image:
        assert image.size == (64, 48)  # the photo is 1024x768


def test_transfer_says_weights_device_and_size_before_running(transfer_run):
    stderr = transfer_run["stderr"]
    assert "weights: VGG19 ImageNet" in stderr
    assert "device: CPU" in stderr or "device: GPU" in stderr
    assert "64x48 px" in stderr


def test_transfer_says_the_content_weight_its_pair_was_given_and_records_why(transfer_run):
    settings = transfer_run["record"]["settings"]
    assert settings["balance"] == "raw" and settings["raw_energies"][0]["content"] > 0
    assert f"content weight {settings['content_weights'][-1]:.3g} for this pair and size" in transfer_run["stderr"]


def test_transfer_says_what_precision_auto_chose_and_records_both(transfer_run):
    from neuralstyle.core.hardware import native_bfloat16_flag

    flag = native_bfloat16_flag()
    if flag:
        assert f"precision: bfloat16 (auto: this CPU has native bfloat16, flag {flag})" in transfer_run["stderr"]
    else:
        assert "precision: float32 (auto: this CPU has no native bfloat16" in transfer_run["stderr"]
    record = transfer_run["record"]
    assert record["arguments"]["precision"] == "auto"
    assert record["settings"]["precision"] == ("bfloat16" if flag else "float32")


def test_iterations_auto_stops_when_the_loss_stops_falling_and_the_record_says_why(tmp_path):
    from neuralstyle.core import settings
    from neuralstyle.core.evaluator import Convergence

    out = tmp_path / "auto.png"
    result = neuralstyle("transfer", PHOTO, PAINTING, "-o", out, "--size", 48, "--iterations", "auto",
                         "--precision", "float32")
    assert result.returncode == 0, result.stderr
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["arguments"]["iterations"] == "auto" and record["settings"]["iterations"] == "auto"
    assert settings.AUTO_MINIMUM <= record["iterations"] < settings.ITERATIONS
    assert record["stopped"].startswith("converged: the loss fell")
    assert record["stopped"] in result.stderr
    assert not (tmp_path / "auto.checkpoint.npz").exists()  # converged is complete: nothing left to resume
    losses = [entry["total"] for entry in record["history"]]
    rule = Convergence()
    assert rule.converged(losses) and not any(rule.converged(losses[:end]) for end in range(1, len(losses)))


def test_frames_and_gif_follow_iterations_and_save_every(transfer_run):
    names = sorted(path.name for path in transfer_run["frames"].iterdir())
    assert names == ["frame_00000.png", "frame_00002.png", "frame_00004.png", "frame_00006.png"]
    with Image.open(transfer_run["gif"]) as gif:
        assert gif.n_frames == 4
        assert gif.size == (64, 48)


def test_run_record_holds_settings_weights_versions_and_history(transfer_run):
    record = transfer_run["record"]
    assert record["command"] == "transfer"
    assert record["settings"]["iterations"] == [6] and record["arguments"]["size"] == 64
    assert record["weights"]["source"] == "imagenet-q8" and len(record["weights"]["sha256"]) == 64
    assert {"tensorflow", "keras", "numpy", "scipy", "pillow", "python"} <= record["versions"].keys()
    assert [entry["iteration"] for entry in record["history"]] == list(range(7))
    assert record["history"][-1]["total"] < record["history"][0]["total"]
    assert record["evaluations"] >= 7 and record["wall_seconds"] > 0
    assert record["final_loss"]["total"] == pytest.approx(min(entry["total"] for entry in record["history"]))
    assert record["interrupted"] is False
    assert record["inputs"]["content"][0]["size"] == [1024, 768]


def test_rerun_repeats_the_run_exactly_and_says_so(transfer_run):
    again = transfer_run["folder"] / "again.png"
    result = neuralstyle("rerun", transfer_run["folder"] / "out.json", "-o", again)
    assert result.returncode == 0, result.stderr
    with Image.open(transfer_run["out"]) as first, Image.open(again) as second:
        assert first.tobytes() == second.tobytes()
    assert "the image is the recorded run's, bit for bit" in result.stderr


def test_a_rerun_that_makes_another_image_warns_and_names_what_differs(transfer_run, tmp_path):
    record = {**transfer_run["record"], "device": "CPU (64 cores, AVX2)"}
    record["output"] = {**record["output"], "sha256": "0" * 64}
    record["versions"] = {**record["versions"], "numpy": "1.0.0"}
    record["arguments"] = {**record["arguments"], "iterations": 5}  # an edited record runs as edited
    edited = tmp_path / "elsewhere.json"
    edited.write_text(json.dumps(record))
    result = neuralstyle("rerun", edited, "-o", tmp_path / "again.png", "--quiet")
    assert result.returncode == 0, result.stderr  # the new image is written; the difference is a warning
    warning = next(line for line in result.stderr.splitlines() if "warning" in line)
    assert "the image differs from the recorded run's" in warning
    assert "numpy 1.0.0 -> " in warning and f"device CPU (64 cores, AVX2) -> {transfer_run['record']['device']}" in warning
    assert "iterations [6] -> [5]" in warning  # the settings as the two runs resolved them


def test_a_rerun_to_another_image_format_is_not_compared_byte_for_byte(transfer_run, tmp_path):
    result = neuralstyle("rerun", transfer_run["folder"] / "out.json", "-o", tmp_path / "again.jpg")
    assert result.returncode == 0, result.stderr
    assert "the new image is a JPEG file and the recorded one a PNG" in result.stderr
    assert "warning" not in result.stderr


def test_a_rerun_of_a_run_stopped_early_does_not_claim_a_difference(transfer_run, tmp_path):
    record = {**transfer_run["record"], "stopped": "interrupted", "interrupted": True, "iterations": 3}
    edited = tmp_path / "stopped.json"
    edited.write_text(json.dumps(record))
    result = neuralstyle("rerun", edited, "-o", tmp_path / "again.png")
    assert result.returncode == 0, result.stderr
    assert "the recorded run stopped early (interrupted, iteration 3)" in result.stderr
    assert "warning" not in result.stderr


def test_gif_command_takes_every_nth_frame_and_always_the_last(transfer_run, tmp_path):
    out = tmp_path / "every2.gif"
    result = neuralstyle("gif", transfer_run["frames"], "-o", out, "--every", 2, "--size", 32)
    assert result.returncode == 0, result.stderr
    with Image.open(out) as gif:
        assert gif.n_frames == 3  # of frames 0, 2, 4, 6: 0 and 4, then 6, the last
        assert max(gif.size) == 32


def test_content_and_style_commands_write_images(tmp_path):
    content = neuralstyle("content", PHOTO, "-o", tmp_path / "c.png", "--size", 64, "--iterations", 3, "-q")
    style = neuralstyle("style", PORTRAIT, "-o", tmp_path / "s.jpg", "--size", 64, "--iterations", 3, "-q",
                        "--style-layer", "block1_conv1:0.5,block2_conv1")
    assert content.returncode == 0 and style.returncode == 0, content.stderr + style.stderr
    with Image.open(tmp_path / "c.png") as c, Image.open(tmp_path / "s.jpg") as s:
        assert c.size == (64, 48)
        assert s.size == (50, 64)  # the portrait is 402x512: portrait kept
    record = json.loads((tmp_path / "s.json").read_text())
    assert record["settings"]["style_layers"] == {"block1_conv1": 0.5, "block2_conv1": 1.0}


def _run_until(args: list, marker: str, signal_number: int, timeout: float = 120) -> tuple[int, str]:
    """Start a run, send `signal_number` once `marker` appears on its stderr, and
    return its exit code and whole stderr."""
    import threading

    process = subprocess.Popen(
        [sys.executable, "-m", "neuralstyle", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
        # A shell starts background jobs with SIGINT ignored, and children inherit
        # that; this test is about a terminal user's Ctrl-C, so give the run the default.
        preexec_fn=default_signals,
    )
    lines: list[str] = []
    seen = threading.Event()

    def read():
        for line in process.stderr:
            lines.append(line)
            if marker in line:
                seen.set()
        seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert seen.wait(timeout), "".join(lines)
    process.send_signal(signal_number)
    process.wait(timeout=60)
    reader.join(timeout=10)
    return process.returncode, "".join(lines)


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_run_writes_the_best_image_so_far_and_its_record(tmp_path, signal_number):
    out = tmp_path / "out.png"
    code, stderr = _run_until(["transfer", PHOTO, PAINTING, "-o", out, "--size", 64, "--iterations", 1000,
                               "--frames", tmp_path / "frames"], "s per iteration", signal_number)
    assert code == 128 + signal_number, stderr
    with Image.open(out) as image:
        image.load()
        assert image.size == (64, 48)
    record = json.loads((tmp_path / "out.json").read_text())
    assert record["interrupted"] is True and record["stopped"] == "interrupted"
    assert 4 <= record["iterations"] < 1000
    assert len(record["frames"]) == record["iterations"] + 1  # frames 0 … the last iteration, all written
    assert len(list((tmp_path / "frames").glob("frame_*.png"))) == record["iterations"] + 1
    assert f"interrupted ({signal.Signals(signal_number).name}) at iteration" in stderr


def test_a_signal_only_asks_and_the_run_stops_at_a_phase_boundary_or_an_iteration_end():
    # No exception lands in native code: a signal sets a flag; before the iterations a
    # checkpoint raises Interrupted, during them the iteration's end reports it.
    from neuralstyle.core.interrupts import Interrupted, SignalGuard, phase_reached

    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # the suite may run as a background job
    try:
        with SignalGuard() as guard:
            phase_reached("model")  # nothing received: goes on
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)  # no exception here
            with pytest.raises(Interrupted):
                phase_reached("targets")
        with SignalGuard() as guard:
            assert guard.should_stop() is None  # iterations have begun
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.1)
            phase_reached("targets")  # during iterations a phase boundary never raises
            assert guard.should_stop() == "interrupted" and guard.exit_code == 128 + signal.SIGTERM
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_folder_of_content_images_is_painted_into_a_folder(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("photo.png", "photo2.png"):
        (photos / name).write_bytes((SAMPLES / name).read_bytes())
    (photos / "notes.txt").write_text("not an image, skipped")
    result = neuralstyle("transfer", photos, PAINTING, "-o", tmp_path / "out", "--size", 48, "--iterations", 2)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == \
        ["photo.json", "photo.png", "photo2.json", "photo2.png"]
    assert "images per minute" in result.stderr


@pytest.fixture(scope="module")
def no_gradio_env(tmp_path_factory) -> dict:
    """An environment in which `import gradio` fails, as where the `app` extra is not installed."""
    fake = tmp_path_factory.mktemp("no_gradio") / "gradio"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named gradio')\n")
    return {**os.environ, "PYTHONPATH": f"{fake.parent}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def test_app_without_gradio_says_in_one_line_what_to_install(no_gradio_env):
    result = neuralstyle("app", "--port", 0, env=no_gradio_env, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("neuralstyle: error: the web app needs Gradio: pip install \"neuralstyle[app]\"")
    assert result.stdout == ""


def test_app_help_names_host_port_and_output_folder():
    result = neuralstyle("app", "--help")
    assert result.returncode == 0
    assert "--host" in result.stdout and "--port" in result.stdout and "--output-dir" in result.stdout
    assert "127.0.0.1" in result.stdout


OWN_LINES = re.compile(r"^(transfer: |weights: |device: |precision: |tip: |about [\d.]+ s per iteration|\d+/\d+ |wrote )")


def test_a_run_prints_only_its_own_lines(transfer_run):
    """No TensorFlow/absl/oneDNN notices between the tool's lines (a transfer at 64 px, not quiet)."""
    lines = [line for line in transfer_run["stderr"].splitlines() if line.strip()]
    assert lines and all(OWN_LINES.match(line) for line in lines), transfer_run["stderr"]


def test_a_coarse_to_fine_runs_bar_and_estimate_count_each_larger_size_at_its_pixels_cost(monkeypatch):
    """300 iterations at 256x192 then 100 at 512x384 (four times the pixels): at 1 s per small iteration
    the run expects 300 + 400 s, and the bar is 3/7 full when the small size is done."""
    import io
    import types

    from rich.console import Console

    from neuralstyle.cli import terminal
    from neuralstyle.jobs import pipeline

    printed = io.StringIO()
    monkeypatch.setattr(terminal, "console", Console(file=printed, width=200))
    clock = iter([10.0, 13.0])  # perf_counter at iterations 1 and 4
    monkeypatch.setattr(terminal.time, "perf_counter", lambda: next(clock))
    plan = types.SimpleNamespace(spec=types.SimpleNamespace(iteration_caps=(300, 100)), sizes=[(256, 192), (512, 384)])
    display = terminal.ProgressDisplay(False, share_done=lambda progress: pipeline.Plan.share_done(plan, progress))
    loss = types.SimpleNamespace(total=1.0, content=0.5, style=0.5, tv=0.0, temporal=0.0)

    def report(iteration, scale, scale_iteration, size):
        display(types.SimpleNamespace(iteration=iteration, iterations=400, loss=loss, tile=None, scale=scale,
                                      scale_iteration=scale_iteration, size=size))

    for iteration in range(5):
        report(iteration, 0, iteration, (256, 192))
    assert "about 1.00 s per iteration at 256x192: expect 11.7 min for 400 iterations" in printed.getvalue()
    report(300, 1, 0, (512, 384))
    task = display.progress.tasks[0]
    assert task.completed == pytest.approx(3 / 7) and task.fields["iteration"] == 300
    display.stop()


def test_help_shows_the_choices_and_groups_the_options():
    text = neuralstyle("transfer", "--help", env={**os.environ, "COLUMNS": "160"}).stdout
    for choice in ("<max|avg>", "<vgg16|vgg19>", "<auto|float32|bfloat16|float16>", "<none|luminance|histogram>"):
        assert choice in text
    for panel in ("Content", "Style", "Optimisation", "Model", "Output"):
        assert f"─ {panel} ─" in text


def test_the_papers_layer_names_are_taken(tmp_path):
    result = neuralstyle("content", PHOTO, "-o", tmp_path / "c.png", "--size", 32, "--iterations", 1,
                         "--content-layer", "relu3_1", "-q")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "c.json").read_text())["arguments"]["content_layer"] == "block3_conv1"


def test_inspect_writes_its_picture_and_a_record(tmp_path):
    result = neuralstyle("inspect", PAINTING, "-o", tmp_path / "view.png", "--size", 48, "--layer", "conv1_1")
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "view.json").read_text())
    assert record["command"] == "inspect" and record["arguments"]["layers"] == ["block1_conv1"]
    assert record["output"]["sha256"] == hashlib.sha256((tmp_path / "view.png").read_bytes()).hexdigest()
    again = neuralstyle("rerun", tmp_path / "view.json", "-o", tmp_path / "again.png")
    assert again.returncode == 2 and "'inspect' is not one of" in again.stderr


def test_plot_draws_the_loss_curves_of_records_and_refuses_a_figure_record(transfer_run, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "curves.png"
    result = neuralstyle("plot", transfer_run["folder"] / "out.json", transfer_run["folder"] / "out.json", "-o", out)
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        assert image.size == (1200, 360)
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 50  # curves and axes, not a blank page
    figure = tmp_path / "figure.json"
    figure.write_text(json.dumps({"neuralstyle_record": 2, "command": "figure styles", "tiles": []}))
    refused = neuralstyle("plot", figure, "-o", tmp_path / "other.png")
    assert refused.returncode == 2 and "has no per-iteration losses" in refused.stderr


def test_weights_lists_what_this_machine_has():
    result = neuralstyle("weights")
    assert result.returncode == 0
    assert "VGG19 imagenet-q8" in result.stdout and "--weights auto uses for VGG19" in result.stdout


@pytest.mark.parametrize("command", [["transfer"], ["content"], ["figure", "tradeoff"], ["rerun"], ["inspect"]])
def test_a_bare_command_prints_its_help_and_h_is_help_everywhere(command):
    bare = neuralstyle(*command)
    assert bare.returncode == 2 and "Usage: neuralstyle " + " ".join(command) in bare.stdout + bare.stderr
    assert "error" not in bare.stderr  # its help, not "Missing argument"
    short = neuralstyle(*command, "-h")
    assert short.returncode == 0 and "Usage: neuralstyle " + " ".join(command) in short.stdout


def test_every_option_means_one_thing_in_one_form_on_every_command():
    """One grammar: an option's name has one type, one panel and one wording on every
    command (a setting's own per-mode words, and a sweep's note on repeating, aside);
    a list of values is given once with commas; help texts carry no measurements."""
    import enum
    import re
    import typing

    import typer.main

    from neuralstyle.cli.main import root
    from neuralstyle.cli.sweep import ONE_FOR_ALL_HELP, STYLE_MASK_HELP, SWEEP_HELP
    from neuralstyle.core import settings as settings_module
    from neuralstyle.jobs.spec import RunSpec, help_for, metadata

    uses: dict[str, list] = {}

    def walk(command, prefix=""):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, f"{prefix}{name} ")
            return
        for parameter in command.params:
            if getattr(parameter, "param_type_name", "") == "option":
                uses.setdefault(max(parameter.opts, key=len), []).append((prefix.strip(), parameter))

    walk(typer.main.get_command(root))
    assert len(uses) > 40
    fields = set(RunSpec.__dataclass_fields__)
    measurement = re.compile(r"\b\d+(\.\d+)?\s?(s|ms|min|x|×)\b|\bfaster\b|\bslower\b|\bseconds?\b")
    problems = []
    for option, found in uses.items():
        setting = found[0][1].name
        # A sweep repeats an option to sweep it: each value is what the other commands take once.
        types = {(str(parameter.bare_type()).removeprefix("list[").removesuffix("]")
                  if command == "sweep" and parameter.name in fields and metadata(parameter.name)["form"] != "list"
                  else str(parameter.bare_type()), parameter.is_flag) for command, parameter in found}
        panels = {parameter.rich_help_panel for _, parameter in found}
        helps = {parameter.help.removesuffix(f" {SWEEP_HELP}").removesuffix(f" {ONE_FOR_ALL_HELP}")
                 .removesuffix(f" {STYLE_MASK_HELP}") for _, parameter in found}
        if len(panels) != 1:
            problems.append(f"{option} sits in panels {panels}")
        if setting == "output":  # what each command writes: an image, a video, a GIF, a folder
            pass
        elif setting in fields or setting == "style_mask":
            setting = "style_masks" if setting == "style_mask" else setting
            allowed = {help_for(setting, mode) for mode in settings_module.MODES}
            if not helps <= allowed:
                problems.append(f"{option} is worded {helps - allowed}")
            for command, parameter in found if metadata(setting)["choices"] else ():
                kind = parameter.type_descriptor.annotation
                kind = typing.get_args(kind)[0] if typing.get_origin(kind) is list else kind
                if not isinstance(kind, enum.EnumMeta) or {member.value for member in kind} != set(
                        metadata(setting)["choices"]):
                    problems.append(f"{command} {option} does not offer its choices")
        elif len(helps) != 1:
            problems.append(f"{option} is worded {len(helps)} ways: {helps}")
        if len(types) != 1:
            problems.append(f"{option} takes {types}")
        problems += [f"{option}'s help carries a measurement: {text!r}" for text in helps if measurement.search(text)]
    assert not problems, "\n".join(problems)


def test_a_list_of_values_given_twice_is_refused_in_one_line(tmp_path):
    result = neuralstyle("transfer", PHOTO, PAINTING, "-o", tmp_path / "out.png", "--style-layer", "block1_conv1",
                         "--style-layer", "block2_conv1")
    assert result.returncode == 2
    assert result.stderr.strip() == ("neuralstyle: error: --style-layer is given 2 times; give it once, its values "
                                     "separated by commas (block1_conv1,block2_conv1)")


def test_a_finished_run_is_extended_from_its_image_and_prints_its_losses_every_n(tmp_path):
    first = neuralstyle("transfer", PHOTO, PAINTING, "-o", tmp_path / "a.png", "--size", 48, "--iterations", 4,
                        "--history-size", 30, "--print-every", 2)
    assert first.returncode == 0, first.stderr
    printed = [line for line in first.stderr.splitlines() if line.startswith("iteration ")]
    assert [line.split(":")[0] for line in printed] == ["iteration 0/4", "iteration 2/4", "iteration 4/4"]
    record = json.loads((tmp_path / "a.json").read_text())
    assert record["settings"]["history_size"] == 30 and record["arguments"]["history_size"] == 30
    extended = neuralstyle("rerun", tmp_path / "a.json", "-o", tmp_path / "b.png", "--extend-to", 10)
    assert extended.returncode == 0, extended.stderr
    more = json.loads((tmp_path / "b.json").read_text())
    assert more["iterations"] == 6 and more["arguments"]["init"] == str((tmp_path / "a.png").resolve())
    # It starts where the first run ended (its 8-bit image) and goes on down.
    assert more["history"][0]["total"] == pytest.approx(record["final_loss"]["total"], rel=0.02)
    assert more["final_loss"]["total"] < more["history"][0]["total"]
    too_few = neuralstyle("rerun", tmp_path / "a.json", "-o", tmp_path / "c.png", "--extend-to", 3)
    assert too_few.returncode == 2 and "the run already made 4" in too_few.stderr


def test_an_extended_coarse_to_fine_run_goes_on_with_the_weights_its_last_size_had(tmp_path):
    first = neuralstyle("transfer", PHOTO, PAINTING, "-o", tmp_path / "a.png", "--size", 320, "--scales", 2,
                        "--iterations", "2,2", "--quiet")
    assert first.returncode == 0, first.stderr
    extended = neuralstyle("rerun", tmp_path / "a.json", "-o", tmp_path / "b.png", "--extend-to", 6, "--quiet")
    assert extended.returncode == 0, extended.stderr
    record, more = (json.loads((tmp_path / name).read_text()) for name in ("a.json", "b.json"))
    weights = record["settings"]["content_weights"]
    assert weights[1] != pytest.approx(weights[0], rel=1e-3)  # each size its own weight (balance 'raw', per size)
    assert more["settings"]["content_weights"] == [weights[-1]] and more["output"]["size"] == [320, 240]
    # So the extension starts at the loss the run ended at, not at another balance's.
    assert more["history"][0]["total"] == pytest.approx(record["final_loss"]["total"], rel=0.02)


def test_a_tiff_output_keeps_16_bits_a_channel(tmp_path):
    import tifffile

    result = neuralstyle("transfer", PHOTO, PAINTING, "-o", tmp_path / "out.tif", "--size", 48, "--iterations", 4)
    assert result.returncode == 0, result.stderr
    deep = tifffile.imread(tmp_path / "out.tif")
    assert deep.dtype == np.uint16 and deep.shape == (36, 48, 3)
    assert len(np.unique(deep)) > 256  # more levels than 8 bits hold: the optimised image before its rounding
    record = json.loads((tmp_path / "out.json").read_text())
    assert record["output"]["sha256"] == hashlib.sha256((tmp_path / "out.tif").read_bytes()).hexdigest()
