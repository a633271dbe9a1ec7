"""The Python API has Python's semantics: Ctrl-C stops a script (with the best image
so far in hand), a NaN raises, paths are taken where images are, a `Stylizer`
builds its network once for many calls, and the public names are typed."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from processes import default_signals
from sample_images import SAMPLES

import neuralstyle

PHOTO = SAMPLES / "photo.png"
PAINTING = SAMPLES / "painting.png"


def test_ctrl_c_in_a_script_that_calls_transfer_twice_stops_the_script_with_the_best_image(tmp_path):
    script = tmp_path / "two.py"
    script.write_text(textwrap.dedent(f"""
        import neuralstyle

        def report(progress):
            print("iteration", progress.iteration, flush=True)

        try:
            for name in ("first", "second"):
                print("start", name, flush=True)
                neuralstyle.transfer({str(PHOTO)!r}, {str(PAINTING)!r}, size=64, iterations=2000, callback=report)
                print("done", name, flush=True)
        except neuralstyle.RunInterrupted as stop:
            result = stop.result
            print("interrupted", result.image.shape, result.iterations, result.stopped, flush=True)
            raise
    """))
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=default_signals)
    lines = []
    deadline = time.time() + 240
    while time.time() < deadline:
        line = child.stdout.readline()
        lines.append(line)
        if line.startswith("iteration 3"):
            break
    child.send_signal(signal.SIGINT)
    rest, errors = child.communicate(timeout=120)
    output = "".join(lines) + rest
    assert "start first" in output and "start second" not in output and "done first" not in output
    interrupted = [line for line in output.splitlines() if line.startswith("interrupted")]
    assert interrupted and "(48, 64, 3)" in interrupted[0] and interrupted[0].endswith("interrupted")
    assert child.returncode != 0 and "RunInterrupted" in errors  # the script itself stopped, as on any Ctrl-C


def test_a_loss_that_turns_nan_after_a_good_start_raises_with_the_best_image(monkeypatch):
    from neuralstyle.core.evaluator import Evaluator

    step, calls = Evaluator.step, []

    def failing(self, image):
        calls.append(1)
        parts, gradient = step(self, image)
        return (parts * np.nan, gradient) if len(calls) > 6 else (parts, gradient)

    monkeypatch.setattr(Evaluator, "step", failing)
    with pytest.raises(neuralstyle.NonFiniteLossError, match="loss became nan") as raised:
        neuralstyle.transfer(PHOTO, PAINTING, size=48, iterations=30)
    result = raised.value.result
    assert result.image.shape == (36, 48, 3) and result.stopped == "error" and result.iterations >= 1
    assert np.isfinite(result.loss["total"])


def test_paths_pil_images_and_arrays_are_one_image_to_the_api():
    from PIL import Image

    from neuralstyle.core.images import to_rgb

    from_path = to_rgb(PHOTO)
    from_pil = to_rgb(Image.open(PHOTO))
    from_array = to_rgb(np.asarray(Image.open(PHOTO)))
    assert np.array_equal(from_path.rgb, from_pil.rgb) and np.array_equal(from_path.rgb, from_array.rgb)
    with pytest.raises(neuralstyle.core.images.ImageError, match="missing.png"):
        to_rgb(SAMPLES / "missing.png")


def test_a_stylizer_builds_its_network_once_for_many_transfers(monkeypatch):
    from neuralstyle.core import model, stages

    stages.clear_caches()
    built = []
    original = model.FeatureModel.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(model.FeatureModel, "__init__", counting)
    stylizer = neuralstyle.Stylizer(precision="float32", device="cpu")
    first = stylizer.transfer(PHOTO, PAINTING, size=48, iterations=3)
    second = stylizer.transfer(SAMPLES / "photo2.png", PAINTING, size=48, iterations=3)
    assert len(built) == 1
    assert first.image.shape == (36, 48, 3) and second.image.shape == (32, 48, 3)
    assert first.settings["device"] == second.settings["device"] == "cpu"
    assert "vgg19" in repr(stylizer)


def test_a_type_checker_sees_what_the_public_functions_take_and_return(tmp_path):
    pytest.importorskip("mypy")
    example = tmp_path / "example.py"
    example.write_text(textwrap.dedent("""
        import neuralstyle

        result = neuralstyle.transfer("photo.png", "painting.png", size=256)
        reveal_type(result)
        reveal_type(result.image)
        reveal_type(neuralstyle.Stylizer().transfer)
        neuralstyle.transfer("photo.png", "painting.png", sise=256)
    """))
    checked = subprocess.run([sys.executable, "-m", "mypy", "--follow-imports=silent", "--ignore-missing-imports",
                              "--no-error-summary", "--cache-dir", str(tmp_path / "cache"), str(example)],
                             capture_output=True, text=True, timeout=600)
    lines = checked.stdout.splitlines()
    assert any('Revealed type is "neuralstyle.core.stages.Result"' in line for line in lines), checked.stdout
    assert any("numpy" in line and "ndarray" in line for line in lines if "Revealed type" in line), checked.stdout
    assert any('Unexpected keyword argument "sise"' in line for line in lines), checked.stdout


def test_several_content_layers_hold_the_photo_at_each_of_them():
    from neuralstyle.core.images import resize, to_rgb
    from neuralstyle.core.stages import cached_feature_model
    from neuralstyle.core.targets import image_features

    common = dict(size=64, iterations=25, precision="float32", content_weight=20, balance="fixed")
    one = neuralstyle.transfer(PHOTO, PAINTING, **common)
    two = neuralstyle.transfer(PHOTO, PAINTING, content_layer="block4_conv2,conv2_2", **common)
    assert two.settings["content_layer"] == "block4_conv2,block2_conv2"
    model = cached_feature_model(["block2_conv2"], "vgg19", "auto", "max", "float32", "cpu")
    photo = resize(to_rgb(PHOTO), 64, 48).rgb

    def distance(image):
        ours, theirs = (image_features(model, picture)["block2_conv2"] for picture in (image.astype(np.float32), photo))
        return float(np.mean(np.square(ours - theirs)) / np.mean(np.square(theirs)))

    assert distance(two.image) < 0.8 * distance(one.image)


def test_each_style_image_may_have_its_own_size():
    result = neuralstyle.transfer(PHOTO, [PAINTING, SAMPLES / "portrait.png"], size=64, iterations=2,
                                  style_scale=[1.0, 0.5])
    assert result.settings["style_scale"] == [1.0, 0.5]
    assert result.settings["style_sizes"] == [[[64, 64], [25, 32]]]  # the portrait (402x512) at half the output
    with pytest.raises(neuralstyle.core.settings.SettingError, match="one for all, or one per style"):
        neuralstyle.transfer(PHOTO, PAINTING, size=64, iterations=2, style_scale=[1.0, 0.5])
