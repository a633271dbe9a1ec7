"""Loss curves of runs, from their records (matplotlib, an optional extra).

`loss_curves` draws the content, style and TV parts of the loss per iteration,
each on a log scale in a panel of its own, with any number of runs overlaid
for comparison; it returns PNG bytes and touches no file.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

PARTS = ("content", "style", "tv")
PLOT_INSTALL = 'plotting needs matplotlib: pip install "neuralstyle[plot]" (in a clone: pip install -e ".[plot]")'


def curves(record: dict) -> dict[str, list[tuple[int, float]]]:
    """(iteration, value) per loss part of a run record's history; ValueError if it has none."""
    history = record.get("history") if isinstance(record, dict) else None
    if not isinstance(history, list) or not history:
        raise ValueError("it has no per-iteration losses (only transfer, content and style runs have them)")
    parts: dict[str, list[tuple[int, float]]] = {part: [] for part in PARTS}
    for entry in history:
        if not isinstance(entry, dict) or not isinstance(entry.get("iteration"), int):
            raise ValueError("its history is not a list of iterations")
        for part in PARTS:
            value = entry.get(part)
            try:
                number, iteration = float(value), float(entry["iteration"])
            except (TypeError, ValueError, OverflowError):
                continue
            if number > 0 and math.isfinite(number) and math.isfinite(iteration):  # a log scale: positive values
                parts[part].append((entry["iteration"], number))
    return parts


def loss_curves(runs: Sequence[tuple[str, dict]], *, width_px: int = 1200) -> bytes:
    """PNG bytes of the loss parts per iteration for `runs`, (label, record) pairs."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(PLOT_INSTALL) from None
    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, len(PARTS), figsize=(width_px / 100, width_px / 100 * 0.3), dpi=100,
                                   constrained_layout=True)
    for label, record in runs:
        for axis, (part, points) in zip(axes, curves(record).items()):
            if points:
                axis.plot([iteration for iteration, _ in points], [value for _, value in points], label=label)
    for axis, part in zip(axes, PARTS):
        axis.set_yscale("log")
        axis.set_title(f"{part} loss (weighted)")
        axis.set_xlabel("iteration")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()
