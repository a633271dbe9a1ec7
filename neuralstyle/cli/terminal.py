"""The CLI's terminal: its console (stderr), the live progress bar, and a stderr
that shows only neuralstyle's own lines."""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading
import time
import warnings
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..jobs.records import duration

console = Console(stderr=True, highlight=False, soft_wrap=True)  # a message is one line, however long

# What TensorFlow's C++ runtime (absl logging, oneDNN, CPU-feature notes) prints
# on stderr while it loads and runs, whatever TF_CPP_MIN_LOG_LEVEL says.
NATIVE_NOISE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|[IWE]\d{4} [\d:. ]+\d+ \S+\.(cc|h):\d+\]"
    rb"|.*(oneDNN custom operations are on|cpu_feature_guard|This TensorFlow binary is optimized"
    rb"|To enable the following instructions|rebuild TensorFlow with the appropriate compiler flags))")


def message_fd() -> int:
    """The file descriptor the CLI's own messages go to (the terminal's stderr)."""
    return _terminal_fd[0]


_terminal_fd = [2]
_forwarder: list[threading.Thread] = []  # the thread that filters fd 2, while it runs


def flush_output() -> None:
    """Write out what is buffered for the terminal; the filter on fd 2 reads to the end and
    stops. Registered with `atexit`, and called before an exit that skips it (os._exit)."""
    sys.stdout.flush()
    sys.stderr.flush()
    console.file.flush()
    if _forwarder:
        os.dup2(_terminal_fd[0], 2)  # closes the pipe's last writer: the forwarder reads to the end
        _forwarder.pop().join(timeout=5)


def keep_native_noise_off_the_terminal() -> None:
    """From here on, what is written to file descriptor 2 passes through a filter
    that drops `NATIVE_NOISE` and forwards everything else (a Python traceback
    still shows); the console writes to the terminal directly, so the live bar
    is not held back. Library warnings (Python's `warnings`) are not shown."""
    if _terminal_fd[0] != 2:
        return
    terminal = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    _terminal_fd[0] = terminal
    console.file = os.fdopen(os.dup(terminal), "w", buffering=1, encoding="utf-8", errors="replace")

    def forward():
        with os.fdopen(read_end, "rb") as lines:
            for line in lines:
                if not NATIVE_NOISE.match(line):
                    os.write(terminal, line)

    forwarder = threading.Thread(target=forward, name="neuralstyle-stderr", daemon=True)
    forwarder.start()
    _forwarder.append(forwarder)
    atexit.register(flush_output)
    for module in ("tensorflow", "keras", "jax", "torch", "absl"):
        warnings.filterwarnings("ignore", module=module)


class ProgressDisplay:
    """A live bar with the iteration (and a figure's tile), the loss parts, elapsed and time left."""

    def __init__(self, quiet: bool, stops_when_converged: bool = False,
                 share_done: Callable[[object], float] | None = None):
        """`share_done(progress)`: the share of a coarse-to-fine run done, 0–1, its sizes weighed by their pixels
        (`neuralstyle.jobs.pipeline.Plan.share_done`); without it, iterations over iterations."""
        self.quiet, self.first, self.task = quiet, None, None
        self.stops_when_converged = stops_when_converged  # iterations=auto: the total is a most
        self.weighted = share_done is not None  # its iterations differ in cost: say where one was timed
        self.share_done = share_done or (lambda progress: progress.iteration / max(progress.iterations, 1))
        self.progress = Progress(
            TextColumn("{task.fields[tile]}{task.fields[iteration]}/{task.fields[iterations]}"), BarColumn(bar_width=20),
            TextColumn("{task.fields[losses]}"), TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
            console=console, disable=quiet,
        )

    def __call__(self, progress) -> None:
        if self.task is None:
            self.task = self.progress.add_task("run", total=1.0, losses="", tile="", iteration=0, iterations=0)
            self.progress.start()
        loss = progress.loss
        share = self.share_done(progress)
        self.progress.update(
            self.task, completed=share, iteration=progress.iteration, iterations=progress.iterations,
            tile=f"{progress.tile}  " if progress.tile else "",
            losses=f"loss {loss.total:.4g} = content {loss.content:.3g} + style {loss.style:.3g} + tv {loss.tv:.2g}"
                   + (f" + temporal {loss.temporal:.3g}" if loss.temporal else ""),
        )
        # Time from iteration 1 on: iteration 0 includes compiling the step.
        if progress.iteration == 1:
            self.first = (time.perf_counter(), progress.iteration, share)
        elif progress.iteration == 4 and self.first and not self.quiet and progress.tile is None:
            seconds = time.perf_counter() - self.first[0]
            per_iteration = seconds / (progress.iteration - self.first[1])
            expected = seconds / max(share - self.first[2], 1e-12)
            where = f" at {progress.size[0]}x{progress.size[1]}" if self.weighted and progress.size else ""
            self.progress.console.print(
                f"about {per_iteration:.2f} s per iteration{where}: expect "
                f"{'at most ' if self.stops_when_converged else ''}{duration(expected)} "
                f"for {progress.iterations} iterations"
            )

    def stop(self) -> None:
        if self.task is not None:
            self.progress.stop()
