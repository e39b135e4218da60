"""The per-epoch progress bar (tqdm), on in a terminal and off otherwise."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from tqdm.auto import tqdm


def epoch_progress(epochs: int, verbose: int) -> tqdm:
    """A bar over ``epochs``: ``verbose=0`` off, 1 on when stderr is a terminal, 2 always on."""
    enabled = verbose == 2 or (verbose == 1 and sys.stderr.isatty())
    return tqdm(total=epochs, unit="epoch", disable=not enabled, dynamic_ncols=True, file=sys.stderr)


def show_metrics(bar: tqdm, logs: Mapping[str, float]) -> None:
    """Advance the bar by one epoch and show the epoch's metrics."""
    bar.set_postfix({name: f"{value:.4g}" for name, value in logs.items()}, refresh=False)
    bar.update(1)
