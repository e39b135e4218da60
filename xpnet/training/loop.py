"""``fit``, the one training loop, and the tutorial's ``train`` on top of it."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..backend import Backend
from ..distributed import agree_on_flag, failures_end_the_job, on_every_rank, raised_on_every_rank
from ..errors import ConvergenceWarning, TrainingDivergedError
from ..evaluation import activations_of
from ..io import ModelParams
from ..parameters import restore_params
from .checkpoint import Checkpointer
from .divergence import divergence_message, numpy_float_warnings_silenced
from .convergence import judge_learning
from .epoch import train_epoch
from .history import EarlyStopping, History
from .optimizers import Optimizer
from .options import Callback, fit_options
from .parallel import train_epoch_on_ranks
from .progress import epoch_progress, show_metrics
from .ranks import check_parallel, checkpointer_for, prepare_run_on_ranks
from .run import TrainingRun, describe_run, prepare_run
from .schedules import Schedule
from .snapshots import WeightSnapshots

Array = Any


def fit(X: Any, Y: Any, layer_dims: Sequence[int], *, epochs: int = 100, lr: float = 0.5,
        batch_size: int | None = None, shuffle: bool = True,
        optimizer: str | Optimizer = "sgd", schedule: str | Schedule = "constant",
        weight_decay: float = 0.0, decay_per_sample: bool = False,
        sample_weight: Any = None, hidden: str | None = None, output: str | None = None,
        seed: int | None = 3, scale: float | str = "auto", dtype: Any = None,
        backend: Backend | None = None, params: dict[str, Array] | None = None,
        validation_data: tuple[Any, Any] | None = None, validation_split: float = 0.0,
        early_stopping: int | None = None, min_delta: float = 0.0,
        callbacks: Sequence[Callback] = (), on_nan: str = "raise", restore_on_nan: bool = True,
        initial_epoch: int = 0,
        checkpoint: str | os.PathLike | None = None, checkpoint_every: int = 1,
        checkpoint_model: Mapping[str, Any] | None = None,
        resume: bool = False, restart: bool = False, verbose: int = 1,
        comm: Any = None, parallel: str | tuple[str, str] = "data",
        mesh: tuple[int, int] | None = None) -> tuple[dict[str, Array], History]:
    """Train a network; returns ``(params, history)``.

    ``X`` is ``(n_features, n_samples)``, ``Y`` ``(n_outputs, n_samples)``; they move to
    ``backend`` if given (host data to the selected backend). Options, as in the README:

    - steps: ``epochs``, ``lr``, ``batch_size`` (None: full batch), ``shuffle``,
      ``optimizer`` (``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adam"``, ``"rmsprop"``
      or an instance), ``schedule`` (a name or an instance), ``weight_decay`` (L2 penalty
      ``weight_decay/2 * sum(W**2)`` added to each mini-batch's cost; ``decay_per_sample=True``
      divides it by the batch's sample count, or weight sum: scikit-learn's ``alpha``),
      ``sample_weight`` (one weight >= 0 per sample: each mini-batch's cost is the
      weighted mean of its samples' losses);
    - the network: ``hidden``, ``output`` (None: those ``params``' model file recorded,
      else ``"sigmoid"``), ``seed``, ``scale`` (``"auto"``: ``"he"`` for the relu family,
      else ``"xavier"``), ``dtype``, or ``params`` to continue training (updated in place).
      Parameters from :func:`xpnet.load_params` continue as their file describes them:
      with its activations (naming another raises ``ValueError``) and on its input
      standardisation, which ``X`` and the validation samples go through first, as in
      :func:`xpnet.predict` (pass the raw features); their description then names the
      activations trained with;
    - validation: ``validation_data=(X_val, Y_val)`` or ``validation_split`` (a fraction);
    - stopping: ``early_stopping=patience`` (on ``val_loss``, else ``loss``, improving by
      ``min_delta``; the best weights are restored), ``callbacks`` (``f(epoch, logs,
      params)``; a true return stops), ``on_nan`` (``"raise"``
      :class:`~xpnet.errors.TrainingDivergedError` or ``"stop"``, after restoring the last
      good weights unless ``restore_on_nan=False``), ``initial_epoch``;
    - checkpoints: ``checkpoint=path`` written every ``checkpoint_every`` epochs;
      ``resume=True`` continues from it, ``restart=True`` starts over it;
      ``checkpoint_model={"classes": ..., "preprocessing": ..., "metadata": ...}`` (each
      optional, as :func:`~xpnet.save_params` takes them) is stored with it, so that
      :func:`xpnet.load` gives the checkpoint's :class:`~xpnet.Model` those too;
    - ``verbose``: 0 silent, 1 a progress bar in a terminal, 2 always;
    - ``comm``: an MPI communicator (``MPI.COMM_WORLD``) to train on its ranks together
      (data parallel: every rank passes the same arguments and computes its share of each
      mini-batch of ``batch_size`` samples; every rank returns the same weights; rank 0
      alone prints and writes checkpoints). None: this process alone;
    - ``parallel``: with ``comm``, ``"data"`` (above) or ``"tensor"``: each rank holds its
      share of every hidden layer's units and weights (layers too wide for one device) and
      returns that share; :func:`xpnet.gather_params` assembles the whole network; or
      ``("data", "tensor")`` with ``mesh=(n_data, n_tensor)``: a grid of both, tensor
      groups of ``n_tensor`` consecutive ranks each holding one copy of the network in
      shares, the ``n_data`` groups each a piece of every mini-batch (every rank returns
      its share, the same in every group).
    """
    # A model file's network continues with the activations its weights were trained with.
    hidden, output = activations_of({} if params is None else params, hidden, output)
    given = dict(
        epochs=epochs, lr=lr, batch_size=batch_size, shuffle=shuffle, optimizer=optimizer,
        schedule=schedule, weight_decay=weight_decay, decay_per_sample=decay_per_sample,
        sample_weight=sample_weight, hidden=hidden, output=output, seed=seed,
        scale=scale, dtype=dtype, backend=backend, validation_data=validation_data,
        validation_split=validation_split, early_stopping=early_stopping, min_delta=min_delta,
        callbacks=callbacks, on_nan=on_nan, restore_on_nan=restore_on_nan,
        initial_epoch=initial_epoch, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
        checkpoint_model=checkpoint_model, resume=resume, restart=restart, verbose=verbose)
    kind = check_parallel(parallel, comm, mesh)
    if comm is not None:
        run, checkpointer = prepare_run_on_ranks(X, Y, layer_dims, params, given, comm, kind,
                                                 mesh)
        with failures_end_the_job(run.transport):
            history = train_run(run, checkpointer)
    else:
        options = fit_options(**given)
        checkpointer = checkpointer_for(options, layer_dims)
        run = prepare_run(X, Y, layer_dims, params, options)
        history = train_run(run, checkpointer)
    # After the ranks' last collective: a warning turned into an error on rank 0 alone
    # (which warns for the job) is an ordinary exception, not a failure mid-training.
    _judge(run, history)
    return _described(run), history


def _described(run: TrainingRun) -> dict[str, Array]:
    """The trained parameters, described: those that carry a model file's description
    keep one true of them (the activations trained with, which the file may not have
    named; the standardisation stays, as the training ran on it), and a new network's
    name its activations, so that :func:`xpnet.save_params` records them and
    :func:`xpnet.predict` uses them. A dict of the caller's own is returned as it is."""
    activations = {"hidden": run.options.hidden, "output": run.options.output.name}
    description = getattr(run.params, "description", None)
    if description is not None:
        description.update(activations)
        return run.params
    return ModelParams(run.params, activations) if run.fresh else run.params


def train_run(run: TrainingRun, checkpointer: Checkpointer | None) -> History:
    """Run the epochs of a prepared run (resuming from ``checkpointer``'s file if it has one);
    the caller judges whether it learned."""
    o = run.options
    early_stopping = None if o.early_stopping is None else EarlyStopping(
        o.early_stopping, o.monitor, o.min_delta)
    history = History()
    first, end = o.initial_epoch, o.initial_epoch + o.epochs
    if checkpointer is not None:
        checkpointer.describe(run.description or describe_run(run))
        if checkpointer.exists:
            first, history = _on_every_rank(run, lambda: checkpointer.restore(
                run.params, o.optimizer, run.rng, early_stopping, o.initial_epoch, end),
                "reading the checkpoint")
    # Early stopping's verdict stands; a callback's stop is a pause that resume=True lifts.
    if history.stop_reason != "early_stopping":
        history.stop_reason = "completed"
        _run_epochs(run, range(first, end), history, early_stopping, checkpointer)
    if early_stopping is not None and early_stopping.best_params is not None:
        restore_params(run.params, early_stopping.best_params)
        history.best_epoch = early_stopping.best_epoch
    return history


def _judge(run: TrainingRun, history: History) -> None:
    """Whether the run learned (``history.learned``), with the warning when it did not."""
    with warnings.catch_warnings():
        if not run.writes_files:  # one warning for the job, from rank 0
            warnings.simplefilter("ignore", ConvergenceWarning)
        judge_learning(history, None if run.chance is None else float(run.chance))


def _on_every_rank(run: TrainingRun, action: Callable[[], Any], what: str) -> Any:
    return action() if run.transport is None else on_every_rank(run.transport, action, what)


def _run_epochs(run: TrainingRun, epochs: range, history: History,
                early_stopping: EarlyStopping | None, checkpointer: Checkpointer | None) -> None:
    """The training loop: ``history`` records each epoch; ``checkpointer`` saves it."""
    o = run.options
    # An epoch's loss is measured while its weights change, so the last weights known
    # to give a finite loss are those from the start of the epoch before a bad one. Both
    # copies live in host memory: the device keeps only what the training needs.
    previous_start = None
    epoch_of_training = train_epoch_on_ranks if run.data_parallel else train_epoch
    # However the training ends, the snapshots' close leaves no copy of the weights running.
    with WeightSnapshots() as snapshots, epoch_progress(len(epochs), o.verbose) as bar:
        for epoch in epochs:
            start = snapshots.take(run.params) if o.restore_on_nan else None
            with numpy_float_warnings_silenced():
                logs, batch_losses, weights_finite = epoch_of_training(run, epoch,
                                                                       snapshots.before_update)
            if history.initial_loss is None and run.fresh and epoch == o.initial_epoch:
                # The loss of a new network's first weights. A run continuing given params,
                # or resumed from a checkpoint that has none, did not see its start: not judged.
                history.initial_loss = batch_losses[0]
            loss_finite = all(math.isfinite(value) for value in logs.values())
            if not (loss_finite and weights_finite):
                # A loss can stay finite (probabilities are clipped) while the weights overflow;
                # then this epoch's start holds the last finite weights.
                if o.restore_on_nan:
                    last_good = start if loss_finite or previous_start is None else previous_start
                    snapshots.restore(run.params, last_good)
                history.stop_reason = "non_finite_loss"
                if o.on_nan == "raise":  # on every rank: they all saw the same losses
                    raise raised_on_every_rank(TrainingDivergedError(
                        divergence_message(logs, epoch, batch_losses, o.restore_on_nan),
                        run.params, history))
                return
            previous_start = start
            history.record(logs)
            show_metrics(bar, logs)
            stop_asked = any([callback(epoch, logs, run.params) for callback in o.callbacks])
            if run.transport is not None:  # one rank's stop stops them all (callbacks or not)
                stop_asked = agree_on_flag(run.transport, stop_asked)
            if early_stopping is not None and early_stopping.should_stop(epoch, logs, run.params):
                history.stop_reason = "early_stopping"
            elif stop_asked:
                history.stop_reason = "callback"
            stopping = history.stop_reason != "completed"
            if checkpointer is not None and run.saves_checkpoints and checkpointer.due(
                    epoch, last=stopping or epoch == epochs[-1]):
                checkpointer.save(epoch + 1, run.params, o.optimizer, run.rng, history, early_stopping)
            if stopping:
                return


def train(X: Any, Y: Any, layer_dims: Sequence[int], epochs: int, lr: float, *,
          hidden: str = "sigmoid", output: str = "sigmoid", seed: int | None = 3,
          scale: float | str = 0.01, dtype: Any = None,
          backend: Backend | None = None) -> tuple[dict[str, Array], list[float]]:
    """The tutorial's loop: full-batch gradient descent; returns ``(params, cost_history)``.

    ``X`` is ``(n_features, n_samples)`` and ``Y`` ``(n_outputs, n_samples)`` (a 1-D
    ``Y`` is fine for one output). ``cost_history`` holds one Python float per
    epoch: the cost before that epoch's update. The options are :func:`fit`'s.
    """
    for name, value in (("hidden", hidden), ("output", output)):
        if value is None:  # fit reads None as a model file's; train's new network has no file
            raise TypeError(f"{name} must be an activation name (str), not None; train makes a "
                            f"new network: pass {name}='sigmoid' or leave it out")
    params, history = fit(X, Y, layer_dims, epochs=epochs, lr=lr, optimizer="sgd", hidden=hidden,
                          output=output, seed=seed, scale=scale, dtype=dtype, backend=backend,
                          verbose=0)
    return params, history.loss
