"""allow_tf32: what it switches, that it switches back, and TF32's precision on a GPU."""

import os
import sys
import types
from contextlib import ExitStack

import numpy as np
import pytest

import xpnet
from xpnet.precision import _switch, allow_tf32


def test_allow_tf32_refuses_a_setting_that_is_not_a_bool():
    with pytest.raises(TypeError, match="enabled must be True or False"):
        with allow_tf32("yes"):
            pass


def test_without_a_gpu_allow_tf32_switches_no_gpu_library():
    if xpnet.gpu_available():
        pytest.skip("this machine has a GPU: the GPU tests below cover it")
    with allow_tf32() as switched:
        assert "cupy" not in switched


@pytest.mark.parametrize("enabled, inside", [(True, "tf32"), (False, "ieee")])
def test_pytorch_precision_is_switched_and_restored_even_on_error(enabled, inside, monkeypatch):
    torch = pytest.importorskip("torch")
    matmul = torch.backends.cuda.matmul
    if not hasattr(matmul, "fp32_precision"):
        pytest.skip("PyTorch before 2.9: the older knob is tested below")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # the setting needs no GPU
    before = matmul.fp32_precision
    matmul.fp32_precision = "none"  # a setting the block must give back
    try:
        with pytest.raises(RuntimeError, match="inside"):
            with allow_tf32(enabled) as switched:
                assert "torch" in switched
                assert matmul.fp32_precision == inside
                raise RuntimeError("inside")
        assert matmul.fp32_precision == "none"
    finally:
        matmul.fp32_precision = before


def test_an_older_pytorch_is_switched_through_its_matmul_precision(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.cuda, "matmul", types.SimpleNamespace())  # no fp32_precision
    setting = ["medium"]
    monkeypatch.setattr(torch, "get_float32_matmul_precision", lambda: setting[0])
    monkeypatch.setattr(torch, "set_float32_matmul_precision", lambda value: setting.__setitem__(0, value))
    with allow_tf32():
        assert setting == ["high"]
    assert setting == ["medium"]


def test_a_switch_that_fails_half_way_is_undone():
    state = {"compute": "full", "math": "full"}

    def write(setting):
        state["compute"] = setting
        if setting == "tf32":
            raise RuntimeError("the second setting failed")
        state["math"] = setting

    with pytest.raises(RuntimeError, match="second setting"):
        with ExitStack() as restore:
            _switch(restore, (lambda: "full", write), True)
    assert state == {"compute": "full", "math": "full"}


def test_pytorch_without_cuda_is_left_alone(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    before = torch.get_float32_matmul_precision()
    with allow_tf32() as switched:
        assert "torch" not in switched
        assert torch.get_float32_matmul_precision() == before


def test_allow_tf32_does_not_import_pytorch(monkeypatch):
    # Imports are process-wide, so the test hides PyTorch instead of unloading it.
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    with allow_tf32() as switched:
        assert "torch" not in switched
        assert "torch" not in sys.modules


def relative_error(found, expected):
    return float(np.abs(found - expected).max() / np.abs(expected).max())


@pytest.mark.gpu
def test_tf32_rounds_cupy_products_inside_the_block_only():
    cupy = pytest.importorskip("cupy")
    from xpnet.kernels import add_product_into

    if int(cupy.cuda.Device().compute_capability) < 80:
        pytest.skip("TF32 needs an NVIDIA GPU of compute capability 8.0 or later")
    if os.environ.get("CUPY_TF32", "0") != "0":
        pytest.skip("CUPY_TF32 is set: products outside the block are TF32 too")
    rng = np.random.RandomState(0)
    A, B = (rng.standard_normal((512, 512)).astype("float32") for _ in range(2))
    expected = A.astype("float64") @ B.astype("float64").T
    a, b = cupy.asarray(A), cupy.asarray(B)

    def errors():
        fused = cupy.zeros((512, 512), "float32")
        assert add_product_into(fused, 1.0, a, b, 0.0)
        return relative_error((a @ b.T).get(), expected), relative_error(fused.get(), expected)

    full = errors()
    with allow_tf32() as switched:
        assert "cupy" in switched
        tf32 = errors()
        with allow_tf32(False):
            forced = errors()
    after = errors()
    assert max(full) < 1e-5 and max(forced) < 1e-5 and max(after) < 1e-5
    assert min(tf32) > 3e-5, f"both product paths run in TF32 inside the block: {tf32}"
    assert max(tf32) < 1e-2


@pytest.mark.gpu
def test_fit_in_tf32_trains_as_in_float32():
    cupy = pytest.importorskip("cupy")
    if int(cupy.cuda.Device().compute_capability) < 80:
        pytest.skip("TF32 needs an NVIDIA GPU of compute capability 8.0 or later")
    rng = np.random.RandomState(1)
    X = rng.standard_normal((20, 512)).astype("float32")
    Y = np.eye(3, dtype="float32")[:, (X[0] + X[1] > 0).astype(int) + (X[2] > 1)]
    losses = []
    for enabled in (False, True):
        with allow_tf32(enabled):
            _, history = xpnet.fit(X, Y, [20, 256, 3], epochs=20, lr=0.1, batch_size=64,
                                   hidden="relu", output="softmax", scale="he", seed=3,
                                   dtype="float32", backend="cupy", verbose=0)
        losses.append(np.asarray(history.loss))
    assert losses[1][-1] < 0.5 * losses[1][0]
    np.testing.assert_allclose(losses[1], losses[0], rtol=2e-2)
