"""neuralstyle's performance figures, in one Markdown table.

    .venv/bin/python benchmarks/run.py                     # everything at 512 px, 100 iterations (slow on CPUs)
    .venv/bin/python benchmarks/run.py --size 256 --iterations 30 --repeats 1
    .venv/bin/python benchmarks/run.py --only overhead,memory

Rows (every ratio is measured within this run; these machines are noisy):
* overhead — seconds per Evaluator call ÷ one bare forward+backward pass of the
  truncated VGG19 (benchmarks/evaluator_overhead.py), at size/2 and size.
* peer — wall time of a whole `neuralstyle transfer` ÷ that of pastiche 1.6.0
  (PyTorch, CPU), same layers, size and iterations, run in alternation
  `--repeats` times each, median ratio. pastiche lives in its own virtual
  environment, benchmarks/.peer-venv (torch==2.13.0 and pastiche --no-deps),
  made on first use.
* precision — bfloat16 against float32 (benchmarks/precision.py): the step, a
  whole transfer, and the two results judged by benchmarks/judge.py.
* startup — a cold `transfer`'s process launch to its iteration-1 callback
  (benchmarks/startup.py prints where each second goes).
* memory — peak resident memory of a transfer at size and 2×size (a few
  iterations), against the estimate the CLI prints.
* batch — images per minute of `transfer FOLDER` with 3 content images.
* backends — seconds per evaluation of the same transfer on each installed
  Keras backend (KERAS_BACKEND=jax, torch) against TensorFlow's.
* throughput — one bare VGG19 forward+backward pass on each installed Keras
  backend and in pastiche's PyTorch, in GFLOP/s against the best float32
  matrix multiply of this machine (benchmarks/vgg_throughput.py), and the rate
  that the peer target would take: whether 0.6× pastiche is reachable here.
* GPU — 500 iterations at 512 px, measured only where the Keras backend sees a
  GPU. On a machine with PyTorch or JAX's CUDA build and no TensorFlow GPU
  build: KERAS_BACKEND=torch .venv/bin/python benchmarks/run.py --only gpu
Reads ../shared/images.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"
CONTENT, STYLE = SHARED / "tubingen.jpg", SHARED / "starry_night.jpg"
PEER_VENV = ROOT / "benchmarks" / ".peer-venv"
NEURALSTYLE = [sys.executable, "-m", "neuralstyle"]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def peak_memory_bytes(command: list[str]) -> float:
    """Peak RSS of `command`, measured from a fresh wrapper so no other child counts."""
    wrapper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
               "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    output = subprocess.run([sys.executable, "-c", wrapper, *command], check=True, capture_output=True, text=True)
    return float(output.stdout.strip()) * 1024  # Linux reports KiB


def transfer_command(out: Path, size: int, iterations: int, *extra: str) -> list[str]:
    return [*NEURALSTYLE, "transfer", str(CONTENT), str(STYLE), "-o", str(out), "--size", str(size),
            "--iterations", str(iterations), "--quiet", "--overwrite", *extra]


def overhead_rows(size: int, repeats: int) -> list[tuple]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from evaluator_overhead import measure

    from neuralstyle.core import images, settings
    from neuralstyle.core.model import FeatureModel

    feature_model = FeatureModel([settings.CONTENT_LAYER, *settings.STYLE_LAYERS], weights="imagenet-q8")
    content, style = images.to_rgb(images.read_image(CONTENT)), images.to_rgb(images.read_image(STYLE))
    rows = []
    for side in (size // 2, size):
        sized = images.resize_max_side(content, side)
        bare, call, ratio = measure(feature_model, sized, images.resize_max_side(style, side), max(repeats, 3))
        rows.append((f"Evaluator call ÷ bare VGG19 fwd+bwd, {sized.width}x{sized.height}, median of "
                     f"{max(repeats, 3)} alternated pairs", f"{call:.3f} s ÷ {bare:.3f} s", f"{ratio:.2f}", "≤ 1.10",
                     ratio <= 1.10))
    return rows


def ensure_peer() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not (python.exists() and subprocess.run([python, "-c", "import numpy, torch, pastiche"],
                                               capture_output=True).returncode == 0):
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        # numpy: only benchmarks/vgg_throughput.py --pastiche needs it, pastiche does not
        subprocess.run([python, "-m", "pip", "install", "--quiet", "torch==2.13.0", "pillow", "numpy"], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "pastiche==1.6.0"], check=True)
    return python


def peer_rows(size: int, iterations: int, repeats: int, work: Path) -> list[tuple]:
    python = ensure_peer()
    peer = [str(python), "-m", "pastiche", "--device", "cpu", "--no-verbose", "--size", str(size),
            "--style-size", str(size), "--num-steps", str(iterations), "--content", str(CONTENT),
            "--styles", str(STYLE), "--output", str(work / "pastiche.png")]
    ours = transfer_command(work / "ours.png", size, iterations)
    ratios, our_times, peer_times = [], [], []
    for _ in range(repeats):  # in alternation, so that drifts in machine speed hit both
        our_times.append(timed(ours))
        peer_times.append(timed(peer))
        ratios.append(our_times[-1] / peer_times[-1])
    ratio = statistics.median(ratios)
    from neuralstyle.core.backend import BACKEND

    return [(f"{iterations}-iteration transfer at {size} px, wall time ÷ pastiche 1.6.0 (torch CPU), "
             f"{'' if BACKEND == 'tensorflow' else f'neuralstyle on Keras backend {BACKEND}, '}median of {repeats}", f"{statistics.median(our_times):.1f} s ÷ {statistics.median(peer_times):.1f} s",
             f"{ratio:.2f}", "≤ 0.6", ratio <= 0.6)]


def precision_rows(size: int, iterations: int, repeats: int) -> list[tuple]:
    """bfloat16 against float32: the step, the whole run, the judged picture (benchmarks/precision.py)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from precision import rows

    return rows(size, iterations, repeats)


