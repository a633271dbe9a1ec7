"""Style transfer timed on whatever device is here: the GPU the Keras backend sees, else the CPU.

Prints one Markdown table (and with --out writes it to a file, under a header
line: date, machine, GPU, backend and versions, command). Rows (--rows):

* lbfgs — L-BFGS, --iterations (500) at --size (512) px, precision 'auto';
* adam — Adam, the same iterations and size;
* large — L-BFGS at --large-size (2 × --size: 1024) px, --large-iterations (200:
  fewer, so that the row fits a short device lease);
* precision — L-BFGS at --size in bfloat16 and in float32, where the device has
  native bfloat16 (a GPU of compute capability 8.0 on, or a CPU with
  avx512_bf16 / amx_bf16); a run already made with the same settings (the lbfgs
  row's 'auto' is one of the two) is not made again.

Columns: seconds per iteration is the median of the per-iteration times read
from the `transfer` callback's timestamps, after the first few iterations
(which compile and warm up); whole run is from the call of `transfer` to its
return (each run builds its VGG model and compiles its step: the process's
model cache is emptied before it; the first run also starts the GPU); whole
process is the time from the interpreter's start (/proc/self/stat) to that
run's return. --quick is a smoke test: 128 px, 3 iterations, large = 256 px.

Images: tubingen.jpg and starry_night.jpg from --images (default
../shared/images beside the clone; scripts/gpu_carry.sh carries them in
.whl/images), else the package's astronaut photo (neuralstyle/data) or
skimage's, and its painting; the table says which.

Here (the project's virtualenv; KERAS_BACKEND=jax or torch for those backends):

    .venv/bin/python benchmarks/gpu.py --quick
    KERAS_BACKEND=torch .venv/bin/python benchmarks/gpu.py --rows lbfgs --iterations 50 --size 256

On a bare GPU machine (Python 3.12, PyTorch and JAX with CUDA, SciPy, NumPy,
Pillow, Typer, Rich, absl-py, h5py, ml-dtypes, packaging, requests,
scikit-image; no TensorFlow, no Keras, no network). Prepare here, once:

    bash scripts/gpu_carry.sh        # .whl/: Keras and the wheels it lacks, the VGG19 weights, 2 images (~23 MiB)

then carry .whl/ with the repository and run, in one call, from the repository root:

    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD NEURALSTYLE_CACHE=$PWD/.whl KERAS_BACKEND=jax && python3 benchmarks/gpu.py --images .whl/images --out $OUT/gpu.md

(KERAS_BACKEND=torch for the torch backend; `--rows lbfgs,adam` for fewer
rows; how long all rows take on a GPU has not been measured.)
NEURALSTYLE_CACHE makes weights='auto' find the 8-bit VGG19 file in .whl/
(neuralstyle.core.weights.find_q8_file). Without KERAS_BACKEND and
without TensorFlow this script picks torch, else jax. It imports no TensorFlow
on the jax and torch paths (tests/test_gpu_benchmark.py checks).
"""

from __future__ import annotations

import time

_TOP_PERF = time.perf_counter()  # before any other import: the process clock below is anchored here

import os  # noqa: E402


