"""What this machine's CPU can do, read from /proc/cpuinfo (pure Python: no TensorFlow),
how many of its cores this process may use (`cpu_limit`), and where its cgroups
are (`cgroup_folders`; `neuralstyle.core.memory` reads their memory limits).

`precision='auto'` runs in bfloat16 only where the hardware has native
bfloat16 arithmetic and the backend's kernels use it; elsewhere bfloat16 is
emulated or no faster than float32 (benchmarks/README.md).
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path

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


# --- the cores this process may use; a container's limits (cgroups) ---------------------------------

# Where this process's cgroup limits are read (tests point these at a fake tree).
PROC_ROOT = Path("/proc")
CGROUP_ROOT = Path("/sys/fs/cgroup")


def read_text(path: Path) -> str:
    """A small system file's text, stripped; "" where it cannot be read."""
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def cgroup_folders(controller: str, proc_root: Path | None = None,
                   cgroup_root: Path | None = None) -> list[tuple[int, Path]]:
    """The folders of this process's cgroup for `controller` ('memory', 'cpu'),
    each as (cgroup version, folder), innermost first, then each parent up to the
    hierarchy's root (a limit set on a parent bounds its children too). Read
    from ``/proc/self/cgroup``: a v2 line ``0::/path`` is under `cgroup_root`,
    a v1 line ``N:memory:/path`` under `cgroup_root`/memory. Where a container
    shows a path that is not mounted inside it, its own cgroup is the mount's root."""
    proc_root = PROC_ROOT if proc_root is None else Path(proc_root)
    cgroup_root = CGROUP_ROOT if cgroup_root is None else Path(cgroup_root)
    text = read_text(proc_root / "self" / "cgroup")
    found: list[tuple[int, Path]] = []
    for line in text.splitlines():
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if number == "0" and controllers == "":  # v2's unified tree; in the hybrid layout it is at unified/
            version, mounts = 2, [mount for mount in (cgroup_root, cgroup_root / "unified")
                                  if (mount / "cgroup.controllers").is_file()]
        elif controller in controllers.split(","):
            version, mounts = 1, [cgroup_root / controller, cgroup_root / controllers]
        else:
            continue
        mount = next((mount for mount in mounts if mount.is_dir()), None)
        if mount is None:
            continue
        parts = [part for part in path.strip().split("/") if part]
        folder = mount.joinpath(*parts) if parts and ".." not in parts else mount
        if not folder.is_dir():
            folder = mount
        while True:
            found.append((version, folder))
            if folder == mount:
                break
            folder = folder.parent
    return found


def cgroup_cpu_quota(proc_root: Path | None = None, cgroup_root: Path | None = None) -> int | None:
    """The CPUs this process's cgroups allow, rounded up: the smallest quota / period
    over its cpu cgroups and their parents (v2 ``cpu.max`` "150000 100000" is 2;
    v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``); None where none sets a quota."""
    quotas = []
    for version, folder in cgroup_folders("cpu", proc_root, cgroup_root):
        if version == 2:
            quota, _, period = read_text(folder / "cpu.max").partition(" ")
        else:
            quota, period = read_text(folder / "cpu.cfs_quota_us"), read_text(folder / "cpu.cfs_period_us")
        if quota.isdigit() and period.strip().isdigit() and int(quota) > 0 and int(period) > 0:
            quotas.append(math.ceil(int(quota) / int(period)))  # "max" (v2) and -1 (v1): no quota
    return min(quotas, default=None)


def cpu_limit(proc_root: Path | None = None, cgroup_root: Path | None = None) -> int:
    """The cores this process may keep busy: the fewest of the machine's
    (os.cpu_count), those it may run on (its CPU affinity, e.g. taskset or a
    container's cpuset) and its cgroups' CPU quota (a container's --cpus), at least 1."""
    counts = [os.cpu_count() or 1]
    try:
        counts.append(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        pass
    quota = cgroup_cpu_quota(proc_root, cgroup_root)
    if quota is not None:
        counts.append(quota)
    return max(1, min(counts))
