"""``fit``'s options: checked once, in one function, and carried as one frozen object.

Each rule about the options is stated here and nowhere else, the pairs that exclude
each other included (``validation_data``/``validation_split``, ``resume``/``restart``).
Rules that need the data (a batch larger than the data, the split's sizes) are checked
where the data is prepared (:mod:`xpnet.training.run`).
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..activations import HIDDEN_ACTIVATIONS, Activation, get_activation
from ..outputs import Output, get_output
from ..seeding import check_seed
from ..validation import (check_count, check_flag, check_fraction, check_non_negative,
                          check_positive)
from .optimizers import Optimizer, get_optimizer
from .schedules import Schedule, get_schedule

Array = Any
Callback = Callable[[int, Mapping[str, float], Mapping[str, Array]], Any]
ON_NAN = ("raise", "stop")


@dataclass(frozen=True)
class FitOptions:
    """What a ``fit`` call asked for, checked (see :func:`xpnet.fit` for each option)."""

    epochs: int = 100
    lr: float = 0.5
    batch_size: int | None = None  # None: the full batch
    shuffle: bool = True
    optimizer: Optimizer | str = "sgd"
    schedule: Schedule | str = "constant"
    weight_decay: float = 0.0
    decay_per_sample: bool = False  # weight_decay divided by each batch's count or weight sum
    sample_weight: Any = None
    hidden: str = "sigmoid"
    output: Output | str = "sigmoid"
    seed: int | None = 3
    scale: float | str = "auto"  # the hidden activation's init_scale
    dtype: Any = None
    backend: Any = None
    validation_data: tuple[Any, Any] | None = None
    validation_split: float = 0.0
    early_stopping: int | None = None  # patience in epochs
    min_delta: float = 0.0
    callbacks: tuple[Callback, ...] = ()
    on_nan: str = "raise"
    restore_on_nan: bool = True
    initial_epoch: int = 0
    checkpoint: str | os.PathLike | None = None
    checkpoint_every: int = 1
    checkpoint_model: Mapping[str, Any] | None = None  # what xpnet.load's Model of it says
    resume: bool = False
    restart: bool = False
    verbose: int = 1

    @property
    def monitor(self) -> str:
        """The loss that early stopping watches."""
        return "val_loss" if self.validation_data is not None or self.validation_split else "loss"


def fit_options(**given: Any) -> FitOptions:
    """The options of one ``fit`` call, each checked; a ``TypeError``/``ValueError`` names
    the option and the fix. Options not given take :class:`FitOptions`' defaults."""
    o = FitOptions(**given)
    checked = dict(
        epochs=check_count(o.epochs, "epochs"), lr=check_positive(o.lr, "lr"),
        batch_size=_batch_size(o.batch_size), shuffle=bool(o.shuffle),
        optimizer=get_optimizer(o.optimizer), schedule=get_schedule(o.schedule),
        weight_decay=check_non_negative(o.weight_decay, "weight_decay"),
        decay_per_sample=check_flag(o.decay_per_sample, "decay_per_sample"),
        hidden=_hidden(o.hidden).name, output=get_output(o.output),
        scale=_hidden(o.hidden).init_scale if o.scale == "auto" else o.scale,
        seed=check_seed(o.seed), validation_split=_validation_split(o),
        early_stopping=None if o.early_stopping is None else check_count(
            o.early_stopping, "early_stopping (patience)"),
        min_delta=check_non_negative(o.min_delta, "min_delta"),
        callbacks=_callbacks(o.callbacks), on_nan=_on_nan(o.on_nan),
        restore_on_nan=check_flag(o.restore_on_nan, "restore_on_nan"),
        initial_epoch=check_count(o.initial_epoch, "initial_epoch"),
        checkpoint_every=check_count(o.checkpoint_every, "checkpoint_every", minimum=1),
        resume=check_flag(o.resume, "resume"), restart=check_flag(o.restart, "restart"),
        verbose=_verbose(o.verbose))
    options = FitOptions(**{**given, **checked})
    _check_checkpointing(options)
    return options


def _hidden(name: Any) -> Activation:
    activation = get_activation(name, "hidden")
    if not activation.hidden_layer:  # what a model, its file and the estimators refuse too
        raise ValueError(f"hidden={name!r} is an output activation only (it makes each sample's "
                         f"layer one distribution); valid hidden activations are: "
                         f"{', '.join(HIDDEN_ACTIVATIONS)}")
    return activation


def _batch_size(batch_size: Any) -> int | None:
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be an int >= 1 or None (full batch), "
                        f"not {type(batch_size).__name__} {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1 or None (full batch), got {batch_size!r}")
    return int(batch_size)


def _validation_split(o: FitOptions) -> float:
    if o.validation_data is not None:
        if o.validation_split:
            raise ValueError("pass either validation_data or validation_split, not both")
        if not isinstance(o.validation_data, (tuple, list)) or len(o.validation_data) != 2:
            raise TypeError("validation_data must be a pair (X_val, Y_val)")
        return 0.0
    if not o.validation_split:
        return 0.0
    return check_fraction(o.validation_split, "validation_split", allow_zero=False)


def _callbacks(callbacks: Sequence[Callback]) -> tuple[Callback, ...]:
    callbacks = tuple(callbacks)
    for i, callback in enumerate(callbacks):
        if not callable(callback):
            raise TypeError(f"callbacks[{i}] must be callable as callback(epoch, logs, params), "
                            f"not {type(callback).__name__}")
    return callbacks


def _on_nan(on_nan: Any) -> str:
    if on_nan not in ON_NAN:
        raise ValueError(f"on_nan must be 'raise' or 'stop', got {on_nan!r}")
    return on_nan


def _verbose(verbose: Any) -> int:
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0 (silent), 1 (progress bar in a terminal) or 2 "
                         f"(always), got {verbose!r}")
    return int(verbose)


def _check_checkpointing(o: FitOptions) -> None:
    if o.resume and o.restart:
        raise ValueError("pass resume=True (continue the checkpoint's run) or restart=True (start "
                         "a new run over it), not both")
    if o.checkpoint is None:
        if o.resume or o.restart:
            raise ValueError("resume=True and restart=True need checkpoint=PATH")
        if o.checkpoint_model is not None:
            raise ValueError("checkpoint_model describes the model a checkpoint holds; it "
                             "needs checkpoint=PATH")
        return
    if o.seed is None and o.validation_split:
        raise ValueError("checkpoint= with validation_split needs a seed: a resumed run must hold "
                         "out the same samples; pass seed=0 (or any int)")
    # (The path itself is checked by the Checkpointer, before any data is touched.)
    # An optimizer of the user's own must be able to save its state before an epoch is spent.
    o.optimizer.get_state()
