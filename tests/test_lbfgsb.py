"""neuralstyle.core.lbfgsb: SciPy's L-BFGS-B without its per-variable bounds loop, and the same points."""

import numpy as np
import pytest
import scipy.optimize

from neuralstyle.core import lbfgsb


def _problem(n=3000, seed=0):
    """A smooth, non-quadratic function whose minimum lies outside the box on many variables."""
    rng = np.random.default_rng(seed)
    target = rng.normal(0, 2, n)
    coupling = rng.normal(0, 0.3, n - 1)

    def fun(x):
        residual = x - target
        value = float(np.sum(residual ** 2 + 0.1 * residual ** 4) + np.sum(coupling * x[:-1] * x[1:]))
        gradient = 2 * residual + 0.4 * residual ** 3
        gradient[:-1] += coupling * x[1:]
        gradient[1:] += coupling * x[:-1]
        return value, gradient

    return fun, rng.uniform(-1, 1, n)


def _recorded(fun):
    points = []

    def wrapped(x):
        points.append(x.copy())
        return fun(x)

    return wrapped, points


def _scipy_run(fun, x0, low, high, **options):
    evaluated, points = _recorded(fun)
    iterates = []
    bounds = [(None if np.isinf(a) else a, None if np.isinf(b) else b) for a, b in zip(low, high)]
    x, _, info = scipy.optimize.fmin_l_bfgs_b(evaluated, x0, bounds=bounds, callback=lambda x: iterates.append(x.copy()),
                                              **options)
    return x, info, points, iterates


@pytest.mark.parametrize("sides", ["box", "mixed"])
def test_the_driver_evaluates_exactly_the_points_scipy_would(sides):
    fun, x0 = _problem()
    n = x0.size
    x0[::7] = 3.0  # some of the start lies outside the box: both clip it the same way
    low, high = np.full(n, -1.0), np.full(n, 1.5)
    if sides == "mixed":  # some variables free, some bounded on one side only
        low[::3], high[1::3] = -np.inf, np.inf
    x_expected, info, expected_points, expected_iterates = _scipy_run(fun, x0, low, high, m=10, maxiter=20,
                                                                       maxfun=200, factr=0.0, pgtol=0.0)
    evaluated, points = _recorded(fun)
    iterates = []
    result = lbfgsb.minimize(evaluated, x0, low, high, history_size=10, max_iterations=20, max_evaluations=200,
                             factr=0.0, pgtol=0.0, callback=iterates.append)
    assert lbfgsb.compiled_routine() is not None, "this SciPy's routine is the one the driver knows"
    assert result.nit == info["nit"] >= 10 and result.nfev == info["funcalls"]
    assert result.message == info["task"]
    assert len(points) == len(expected_points) and all(np.array_equal(a, b) for a, b in zip(points, expected_points))
    assert all(np.array_equal(a, b) for a, b in zip(iterates, expected_iterates))
    assert np.array_equal(result.x, x_expected)
    assert (result.x >= low).all() and (result.x <= high).all()
    assert ((result.x == low) | (result.x == high)).sum() > n // 10, "the test problem has active bounds"


def test_without_a_known_compiled_routine_it_runs_scipys_public_function(monkeypatch):
    fun, x0 = _problem(n=500, seed=1)
    low, high = np.full(500, -1.0), np.full(500, 1.5)
    direct = lbfgsb.minimize(fun, x0, low, high, max_iterations=15, factr=0.0, pgtol=0.0)
    monkeypatch.setattr(lbfgsb, "compiled_routine", lambda: None)
    public = lbfgsb.minimize(fun, x0, low, high, max_iterations=15, factr=0.0, pgtol=0.0)
    assert np.array_equal(direct.x, public.x) and direct.nit == public.nit == 15 and direct.nfev == public.nfev
    assert direct.message == public.message == "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT"


def test_only_a_known_release_and_signature_of_the_compiled_routine_is_used(monkeypatch):
    from scipy.optimize import _lbfgsb

    assert lbfgsb.compiled_routine() is _lbfgsb.setulb
    monkeypatch.setattr(lbfgsb.scipy, "__version__", "1.99.0")
    assert lbfgsb.compiled_routine() is None, "an untested release: its work arrays may differ"
    monkeypatch.undo()

    def setulb(*args):
        """setulb(m,x,l,u,nbd,f,g,factr,pgtol,wa,iwa,task,lsave,isave,dsave,maxls)"""

    monkeypatch.setattr(_lbfgsb, "setulb", setulb)
    assert lbfgsb.compiled_routine() is None, "another argument list"


