"""Children started as a terminal starts them: whatever the test run itself ignores (a background job
of a script ignores SIGINT; `nohup` ignores SIGHUP), each child gets the default handlers the tests mean."""

from __future__ import annotations

import signal


def default_signals() -> None:
    """A `preexec_fn`: SIGINT, SIGTERM and SIGHUP back to their default handlers in the child."""
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
