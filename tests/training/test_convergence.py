"""A run that did not learn says so: ConvergenceWarning, and history.learned."""

import warnings

import numpy as np
import pytest

import xpnet
from xpnet.datasets import make_moons
from xpnet.training.convergence import judge_learning
from xpnet.training.history import History

MOONS = make_moons(200, seed=0)
# The README's tutorial data: a 4-5-3-1 sigmoid network started at the tutorial's scale of
# 0.01 stays at ln 2 (nothing reaches the first layers).
TUTORIAL_X = np.random.RandomState(1).randn(4, 60)
TUTORIAL_Y = (TUTORIAL_X[0:1] + TUTORIAL_X[1:2] > 0).astype(float)


def test_a_run_that_did_not_learn_warns_with_its_figures_and_what_to_try():
    with pytest.warns(xpnet.ConvergenceWarning) as caught:
        _, history = xpnet.fit(TUTORIAL_X, TUTORIAL_Y, [4, 5, 3, 1], scale=0.01, verbose=0)
    message = str(caught[0].message)
    assert history.learned is False
    assert "did not learn in 100 epochs" in message and "0.6932 at the start" in message
    assert "no better than always guessing the most common class (50.0%)" in message
    assert "larger learning rate" in message and caught[0].filename == __file__


def test_fits_defaults_learn_the_tutorials_example():
    with warnings.catch_warnings():
        warnings.simplefilter("error", xpnet.ConvergenceWarning)
        _, history = xpnet.fit(TUTORIAL_X, TUTORIAL_Y, [4, 5, 3, 1], verbose=0)
    assert history.learned is True and history.loss[-1] < 0.8 * history.loss[0]


def test_the_tutorials_train_warns_too_and_its_warning_is_scikit_learns():
    with pytest.warns(xpnet.ConvergenceWarning) as caught:
        _, costs = xpnet.train(TUTORIAL_X, TUTORIAL_Y, [4, 5, 3, 1], 100, 0.5)
    assert caught[0].filename == __file__  # the user's line, not one inside xpnet
    sklearn_exceptions = pytest.importorskip("sklearn.exceptions")
    assert issubclass(xpnet.ConvergenceWarning, sklearn_exceptions.ConvergenceWarning)


@pytest.mark.parametrize("options", [dict(epochs=4), dict(epochs=20, callbacks=[lambda e, l, p: e == 6])],
                         ids=["too short", "paused by a callback"])
def test_short_and_paused_runs_are_not_judged(options):
    with warnings.catch_warnings():
        warnings.simplefilter("error", xpnet.ConvergenceWarning)
        _, history = xpnet.fit(*MOONS, [2, 4, 1], lr=1e-6, verbose=0, **options)
    assert history.learned is None and "learned" not in history.as_dict()
    assert history.initial_loss > 0


def history_of(loss, accuracy=(), initial_loss=None):
    return History(loss=list(loss), accuracy=list(accuracy), stop_reason="completed",
                   initial_loss=loss[0] if initial_loss is None else initial_loss)


@pytest.mark.parametrize("loss, accuracy, chance, learned", [
    ([0.69] * 5, [0.9] * 5, 0.5, False),                      # a flat loss
    ([0.60, 0.59, 0.595, 0.6, 0.6], [0.9] * 5, 0.5, True),     # fell 1.7% from 0.60 below
    ([0.5, 0.3, 0.2, 0.1, 0.1], [0.6, 0.7, 0.8, 0.9, 0.9], 0.9, False),  # at the majority's share
    ([0.5, 0.3, 0.2, 0.1, 0.1], [0.6, 0.7, 0.8, 0.9, 0.91], 0.9, True),
    ([2.0, 1.0, 0.5, 0.2, 0.1], [], None, True),              # regression: the loss alone
])
def test_the_verdict_follows_the_loss_and_the_accuracy(loss, accuracy, chance, learned):
    history = history_of(loss, accuracy, 0.6 if loss[0] < 0.7 else loss[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        judge_learning(history, chance)
    assert history.learned is learned
    assert len(caught) == (0 if learned else 1)


def test_a_saved_verdict_comes_back_and_a_wrong_one_is_refused():
    history = history_of([0.5] * 5)
    history.learned = False
    assert History.from_dict(history.as_dict()).learned is False
    with pytest.raises(ValueError, match="history.learned must be True, False or None"):
        History.from_dict({**history.as_dict(), "learned": "no"})
    with pytest.raises(ValueError, match="history.initial_loss must be a number or None"):
        History.from_dict({**history.as_dict(), "initial_loss": [0.5]})


def test_a_loss_that_rose_is_told_to_take_smaller_steps():
    history = history_of([3.0, 5.0, 9.0, 9.0, 9.0], [0.1] * 5, initial_loss=2.5)
    with pytest.warns(xpnet.ConvergenceWarning, match="overshoot: try a smaller learning rate"):
        judge_learning(history, 0.1)


def test_training_that_continues_given_params_is_not_judged():
    # Its first batch is no start: a converged network would be told it "did not learn".
    params, first = xpnet.fit(*MOONS, [2, 16, 16, 1], epochs=60, hidden="tanh", verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", xpnet.ConvergenceWarning)
        _, more = xpnet.fit(*MOONS, [2, 16, 16, 1], epochs=20, hidden="tanh", params=params,
                            verbose=0)
    assert first.learned is True and more.learned is None and more.initial_loss is None
