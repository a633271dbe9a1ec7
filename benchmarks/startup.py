"""Where a cold `neuralstyle transfer` spends its first seconds: launch → iteration 1.

    .venv/bin/python benchmarks/startup.py                 # 256 px, 3 runs, a Markdown table
    .venv/bin/python benchmarks/startup.py --size 384 --runs 5

Each run is a new process of the real CLI (`neuralstyle transfer … --iterations 1`)
started through this script's `--probe` mode, which wraps the pipeline's steps
with timers (nothing in neuralstyle knows it is watched) and reports, relative
to the moment the parent launched the process, when each step started and
ended. Steps may overlap (the Keras import runs beside the checks). The table
gives the median over runs of each start and end, and the median time to the
iteration-1 callback, the issue's figure. The whole process's wall time (it also
writes the image, the record and the GIF, and tears TensorFlow down) is given
beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"
CONTENT, STYLE = SHARED / "tubingen.jpg", SHARED / "starry_night.jpg"

# (module, attribute) of each step the probe times, in the order a run reaches them.
STEPS = [
    ("neuralstyle.jobs.inputs", "read_inputs", "read and check the images"),
    ("neuralstyle.jobs.pipeline", "plan_memory", "plan memory"),
    ("neuralstyle.jobs.pipeline", "resolve_weights", "find and decode the weights"),
    ("neuralstyle.jobs.preload", "load", "wait for the Keras import"),
    ("neuralstyle.jobs.pipeline", "device_lines", "import Keras/TensorFlow (or its end)"),
    ("neuralstyle.core.synthesis", "cached_feature_model", "build VGG19 and set its weights"),
    ("neuralstyle.core.synthesis", "measure_raw_energies", "balance 'raw''s measure: the photo's and painting's passes"),
    ("neuralstyle.core.synthesis", "image_features", "VGG pass of a target image"),
    ("neuralstyle.core.synthesis", "blended_style_grams", "style targets (Grams)"),
    ("neuralstyle.core.stages", "Evaluator", "build the Evaluator"),
]


def probe(argv: list[str]) -> None:
    """Run the CLI in this process with timers on STEPS; print the timeline as JSON on fd 3."""
    launched = float(os.environ["STARTUP_T0"])
    now = lambda: time.time() - launched  # noqa: E731
    events: list[tuple[str, float, float]] = [("python start → probe running", 0.0, now())]
    lock = threading.Lock()

    def timed(label, function):
        def wrapper(*args, **kwargs):
            start = now()
            try:
                return function(*args, **kwargs)
            finally:
                with lock:
                    events.append((label, start, now()))
        return wrapper

    start = now()
    from neuralstyle.cli.main import main as cli_main
    from neuralstyle.cli.terminal import ProgressDisplay

    events.append(("import neuralstyle.cli (typer, rich, numpy, PIL)", start, now()))
    patched = set()

    def patch_loaded():
        for module_name, attribute, label in STEPS:
            module = sys.modules.get(module_name)
            if module is not None and (module_name, attribute) not in patched and hasattr(module, attribute):
                setattr(module, attribute, timed(label, getattr(module, attribute)))
                patched.add((module_name, attribute))

    patch_loaded()
    original_display_call = ProgressDisplay.__call__

    def on_progress(self, progress):
        if progress.iteration <= 1:
            with lock:
                events.append((f"iteration {progress.iteration} callback", now(), now()))
        return original_display_call(self, progress)

    ProgressDisplay.__call__ = on_progress
    # Modules the run imports later (synthesis, stages, evaluator) are patched as soon as they appear.
    stop = threading.Event()

    def keep_patching():
        while not stop.is_set():
            patch_loaded()
            time.sleep(0.005)

    watcher = threading.Thread(target=keep_patching, daemon=True)
    watcher.start()
    try:
        cli_main(argv)  # the console entry point itself, so the process also exits as the CLI's does
    finally:
        stop.set()
        with os.fdopen(int(os.environ["STARTUP_FD"]), "w") as out:
            json.dump(events, out)


def run_once(size: int, work: Path, extra: list[str]) -> tuple[list, float]:
    read, write = os.pipe()
    command = [sys.executable, __file__, "--probe", "transfer", str(CONTENT), str(STYLE), "-o",
               str(work / "startup.png"), "--size", str(size), "--iterations", "1", "--overwrite", *extra]
    errors = tempfile.TemporaryFile("w+")
    launched = time.time()
    process = subprocess.Popen(command, pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=errors,
                               env={**os.environ, "STARTUP_T0": repr(launched), "STARTUP_FD": str(write)})
    os.close(write)
    with os.fdopen(read) as pipe:
        report = pipe.read()
    if process.wait() != 0 or not report:
        errors.seek(0)
        raise SystemExit(f"{' '.join(command)} failed (exit {process.returncode}):\n{errors.read()[-2000:]}")
    events = json.loads(report)
    return events, time.time() - launched


def first_iteration_seconds(size: int, runs: int, extra: tuple[str, ...] = ()) -> list[float]:
    """Seconds from launch to the iteration-1 callback of `runs` cold transfers."""
    with tempfile.TemporaryDirectory() as folder:
        return [next(start for label, start, _ in events if label == "iteration 1 callback")
                for events, _ in (run_once(size, Path(folder), list(extra)) for _ in range(runs))]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--probe":
        probe(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="more CLI options, after --")
    args = parser.parse_args()
    from neuralstyle.core.hardware import flags_line

    commit = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h"], capture_output=True, text=True).stdout
    print(f"start-up of `neuralstyle transfer --size {args.size} --iterations 1 {' '.join(args.extra)}`, "
          f"{args.runs} cold runs; CPU flags {flags_line()}; {os.cpu_count()} cores; commit {commit.strip()}\n")
    with tempfile.TemporaryDirectory() as folder:
        runs = [run_once(args.size, Path(folder), args.extra) for _ in range(args.runs)]
    spans: dict[str, list[tuple[float, float]]] = {}
    for events, _ in runs:
        seen: dict[str, tuple[float, float]] = {}
        for label, start, end in events:  # a step that runs twice counts from its first start to its last end
            first = seen.get(label, (start, end))
            seen[label] = (min(first[0], start), max(first[1], end))
        for label, span in seen.items():
            spans.setdefault(label, []).append(span)
    print("| step | starts at | ends at | takes |")
    print("|---|---|---|---|")
    for label, values in sorted(spans.items(), key=lambda item: statistics.median(s for s, _ in item[1])):
        start, end = statistics.median(s for s, _ in values), statistics.median(e for _, e in values)
        print(f"| {label} | {start:.2f} s | {end:.2f} s | {statistics.median(e - s for s, e in values):.2f} s |")
    first_iteration = spans.get("iteration 1 callback", [(float("nan"), float("nan"))])
    whole = statistics.median(seconds for _, seconds in runs)
    print(f"\nlaunch → iteration-1 callback: median {statistics.median(s for s, _ in first_iteration):.2f} s "
          f"(runs: {', '.join(f'{s:.2f}' for s, _ in first_iteration)}); whole process {whole:.2f} s")


if __name__ == "__main__":
    main()
