"""The one place that imports the Keras backend, quietly.

TensorFlow is the default backend: the `Evaluator` takes its gradient with
``tf.GradientTape`` in a compiled ``tf.function``. ``KERAS_BACKEND=torch`` or
``KERAS_BACKEND=jax`` runs the same VGG model and the same ``keras.ops``
losses on PyTorch (autograd) or JAX (``jax.value_and_grad`` under ``jit``),
for machines that have a GPU build of one of those and not of TensorFlow.
The backend is Keras's, chosen once per process, before Keras is imported.

TensorFlow prints oneDNN and absl notices to stderr on import; those bury the
one-line messages the CLI promises, so its C++ logging is turned down before
the import (a user's own TF_CPP_MIN_LOG_LEVEL wins).
"""

import functools
import os

from .hardware import auto_precision, cpu_flags
from .settings import BACKENDS, FIGURE_PRECISION, FIGURES

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402

BACKEND = keras.backend.backend()
if BACKEND not in BACKENDS:
    raise ImportError(f"Keras backend {BACKEND!r} cannot take gradients for neuralstyle; "
                      f"set KERAS_BACKEND to one of {', '.join(BACKENDS)}")
if BACKEND == "tensorflow":
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
else:
    tf = None


def backend_version() -> str:
    """The version of the library under Keras, e.g. '2.21.0' for TensorFlow."""
    import importlib

    return importlib.import_module(BACKEND).__version__


def describe_device() -> str:
    """The device the gradient steps run on, in words, e.g. 'GPU (NVIDIA H100)' or
    'CPU (2 cores, AVX2)'; with a backend other than TensorFlow, e.g. 'GPU (NVIDIA H100), Keras backend torch'."""
    gpu = _gpu_name()
    device = f"GPU ({gpu})" if gpu else f"CPU ({os.cpu_count()} cores, {cpu_vector_extensions()})"
    return device if BACKEND == "tensorflow" else f"{device}, Keras backend {BACKEND}"


def faster_backend_tip() -> str | None:
    """One line for a TensorFlow run on a CPU without AVX-512, where TensorFlow's
    convolutions are slow and the torch backend is faster (benchmarks/README.md);
    None elsewhere."""
    if BACKEND != "tensorflow" or _gpu_name() or cpu_vector_extensions() not in ("AVX2", "SSE"):
        return None
    import importlib.util

    how = ("set KERAS_BACKEND=torch" if importlib.util.find_spec("torch")
           else "install the torch extra and set KERAS_BACKEND=torch")
    return f"tip: this CPU has no AVX-512, where the torch backend is faster than TensorFlow (docs: backends.md): {how}"


@functools.cache  # the devices do not change within a process; each run asks more than once
def _gpu_name() -> str | None:
    if BACKEND == "tensorflow":
        gpus = tf.config.list_physical_devices("GPU")
        return tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name) if gpus else None
    if BACKEND == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    import jax

    device = jax.devices()[0]
    return device.device_kind if device.platform == "gpu" else None


def cpu_vector_extensions() -> str:
    """The widest vector instructions this CPU has that matter for VGG on the CPU."""
    flags = cpu_flags()
    if not flags:
        return "unknown"
    for flag, label in (("amx_bf16", "AMX-BF16"), ("avx512_bf16", "AVX-512 BF16"), ("avx512f", "AVX-512"), ("avx2", "AVX2")):
        if flag in flags:
            return label
    return "SSE"


def resolve_precision(precision: str, mode: str = "transfer") -> tuple[str, str | None]:
    """The precision a run of `mode` computes in, and for 'auto' why (else None):
    bfloat16 where the device the run takes has native bfloat16, float32
    elsewhere, for reconstructions, which match features more closely than
    bfloat16's 8-bit mantissa can hold (their loss stalls at its rounding),
    and for the paper's figures (settings.FIGURE_PRECISION)."""
    if precision != "auto":
        return precision, None
    if mode in ("content", "style"):
        return "float32", "a reconstruction matches features beyond bfloat16's resolution"
    if mode in FIGURES:
        return FIGURE_PRECISION, "the paper's figures are the same picture on every machine"
    return auto_precision(_gpu_bfloat16() if _gpu_name() else None, BACKEND)


def _gpu_bfloat16() -> bool:
    """Whether the GPU computes in bfloat16 natively (NVIDIA compute capability 8.0, Ampere, on)."""
    if BACKEND == "torch":
        import torch

        return bool(torch.cuda.is_bf16_supported())
    if BACKEND == "tensorflow":
        capability = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0]).get(
            "compute_capability", (0, 0))
    else:
        import jax

        try:  # "9.0" on NVIDIA; other GPUs name theirs otherwise (ROCm: "gfx90a"), and get float32
            capability = tuple(int(part) for part in str(getattr(jax.devices()[0], "compute_capability", "0")).split("."))
        except ValueError:
            return False
    return tuple(capability) >= (8, 0)
