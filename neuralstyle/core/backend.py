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

import contextlib
import functools
import os
import shutil
import subprocess
from dataclasses import dataclass

from .hardware import auto_precision, cpu_flags, cpu_limit
from .settings import BACKENDS, FIGURE_PRECISION, FIGURES

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
CPUS = cpu_limit()  # the cores this process may use: its affinity and its container's CPU quota
if CPUS < (os.cpu_count() or CPUS):
    # TensorFlow sizes its thread pools by the machine's cores and ignores a container's quota;
    # more threads than the quota gives only queue behind one another (a user's own setting wins).
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(CPUS))

import keras  # noqa: E402

BACKEND = keras.backend.backend()
if BACKEND not in BACKENDS:
    raise ImportError(f"Keras backend {BACKEND!r} cannot take gradients for neuralstyle; "
                      f"set KERAS_BACKEND to one of {', '.join(BACKENDS)}")
if BACKEND == "tensorflow":
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    # One op at a time, each on all the cores: two ops run side by side share the cores by chance, and
    # oneDNN then splits its sums another way, so that an image of 512 px or more differed in its last
    # bits from run to run and `rerun` could not repeat it (a user's own setting wins).
    if "TF_NUM_INTEROP_THREADS" not in os.environ:
        with contextlib.suppress(RuntimeError):  # already initialised by the host program
            tf.config.threading.set_inter_op_parallelism_threads(1)
    # Grappler's arithmetic optimiser regroups chains of additions (the loss's layer terms, the
    # gradient's branches) in an order that differs from trace to trace, so that one run's loss
    # differed from another's in its last bit at the same image, now and then enough to change a
    # line search and the picture. Sums stay in the order the code writes them (a host program's own
    # choice, made before this import, wins).
    if "arithmetic_optimization" not in tf.config.optimizer.get_experimental_options():
        tf.config.optimizer.set_experimental_options({"arithmetic_optimization": False})
    # TensorFlow takes every GPU's whole memory at its first op unless told to grow; growing
    # leaves the rest to other runs and lets the memory plan read what is free.
    for _gpu in tf.config.list_physical_devices("GPU"):
        with contextlib.suppress(RuntimeError, ValueError):  # already initialised by the host program
            tf.config.experimental.set_memory_growth(_gpu, True)
else:
    tf = None
    if BACKEND == "torch" and CPUS < (os.cpu_count() or CPUS):
        import torch

        torch.set_num_threads(CPUS)


class DeviceError(ValueError):
    """A device that this machine or backend does not have."""


@dataclass(frozen=True)
class Device:
    """Where a run computes: 'cpu', or GPU number `index` as the backend counts
    them; `name` says what it is (e.g. 'NVIDIA H100'); `total` and `free` its
    memory in bytes, where the backend can tell (None: unknown)."""

    kind: str
    index: int = 0
    name: str = ""
    total: int | None = None
    free: int | None = None

    @property
    def setting(self) -> str:
        """The value of the `device` setting that names this device ('cpu', 'gpu:0')."""
        return "cpu" if self.kind == "cpu" else f"gpu:{self.index}"

    def describe(self) -> str:
        """e.g. 'GPU 0 (NVIDIA H100, 79.6 GB, 79.1 GB free)' or 'CPU (2 cores, AVX2)'."""
        if self.kind == "cpu":
            text = f"CPU ({CPUS} cores, {cpu_vector_extensions()})"
        else:
            memory = "".join(f", {value / 1e9:.1f} GB{label}" for value, label in ((self.total, ""), (self.free, " free"))
                             if value is not None)
            text = f"GPU {self.index} ({self.name}{memory})"
        return text if BACKEND == "tensorflow" else f"{text}, Keras backend {BACKEND}"


def gpu_count() -> int:
    """How many GPUs the backend sees."""
    if BACKEND == "tensorflow":
        return len(tf.config.list_physical_devices("GPU"))
    if BACKEND == "torch":
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    import jax

    try:
        return len(jax.devices("gpu"))
    except RuntimeError:  # no GPU platform
        return 0


def resolve_device(setting: str = "auto") -> Device:
    """The device a run with ``device=setting`` computes on ('auto': the first GPU
    the backend sees, else the CPU). Raises DeviceError for a GPU that is not there."""
    count = gpu_count()
    if setting == "cpu" or (setting == "auto" and count == 0):
        return Device("cpu")
    index = 0 if setting == "auto" else int(setting.partition(":")[2] or 0)
    if index >= count:
        seen = f"sees {count} GPU(s), numbered from 0" if count else "sees no GPU"
        raise DeviceError(f"device {setting!r}: the {BACKEND} backend {seen}; choose auto or cpu"
                          + (f", or gpu:0 … gpu:{count - 1}" if count else
                             " (a GPU needs the gpu extra, or the CUDA build of torch or jax)"))
    free, total = gpu_memory(index)
    return Device("gpu", index, _gpu_name(index), total, free)


