"""scikit-learn's rules for the stochastic solvers, applied to ``fit`` from outside.

``EpochRule`` is a ``fit`` callback doing what scikit-learn's ``_fit_stochastic`` does
after each epoch: the loss with its L2 term, ``t_``, the verbose lines, the
``tol``/``n_iter_no_change`` count on the training loss or (``early_stopping=True``)
on the validation score with the best weights kept, and ``learning_rate="adaptive"``.
``SklearnRate`` is the matching learning-rate schedule; ``split_validation`` holds out
scikit-learn's validation fraction, stratified for single-label classifiers;
``start_bookkeeping`` sets a new model's attributes, ``verbosity`` maps ``verbose``.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..backend import asarray, namespace_of, to_numpy
from ..distributed import as_transport
from ..parameters import host_copy_params
from ..training import SGD, Adam, Optimizer, Schedule
from ..validation import check_count, check_flag, check_fraction, check_split

Array = Any


class SklearnRate(Schedule):
    """scikit-learn's learning rate: ``"constant"``; ``"invscaling"``, ``lr / (t_ + 1) ** power_t``
    with ``t_`` the samples seen before the epoch; ``"adaptive"``, divided by 5 by
    :class:`EpochRule` when the loss stalls. Only ``solver="sgd"`` follows it (Adam keeps its
    initial rate), as in scikit-learn."""

    def __init__(self, kind: str, power_t: float, t: int) -> None:
        self.kind, self.power_t, self.t = kind, power_t, t
        self.divided = 1.0  # adaptive's divisor so far

    def __call__(self, lr, epoch):
        if self.kind == "invscaling":
            return lr / (self.t + 1) ** self.power_t
        return lr / self.divided


def say(line: str) -> None:
    """A verbose line on stdout, as scikit-learn prints it (clear of a progress bar)."""
    tqdm.write(line, file=sys.stdout)


class EpochRule:
    """After each epoch, scikit-learn's bookkeeping and stopping rule on ``estimator``.

    ``score`` maps the network's validation output to scikit-learn's score (accuracy
    or R^2); ``validation`` is ``(X_val, y_val)`` in the network layout and as labels.
    """

    def __init__(self, estimator: Any, rate: SklearnRate, n_train: int, penalty_scale: float,
                 validation: tuple[Array, Any] | None,
                 score: Callable[[Array, Any, Any], float] | None, incremental: bool,
                 validation_weights: np.ndarray | None = None) -> None:
        self.estimator, self.rate, self.n_train = estimator, rate, n_train
        self.penalty_scale, self.validation, self.score = penalty_scale, validation, score
        self.incremental, self.validation_weights = incremental, validation_weights
        self.stopped = False
        self.best_params: dict[str, Array] | None = None

    def __call__(self, epoch: int, logs: Mapping[str, float], params: Mapping[str, Array]) -> bool:
        est = self.estimator
        loss = logs["loss"] + self._penalty(params)
        est.loss_curve_.append(loss)
        est.loss_ = loss
        est.n_iter_ += 1
        est.t_ += self.n_train
        self.rate.t = est.t_
        if est._verbose_here():
            say("Iteration %d, loss = %.8f" % (est.n_iter_, loss))
        if self.validation is None:
            if loss > est.best_loss_ - est.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            est.best_loss_ = min(est.best_loss_, loss)
        else:
            self._score_validation(params)
        if est._no_improvement_count > est.n_iter_no_change:
            self.stopped = self._trigger_stopping()
            return self.stopped and not self.incremental
        return False

    def _penalty(self, params: Mapping[str, Array]) -> float:
        """scikit-learn's L2 term on its loss: ``alpha/2 * sum(W**2)`` times ``penalty_scale``
        (the end-of-epoch weights stand for those of each batch)."""
        if not self.estimator.alpha:
            return 0.0
        weights = [value for key, value in params.items() if key.startswith("W")]
        xp = namespace_of(W=weights[0])
        total = float(to_numpy(xp.sum(xp.stack([xp.sum(W * W) for W in weights]))))
        if self.estimator._holds_shares:  # every weight is in one rank's share: their sum
            total = sum(as_transport(self.estimator.comm).gather_values(total))
        return 0.5 * self.estimator.alpha * total * self.penalty_scale

    def _score_validation(self, params: Mapping[str, Array]) -> None:
        est = self.estimator
        X_val, y_val = self.validation
        # Held out on the host when "auto" then sent the training to a GPU: it follows.
        X_val = asarray(X_val, namespace_of(W=params["W1"]))
        output = est.forward(X_val, dict(params))
        score = self.score(output, y_val, self.validation_weights)
        est.validation_scores_.append(score)
        if est._verbose_here():
            say("Validation score: %f" % score)
        if score < est.best_validation_score_ + est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            self.best_params = host_copy_params(params)

    def _trigger_stopping(self) -> bool:
        est = self.estimator
        what = "Validation score" if self.validation is not None else "Training loss"
        message = "%s did not improve more than tol=%f for %d consecutive epochs." % (
            what, est.tol, est.n_iter_no_change)
        if self.rate.kind != "adaptive" or est.solver != "sgd":
            if est._verbose_here():
                say(message + " Stopping.")
            return True
        if est.learning_rate_init / self.rate.divided <= 1e-6:
            if est._verbose_here():
                say(message + " Learning rate too small. Stopping.")
            return True
        self.rate.divided *= 5.0
        est._no_improvement_count = 0
        if est._verbose_here():
            say(message + " Setting learning rate to %f" % (est.learning_rate_init / self.rate.divided))
        return False


def sklearn_optimizer(est: Any) -> Optimizer | None:
    """The optimizer of the estimator's ``solver`` and its settings (None: ``"lbfgs"``,
    whose state SciPy keeps, for one fit)."""
    if est.solver == "lbfgs":
        return None
    if est.solver == "adam":
        return Adam(check_fraction(est.beta_1, "beta_1"), check_fraction(est.beta_2, "beta_2"),
                    est.epsilon)
    if est.solver == "sgd":
        momentum = est.momentum
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) \
                or not 0 <= momentum <= 1:
            raise ValueError(f"momentum must be a number in [0, 1], got {momentum!r}")
        nesterov = check_flag(est.nesterovs_momentum, "nesterovs_momentum")
        return SGD(float(momentum), nesterov=nesterov and momentum > 0)
    raise ValueError(f"solver must be 'adam', 'sgd' or 'lbfgs', got {est.solver!r}")


def penalty_scale(n_samples: int, batch_size: int, weights: np.ndarray | None) -> float:
    """What multiplies ``alpha/2 * sum(W**2)`` in scikit-learn's epoch loss: each batch adds
    its penalty divided by its sample count (weight sum), times its share of the samples,
    ``n_batches / n_samples`` in all (``n_batches / sum(weights)``: weights spread evenly)."""
    n_batches = -(-n_samples // batch_size)
    return n_batches / (n_samples if weights is None else float(weights.sum()))


def split_validation(n_samples: int, fraction: Any, seed: int, strata: np.ndarray | None,
                     names: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``(train, validation)`` sample indices: ``fraction`` held out at random, in each class
    of ``strata`` (class indices, or None; ``names`` their labels) in proportion to its size,
    as scikit-learn's stratified split does."""
    if strata is not None:
        counts = np.bincount(strata)
        if counts[counts > 0].min() < 2:
            raise ValueError("The least populated classes in y have only 1 member, which is too "
                             "few to hold out a stratified validation set; each class needs at "
                             "least 2 samples with early_stopping=True. Classes with too few "
                             f"members are: {[names[c] for c in np.flatnonzero(counts == 1)]}")
    n_val = check_split(fraction, n_samples, "validation_fraction",
                        alternative="early_stopping=False")
    if n_val < 2:
        raise ValueError("The validation set is too small. Increase 'validation_fraction' or the "
                         "size of your dataset.")
    rng = np.random.RandomState(seed)
    if strata is None:
        order = rng.permutation(n_samples)
        return np.sort(order[n_val:]), np.sort(order[:n_val])
    # Each class's share of n_val, rounded down, then the samples left over to the classes
    # with the largest remainders (scikit-learn's _approximate_mode, without its ties draw).
    exact = counts * n_val / n_samples
    per_class = np.floor(exact).astype(int)
    for c in np.argsort(per_class - exact, kind="stable")[: n_val - per_class.sum()]:
        per_class[c] += 1
    per_class = np.minimum(per_class, np.maximum(counts - 1, 0))  # each class keeps a training sample
    validation = np.concatenate([rng.permutation(np.flatnonzero(strata == c))[:k]
                                 for c, k in enumerate(per_class)])
    train = np.setdiff1d(np.arange(n_samples), validation)
    return train, np.sort(validation)


def check_patience(n_iter_no_change: Any) -> None:
    """``n_iter_no_change``: an int >= 1, or ``inf`` (never stop) as scikit-learn allows."""
    if not (isinstance(n_iter_no_change, float) and n_iter_no_change == math.inf):
        check_count(n_iter_no_change, "n_iter_no_change", 1)


def start_bookkeeping(est: Any) -> None:
    """scikit-learn's attributes of a new model, before its first epoch."""
    est.loss_curve_ = []
    est.n_iter_ = est.t_ = est._no_improvement_count = 0
    if est.early_stopping:
        est.validation_scores_ = []
        est.best_validation_score_, est.best_loss_ = -np.inf, None
    else:
        est.validation_scores_ = est.best_validation_score_ = None
        est.best_loss_ = np.inf


def verbosity(verbose: Any) -> int:
    """``fit``'s progress bar for the estimator's ``verbose`` (any int >= 0, as scikit-learn):
    0 none, 1 in a terminal, 2 and more always."""
    if not isinstance(verbose, numbers.Integral) or verbose < 0:
        raise ValueError(f"verbose must be an int >= 0 (0: silent), got {verbose!r}")
    return min(int(verbose), 2)
