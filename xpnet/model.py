"""``Model``: a trained network with everything needed to use it, as one object.

A model is its parameters plus their description (the activations it was trained
with, a classifier's class labels, the standardisation its inputs need) and plain-data
metadata. :func:`xpnet.load` returns one for a file of :func:`xpnet.save_params`, of
``xpnet train --save`` or a checkpoint; ``model.save(path)`` writes one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .activations import HIDDEN_ACTIVATIONS
from .backend import array_namespace, asarray, to_numpy
from .evaluation import accuracy, network_output
from .io import DESCRIPTION_KEYS, ModelParams, check_description, save_params
from .parameters import layer_dims_of
from .outputs import Output, get_output

Array = Any


@dataclass
class Model:
    """A network's ``params`` with its ``hidden`` and ``output`` activations, ``classes``
    (a classifier's labels, one per class; None: the class indices are the labels),
    ``preprocessing`` (``{"standardize": {"mean": [...], "scale": [...]}}`` or None) and
    ``metadata``. ``X`` is ``(n_features, n_samples)``, as everywhere in xpnet."""

    params: dict[str, Array]
    hidden: str = "sigmoid"
    output: str = "sigmoid"
    classes: list | None = None
    preprocessing: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        kind = get_output(self.output)
        if self.hidden not in HIDDEN_ACTIVATIONS:
            raise ValueError(f"hidden={self.hidden!r} is not a hidden-layer activation; valid "
                             f"names are: {', '.join(HIDDEN_ACTIVATIONS)}")
        if self.classes is not None and not kind.classifier:
            raise ValueError(f"classes were given but output={self.output!r} does not "
                             "classify; a regressor has no classes")
        # The classes and preprocessing are checked against the network as a file's are.
        checked = check_description(self.description, layer_dims_of(self.params))
        self.classes, self.preprocessing = checked["classes"], checked["preprocessing"]
        self._described = ModelParams(self.params, checked)

    @classmethod
    def from_params(cls, params: Mapping[str, Array], metadata: Mapping[str, Any] | None = None
                    ) -> Model:
        """The model of ``params`` as :func:`xpnet.load_params` returns them (their
        description; sigmoid where it names no activation)."""
        described = dict(getattr(params, "description", None) or {})
        chosen = {key: described[key] for key in DESCRIPTION_KEYS if described.get(key)}
        return cls(dict(params), metadata=dict(metadata or {}), **chosen)

    @property
    def description(self) -> dict[str, Any]:
        """The hidden and output activations, classes and preprocessing, as a file holds them."""
        return {key: getattr(self, key) for key in DESCRIPTION_KEYS}

    @property
    def kind(self) -> Output:
        """The output kind (:data:`xpnet.OUTPUTS` entry) of the network."""
        return get_output(self.output)

    def output_values(self, X: Any) -> Array:
        """The output layer's activations ``AL`` for ``X`` (standardised first if needed)."""
        return network_output(X, self._described)

    def predict(self, X: Any) -> Array:
        """A classifier's label for each sample (1-D; the ``classes`` values, as NumPy, or
        class indices without them); a regressor's outputs ``(n_outputs, n_samples)``."""
        AL = self.output_values(X)
        if not self.kind.classifier:
            return AL
        indices = self.kind.class_indices(self._one_label_each(AL))
        return indices if self.classes is None else np.asarray(self.classes)[to_numpy(indices)]

    def predict_proba(self, X: Any) -> Array:
        """A classifier's class probabilities, shaped ``(n_samples, n_classes)``."""
        if not self.kind.classifier:
            raise ValueError(f"predict_proba needs a classifier; output={self.output!r} "
                             "is a regressor's")
        return self.kind.probabilities(self._one_label_each(self.output_values(X)))

    @property
    def multi_label(self) -> bool:
        """Whether the network has several sigmoid outputs: as many yes/no labels per sample."""
        return self.kind.name == "sigmoid" and layer_dims_of(self.params)[-1] > 1

    def _one_label_each(self, AL: Array) -> Array:
        """``AL``, once it holds one label per sample: a :attr:`multi_label` network's would
        be read as one label."""
        if self.multi_label:
            raise ValueError(f"this model's {AL.shape[0]} sigmoid outputs are {AL.shape[0]} "
                             "yes/no labels per sample (multi-label), not one label; read them "
                             "with xpnet.predict(X, model.params, hidden=model.hidden), a "
                             f"({AL.shape[0]}, n_samples) array of 0/1")
        return AL

    def accuracy(self, X: Any, Y: Any) -> float:
        """Fraction of correct predictions; ``Y`` as in training (0/1 rows, or one-hot)."""
        return accuracy(X, Y, self._described)

    def class_indices(self, labels: Any, name: str = "labels") -> np.ndarray:
        """The class index of each of ``labels`` (values of ``classes``; without them, the
        indices themselves: whole numbers ``0 .. n_classes - 1``), as 1-D NumPy int64; a
        label the model does not know raises ``ValueError`` naming it (and ``name``)."""
        labels = _on_host(labels)
        if labels.ndim > 1 and labels.size == max(labels.shape):  # one row or one column
            labels = labels.reshape(-1)
        if labels.ndim != 1:
            raise ValueError(f"{name} must be 1-D, one label per sample, got shape "
                             f"{labels.shape}")
        if self.classes is None:
            # A sigmoid output is one unit for two classes (its probabilities: 1 - AL, AL).
            n_out = layer_dims_of(self.params)[-1]
            return _whole_indices(labels, 2 if self.output == "sigmoid" else n_out, name)
        index = {label: i for i, label in enumerate(self.classes)}
        unknown = sorted({str(label) for label in labels.tolist() if label not in index})
        if unknown:
            raise ValueError(f"{name} {unknown[:5]} are not among the model's classes "
                             f"{self.classes[:20]}")
        return np.asarray([index[label] for label in labels.tolist()], dtype=np.int64)

    def evaluate(self, X: Any, y: Any) -> dict[str, Any]:
        """How well the model does on ``X`` against labels ``y`` (``classes`` values, or
        class indices without them; one per sample): ``loss``, ``accuracy`` and
        ``confusion`` (rows: true class, columns: predicted) for a classifier; ``mse`` and
        ``r2`` for a regressor (``y`` shaped like its outputs ``(n_outputs, m)`` or as
        ``(m, n_outputs)``, a square ``y`` read as the first, or 1-D for one output). A
        ``y`` that does not fit raises ``ValueError`` naming the shape or labels expected."""
        return self.evaluate_outputs(self.output_values(X), y)

    def evaluate_outputs(self, AL: Array, y: Any) -> dict[str, Any]:
        """:meth:`evaluate` from the model's outputs ``AL`` (:meth:`output_values` of the
        samples): every ``ValueError`` here is about ``y``."""
        m = AL.shape[1]
        if not self.kind.classifier:
            values, truth = to_numpy(AL), _regression_targets(y, *AL.shape)
            # R^2 per output, then their mean: scikit-learn's r2_score (and MLPRegressor.score).
            residual = np.sum((truth - values) ** 2, axis=1)
            spread = np.sum((truth - truth.mean(axis=1, keepdims=True)) ** 2, axis=1)
            r2 = np.where(spread > 0, 1.0 - residual / np.where(spread > 0, spread, 1.0), np.nan)
            return {"mse": float(residual.sum()) / truth.size, "r2": float(np.mean(r2))}
        self._one_label_each(AL)
        indices = self.class_indices(y, "y")
        if indices.shape[0] != m:
            raise ValueError(f"y holds {indices.shape[0]} labels, but X has {m} samples; give "
                             "one label per sample (column of X)")
        n_classes = self.kind.probabilities(AL).shape[1]
        xp = array_namespace(AL)
        Y = self.kind.targets(asarray(indices, xp), n_classes, AL.dtype)
        predicted = to_numpy(self.kind.class_indices(AL)).astype(np.int64)
        confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
        np.add.at(confusion, (indices, predicted), 1)
        return {"loss": float(self.kind.cost(AL, Y)),
                "accuracy": float(np.mean(predicted == indices)), "confusion": confusion}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model to one file (:func:`xpnet.save_params`'s format); returns the path."""
        return save_params(path, self.params, **self.metadata, **self.description)


def _on_host(values: Any) -> np.ndarray:
    """Labels or targets as a NumPy array, from any backend or from Python lists."""
    return np.asarray(to_numpy(values) if hasattr(values, "__array_namespace__") else values)


def _whole_indices(labels: np.ndarray, n_classes: int, name: str) -> np.ndarray:
    """``labels`` that are class indices, checked to be whole numbers ``0 .. n_classes - 1``:
    a -1 or a 0.9 would otherwise index some other class, silently."""
    if labels.dtype.kind not in "biuf":
        bad = labels
    else:
        host = labels.astype(np.float64)
        bad = labels[~(np.isfinite(host) & (host == np.round(host)) & (host >= 0)
                       & (host < n_classes))]
    if bad.size:
        examples = sorted(set(bad.tolist()), key=str)[:5]
        raise ValueError(f"{name} holds {examples}, but this model has no classes (labels) to "
                         f"match them with, so {name} must hold class indices, whole numbers 0 "
                         f"to {n_classes - 1}; pass those, or give the model its classes "
                         "(Model(..., classes=[...]))")
    return labels.astype(np.int64)


def _regression_targets(y: Any, n_outputs: int, m: int) -> np.ndarray:
    """A regressor's targets ``y`` as float64 ``(n_outputs, m)``: given so, or as
    ``(m, n_outputs)``, or 1-D for one output; any other shape is refused, not reshaped."""
    given = _on_host(y)
    if given.dtype.kind not in "biuf":
        raise ValueError(f"y must hold numbers, a regressor's targets, got {given.dtype} values")
    truth = given.astype(np.float64)
    if truth.shape != (n_outputs, m):
        if truth.shape == (m, n_outputs) or (n_outputs == 1 and truth.shape == (m,)):
            truth = truth.reshape(m, n_outputs).T
        else:
            one = f" or ({m},)" if n_outputs == 1 else ""
            raise ValueError(f"y has shape {truth.shape}, but the model has {n_outputs} "
                             f"output(s) and X {m} samples: shape y ({n_outputs}, {m}) or "
                             f"({m}, {n_outputs}){one}, one target per output and sample")
    if not np.all(np.isfinite(truth)):
        raise ValueError("y holds NaN or infinity; remove those samples or impute their targets")
    return truth
