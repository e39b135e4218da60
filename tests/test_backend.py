"""The backend selector, conversions and the errors for backends that cannot run."""

import operator
import sys
import threading

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet.errors import BackendUnavailableError

from conftest import load_backend


@pytest.fixture
def no_environment_choice(monkeypatch):
    monkeypatch.delenv("XPNET_BACKEND", raising=False)
    monkeypatch.setattr(backend_module, "_process_default", None)


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(backend_module, "_cupy_problem", lambda: "CuPy cannot be imported (test)")


def test_default_backend_is_numpy(no_environment_choice):
    assert backend_module.backend_name(xpnet.get_backend()) == "numpy"


def test_environment_variable_sets_the_process_default(no_environment_choice, monkeypatch):
    monkeypatch.setenv("XPNET_BACKEND", "array_api_strict")
    assert backend_module.backend_name(xpnet.get_backend()) == "array_api_strict"


def test_unknown_environment_backend_names_the_variable(no_environment_choice, monkeypatch):
    monkeypatch.setenv("XPNET_BACKEND", "tensorflow")
    with pytest.raises(ValueError, match="XPNET_BACKEND='tensorflow'.*numpy, cupy, auto"):
        xpnet.get_backend()


def test_set_backend_changes_where_new_arrays_are_created():
    strict = load_backend("array_api_strict")
    xpnet.set_backend("array_api_strict")
    assert xpnet.get_backend() is strict
    assert backend_module.namespace_of(W=xpnet.init_params([2, 1])["W1"]) is strict


def test_use_backend_is_scoped_and_restores_the_previous_choice():
    strict = load_backend("array_api_strict")
    xpnet.set_backend("numpy")
    with xpnet.use_backend("array_api_strict") as xp:
        assert xp is strict and xpnet.get_backend() is strict
        assert backend_module.namespace_of(X=xpnet.asarray([1.0])) is strict
    assert backend_module.backend_name(xpnet.get_backend()) == "numpy"


def test_use_backend_does_not_leak_into_other_threads():
    load_backend("array_api_strict")
    xpnet.set_backend("numpy")
    seen = []
    with xpnet.use_backend("array_api_strict"):
        thread = threading.Thread(target=lambda: seen.append(xpnet.get_backend()))
        thread.start()
        thread.join()
    assert backend_module.backend_name(seen[0]) == "numpy"


def test_a_namespace_module_can_be_passed_instead_of_a_name():
    assert xpnet.set_backend(np) is backend_module.resolve_backend("numpy")
    strict = load_backend("array_api_strict")
    assert backend_module.resolve_backend(strict) is strict


@pytest.mark.parametrize("name, canonical", [("NumPy", "numpy"), (" numpy ", "numpy"),
                                             ("array-api-strict", "array_api_strict")])
def test_backend_names_are_forgiving_about_case_and_dashes(name, canonical):
    assert backend_module.resolve_backend(name) is load_backend(canonical)


def test_unknown_backend_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown backend 'tensorflow'; valid names are numpy, cupy, "
                                         "auto, array_api_strict, torch, jax"):
        xpnet.set_backend("tensorflow")


def test_backend_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="backend must be one of the names"):
        xpnet.set_backend(3)


def test_auto_falls_back_to_numpy_without_a_gpu(no_gpu):
    assert xpnet.gpu_available() is False
    assert backend_module.backend_name(xpnet.set_backend("auto")) == "numpy"


def test_cupy_without_cupy_installed_says_why_and_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail
    monkeypatch.setattr(backend_module, "_cupy_problem", backend_module._cupy_problem.__wrapped__)
    with pytest.raises(BackendUnavailableError, match=r"'cupy' backend cannot run: CuPy cannot be "
                                                      r"imported.*pip install \"xpnet\[cuda12\]\""):
        xpnet.set_backend("cupy")
    assert xpnet.gpu_available() is False


def test_missing_optional_package_raises_backend_unavailable_not_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(BackendUnavailableError, match="'torch' cannot be imported.*pip install torch"):
        backend_module.resolve_backend("torch")


def test_backend_unavailable_error_is_an_xpnet_error():
    assert issubclass(BackendUnavailableError, xpnet.XpnetError)


def test_to_numpy_returns_host_values(xp):
    x = xp.asarray([[1.0, 2.0], [3.0, 4.0]])
    host = xpnet.to_numpy(x)
    assert isinstance(host, np.ndarray)
    np.testing.assert_array_equal(host, [[1.0, 2.0], [3.0, 4.0]])


def test_asarray_puts_host_data_on_the_backend_with_the_dtype(xp):
    x = xpnet.asarray([[1, 2], [3, 4]], backend=xp, dtype="float32")
    assert backend_module.namespace_of(x=x) is xp
    assert x.dtype == xp.float32
    np.testing.assert_array_equal(xpnet.to_numpy(x), [[1, 2], [3, 4]])


