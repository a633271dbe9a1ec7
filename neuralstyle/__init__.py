"""neuralstyle: neural style transfer after Gatys, Ecker and Bethge (2015, 2016).

The API takes and returns images as described in `neuralstyle.core.images`; the
entry points are `transfer`, `reconstruct_content` and `reconstruct_style`;
`RunSpec` and `neuralstyle.jobs.pipeline` run what the CLI runs (files in, files out).
TensorFlow is imported on first use of those, not on ``import neuralstyle``.
"""

__version__ = "0.1.0"

_LAZY = {
    "transfer": "core.synthesis",
    "reconstruct_content": "core.synthesis",
    "reconstruct_style": "core.synthesis",
    "Result": "core.synthesis",
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


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'neuralstyle' has no attribute {name!r}")
