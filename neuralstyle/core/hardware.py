"""What this machine's CPU can do, read from /proc/cpuinfo (pure Python: no TensorFlow).

`precision='auto'` runs in bfloat16 only where the hardware has native
bfloat16 arithmetic and the backend's kernels use it; elsewhere bfloat16 is
emulated or no faster than float32 (benchmarks/README.md).
"""

from __future__ import annotations

import functools

# CPU flags of native bfloat16 arithmetic: AVX-512 BF16 (AMD Zen 4, Intel Cooper Lake on), Intel AMX.
NATIVE_BFLOAT16_FLAGS = ("amx_bf16", "avx512_bf16")


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The first CPU's feature flags (empty where /proc/cpuinfo cannot be read)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return frozenset(next((line.split(":", 1)[1].split() for line in cpuinfo if line.startswith("flags")), []))
    except OSError:
        return frozenset()


# The flags that decide VGG's speed on a CPU; every measured figure names them beside it.
PERFORMANCE_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


def flags_line() -> str:
    """Which of PERFORMANCE_FLAGS this CPU has, e.g. 'avx2 avx512f avx512_bf16 (no amx_bf16)'."""
    flags = cpu_flags()
    have = [flag for flag in PERFORMANCE_FLAGS if flag in flags]
    lack = [flag for flag in PERFORMANCE_FLAGS if flag not in flags]
    return " ".join(have) + (f" (no {', '.join(lack)})" if lack else "") if flags else "unknown"


def native_bfloat16_flag() -> str | None:
    """The CPU flag that shows native bfloat16 arithmetic, or None."""
    return next((flag for flag in NATIVE_BFLOAT16_FLAGS if flag in cpu_flags()), None)


# The Keras backends whose CPU kernels (oneDNN) run bfloat16 natively. JAX's CPU
# compiler ran it no faster than float32 on an avx512_bf16 CPU (benchmarks/README.md).
CPU_BFLOAT16_BACKENDS = ("tensorflow", "torch")


def auto_precision(gpu_bfloat16: bool | None, backend: str = "tensorflow") -> tuple[str, str]:
    """What precision 'auto' means here, and why, in words. `gpu_bfloat16` is
    whether the GPU the run takes computes in bfloat16 natively (None: no GPU);
    `backend` is the Keras backend."""
    if gpu_bfloat16 is not None:
        return ("bfloat16", "the GPU computes in bfloat16 natively") if gpu_bfloat16 else \
            ("float32", "the GPU has no native bfloat16")
    flag = native_bfloat16_flag()
    if flag is None:
        return "float32", "this CPU has no native bfloat16, neither avx512_bf16 nor amx_bf16"
    if backend not in CPU_BFLOAT16_BACKENDS:
        return "float32", f"this CPU has native bfloat16 (flag {flag}), but the {backend} backend runs it no faster"
    return "bfloat16", f"this CPU has native bfloat16, flag {flag}"
