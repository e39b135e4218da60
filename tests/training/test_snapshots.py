"""fit's per-epoch host copies of the weights: taken, kept apart from later changes, restored."""

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet.backend import is_writeable
from xpnet.training.snapshots import WeightSnapshots


def small_params(xp, dtype="float32"):
    return xpnet.init_params([5, 4, 3], seed=0, scale="he", dtype=dtype, backend=xp)


def double(params):
    """Double every array of ``params``: in place where the library allows, as the
    training step updates them, else (JAX) by replacing it."""
    for key, value in params.items():
        if is_writeable(value):
            value *= 2
        else:
            params[key] = value * 2


def test_a_snapshot_is_a_host_copy_that_later_changes_do_not_reach(xp):
    params = small_params(xp)
    expected = {key: xpnet.to_numpy(value).copy() for key, value in params.items()}
    snapshots = WeightSnapshots()
    saved = snapshots.take(params)
    snapshots.before_update()
    double(params)
    for key in expected:
        assert type(saved[key]) is np.ndarray
        np.testing.assert_array_equal(saved[key], expected[key])
        np.testing.assert_array_equal(xpnet.to_numpy(params[key]), 2 * expected[key])


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
    double(params)
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


def test_fit_closes_its_snapshots_however_the_training_ends(monkeypatch):
    closed = []
    monkeypatch.setattr(WeightSnapshots, "close", lambda self: closed.append(self))

    def failing(epoch, logs, params):
        raise KeyboardInterrupt

    X = np.random.RandomState(0).randn(2, 20)
    with pytest.raises(KeyboardInterrupt):
        xpnet.fit(X, (X[:1] > 0).astype(float), [2, 3, 1], epochs=3, callbacks=[failing], verbose=0)
    xpnet.fit(X, (X[:1] > 0).astype(float), [2, 3, 1], epochs=2, verbose=0)
    assert len(closed) == 2 and closed[0] is not closed[1]


@pytest.mark.gpu
def test_on_cupy_close_waits_for_the_copy_so_the_host_may_read_it():
    import cupy

    params = {"W1": cupy.arange(2048 * 2048, dtype=cupy.float32).reshape(2048, 2048)}
    snapshots = WeightSnapshots()
    saved = snapshots.take(params)
    snapshots.close()  # no before_update, no device synchronisation: close alone must do
    np.testing.assert_array_equal(saved["W1"], params["W1"].get())


def test_the_device_copy_is_waited_for_once_by_the_training_and_by_the_host_on_close(monkeypatch):
    # The CuPy path's ordering, with recording stand-ins for its streams and events.
    from xpnet.training import snapshots as module

    calls = []

    class Recorder:
        def __init__(self, name):
            self.name = name

        def wait_event(self, event):
            calls.append((self.name, "waits for", event.name))

        def synchronize(self):
            calls.append(("host", "waits for", self.name))

    def fake_copy(params, reused):
        number = sum(1 for call in calls if call[0] == "copy") + 1
        calls.append(("copy", number))
        return ({key: np.zeros(1) for key in params},
                (Recorder("training"), Recorder("copier"), Recorder(f"copy {number}")))

    monkeypatch.setattr(module, "_all_cupy_on_current_device", lambda params: True)
    monkeypatch.setattr(module, "_copy_from_cupy", fake_copy)
    monkeypatch.setattr(module, "restore_params", lambda params, saved: calls.append(("restore",)))
    monkeypatch.setattr(module, "_wait_for_current_stream", lambda: calls.append(("host", "syncs")))
    with WeightSnapshots() as snapshots:
        saved = snapshots.take({"W1": None})
        snapshots.before_update()
        snapshots.before_update()  # once is enough
        snapshots.take({"W1": None})  # the host waits for copy 1 before reusing buffers
        snapshots.restore({"W1": None}, saved)
    assert calls == [("copy", 1), ("training", "waits for", "copy 1"),
                     ("host", "waits for", "copy 1"), ("copy", 2),
                     ("training", "waits for", "copy 2"), ("host", "waits for", "copy 2"),
                     ("restore",), ("host", "syncs")]
