"""backend="auto" weighs the work per training step: the rule, and where fit, the estimators
and the command line apply it. A GPU is faked where the test needs one: the availability
check answers yes, and the "cupy" loader gives array-api-strict, so no CuPy array is made."""

import logging

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet import workload
from xpnet.cli import info, main

from conftest import load_backend

TINY = ([64, 64, 10], 32)  # xpnet train's default digits network: 0.000647 GFLOP per step
LARGE = ([1000, 1000, 2], 256)  # 1.03 GFLOP per step


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(backend_module, "_cupy_problem", lambda: "CuPy cannot be imported (test)")


@pytest.fixture
def fake_gpu(monkeypatch):
    """A usable "GPU" whose namespace is array-api-strict (returned)."""
    strict = load_backend("array_api_strict")
    monkeypatch.setattr(backend_module, "_cupy_problem", lambda: None)
    monkeypatch.setitem(backend_module._LOADERS, "cupy", lambda: strict)
    monkeypatch.delenv(workload.THRESHOLD_ENV_VAR, raising=False)
    return strict


def test_step_flops_counts_six_per_weight_and_sample_less_the_first_input_gradient():
    assert workload.step_flops([784, 128, 64, 10], 256) == \
        6 * 256 * (784 * 128 + 128 * 64 + 64 * 10) - 2 * 256 * 784 * 128
    assert workload.step_flops([3, 2], 5) == 4 * 5 * 3 * 2


def test_a_tiny_network_stays_on_numpy_with_a_gpu_present(fake_gpu):
    choice = workload.choose_backend(*TINY)
    assert choice.backend == "numpy"
    assert str(choice).startswith("auto chose numpy: 0.000647 GFLOP per step < threshold 0.5 GFLOP")


def test_a_large_network_goes_to_the_gpu(fake_gpu):
    choice = workload.choose_backend(*LARGE)
    assert (choice.backend, round(choice.gflop, 2)) == ("cupy", 1.03)
    assert str(choice) == "auto chose cupy: 1.03 GFLOP per step >= threshold 0.5 GFLOP"


@pytest.mark.parametrize("layer_dims, batch_size", [TINY, LARGE, ([4096, 4096, 4096, 10], 4096)])
def test_without_a_gpu_auto_is_numpy_whatever_the_work(no_gpu, layer_dims, batch_size):
    choice = workload.choose_backend(layer_dims, batch_size)
    assert choice.backend == "numpy"
    assert str(choice) == "auto chose numpy: no usable GPU (CuPy cannot be imported (test))"


def test_the_threshold_follows_the_environment_variable(fake_gpu, monkeypatch):
    monkeypatch.setenv(workload.THRESHOLD_ENV_VAR, "2")
    assert workload.choose_backend(*LARGE).backend == "numpy"
    monkeypatch.setenv(workload.THRESHOLD_ENV_VAR, "0")
    assert workload.choose_backend(*TINY).backend == "cupy"


@pytest.mark.parametrize("value", ["fast", "-1", "nan", "inf"])
def test_a_bad_threshold_names_the_variable(fake_gpu, monkeypatch, value):
    monkeypatch.setenv(workload.THRESHOLD_ENV_VAR, value)
    with pytest.raises(ValueError, match=f"XPNET_AUTO_GPU_GFLOP='{value}': expected a number"):
        workload.choose_backend(*TINY)


def _data(layer_dims, m, seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(layer_dims[0], m), np.eye(layer_dims[-1])[:, rng.randint(layer_dims[-1], size=m)]


def test_fit_keeps_a_tiny_network_on_numpy_and_says_why(fake_gpu, caplog):
    X, Y = _data(TINY[0], 64)
    with caplog.at_level(logging.INFO, logger="xpnet"):
        params, _ = xpnet.fit(X, Y, TINY[0], epochs=1, batch_size=32, hidden="relu",
                              output="softmax", backend="auto", verbose=0)
    assert backend_module.backend_name(backend_module.namespace_of(**params)) == "numpy"
    assert "auto chose numpy: 0.000647 GFLOP per step < threshold" in caplog.text


def test_fit_sends_a_large_network_to_the_gpu(fake_gpu, capsys):
    X, Y = _data(LARGE[0], 256)
    params, _ = xpnet.fit(X, Y, LARGE[0], epochs=1, batch_size=256, lr=0.01, hidden="relu",
                          output="softmax", backend="auto", verbose=2)
    assert backend_module.namespace_of(**params) is fake_gpu
    assert "auto chose cupy: 1.03 GFLOP per step" in capsys.readouterr().err


def test_fit_weighs_the_full_batch_when_no_batch_size_is_given(fake_gpu):
    X, Y = _data(LARGE[0], 64)  # 64 samples in one batch: 0.26 GFLOP per step
    params, _ = xpnet.fit(X, Y, LARGE[0], epochs=1, backend="auto", verbose=0)
    assert backend_module.backend_name(backend_module.namespace_of(**params)) == "numpy"


def test_an_auto_selection_is_weighed_by_fit_too(fake_gpu):
    X, Y = _data(TINY[0], 32)
    with xpnet.use_backend("auto") as xp:
        assert xp is fake_gpu  # arrays made outside a run: the GPU, as before
        params, _ = xpnet.fit(X, Y, TINY[0], epochs=1, output="softmax", verbose=0)
    assert backend_module.backend_name(backend_module.namespace_of(**params)) == "numpy"


def test_fit_continuing_given_params_follows_them(fake_gpu):
    X, Y = _data(TINY[0], 32)
    params = xpnet.init_params(TINY[0], backend=fake_gpu)
    params, _ = xpnet.fit(X, Y, TINY[0], epochs=1, output="softmax", params=params,
                          backend="auto", verbose=0)
    assert backend_module.namespace_of(**params) is fake_gpu


def test_the_estimators_weigh_the_work(fake_gpu):
    rng = np.random.RandomState(0)
    y = rng.randint(2, size=256)
    small = xpnet.MLPClassifier((8,), max_iter=1).fit(rng.randn(256, 4), y)
    assert backend_module.backend_name(backend_module.namespace_of(**small.params_)) == "numpy"
    large = xpnet.MLPClassifier((1000,), max_iter=1, batch_size=256, early_stopping=True,
                                validation_fraction=0.2, n_iter_no_change=1)
    large.fit(rng.randn(320, 1000), np.r_[y, y[:64]])
    assert backend_module.namespace_of(**large.params_) is fake_gpu


def test_info_shows_the_rule_and_what_auto_picks(fake_gpu, capsys, monkeypatch):
    monkeypatch.setattr(info, "_gpu_line", lambda: "GPU: (faked)")  # it would ask CuPy
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "a training step is at least 0.5 GFLOP (XPNET_AUTO_GPU_GFLOP" in out
    assert "[64, 64, 10], batch 32" in out and "auto chose numpy: 0.000647 GFLOP per step" in out
    assert "[784, 1024, 1024, 10], batch 512" in out and "auto chose cupy: 4.9 GFLOP" in out


def test_train_says_which_backend_auto_chose(fake_gpu, capsys):
    assert main(["train", "--epochs", "1", "--backend", "auto"]) == 0
    assert "on the numpy backend (auto chose numpy: 0.000647 GFLOP per step" in \
        capsys.readouterr().out
