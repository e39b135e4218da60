"""fit's per-epoch host copies of the weights: taken, kept apart from later changes, restored."""

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet.snapshots import WeightSnapshots


def small_params(xp, dtype="float32"):
    return xpnet.init_params([5, 4, 3], seed=0, scale="he", dtype=dtype, backend=xp)


def doubled(params):
    """``params`` with every array doubled: new arrays, as an update that replaces them makes."""
    return {key: value * 2 for key, value in params.items()}


def test_a_snapshot_is_a_host_copy_that_later_changes_do_not_reach(xp):
    params = small_params(xp)
    expected = {key: xpnet.to_numpy(value).copy() for key, value in params.items()}
    snapshots = WeightSnapshots()
    saved = snapshots.take(params)
    snapshots.before_update()
    params.update(doubled(params))
    for key in expected:
        assert type(saved[key]) is np.ndarray
        np.testing.assert_array_equal(saved[key], expected[key])


def test_two_snapshots_alternate_and_each_reuses_its_buffers_on_numpy():
    params = small_params(np)
    snapshots = WeightSnapshots()
    first = snapshots.take(params)
    first_buffers = {key: value for key, value in first.items()}
    np.multiply(params["W1"], 2, out=params["W1"])  # in place, as the training step does
    second = snapshots.take(params)
    assert all(second[key] is not first[key] for key in params)
    np.testing.assert_array_equal(second["W1"], 2 * first["W1"])
    params["W1"] += 1
    third = snapshots.take(params)
    assert all(third[key] is first_buffers[key] for key in params), "buffers two takes old are reused"
    np.testing.assert_array_equal(third["W1"], params["W1"])
    assert not np.shares_memory(third["W1"], params["W1"])


def test_restore_puts_a_snapshot_back_on_the_parameters_backend(xp):
    params = small_params(xp)
    snapshots = WeightSnapshots()
    saved = snapshots.take(params)
    expected = {key: value.copy() for key, value in saved.items()}
    params.update(doubled(params))
    snapshots.restore(params, saved)
    for key, value in params.items():
        assert backend_module.namespace_of(p=value) is xp
        np.testing.assert_array_equal(xpnet.to_numpy(value), expected[key])


@pytest.mark.gpu
def test_on_cupy_the_copy_is_page_locked_and_ordered_before_in_place_updates():
    import cupy

    params = {"W1": cupy.arange(4096 * 1024, dtype=cupy.float32).reshape(4096, 1024),
              "b1": cupy.ones((4096, 1), dtype=cupy.float32)}
    expected = {key: value.get() for key, value in params.items()}
    snapshots = WeightSnapshots()
    saved = snapshots.take(params)
    snapshots.before_update()
    for value in params.values():  # in place, queued right behind the copy
        value *= -1
    cupy.cuda.get_current_stream().synchronize()
    for key, value in saved.items():
        np.testing.assert_array_equal(value, expected[key])
        attributes = cupy.cuda.runtime.pointerGetAttributes(value.ctypes.data)
        assert attributes.type == cupy.cuda.runtime.memoryTypeHost, "not page-locked"
    again = snapshots.take(params)
    third = snapshots.take(params)
    assert all(saved[key] is not again[key] and third[key] is saved[key] for key in params), \
        "the page-locked buffers of two takes ago are reused"
    snapshots.restore(params, again)
    np.testing.assert_array_equal(params["W1"].get(), -expected["W1"])
