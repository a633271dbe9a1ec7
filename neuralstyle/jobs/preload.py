"""Import Keras and its backend in a background thread while a run reads its
inputs and weights, so the seconds that import takes overlap with that work.

`start()` is called once the run's settings and input images have passed their
checks (a bad argument never waits for TensorFlow); `load()` before the first
use of the backend waits for it (or imports it there and then), and turns a
failed import into a `BackendError` that says what failed.

While it runs, the packages that Keras and TensorFlow import only for features
a run never uses (`HIDDEN_WHILE_IMPORTING`: DataFrame inputs, plotting, TF Lite's
JAX converter, Keras's bounding-box drawing) are hidden from them, when installed,
the heaviest part of the import that is not TensorFlow's own
(benchmarks/startup.py). Later imports of them work.

The garbage collector is off meanwhile: the import makes objects by the
million and few cycles, and the collections it would set off walk them all
again and again. What the import made is then frozen (`gc.freeze`), so the
run's own collections do not walk it either.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import sys
import threading

from ..core import settings
from ..core.settings import SettingError

_MODULE = "neuralstyle.core.synthesis"  # imports the backend, Keras, the model and the evaluator
HIDDEN_WHILE_IMPORTING = ("pandas", "matplotlib", "jax", "cv2")  # cv2: OpenCV, which video flow imports itself


class BackendError(RuntimeError):
    """Keras or the library under it (TensorFlow, torch, JAX) cannot be imported: a broken installation."""


def check_backend() -> str:
    """KERAS_BACKEND names a backend neuralstyle can take gradients on, and it is installed."""
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend not in settings.BACKENDS:
        raise SettingError("KERAS_BACKEND", f"KERAS_BACKEND is {backend!r}; neuralstyle runs on "
                                            f"{', '.join(settings.BACKENDS)}")
    if importlib.util.find_spec(backend) is None:
        raise SettingError("KERAS_BACKEND", f"KERAS_BACKEND is {backend!r} but {backend} is not installed; "
                                            f"pip install 'neuralstyle[{backend}]'")
    return backend


_thread: threading.Thread | None = None
_error: BaseException | None = None


def start() -> None:
    """Begin importing the backend in the background (once; nothing if it is loaded),
    with `HIDDEN_WHILE_IMPORTING` hidden from it: the CLI's runs, whose process does nothing else meanwhile."""
    global _thread
    if _thread is not None or _MODULE in sys.modules:
        return
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    hidden = [name for name in HIDDEN_WHILE_IMPORTING if name not in sys.modules and name != backend]

    def run():
        global _error
        for name in hidden:
            sys.modules[name] = None  # import fails at once, as if not installed
        collecting = gc.isenabled()
        gc.disable()
        try:
            __import__(_MODULE)
        except BaseException as error:  # handed to load(), in the thread that needs the module
            _error = error
        finally:
            for name in hidden:
                if sys.modules.get(name, False) is None:
                    del sys.modules[name]
            if collecting:
                gc.freeze()
                gc.enable()

    _thread = threading.Thread(target=run, name="neuralstyle-preload", daemon=True)
    _thread.start()


def importing() -> bool:
    """True while the background import is still under way."""
    return _thread is not None and _thread.is_alive()


def load() -> None:
    """Return once the backend is imported: join the import `start` began, or
    import it here (nothing hidden: other threads of a host program may want
    those packages). A failed import raises BackendError; Ctrl-C comes through."""
    global _thread, _error
    if _thread is not None:
        _thread.join()
        _thread = None
        error, _error = _error, None
    else:
        try:
            __import__(_MODULE)
            error = None
        except Exception as failure:
            error = failure
    if error is None:
        return
    if not isinstance(error, Exception):
        raise error
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    raise BackendError(f"cannot load Keras on {backend} ({type(error).__name__}: {error}); the installation "
                       f"is broken: pip install --force-reinstall neuralstyle-keras") from error
