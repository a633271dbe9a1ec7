"""Stopping a run by a signal, at any moment, without a traceback or lost work.

While a front end holds a `SignalGuard`, Ctrl-C (SIGINT), SIGTERM and SIGHUP
only set a flag, so that no exception lands inside TensorFlow's import, its
native code or SciPy's. The run looks at the flag at its phase boundaries
(`phase_reached`: before iterations begin, it raises `Interrupted`, and nothing
is written) and at the end of every iteration (`SignalGuard.should_stop`: the
run ends and keeps the best image so far). A second signal ends the process at
once, except while results are being written (`SignalGuard.writing`), which
always finishes. A signal ignored where the run starts (SIGINT in a background
job of a script) stays ignored.

For tests, ``NEURALSTYLE_PAUSE_AT=PHASE`` makes the run stop at that phase's
boundary, say ``neuralstyle: paused at PHASE`` on stderr and wait (up to a
minute) for a signal: phases are weights, imports, model, targets,
first-evaluation, mid-run and writing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PHASES = ("weights", "imports", "model", "targets", "first-evaluation", "mid-run", "writing")
PAUSE_VARIABLE = "NEURALSTYLE_PAUSE_AT"


class Interrupted(Exception):
    """A signal came before there was anything to keep. `when` says so in words,
    `signal_name` and `exit_code` (128 + the signal) come from the guard."""

    def __init__(self, phase: str, when: str = "before the first iteration; nothing written"):
        super().__init__(phase)
        self.phase, self.when = phase, when
        guard = _guard
        number = guard.received if guard is not None and guard.received else signal.SIGINT
        self.signal_name, self.exit_code = signal.Signals(number).name, 128 + int(number)


class SignalGuard:
    """Signal handlers for the length of a command (a context manager); see the module."""

    def __init__(self, message_fd: int = 2):
        self.message_fd = message_fd  # where "stopped at once" goes when the process ends at a second signal
        self.received: int | None = None
        self.iterating = False
        self._writing = 0
        self._previous: dict[int, object] = {}
        self.leftovers: set = set()  # files to remove if a second signal ends the process at once

    def __enter__(self):
        global _guard
        self._outer = _guard
        for number in SIGNALS:
            if signal.getsignal(number) is not signal.SIG_IGN:
                self._previous[number] = signal.signal(number, self._handle)
        _guard = self
        return self

    def __exit__(self, *exc):
        global _guard
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()
        _guard = self._outer

    def _handle(self, number, frame):
        if self.received is None:
            self.received = number
            return
        if self._writing:
            return  # the files being written are finished first; the first signal is acted on after
        for path in list(self.leftovers):
            with contextlib.suppress(OSError):
                os.unlink(path)
        os.write(self.message_fd, f"neuralstyle: stopped at once ({signal.Signals(number).name}); nothing more written\n".encode())
        os._exit(self.exit_code)

    def should_stop(self) -> str | None:
        """Called at the end of each iteration: 'interrupted' once a signal came, else None."""
        self.iterating = True
        phase_reached("mid-run")
        return "interrupted" if self.received is not None else None

    @contextlib.contextmanager
    def writing(self):
        """While results are written, a second signal waits for them to be whole."""
        self._writing += 1
        try:
            yield
        finally:
            self._writing -= 1

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.received or signal.SIGINT).name

    @property
    def exit_code(self) -> int:
        return 128 + int(self.received or signal.SIGINT)


_guard: SignalGuard | None = None


def current_guard() -> SignalGuard | None:
    """The guard holding this process's signals, if a front end set one."""
    return _guard


def phase_reached(phase: str) -> None:
    """A phase boundary of a run: pause there when a test asks to; raise
    `Interrupted` if a signal came and the iterations have not begun."""
    guard = _guard
    if os.environ.get(PAUSE_VARIABLE) == phase and (phase != "mid-run" or _mid_run_reached()):
        sys.stderr.write(f"neuralstyle: paused at {phase}\n")
        sys.stderr.flush()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (guard is None or guard.received is None):
            time.sleep(0.02)
    if guard is not None and guard.received is not None and not guard.iterating:
        raise Interrupted(phase)


_mid_run_calls = [0]


def _mid_run_reached() -> bool:
    """The mid-run pause comes at the third iteration's end (iteration 2), once."""
    _mid_run_calls[0] += 1
    return _mid_run_calls[0] == 3


def writing():
    """A context in which a second signal waits (see `SignalGuard.writing`); a no-op without a guard."""
    return _guard.writing() if _guard is not None else contextlib.nullcontext()