def test_asarray_moves_arrays_between_backends(xp):
    strict = load_backend("array_api_strict")
    x = xpnet.asarray(np.arange(6.0).reshape(2, 3), backend=strict)
    moved = xpnet.asarray(x, backend=xp)
    assert backend_module.namespace_of(x=moved) is xp
    np.testing.assert_array_equal(xpnet.to_numpy(moved), np.arange(6.0).reshape(2, 3))


def test_asarray_keeps_an_array_already_on_the_backend():
    x = np.ones((2, 2))
    assert xpnet.asarray(x, backend="numpy") is x


def test_asarray_refuses_non_numeric_data():
    with pytest.raises(TypeError, match="dtype <U1"):
        xpnet.asarray(["a", "b"], backend="numpy")


def test_asarray_rejects_unknown_dtype_names():
    with pytest.raises(ValueError, match="unknown dtype 'float128x'"):
        xpnet.asarray([1.0], backend="numpy", dtype="float128x")


def test_arrays_of_two_backends_in_one_call_name_both():
    strict = load_backend("array_api_strict")
    AL = np.full((1, 3), 0.5)
    Y = strict.asarray([[0.0, 1.0, 1.0]])
    with pytest.raises(TypeError, match="AL on numpy but Y on array_api_strict"):
        xpnet.cost_function(AL, Y)


def test_asarray_never_lets_training_write_into_the_callers_data(xp):
    host_W, host_b = np.ones((2, 3)), np.zeros((2, 1))
    params = {"W1": xpnet.asarray(host_W, xp), "b1": xpnet.asarray(host_b, xp)}
    grads = {"dW1": xpnet.asarray(np.ones((2, 3)), xp), "db1": xpnet.asarray(np.ones((2, 1)), xp)}
    if backend_module.backend_name(xp) == "numpy":
        params = {k: xpnet.asarray(v.copy(), xp) for k, v in params.items()}  # NumPy aliases by design
    xpnet.update_parameters(params, grads, 0.1)
    np.testing.assert_array_equal(host_W, np.ones((2, 3)))
    np.testing.assert_array_equal(xpnet.to_numpy(params["W1"]), np.full((2, 3), 0.9))


def test_asarray_accepts_reversed_and_read_only_views(xp):
    host = np.arange(6.0).reshape(2, 3)
    host.flags.writeable = False
    np.testing.assert_array_equal(xpnet.to_numpy(xpnet.asarray(host[:, ::-1], xp)), host[:, ::-1])


def test_asarray_refuses_complex_numbers():
    with pytest.raises(TypeError, match="dtype complex128: xpnet needs real numbers"):
        xpnet.asarray(np.ones(2, dtype=complex), backend="numpy")


def test_python_types_name_dtypes():
    assert xpnet.asarray([1, 2], backend="numpy", dtype=float).dtype == np.float64


def test_is_writeable_reads_numpy_flags_and_defers_to_array_api_compat_elsewhere(xp):
    import array_api_compat

    a = xpnet.asarray(np.zeros(3), xp)
    assert backend_module.is_writeable(a) == array_api_compat.is_writeable_array(a)
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    assert backend_module.is_writeable(np.zeros(3)) and not backend_module.is_writeable(frozen)


def test_in_place_writes_into_writeable_numpy_arrays_and_copies_read_only_ones():
    owned = np.ones((2, 3))
    assert backend_module.in_place(owned, operator.mul, 2.0) is owned
    np.testing.assert_array_equal(owned, np.full((2, 3), 2.0))
    frozen = np.ones((2, 3))
    frozen.flags.writeable = False
    result = backend_module.in_place(frozen, operator.add, 1.0)
    assert result is not frozen
    np.testing.assert_array_equal(result, np.full((2, 3), 2.0))
    np.testing.assert_array_equal(frozen, np.ones((2, 3)))  # untouched


def test_in_place_on_a_writeable_array_refuses_what_does_not_fit_it():
    # Not a silent out-of-place result of another shape or dtype: the in-place error.
    with pytest.raises(ValueError, match="broadcast"):
        backend_module.in_place(np.ones((1, 3)), operator.add, np.ones((2, 3)))
    with pytest.raises(TypeError):
        backend_module.in_place(np.ones(3, dtype=int), operator.add, 0.5)


def test_backend_name_without_an_argument_names_the_selected_backend(no_environment_choice):
    assert "backend_name" in xpnet.__all__
    assert xpnet.backend_name() == "numpy"
    with xpnet.use_backend("array_api_strict"):
        assert xpnet.backend_name() == "array_api_strict"
        assert xpnet.backend_name(xpnet.get_backend()) == "array_api_strict"
    assert xpnet.get_backend() is backend_module.resolve_backend("numpy")  # still the namespace