def device_scope(device: Device):
    """A context in which Keras creates the model's weights and runs its steps on `device`."""
    return keras.device("cpu" if device.kind == "cpu" else f"gpu:{device.index}")


def gpu_memory(index: int) -> tuple[int | None, int | None]:
    """(free, total) bytes of GPU `index`, as the backend or the driver reports them; None where neither can."""
    try:
        if BACKEND == "torch":
            import torch

            return tuple(int(value) for value in torch.cuda.mem_get_info(index))
        if BACKEND == "jax":
            import jax

            stats = jax.devices("gpu")[index].memory_stats() or {}
            if "bytes_limit" in stats:
                return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0)), int(stats["bytes_limit"])
    except (RuntimeError, IndexError, AttributeError, ValueError):
        pass
    return _nvidia_smi_memory(index)  # TensorFlow reports use, not capacity: ask the driver


def _nvidia_smi_memory(index: int) -> tuple[int | None, int | None]:
    if shutil.which("nvidia-smi") is None:
        return None, None
    try:
        output = subprocess.run(["nvidia-smi", f"--id={index}", "--query-gpu=memory.free,memory.total",
                                 "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=10).stdout
        free, total = (int(float(part)) * 2**20 for part in output.strip().splitlines()[0].split(","))
        return free, total
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None, None


def backend_version() -> str:
    """The version of the library under Keras, e.g. '2.21.0' for TensorFlow."""
    import importlib

    return importlib.import_module(BACKEND).__version__


def describe_device(setting: str = "auto") -> str:
    """The device a run with ``device=setting`` takes, in words (see `Device.describe`)."""
    return resolve_device(setting).describe()


def faster_backend_tip() -> str | None:
    """One line for a TensorFlow run on a CPU without AVX-512, where TensorFlow's
    convolutions are slow and the torch backend is faster (benchmarks/README.md);
    None elsewhere."""
    if BACKEND != "tensorflow" or gpu_count() or cpu_vector_extensions() not in ("AVX2", "SSE"):
        return None
    import importlib.util

    how = ("set KERAS_BACKEND=torch" if importlib.util.find_spec("torch")
           else "install the torch extra and set KERAS_BACKEND=torch")
    return f"tip: this CPU has no AVX-512, where the torch backend is faster than TensorFlow (docs: backends.md): {how}"


@functools.cache  # the devices do not change within a process; each run asks more than once
def _gpu_name(index: int = 0) -> str | None:
    """The name of GPU `index`, or None where the backend sees no such GPU."""
    if gpu_count() <= index:
        return None
    if BACKEND == "tensorflow":
        gpu = tf.config.list_physical_devices("GPU")[index]
        return tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
    if BACKEND == "torch":
        import torch

        return torch.cuda.get_device_name(index)
    import jax

    return jax.devices("gpu")[index].device_kind


def cpu_vector_extensions() -> str:
    """The widest vector instructions this CPU has that matter for VGG on the CPU."""
    flags = cpu_flags()
    if not flags:
        return "unknown"
    for flag, label in (("amx_bf16", "AMX-BF16"), ("avx512_bf16", "AVX-512 BF16"), ("avx512f", "AVX-512"), ("avx2", "AVX2")):
        if flag in flags:
            return label
    return "SSE"


def resolve_precision(precision: str, mode: str = "transfer", device: str = "auto") -> tuple[str, str | None]:
    """The precision a run of `mode` on `device` computes in, and for 'auto' why (else None):
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
    gpu = resolve_device(device)
    return auto_precision(_gpu_bfloat16(gpu.index) if gpu.kind == "gpu" else None, BACKEND)


def _gpu_bfloat16(index: int = 0) -> bool:
    """Whether GPU `index` computes in bfloat16 natively (NVIDIA compute capability 8.0, Ampere, on)."""
    if BACKEND == "torch":
        import torch

        return torch.cuda.get_device_capability(index) >= (8, 0)
    if BACKEND == "tensorflow":
        capability = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[index]).get(
            "compute_capability", (0, 0))
    else:
        import jax

        try:  # "9.0" on NVIDIA; other GPUs name theirs otherwise (ROCm: "gfx90a"), and get float32
            capability = tuple(int(part) for part in
                               str(getattr(jax.devices("gpu")[index], "compute_capability", "0")).split("."))
        except ValueError:
            return False
    return tuple(capability) >= (8, 0)
