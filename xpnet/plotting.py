"""``plot_history``: loss and accuracy curves of a training run (needs matplotlib)."""

from __future__ import annotations

import os
import pathlib
from typing import Any

from .io.atomic import write_atomically
from .training.history import History

PLOT_INSTALL_HINT = 'plotting needs matplotlib: pip install "xpnet[plot]" (or pip install matplotlib)'


def plot_history(history: History | dict[str, Any], path: str | os.PathLike) -> pathlib.Path:
    """Draw the loss (and accuracy, when recorded) per epoch into an image file.

    Validation curves are drawn beside training ones; the loss axis is logarithmic when
    the loss spans more than two decades. The format follows the suffix of ``path``
    (``.png``, ``.svg``, ``.pdf``, ...).
    Uses matplotlib's object API, so no global plotting state is touched.
    """
    image_format = plot_format(path)
    from matplotlib.figure import Figure  # (there: plot_format imported it)

    curves = history.as_dict() if isinstance(history, History) else dict(history)
    if not curves.get("loss"):
        raise ValueError("history has no recorded loss; pass the History returned by xpnet.fit")
    panels = [("loss", ["loss", "val_loss"])]
    if curves.get("accuracy"):
        panels.append(("accuracy", ["accuracy", "val_accuracy"]))
    figure = Figure(figsize=(5 * len(panels), 3.5), layout="constrained")
    for axes, (title, names) in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels):
        for name in names:
            values = curves.get(name) or []
            if values:
                axes.plot(range(1, len(values) + 1), values, label=name.replace("_", " "))
        if title == "loss" and _spans_decades(curves, names, 2):
            axes.set_yscale("log")  # else the first epochs' loss flattens all the rest
        axes.set_xlabel("epoch")
        axes.set_title(title)
        axes.grid(alpha=0.3)
        axes.legend()
    path = pathlib.Path(path)
    # Written beside the target and renamed over it: an old plot survives a failed save.
    write_atomically(path, lambda file: figure.savefig(file, format=image_format))
    return path


def plot_format(path: str | os.PathLike) -> str:
    """The image format that ``path``'s suffix names (``png`` without one), checked to be
    one matplotlib writes, so that a run can refuse a bad path before it trains."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(PLOT_INSTALL_HINT) from exc
    image_format = pathlib.Path(path).suffix[1:].lower() or "png"
    supported = Figure().canvas.get_supported_filetypes()
    if image_format not in supported:
        raise ValueError(f"{path}: matplotlib cannot draw a {image_format!r} file; give a path "
                         f"ending in one of {', '.join('.' + name for name in sorted(supported))}")
    return image_format


def _spans_decades(curves: dict[str, Any], names: list[str], decades: int) -> bool:
    """Whether the positive values of ``curves[names]`` span more than ``decades`` decades."""
    values = [v for name in names for v in (curves.get(name) or []) if v > 0]
    return bool(values) and max(values) > 10 ** decades * min(values)
