"""neuralstyle: neural style transfer after Gatys, Ecker and Bethge (2015, 2016).

The API takes and returns images as described in `neuralstyle.images`; the
entry points are `transfer`, `reconstruct_content` and `reconstruct_style`;
`RunSpec` and `neuralstyle.pipeline` run what the CLI runs (files in, files out).
TensorFlow is imported on first use of those, not on ``import neuralstyle``.
"""

__version__ = "0.1.0"

_LAZY = {
    "transfer": "synthesis",
    "reconstruct_content": "synthesis",
    "reconstruct_style": "synthesis",
    "Result": "synthesis",
    "RunSpec": "spec",
    "FeatureModel": "model",
    "resolve_weights": "weights",
    "read_image": "images",
    "save_image": "images",
    "run": "pipeline",
    "write": "pipeline",
    "Outcome": "pipeline",
}

__all__ = ["__version__", *_LAZY]


def __dir__():
    return sorted(__all__)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'neuralstyle' has no attribute {name!r}")
