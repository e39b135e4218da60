"""Shared fixtures: one ``xp`` fixture spans every backend this machine can run."""

import os

# JAX computes in float32 unless 64-bit mode is on before it is imported; the
# gradient checks and cross-backend comparisons need float64.
os.environ.setdefault("JAX_ENABLE_X64", "1")

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet.errors import BackendUnavailableError

CPU_BACKENDS = ["numpy", "array_api_strict", "torch", "jax"]
ALL_BACKENDS = CPU_BACKENDS + [pytest.param("cupy", marks=pytest.mark.gpu)]


def pytest_collection_modifyitems(config, items):
    if any("gpu" in item.keywords for item in items) and not xpnet.gpu_available():
        skip = pytest.mark.skip(reason=f"no usable GPU: {backend_module._cupy_problem()}")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


def load_backend(name):
    """The namespace for ``name``, or a skip that says why it cannot run here."""
    try:
        return backend_module.resolve_backend(name)
    except BackendUnavailableError as exc:
        pytest.skip(f"{name} backend unavailable: {exc}")


@pytest.fixture(params=ALL_BACKENDS)
def xp(request):
    """Each backend's array namespace in turn (skipped with the reason where it cannot run)."""
    return load_backend(request.param)


@pytest.fixture(autouse=True)
def _isolated_backend_selection(monkeypatch):
    # Tests that call set_backend must not leak their choice into other tests.
    monkeypatch.setattr(backend_module, "_process_default", backend_module._process_default)


def random_targets(rng, output, n_out, m):
    """Valid targets for the loss that ``output`` implies, as a float64 NumPy array."""
    if output == "sigmoid":
        return (rng.rand(n_out, m) > 0.5).astype(np.float64)
    if output == "softmax":
        return np.eye(n_out)[:, rng.randint(n_out, size=m)]
    return rng.randn(n_out, m)
