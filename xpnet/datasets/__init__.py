"""Datasets in the tutorial's layout, as host-side NumPy arrays.

``X`` is ``(n_features, n_samples)``; ``Y`` is ``(1, n_samples)`` of 0/1 labels for
binary problems, or one-hot ``(n_classes, n_samples)`` for multi-class ones.

- generated: ``make_moons``, ``make_spirals``, ``make_blobs``
- shipped with xpnet: ``load_digits`` (8x8 handwritten digits)
- downloaded once and cached: ``load_mnist`` (needs ``pip install "xpnet[mnist]"``)
- your own data: ``read_table`` (CSV, ``.npz``, a ``.npy`` pair)
- helpers: ``one_hot``, ``train_test_split``, ``stratified_split``, ``read_idx``
"""

from ._common import DataFileError
from .digits import load_digits
from .idx import read_idx
from .mnist import load_mnist
from .preprocessing import one_hot, stratified_split, train_test_split
from .synthetic import make_blobs, make_moons, make_spirals
from .tables import Table, read_table

__all__ = [
    "DataFileError", "Table", "load_digits", "load_mnist", "make_blobs", "make_moons", "make_spirals",
    "one_hot", "read_idx", "read_table", "stratified_split",
    "train_test_split",
]