def _age_at_top() -> tuple[float, str]:
    """Seconds from the interpreter's start to the top of this script, and how that was read."""
    try:
        with open("/proc/self/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22, starttime, in clock ticks after boot
        with open("/proc/uptime") as uptime:
            now = float(uptime.read().split()[0])
        return max(0.0, now - start_ticks / os.sysconf("SC_CLK_TCK")), "the interpreter's start (/proc/self/stat)"
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return max(0.0, time.time() - psutil.Process().create_time()), "the interpreter's start (psutil)"
    except Exception:  # psutil absent or unable
        return 0.0, "the top of benchmarks/gpu.py (the process start could not be read)"


_AGE_AT_TOP, PROCESS_CLOCK = _age_at_top()


def process_seconds() -> float:
    """Seconds since this interpreter started."""
    return _AGE_AT_TOP + time.perf_counter() - _TOP_PERF


import argparse  # noqa: E402
import datetime  # noqa: E402
import importlib.util  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"
ROWS = ("lbfgs", "adam", "large", "precision")
COLUMNS = ("row", "backend", "device", "size", "optimizer", "precision", "iterations", "s / iteration",
           "whole run s", "whole process s")


def choose_backend() -> None:
    """KERAS_BACKEND as set; unset on a machine without TensorFlow: torch, else jax."""
    if "KERAS_BACKEND" in os.environ or importlib.util.find_spec("tensorflow") is not None:
        return
    for backend in ("torch", "jax"):
        if importlib.util.find_spec(backend) is not None:
            os.environ["KERAS_BACKEND"] = backend
            return


def load_images(folder: Path):
    """(content, style, what they are): Tübingen and The Starry Night from `folder`, else the package's own."""
    from PIL import Image

    content, style = folder / "tubingen.jpg", folder / "starry_night.jpg"
    if content.is_file() and style.is_file():
        return Image.open(content), Image.open(style), f"{content.name} and {style.name} from {folder}"
    from neuralstyle.core import images

    painting = Image.open(images.DEMO_PAINTING)
    photo = getattr(images, "DEMO_PHOTO", None)
    if photo is not None and Path(photo).is_file():
        return Image.open(photo), painting, f"the package's {Path(photo).name} and {images.DEMO_PAINTING.name}"
    try:
        from skimage import data

        return data.astronaut(), painting, f"skimage's astronaut and the package's {images.DEMO_PAINTING.name}"
    except Exception:  # no scikit-image, or its data missing
        return painting, painting, f"the package's {images.DEMO_PAINTING.name} as both content and style (no photo here)"


@dataclass
class Run:
    size: int
    iterations: int
    optimizer: str
    precision: str  # as asked: 'auto', 'float32', 'bfloat16'


@dataclass
class Measured:
    labels: list[str]
    run: Run
    pixels: str  # e.g. "512x384"
    precision: str  # as resolved
    iterations: int
    evaluations: int
    per_iteration: float | None
    skipped: int
    whole_run: float
    whole_process: float
    stopped: str | None
    tiles: bool


def skip_count(iterations: int) -> int:
    """How many first iterations the per-iteration median leaves out (compile, warm-up)."""
    return 3 if iterations > 6 else (1 if iterations > 1 else 0)


def measure(run: Run, content, style) -> Measured:
    from neuralstyle import transfer
    from neuralstyle.core import stages

    # Each run builds its own model and compiles its own step, as a fresh one would.
    stages.clear_caches()
    stamps: list[tuple[int, float]] = []

    def callback(progress) -> None:
        stamps.append((progress.iteration, time.perf_counter()))

    start = time.perf_counter()
    result = transfer(content, style, size=run.size, iterations=run.iterations, optimizer=run.optimizer,
                      precision=run.precision, device="auto", weights="auto", callback=callback)
    whole_run = time.perf_counter() - start
    whole_process = process_seconds()
    steps = [later - earlier for (i, earlier), (j, later) in zip(stamps, stamps[1:]) if j == i + 1]
    skipped = skip_count(len(steps))
    kept = steps[skipped:]
    width, height = result.settings.get("output_size", (None, None))
    tiles = any(item.get("tile") for item in result.settings.get("tiling", []))
    return Measured([], run, f"{width}x{height}", result.settings.get("precision", run.precision), result.iterations,
                    result.evaluations, statistics.median(kept) if kept else None, skipped, whole_run, whole_process,
                    result.stopped, tiles)


def native_bfloat16(device) -> bool:
    """Whether the device a run takes computes in bfloat16 natively."""
    if device.kind == "gpu":
        from neuralstyle.core import backend

        return bool(backend._gpu_bfloat16(device.index))
    from neuralstyle.core.hardware import native_bfloat16_flag

    return native_bfloat16_flag() is not None


def plan(rows: list[str], size: int, iterations: int, large_size: int, large_iterations: int,
         bfloat16: bool) -> list[tuple[str, Run]]:
    planned = []
    if "lbfgs" in rows:
        planned.append((f"L-BFGS {size} px", Run(size, iterations, "lbfgs", "auto")))
    if "adam" in rows:
        planned.append((f"Adam {size} px", Run(size, iterations, "adam", "auto")))
    if "large" in rows:
        planned.append((f"L-BFGS {large_size} px", Run(large_size, large_iterations, "lbfgs", "auto")))
    if "precision" in rows and bfloat16:
        planned.append(("bfloat16 vs float32: bfloat16", Run(size, iterations, "lbfgs", "bfloat16")))
        planned.append(("bfloat16 vs float32: float32", Run(size, iterations, "lbfgs", "float32")))
    return planned


def versions() -> str:
    import numpy
    import scipy

    from neuralstyle.core.backend import BACKEND, backend_version, keras

    extra = ""
    if BACKEND == "torch":
        import torch

        extra = f" (CUDA {torch.version.cuda})" if torch.version.cuda else " (CPU build)"
    elif BACKEND == "jax":
        import jax

        extra = f" (jaxlib {getattr(jax.lib, '__version__', None) or _version('jaxlib')}, platform {jax.default_backend()})"
    return (f"{BACKEND} {backend_version()}{extra}, keras {keras.__version__}, numpy {numpy.__version__}, "
            f"scipy {scipy.__version__}, python {platform.python_version()}")


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def table(measured: list[Measured], backend: str, device: str) -> list[str]:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for item in measured:
        precision = item.precision if item.run.precision != "auto" else f"{item.precision} (auto)"
        iterations = f"{item.iterations}" + (f" (of {item.run.iterations}: {item.stopped})"
                                             if item.stopped and item.iterations < item.run.iterations else "")
        per_iteration = "–" if item.per_iteration is None else f"{item.per_iteration:.4f}"
        size = f"{item.run.size} ({item.pixels}{', tiled' if item.tiles else ''})"
        optimizer = {"lbfgs": "L-BFGS", "adam": "Adam"}[item.run.optimizer]
        cells = ("; ".join(item.labels), backend, device, size, optimizer, precision,
                 f"{iterations}, {item.evaluations} evaluations", per_iteration, f"{item.whole_run:.1f}",
                 f"{item.whole_process:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="px, longest side (default 512)")
    parser.add_argument("--iterations", type=int, default=500, help="for the lbfgs, adam and precision rows (500)")
    parser.add_argument("--large-size", type=int, default=None, help="the large row's size (default 2 x --size)")
    parser.add_argument("--large-iterations", type=int, default=200, help="the large row's iterations (200)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 128 px, 3 iterations, large row 256 px")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, of {', '.join(ROWS)} (all)")
    parser.add_argument("--images", type=Path, default=SHARED,
                        help="a folder with tubingen.jpg and starry_night.jpg (default ../shared/images)")
    parser.add_argument("--out", type=Path, default=None, help="also write the table to this .md file")
    args = parser.parse_args()
    rows = [row.strip() for row in args.rows.split(",") if row.strip()]
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        parser.error(f"unknown rows {', '.join(unknown)}; choose from {', '.join(ROWS)}")
    if args.quick:
        args.size, args.iterations, args.large_iterations = 128, 3, 3
    large_size = args.large_size or 2 * args.size

    choose_backend()
    from neuralstyle.core.backend import BACKEND, resolve_device, resolve_precision
    from neuralstyle.core.hardware import flags_line

    device = resolve_device("auto")
    described = device.describe()
    gpu = device.name if device.kind == "gpu" else "none visible to the backend"
    bfloat16 = native_bfloat16(device)
    content, style, image_note = load_images(args.images)
    command = " ".join(["benchmarks/gpu.py", *map(shlex.quote, sys.argv[1:])])
    header = (f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; machine: {cpu_name()}, {os.cpu_count()} "
              f"cores, {platform.machine()}, CPU flags {flags_line()}; GPU: {gpu}; {versions()}; command: {command}")
    print(header, flush=True)
    print(f"device: {described}; images: {image_note}\n", flush=True)

    measured: dict[tuple, Measured] = {}
    for label, run in plan(rows, args.size, args.iterations, large_size, args.large_iterations, bfloat16):
        # 'auto' is bfloat16 or float32 here: a run with the same settings is not made twice.
        key = (run.size, run.iterations, run.optimizer, resolve_precision(run.precision, "transfer", device.setting)[0])
        if key in measured:
            measured[key].labels.append(label)
            continue
        print(f"running {label}: {run.iterations} iterations, precision {run.precision} …", file=sys.stderr, flush=True)
        measured[key] = measure(run, content, style)
        measured[key].labels.append(label)

    results = list(measured.values())
    lines = table(results, BACKEND, described)
    by_precision = {item.precision: item for item in results
                    if item.run.size == args.size and item.run.optimizer == "lbfgs" and item.run.iterations == args.iterations}
    notes = [f"Seconds per iteration: median of the callback-to-callback times, leaving out the first "
             f"{', '.join(sorted({str(item.skipped) for item in results})) or '0'} iteration(s). Whole run: the "
             f"`transfer` call to its return (model build, weights, targets, compile included; the first run "
             f"also starts the device). Whole process: from {PROCESS_CLOCK} to that run's return.",
             f"Images: {image_note}."]
    if "large" in rows:
        notes.append(f"The {large_size} px row runs {args.large_iterations} iterations, fewer than the others.")
    if "precision" in rows and not bfloat16:
        notes.append(f"bfloat16 vs float32: not measured, {described} has no native bfloat16.")
    elif {"bfloat16", "float32"} <= by_precision.keys():
        fast, slow = by_precision["bfloat16"], by_precision["float32"]
        if fast.per_iteration and slow.per_iteration:
            notes.append(f"bfloat16 vs float32 at {args.size} px: float32 ÷ bfloat16 seconds per iteration "
                         f"{slow.per_iteration / fast.per_iteration:.2f}, whole run {slow.whole_run / fast.whole_run:.2f}.")
    text = "\n".join([*lines, "", *notes])
    print(text, flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"{header}\n\ndevice: {described}\n\n{text}\n")


if __name__ == "__main__":
    main()
