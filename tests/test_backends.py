"""The gradient step on PyTorch and JAX (KERAS_BACKEND=torch|jax): the same losses
and gradients as TensorFlow's, and a whole transfer from the command line.

The backend is chosen once per process, so every run on another backend is a subprocess. These
tests skip when torch or jax is not installed (`.ci/run` installs both)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from sample_images import SAMPLES

OTHER_BACKENDS = [
    pytest.param(name, marks=pytest.mark.skipif(importlib.util.find_spec(name) is None,
                                                reason=f"{name} is not installed (pip install -e '.[{name}]')"))
    for name in ("torch", "jax")
]

# Loss parts and gradient of one Evaluator at one random point: real VGG19 weights,
# The sample photo's content and the painting's style at 64 px, TV on.
ONE_STEP = r"""
import json, sys
import numpy as np
from neuralstyle.core import images
from neuralstyle.core.backend import BACKEND
from neuralstyle.core.synthesis import transfer_evaluator

folder, gradient_file = sys.argv[1], sys.argv[2]
tile = int(sys.argv[3]) if len(sys.argv) > 3 else None
content = images.resize_max_side(images.to_rgb(images.read_image(folder + "/photo.png")), 64)
style = images.resize_max_side(images.to_rgb(images.read_image(folder + "/painting.png")), 64)
evaluator = transfer_evaluator(content, style, size=64, content_weight=1.0, style_weight=100.0, tv_weight=1e-3,
                               tile=tile)
point = np.random.default_rng(0).uniform(0, 255, (content.height, content.width, 3)).astype(np.float32)
_, gradient = evaluator.evaluate(images.preprocess(point).reshape(-1).astype(np.float64))
np.save(gradient_file, gradient)
started = {}
if tile is None:  # the same loss, its content target taken from a first evaluation at the content image
    from neuralstyle.core import settings
    from neuralstyle.core.evaluator import START, Evaluator
    from neuralstyle.core.targets import blended_style_grams

    layers = settings.TRANSFER_STYLE_LAYERS  # what transfer_evaluator weighs by default
    grams = blended_style_grams(evaluator.feature_model, [style], [1.0], layers)
    from_start = Evaluator(evaluator.feature_model, content.height, content.width,
                           content_targets={settings.CONTENT_LAYER: START}, style_targets=grams,
                           style_weight=100.0, style_layer_weights=layers, tv_weight=1e-3)
    from_start.evaluate(images.preprocess(content.rgb).reshape(-1).astype(np.float64))
    _, started_gradient = from_start.evaluate(images.preprocess(point).reshape(-1).astype(np.float64))
    np.save(gradient_file + ".started.npy", started_gradient)
    started = from_start.last.as_dict()
print(json.dumps({"backend": BACKEND, **evaluator.last.as_dict(), "started": started}))
"""


def _env(backend: str) -> dict:
    return {**os.environ, "KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}


def _one_step(backend: str, folder, *tile: str) -> tuple[dict, np.ndarray]:
    gradient_file = folder / f"{backend}{''.join(tile)}.npy"
    result = subprocess.run([sys.executable, "-c", ONE_STEP, str(SAMPLES), str(gradient_file), *tile],
                            env=_env(backend), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), np.load(gradient_file)


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_loss_and_gradient_match_tensorflows(backend, tmp_path):
    reference, reference_gradient = _one_step("tensorflow", tmp_path)
    parts, gradient = _one_step(backend, tmp_path)
    assert reference["backend"] == "tensorflow" and parts["backend"] == backend
    for name in ("total", "content", "style", "tv"):
        assert parts[name] == pytest.approx(reference[name], rel=1e-4), name
    assert reference["content"] > 0.1 and reference["style"] > 0.1 and reference["tv"] > 0  # a real point, not a fixed one
    error = np.linalg.norm(gradient - reference_gradient) / np.linalg.norm(reference_gradient)
    assert error < 1e-4, f"gradient differs from TensorFlow's by {error:.2e} (relative L2)"
    # A run that starts at its content image takes its content target from that first evaluation.
    for result in (reference, parts):
        for name in ("total", "content", "style", "tv"):
            assert result["started"][name] == pytest.approx(reference[name], rel=1e-4), (result["backend"], name)
    started_gradient = np.load(tmp_path / f"{backend}.npy.started.npy")
    error = np.linalg.norm(started_gradient - reference_gradient) / np.linalg.norm(reference_gradient)
    assert error < 1e-4, f"with the target from the start: {error:.2e} (relative L2)"


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_exact_tiles_on_the_backend_give_tensorflows_whole_image_loss_and_gradient(backend, tmp_path):
    reference, reference_gradient = _one_step("tensorflow", tmp_path)
    parts, gradient = _one_step(backend, tmp_path, "32")  # 2x2 tiles: cores cropped and summed on the backend
    for name in ("total", "content", "style", "tv"):
        assert parts[name] == pytest.approx(reference[name], rel=1e-4), name
    error = np.linalg.norm(gradient - reference_gradient) / np.linalg.norm(reference_gradient)
    assert error < 1e-4, f"tiled gradient differs from TensorFlow's whole one by {error:.2e} (relative L2)"


def _transfer(backend: str, output, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "neuralstyle", "transfer", str(SAMPLES / "photo.png"), str(SAMPLES / "painting.png"),
         "-o", str(output), "--size", "64", *options],
        env=_env(backend), capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_transfer_runs_on_the_backend_and_records_it(backend, tmp_path):
    output = tmp_path / "out.png"
    result = _transfer(backend, output, "--iterations", "8")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Keras backend {backend}" in result.stderr  # the device line names the backend
    record = json.loads(output.with_suffix(".json").read_text())
    assert record["versions"]["keras_backend"] == backend and backend in record["versions"]
    history = record["history"]
    assert history[-1]["style"] < 0.5 * history[0]["style"]  # it painted: style loss fell by half or more
    with Image.open(output) as image:
        assert image.size == (64, 48)
        assert np.asarray(image, dtype=np.float32).std() > 20  # not blank


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_adam_runs_on_the_backend(backend, tmp_path):
    output = tmp_path / "adam.png"
    result = _transfer(backend, output, "--iterations", "3", "--optimizer", "adam")
    assert result.returncode == 0, result.stderr[-3000:]
    history = json.loads(output.with_suffix(".json").read_text())["history"]
    assert history[-1]["total"] < history[0]["total"]


def test_an_unknown_backend_is_one_line_and_exit_code_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "neuralstyle", "content", str(SAMPLES / "photo.png"), "-o", str(tmp_path / "out.png")],
        env={**os.environ, "KERAS_BACKEND": "numpy"}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "KERAS_BACKEND is 'numpy'" in lines[0] and "tensorflow, torch, jax" in lines[0]


@pytest.mark.parametrize("vector_extensions, gpu, tip", [
    ("AVX2", None, True),              # TensorFlow's convolutions are slowest here: point at torch
    ("AVX-512 BF16", None, False),
    ("AVX2", "NVIDIA H100", False),
])
def test_a_tensorflow_run_on_a_cpu_without_avx512_is_told_of_the_faster_backend(monkeypatch, vector_extensions, gpu, tip):
    from neuralstyle.core import backend

    monkeypatch.setattr(backend, "cpu_vector_extensions", lambda: vector_extensions)
    monkeypatch.setattr(backend, "gpu_count", lambda: 1 if gpu else 0)
    message = backend.faster_backend_tip()
    if not tip:
        assert message is None
        return
    assert "KERAS_BACKEND=torch" in message and "\n" not in message
    torch_installed = importlib.util.find_spec("torch") is not None
    assert ("install the torch extra" in message) is not torch_installed
