"""Whether a finished run learned anything, judged from its history.

A run did not learn when its loss never fell at least :data:`MIN_LOSS_DROP` (relative)
below the loss of the weights it started from (its first mini-batch's, measured before
any update), or, for a classifier, when its last epoch's accuracy is no better than
always guessing the most common class of the training targets. Runs shorter than
:data:`MIN_EPOCHS` are not judged (a ``partial_fit`` call, a quick trial), nor runs that a
callback paused or that diverged (they raise).
"""

from __future__ import annotations

import os
import sys
import warnings

from ..errors import ConvergenceWarning
from .history import History

MIN_EPOCHS = 5
"""Runs of fewer epochs are too short to judge."""
MIN_LOSS_DROP = 0.01
"""The relative fall of the loss below its start that counts as learning."""
CHANCE_MARGIN = 0.005
"""An accuracy within this of always guessing the most common class counts as chance."""
JUDGED = ("completed", "early_stopping")
ADVICE = ("try a larger learning rate (lr) or optimizer='adam', scale='auto' (or 'he'/'xavier') "
          "rather than a small fixed scale, more epochs, or standardising the features of X")
ADVICE_WHEN_IT_ROSE = ("the steps overshoot: try a smaller learning rate (lr), or standardising "
                       "the features of X")


def judge_learning(history: History, chance: float | None) -> None:
    """Set ``history.learned``; warn with :class:`~xpnet.errors.ConvergenceWarning`, saying
    why and what to try, when the run did not learn. ``chance`` is None for regression."""
    initial_loss = history.initial_loss
    if history.epochs < MIN_EPOCHS or initial_loss is None or history.stop_reason not in JUDGED:
        return
    problems = []
    lowest = min(history.loss)
    if initial_loss > 0 and lowest > initial_loss * (1 - MIN_LOSS_DROP):
        problems.append(f"the loss never fell {MIN_LOSS_DROP:.0%} below where it started "
                        f"({initial_loss:.4g} at the start, {lowest:.4g} at best)")
    if chance is not None and history.accuracy and history.accuracy[-1] <= chance + CHANCE_MARGIN:
        problems.append(f"the accuracy ended at {history.accuracy[-1]:.1%}, no better than "
                        f"always guessing the most common class ({chance:.1%})")
    history.learned = not problems
    if problems:
        warnings.warn(ConvergenceWarning(
            f"training did not learn in {history.epochs} epochs: {'; and '.join(problems)}; "
            f"{ADVICE_WHEN_IT_ROSE if lowest > initial_loss else ADVICE}"),
            stacklevel=_first_caller_outside_xpnet())


def _first_caller_outside_xpnet() -> int:
    """The ``stacklevel`` that points a warning from here at the user's own line, whichever
    of fit, train or the estimators they called."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame, level = sys._getframe(1), 1  # this function's caller is level 1 of its warning
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level
