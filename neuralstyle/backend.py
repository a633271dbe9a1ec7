"""The one place that imports TensorFlow and Keras, quietly.

TensorFlow prints oneDNN and absl notices to stderr on import; those bury the
one-line messages the CLI promises, so its C++ logging is turned down before
the import (a user's own TF_CPP_MIN_LOG_LEVEL wins).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

tf.get_logger().setLevel("ERROR")


def describe_device() -> str:
    """The device the gradient steps run on, in words, e.g. 'GPU (NVIDIA H100)' or
    'CPU (2 cores, AVX2)'."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU ({details.get('device_name', gpus[0].name)})"
    return f"CPU ({os.cpu_count()} cores, {cpu_vector_extensions()})"


def cpu_vector_extensions() -> str:
    """The widest vector instructions this CPU has that matter for VGG on the CPU."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = next((line.split(":", 1)[1].split() for line in cpuinfo if line.startswith("flags")), [])
    except OSError:
        return "unknown"
    for flag, label in (("amx_bf16", "AMX-BF16"), ("avx512_bf16", "AVX-512 BF16"), ("avx512f", "AVX-512"), ("avx2", "AVX2")):
        if flag in flags:
            return label
    return "SSE"
