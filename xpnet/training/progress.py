"""The per-epoch progress bar (tqdm), on in a terminal and off otherwise."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping

from tqdm.auto import tqdm


def epoch_progress(epochs: int, verbose: int) -> tqdm:
    """A bar over ``epochs``: ``verbose=0`` off, 1 on when stderr is a terminal, 2 always on."""
    return tqdm(total=epochs, unit="epoch", disable=not _shown(verbose), dynamic_ncols=True,
                file=sys.stderr)


def _shown(verbose: int) -> bool:
    return verbose == 2 or (verbose == 1 and sys.stderr.isatty())


def announce(line: str, verbose: int) -> None:
    """Log ``line`` (logger ``"xpnet"``, level INFO), and write it to stderr where the
    progress bar would show (``verbose`` 2, or 1 in a terminal)."""
    logging.getLogger("xpnet").info(line)
    if _shown(verbose):
        print(line, file=sys.stderr, flush=True)


def show_metrics(bar: tqdm, logs: Mapping[str, float]) -> None:
    """Advance the bar by one epoch and show the epoch's metrics."""
    if bar.disable:  # nothing shown: the metrics need no formatting (every epoch of every fit)
        return
    bar.set_postfix({name: f"{value:.4g}" for name, value in logs.items()}, refresh=False)
    bar.update(1)
