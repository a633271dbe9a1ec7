"""SciPy's L-BFGS-B with the bounds given as arrays.

``scipy.optimize.fmin_l_bfgs_b`` (SciPy 1.17) converts the bounds into the
solver's arrays in a Python loop over every variable, and keeps two Python lists
of them meanwhile: a noticeable part of every run's start, and seconds to
minutes and gigabytes at print sizes, before the first iteration
(benchmarks/README.md, start-up). `minimize` builds the same arrays with numpy and drives the same compiled
routine (``scipy.optimize._lbfgsb.setulb``) with the same loop, so the points it
evaluates are bit for bit those of ``fmin_l_bfgs_b``
(tests/test_lbfgsb.py). That routine is private to SciPy: where its signature is
not the one this driver knows, or the SciPy release is not one whose loop and
work arrays it follows, `minimize` calls ``fmin_l_bfgs_b`` instead.

The routine's vector operations run on one BLAS thread: OpenBLAS's workers
otherwise keep spinning after each call, on the cores the next evaluation
needs (benchmarks/precision.py).

The compiled routine is loaded from its file, without ``scipy.optimize``'s
package: that imports all of scipy.optimize (linalg, sparse, spatial, …), a
noticeable part of every run's start (benchmarks/startup.py) that the driver
does not use. SciPy's words for why a run stopped come from that package, so
they are looked up only when asked for.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy
from threadpoolctl import ThreadpoolController

# The SciPy releases whose L-BFGS-B loop, work-array sizes and compiled routine
# (with this signature) the driver follows; their _lbfgsb_py.py were compared.
KNOWN_RELEASES = ((1, 15), (1, 16), (1, 17))
KNOWN_SIGNATURE = "setulb(m,x,l,u,nbd,f,g,factr,pgtol,wa,iwa,task,lsave,isave,dsave,maxls,ln_task)"
_NEW_X, _FG, _STOP = 1, 3, 5
_CALLBACK_HALT, _ITERATIONS_REACHED, _EVALUATIONS_EXCEEDED = 505, 504, 502
# The BLAS thread limit is process-wide: one setulb call at a time sets and restores it.
_blas_lock = threading.Lock()


@dataclass(frozen=True)
class SolverEnd:
    """Where the solver ended: its last point `x`, iterations `nit`, distinct
    evaluations `nfev`, and `stop`, the solver's (status, reason) codes or
    SciPy's words for them."""

    x: np.ndarray
    nit: int
    nfev: int
    stop: tuple[int, int] | str

    @property
    def message(self) -> str:
        """SciPy's words for why the run ended (e.g. 'STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT')."""
        return self.stop if isinstance(self.stop, str) else message(*self.stop)


def compiled_routine():
    """SciPy's compiled L-BFGS-B step, or None where the release or the routine's
    signature is not one known here."""
    release = tuple(int(part) for part in scipy.__version__.split(".")[:2] if part.isdigit())
    if release not in KNOWN_RELEASES:
        return None
    try:
        module = _compiled_module()
    except ImportError:
        return None
    routine = getattr(module, "setulb", None)
    doc = (getattr(routine, "__doc__", None) or "").strip().splitlines()
    return routine if doc and doc[0].replace(" ", "") == KNOWN_SIGNATURE else None


def fallback_line() -> str | None:
    """What a run's header says where this SciPy takes the slow path (None where the
    fast driver runs): the release, and what the slow path costs."""
    if compiled_routine() is not None:
        return None
    known = ", ".join(".".join(map(str, release)) for release in KNOWN_RELEASES)
    return (f"optimizer: SciPy {scipy.__version__}'s L-BFGS-B is not one this driver follows ({known}); it runs "
            f"through scipy.optimize.fmin_l_bfgs_b, which converts the bounds in Python: slower to start at print "
            f"sizes, and more memory")


