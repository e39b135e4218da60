"""What the estimator tests share: the data they train on."""

import numpy as np


def blobs(n=150, n_classes=3, seed=0):
    """``n`` samples of 4 features around one center per class, and their labels."""
    rng = np.random.RandomState(seed)
    labels = rng.randint(n_classes, size=n)
    centers = rng.randn(n_classes, 4) * 4
    return centers[labels] + rng.randn(n, 4), labels
