"""Stopping a run by a signal without losing it: Ctrl-C (SIGINT), SIGTERM and
SIGHUP all ask the run to stop at the end of the current iteration, so that
the best image so far and its record are written."""

from __future__ import annotations

import signal

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopAtIterationEnd:
    """Signal handlers for the length of a run (a context manager).

    Once iterations have begun (the first `should_stop` call), a signal only
    sets a flag that `should_stop` reports at the iteration's end, so it never
    lands inside TensorFlow's or SciPy's native code. A second signal, or one
    before the first iteration, raises KeyboardInterrupt at once. A signal that
    is ignored where the run starts (SIGINT in a background job of a script)
    stays ignored. `exit_code` is 128 + the signal's number."""

    def __init__(self):
        self.armed = False
        self.received: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self):
        for number in SIGNALS:
            if signal.getsignal(number) is not signal.SIG_IGN:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc):
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _handle(self, number, frame):
        first = self.received is None
        self.received = self.received or number
        if not self.armed or not first:
            raise KeyboardInterrupt

    def should_stop(self) -> str | None:
        """Called once per iteration: 'interrupted' once a signal came, else None."""
        self.armed = True
        return "interrupted" if self.received is not None else None

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.received or signal.SIGINT).name

    @property
    def exit_code(self) -> int:
        return 128 + int(self.received or signal.SIGINT)