def startup_rows(size: int, repeats: int) -> list[tuple]:
    """Process launch to the iteration-1 callback of a cold `transfer` (benchmarks/startup.py has the breakdown)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from startup import first_iteration_seconds

    seconds = first_iteration_seconds(size, max(repeats, 3))
    median = statistics.median(seconds)
    return [(f"cold start at {size} px: launch → iteration-1 callback, median of {len(seconds)} "
             f"(runs {', '.join(f'{value:.2f}' for value in seconds)})", f"{median:.2f} s", "–", "≤ 4.5 s",
             median <= 4.5)]


def memory_rows(size: int, work: Path) -> list[tuple]:
    from neuralstyle.core import settings
    from neuralstyle.core.images import fit_size
    from neuralstyle.core.memory import plan_memory

    limits = {512: 2.5e9, 1024: 6e9}  # the targets exist for these sizes
    rows = []
    for side in (size, 2 * size):
        peak = peak_memory_bytes(transfer_command(work / f"memory{side}.png", side, 3))
        width, height = fit_size(1024, 768, side)
        estimate = plan_memory(settings.MODEL, [settings.CONTENT_LAYER, *settings.STYLE_LAYERS], [(width, height)],
                               input_pixels=2 * 1024 * 768).need
        limit = limits.get(side)
        rows.append((f"peak memory of a {width}x{height} transfer", f"{peak / 1e9:.2f} GB",
                     f"estimate {estimate / 1e9:.2f} GB", f"≤ {limit / 1e9:.1f} GB" if limit else "report",
                     None if limit is None else peak <= limit))
    return rows


def batch_rows(size: int, iterations: int, work: Path) -> list[tuple]:
    folder = work / "batch"
    folder.mkdir()
    for name in ("tubingen.jpg", "golden_gate.jpg", "tubingen.jpg"):
        target = folder / name if not (folder / name).exists() else folder / f"again_{name}"
        target.write_bytes((SHARED / name).read_bytes())
    seconds = timed([*NEURALSTYLE, "transfer", str(folder), str(STYLE), "-o", str(work / "batch_out"), "--size",
                     str(size), "--iterations", str(iterations), "--quiet"])
    per_minute = 3 / (seconds / 60)
    return [(f"batch: 3 content images at {size} px, {iterations} iterations each", f"{seconds:.0f} s",
             f"{per_minute:.2f} images/min", "report", None)]


def backend_rows(size: int, iterations: int, work: Path) -> list[tuple]:
    """The same transfer on each installed Keras backend (KERAS_BACKEND), as the CLI runs it:
    seconds per evaluation after the first iteration (the compiled step's cost), from the run record."""
    import importlib.util
    import json
    import os

    per_evaluation, losses = {}, {}
    for backend in ("tensorflow", "jax", "torch"):
        if importlib.util.find_spec(backend) is None:
            continue
        out = work / f"backend_{backend}.png"
        subprocess.run(transfer_command(out, size, iterations), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env={**os.environ, "KERAS_BACKEND": backend})
        history = json.loads(out.with_suffix(".json").read_text())["history"]
        first, last = history[1], history[-1]
        per_evaluation[backend] = (last["elapsed"] - first["elapsed"]) / (last["evaluations"] - first["evaluations"])
        losses[backend] = last["total"]
    reference = per_evaluation["tensorflow"]
    return [(f"Keras backend {backend}: seconds per evaluation in a {iterations}-iteration transfer at {size} px "
             f"(÷ tensorflow's; final loss {losses[backend]:.4g})",
             f"{seconds:.3f} s ÷ {reference:.3f} s", f"{seconds / reference:.2f}", "report", None)
            for backend, seconds in per_evaluation.items() if backend != "tensorflow"]


def throughput_rows(size: int, repeats: int) -> list[tuple]:
    """Each backend's and pastiche's bare VGG pass, in alternation `repeats` times, medians."""
    import importlib.util
    import json
    import os

    script = [str(ROOT / "benchmarks" / "vgg_throughput.py"), "--size", str(size)]
    commands = {backend: ([sys.executable, *script], {**os.environ, "KERAS_BACKEND": backend})
                for backend in ("tensorflow", "jax", "torch") if importlib.util.find_spec(backend)}
    commands["pastiche"] = ([str(ensure_peer()), *script, "--pastiche"], os.environ)
    runs = {name: [] for name in commands}
    for _ in range(repeats):
        for name, (command, environment) in commands.items():
            result = subprocess.run(command, capture_output=True, text=True, env=environment)
            if result.returncode != 0:
                raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
            runs[name].append(json.loads(result.stdout.strip().splitlines()[-1]))
    peak = max(run["matmul_gflops"] for results in runs.values() for run in results)
    first = runs["tensorflow"][0]
    gflop, shape = first["gflop"], f"{first['width']}x{first['height']}"
    rows = [("float32 matrix multiply (2048², best of numpy's BLAS and the frameworks'), this CPU's practical peak",
             f"{peak:.0f} GFLOP/s", "–", "report", None)]
    seconds = {}
    for name, results in runs.items():
        seconds[name] = statistics.median(run["seconds"] for run in results)
        label = results[0]["name"] if name == "pastiche" else f"neuralstyle, Keras backend {name}"
        rows.append((f"bare VGG19 fwd+bwd at {shape} ({gflop:.0f} GFLOP), {label}, median of {repeats}",
                     f"{seconds[name]:.3f} s, {gflop / seconds[name]:.0f} GFLOP/s",
                     f"{gflop / seconds[name] / peak:.2f} of peak", "report", None))
    needed = gflop / (0.6 * seconds["pastiche"])  # one pass per iteration, no line search: the kindest case
    rows.append(("rate that 0.6× pastiche's time per iteration would take (one VGG pass per iteration)",
                 f"{needed:.0f} GFLOP/s ÷ {peak:.0f} GFLOP/s", f"{needed / peak:.2f}", "≤ 1 (reachable here)",
                 needed <= peak))
    return rows


def quality_rows(size: int, repeats: int, work: Path) -> list[tuple]:
    """Time to pastiche's 60-step quality by benchmarks/judge.py, and the equal-iteration ratio, on
    benchmarks/quality.py's pairs at `size` (its default ladder; ratios the median of `repeats`)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from quality import quality_rows as rows

    return rows(size, repeats, work)


def gpu_rows() -> list[tuple]:
    from neuralstyle.core.backend import BACKEND, describe_device

    device = describe_device()
    if not device.startswith("GPU"):
        return [("500 L-BFGS iterations at 512 px on a GPU", f"no GPU visible to Keras's {BACKEND} backend here",
                 "–", "< 10 s", None)]
    from PIL import Image

    from neuralstyle.core.synthesis import transfer

    transfer(Image.open(CONTENT), Image.open(STYLE), size=64, iterations=2)
    start = time.perf_counter()
    transfer(Image.open(CONTENT), Image.open(STYLE), size=512, iterations=500)
    seconds = time.perf_counter() - start
    return [("500 L-BFGS iterations at 512 px on a GPU", f"{seconds:.1f} s", f"{seconds / 10:.2f}", "< 10 s",
             seconds < 10)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="overhead,peer,precision,startup,memory,batch,backends,throughput,quality,gpu")
    args = parser.parse_args()
    chosen = args.only.split(",")

    from neuralstyle.core.backend import BACKEND, backend_version, describe_device, keras

    print(f"machine: {describe_device()}, {platform.machine()}; python {platform.python_version()}, "
          f"{BACKEND} {backend_version()}, keras {keras.__version__}; "
          f"command: benchmarks/run.py {' '.join(sys.argv[1:])}\n")
    print("| figure | measured | ratio | target | met |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        sections = {
            "overhead": lambda: overhead_rows(args.size, args.repeats),
            "peer": lambda: peer_rows(args.size, args.iterations, args.repeats, work),
            "precision": lambda: precision_rows(args.size, args.iterations, args.repeats),
            "startup": lambda: startup_rows(args.size, args.repeats),
            "memory": lambda: memory_rows(args.size, work),
            "batch": lambda: batch_rows(args.size, args.iterations, work),
            "backends": lambda: backend_rows(args.size, args.iterations, work),
            "throughput": lambda: throughput_rows(args.size, args.repeats),
            "quality": lambda: quality_rows(args.size, args.repeats, work),
            "gpu": gpu_rows,
        }
        for name in chosen:
            for figure, measured, ratio, target, met in sections[name]():
                verdict = "–" if met is None else ("yes" if met else "**no**")
                print(f"| {figure} | {measured} | {ratio} | {target} | {verdict} |", flush=True)


if __name__ == "__main__":
    main()
