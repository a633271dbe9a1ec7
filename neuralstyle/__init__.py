"""neuralstyle: neural style transfer after Gatys, Ecker and Bethge (2015, 2016).

The API takes and returns images as described in `neuralstyle.core.images`; the
entry points are `transfer`, `reconstruct_content`, `reconstruct_style` and
`stylise_clip` (a video's frames), or the methods of a `Stylizer` that keeps
its network and device for many calls;
`RunSpec` and `neuralstyle.jobs.pipeline` run what the CLI runs (files in, files out).
TensorFlow is imported on first use of those, not on ``import neuralstyle``.
``__version__`` is the installed distribution's (pyproject.toml's version as pip
installed it), read on first use; "0+unknown" in a checkout that is not installed.
"""

from typing import TYPE_CHECKING

DISTRIBUTION = "neuralstyle-keras"  # the name on the package index; the import name is neuralstyle

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors; at run time they load on first use
    from .core.evaluator import NonFiniteLossError  # noqa: F401
    from .core.images import read_image, save_image  # noqa: F401
    from .core.model import FeatureModel  # noqa: F401
    from .core.stylizer import Stylizer  # noqa: F401
    from .core.reconstruction import reconstruct_content, reconstruct_style  # noqa: F401
    from .core.stages import Result, RunInterrupted  # noqa: F401
    from .core.synthesis import transfer  # noqa: F401
    from .core.video import stylise_clip  # noqa: F401
    from .core.weights import resolve_weights  # noqa: F401
    from .jobs.pipeline import Outcome, run, write  # noqa: F401
    from .jobs.spec import RunSpec  # noqa: F401

_LAZY = {
    "transfer": "core.synthesis",
    "reconstruct_content": "core.reconstruction",
    "reconstruct_style": "core.reconstruction",
    "Result": "core.stages",
    "stylise_clip": "core.video",
    "Stylizer": "core.stylizer",
    "RunInterrupted": "core.stages",
    "NonFiniteLossError": "core.evaluator",
    "RunSpec": "jobs.spec",
    "FeatureModel": "core.model",
    "resolve_weights": "core.weights",
    "read_image": "core.images",
    "save_image": "core.images",
    "run": "jobs.pipeline",
    "write": "jobs.pipeline",
    "Outcome": "jobs.pipeline",
}

__all__ = ["__version__", *_LAZY]


def __dir__():
    return sorted(__all__)


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # some 25 ms: not on ``import neuralstyle``

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"


def __getattr__(name):
    if name == "__version__":
        globals()["__version__"] = found = _installed_version()
        return found
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'neuralstyle' has no attribute {name!r}")