def _compiled_module():
    """scipy.optimize._lbfgsb, loaded from its file unless SciPy's optimize package is loaded already."""
    name = "scipy.optimize._lbfgsb"
    if name in sys.modules:
        return sys.modules[name]
    if "scipy.optimize" in sys.modules:
        from scipy.optimize import _lbfgsb

        return _lbfgsb
    folder = Path(scipy.__file__).parent / "optimize"
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        if (folder / f"_lbfgsb{suffix}").is_file():
            spec = importlib.util.spec_from_file_location(name, folder / f"_lbfgsb{suffix}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            # The package, when something imports it later, takes this module rather than a second copy.
            return sys.modules.setdefault(name, module)
    raise ImportError(f"no compiled {name} in {folder}")


def minimize(fun: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray, lower: np.ndarray,
             upper: np.ndarray, *, history_size: int = 10, max_iterations: int = 15000, max_evaluations: int = 15000,
             factr: float = 1e7, pgtol: float = 1e-5, max_line_search: int = 20,
             callback: Callable[[np.ndarray], None] | None = None) -> SolverEnd:
    """Minimise `fun` (x -> (value, gradient), float64 vectors) from `x0` within
    ``lower <= x <= upper`` (arrays like `x0`; ±inf where a side is free), as
    ``fmin_l_bfgs_b(fun, x0, bounds=…, m=history_size, maxiter=max_iterations,
    maxfun=max_evaluations, factr=factr, pgtol=pgtol, maxls=max_line_search,
    callback=callback)`` does. `callback(x)` gets a copy of each new iterate; if it
    raises StopIteration the run ends there, as in SciPy; any other exception it
    raises ends the run and propagates."""
    x0 = np.asarray(x0, dtype=np.float64).ravel()
    lower, upper = (_per_value(bound, x0.size) for bound in (lower, upper))
    if np.isnan(lower).any() or np.isnan(upper).any():
        raise ValueError("a bound is NaN; use -inf or inf for a side without a bound")
    if (lower > upper).any():
        raise ValueError("a lower bound is greater than its upper bound")
    if max_line_search <= 0:
        raise ValueError(f"max_line_search must be positive, got {max_line_search}")
    setulb = compiled_routine()
    if setulb is None:
        return _public(fun, x0, lower, upper, history_size, max_iterations, max_evaluations, factr, pgtol,
                       max_line_search, callback)

    n, m = x0.size, int(history_size)
    has_lower, has_upper = np.isfinite(lower), np.isfinite(upper)
    # The solver's code per variable: 0 free, 1 lower only, 2 both, 3 upper only.
    nbd = np.where(has_lower, np.where(has_upper, 2, 1), np.where(has_upper, 3, 0)).astype(np.int32)
    low = np.where(has_lower, lower, 0.0)
    high = np.where(has_upper, upper, 0.0)
    x = np.clip(x0, lower, upper)

    def evaluate(point):
        value, gradient = fun(point.copy())
        gradient = np.asarray(gradient, dtype=np.float64).ravel()
        if gradient.size != n:
            raise ValueError(f"the gradient has {gradient.size} values; the point has {n}")
        return np.float64(np.asarray(value).item()), gradient

    evaluated_x = x.copy()
    value, gradient = evaluate(x)
    nfev = 1
    f = np.array(0.0, dtype=np.float64)
    g = np.zeros(n, dtype=np.float64)
    wa = np.zeros(2 * m * n + 5 * n + 11 * m * m + 8 * m, dtype=np.float64)
    iwa = np.zeros(3 * n, dtype=np.int32)
    task = np.zeros(2, dtype=np.int32)
    ln_task = np.zeros(2, dtype=np.int32)
    lsave = np.zeros(4, dtype=np.int32)
    isave = np.zeros(44, dtype=np.int32)
    dsave = np.zeros(29, dtype=np.float64)
    nit = 0
    blas = ThreadpoolController()  # the BLAS libraries loaded now
    while True:
        g = g.astype(np.float64)
        with _blas_lock, blas.limit(limits=1, user_api="blas"):
            setulb(m, x, low, high, nbd, f, g, factr, pgtol, wa, iwa, task, lsave, isave, dsave, max_line_search,
                   ln_task)
        if task[0] == _FG:
            if not np.array_equal(x, evaluated_x):
                evaluated_x = x.copy()
                value, gradient = evaluate(x)
                nfev += 1
            f, g = value, gradient
        elif task[0] == _NEW_X:
            nit += 1
            if callback is not None:
                try:
                    callback(x.copy())
                except StopIteration:
                    task[:] = (_STOP, _CALLBACK_HALT)
            if nit >= max_iterations:
                task[:] = (_STOP, _ITERATIONS_REACHED)
            elif nfev > max_evaluations:
                task[:] = (_STOP, _EVALUATIONS_EXCEEDED)
        else:
            break
    return SolverEnd(x, nit, nfev, (int(task[0]), int(task[1])))


def _per_value(bound, size: int) -> np.ndarray:
    """One float64 bound per value: a scalar, or an array of `size` values in any shape."""
    bound = np.asarray(bound, dtype=np.float64)
    return np.broadcast_to(bound.ravel() if bound.size == size else bound, (size,))


def message(status: int, reason: int) -> str:
    """SciPy's words for the solver's final (status, reason) codes, as fmin_l_bfgs_b reports them."""
    try:
        from scipy.optimize._lbfgsb_py import status_messages, task_messages
    except ImportError:
        return f"{status}: {reason}"
    return f"{status_messages.get(status, status)}: {task_messages.get(reason, reason)}"


def _public(fun, x0, lower, upper, history_size, max_iterations, max_evaluations, factr, pgtol, max_line_search,
            callback) -> SolverEnd:
    """The same run through SciPy's public function (its per-variable bounds loop included)."""
    import scipy.optimize

    bounds = np.stack([lower, upper], axis=1)
    x, _, info = scipy.optimize.fmin_l_bfgs_b(
        fun, x0, bounds=bounds, m=history_size, maxiter=max_iterations, maxfun=max_evaluations, factr=factr,
        pgtol=pgtol, maxls=max_line_search, callback=None if callback is None else lambda x: callback(x.copy()))
    return SolverEnd(x, info["nit"], info["funcalls"], str(info["task"]))
