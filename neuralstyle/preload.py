"""Import Keras and its backend in a background thread while a run reads its
inputs and weights, so the seconds that import takes overlap with that work.

`start()` is called once the run's settings and input images have passed their
checks (a bad argument never waits for TensorFlow); `wait()` before the first
use of the backend re-raises in the caller whatever the import raised.

While it runs, the packages that Keras and TensorFlow import only for features
a run never uses (`OPTIONAL`: DataFrame inputs, plotting, TF Lite's JAX
converter) are hidden from them, when installed, the heaviest part of the import
that is not TensorFlow's own (benchmarks/startup.py). Later imports of them work.
"""

from __future__ import annotations

import os
import sys
import threading

_MODULE = "neuralstyle.synthesis"  # imports the backend, Keras, the model and the evaluator
OPTIONAL = ("pandas", "matplotlib", "jax")
_thread: threading.Thread | None = None
_error: BaseException | None = None


def start() -> None:
    """Begin importing the backend in the background (once; nothing if it is loaded)."""
    global _thread
    if _thread is not None or _MODULE in sys.modules:
        return

    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    hidden = [name for name in OPTIONAL if name not in sys.modules and name != backend]

    def load():
        global _error
        for name in hidden:
            sys.modules[name] = None  # import fails at once, as if not installed
        try:
            __import__(_MODULE)
        except BaseException as error:  # handed to wait(), in the thread that needs the module
            _error = error
        finally:
            for name in hidden:
                if sys.modules.get(name, False) is None:
                    del sys.modules[name]

    _thread = threading.Thread(target=load, name="neuralstyle-preload", daemon=True)
    _thread.start()


def wait() -> None:
    """Block until a started import has finished; raise what it raised."""
    global _thread, _error
    if _thread is None:
        return
    _thread.join()
    _thread = None
    if _error is not None:
        error, _error = _error, None
        raise error