def test_it_stops_where_scipy_would_and_says_why():
    fun, x0 = _problem(n=200, seed=2)
    low, high = np.full(200, -1.0), np.full(200, 1.5)
    _, info, _, _ = _scipy_run(fun, x0, low, high, maxiter=10000)  # SciPy's default tolerances: it converges
    result = lbfgsb.minimize(fun, x0, low, high, max_iterations=10000)
    assert result.nit == info["nit"] < 10000 and result.message == info["task"]
    assert result.message.startswith("CONVERGENCE")
    capped = lbfgsb.minimize(fun, x0, low, high, max_iterations=3, factr=0.0, pgtol=0.0)
    assert capped.nit == 3 and capped.message == "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT"
    _, info, _, _ = _scipy_run(fun, x0, low, high, maxiter=100, maxfun=8, factr=0.0, pgtol=0.0)
    short = lbfgsb.minimize(fun, x0, low, high, max_iterations=100, max_evaluations=8, factr=0.0, pgtol=0.0)
    assert short.nfev == info["funcalls"] > 8 and short.nit == info["nit"] < 100
    assert short.message == info["task"] == "STOP: TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT"


def test_a_callback_raising_stopiteration_halts_the_run_as_in_scipy():
    fun, x0 = _problem(n=200, seed=4)
    low, high = np.full(200, -1.0), np.full(200, 1.5)

    def halt(x):
        raise StopIteration

    x, _, info = scipy.optimize.fmin_l_bfgs_b(fun, x0, bounds=np.stack([low, high], 1), maxiter=50, callback=halt)
    result = lbfgsb.minimize(fun, x0, low, high, max_iterations=50, callback=halt)
    assert result.nit == info["nit"] == 1 and result.message == info["task"]
    assert result.message == "STOP: CALLBACK REQUESTED HALT" and np.array_equal(result.x, x)


def test_blas_runs_on_one_thread_only_inside_the_solver_step(monkeypatch):
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]

    before = blas_threads()
    if not before:
        pytest.skip("threadpoolctl sees no BLAS library in this process")
    routine = lbfgsb.compiled_routine()
    inside = []

    def step(*args):
        inside.append(blas_threads())
        return routine(*args)

    monkeypatch.setattr(lbfgsb, "compiled_routine", lambda: step)
    fun, x0 = _problem(n=300, seed=5)
    seen = []

    def watched(x):
        seen.append([library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"])
        return fun(x)

    lbfgsb.minimize(watched, x0, np.full(300, -1.0), np.full(300, 1.5), max_iterations=5, factr=0.0, pgtol=0.0)
    assert inside and all(threads == [1] * len(before) for threads in inside)
    assert all(threads == before for threads in seen), "the objective runs with the BLAS threads it had"
    assert blas_threads() == before


def test_a_callback_that_raises_ends_the_run_with_its_exception():
    fun, x0 = _problem(n=100, seed=3)

    class Enough(Exception):
        pass

    def callback(x):
        raise Enough

    with pytest.raises(Enough):
        lbfgsb.minimize(fun, x0, -np.ones(100), np.ones(100), callback=callback)


def test_crossed_or_nan_bounds_and_a_gradient_of_the_wrong_size_are_refused():
    fun, x0 = _problem(n=10)
    with pytest.raises(ValueError, match="lower bound is greater"):
        lbfgsb.minimize(fun, x0, np.ones(10), np.zeros(10))
    with pytest.raises(ValueError, match="a bound is NaN"):
        lbfgsb.minimize(fun, x0, np.full(10, np.nan), np.ones(10))
    with pytest.raises(ValueError, match="the gradient has 9 values; the point has 10"):
        lbfgsb.minimize(lambda x: (0.0, np.zeros(9)), x0, -np.ones(10), np.ones(10))


def test_a_run_loads_only_the_compiled_routine_not_all_of_scipy_optimize():
    """scipy.optimize's package imports linalg, sparse, spatial…, time every run's start would
    wait for; a run that ends where asked never needs it, and the stop message still reads as SciPy's."""
    import subprocess
    import sys

    script = """
import sys, numpy as np
from neuralstyle.core import lbfgsb
x0 = np.linspace(-1, 1, 50)
result = lbfgsb.minimize(lambda x: (float(np.sum(x ** 4 + (x - 0.3) ** 2)), 4 * x ** 3 + 2 * (x - 0.3)), x0,
                         -np.ones(50), np.ones(50),
                         max_iterations=2, factr=0.0, pgtol=0.0)
print(result.nit, 'scipy.optimize' in sys.modules, 'scipy.linalg' in sys.modules)
print(result.message)
from scipy.optimize import _lbfgsb
print(_lbfgsb.setulb is lbfgsb.compiled_routine())
"""
    lines = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines == ["2 False False", "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT", "True"]


def test_a_scipy_release_the_driver_does_not_follow_is_named_in_the_run_header(monkeypatch, tmp_path):
    from sample_images import SAMPLES

    from neuralstyle.jobs import pipeline
    from neuralstyle.jobs.spec import RunSpec

    assert lbfgsb.fallback_line() is None  # the installed SciPy is one the fast driver follows
    monkeypatch.setattr(lbfgsb, "KNOWN_RELEASES", ((1, 99),))
    line = lbfgsb.fallback_line()
    assert line.startswith("optimizer: SciPy ") and "1.99" in line and "fmin_l_bfgs_b" in line
    said = []
    spec = RunSpec(content=SAMPLES / "photo.png", styles=[SAMPLES / "painting.png"], output=tmp_path / "o.png",
                   size=32, iterations=1)
    pipeline.run(spec, on_message=said.append)
    assert line in said
