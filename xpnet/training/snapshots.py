"""The host copies of the weights that ``fit`` falls back on when training diverges.

``fit`` takes one at the start of every epoch and needs the two latest (this epoch's start
and the one before). They live in host memory, so the device holds only what training
needs, and the two sets of host buffers are reused epoch after epoch: a fresh host array
each epoch costs page faults on top of the copy. On CuPy the buffers are page-locked and
the copy runs on a CUDA stream of its own, so it overlaps the next batch's forward pass;
the training stream waits for it only before its first in-place update.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping
from typing import Any

import array_api_compat
import numpy as np

from ..backend import host_copy
from ..parameters import restore_params

Array = Any


class WeightSnapshots:
    """Two alternating sets of host copies of a network's parameters.

    ``take`` starts a copy into the older set and returns it; call ``before_update``
    before changing the parameters in place (the copy may still be reading them). On
    CuPy that orders the device's work only: read a set on the host after the device
    has caught up (``fit`` reads its epoch's metrics first, which waits for it).
    ``restore`` puts a set back on the parameters' device.
    """

    def __init__(self) -> None:
        self._sets: list[dict[str, np.ndarray]] = [{}, {}]
        self._turn = 0
        # A copy on CuPy that may still run: (training stream, copy stream, event at its
        # end), and whether the training stream has been told to wait for that event.
        self._in_flight: tuple[Any, Any, Any] | None = None
        self._ordered = True

    def take(self, params: Mapping[str, Array]) -> dict[str, np.ndarray]:
        """A host copy of ``params``, in buffers last used two takes ago (maybe still in flight)."""
        self.before_update()  # at most one copy in flight
        reused = self._sets[self._turn]
        if _all_cupy_on_current_device(params):
            self.close()  # the buffers about to be reused may not be read by a copy still running
            target, self._in_flight = _copy_from_cupy(params, reused)
            self._ordered = False
        else:
            target = {key: _copy_into(reused.get(key), value) for key, value in params.items()}
        self._sets[self._turn] = target
        self._turn = 1 - self._turn
        return target

    def before_update(self) -> None:
        """Order every later change of the parameters after the copy in flight, if any."""
        if not self._ordered and self._in_flight is not None:
            training, _, copied = self._in_flight
            training.wait_event(copied)
        self._ordered = True

    def restore(self, params: MutableMapping[str, Array], saved: Mapping[str, np.ndarray]) -> None:
        """Put ``saved`` (one of this object's sets) back into ``params``, on their device."""
        self.before_update()
        self.close()
        # A host array of the parameters' own library would be put in as it is: copy it, so
        # that the parameters never share memory with a buffer that a later take overwrites.
        restore_params(params, {key: value.copy() if type(params.get(key)) is type(value) else value
                                for key, value in saved.items()})
        if _all_cupy_on_current_device(params):
            # From page-locked memory CuPy copies asynchronously; the buffers must outlive it.
            _wait_for_current_stream()

    def __enter__(self) -> "WeightSnapshots":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Wait, on the host, for the copy in flight: after this the buffers may be read,
        reused or freed (``fit`` calls it however the training ends)."""
        if self._in_flight is not None:
            self._in_flight[2].synchronize()
            self._in_flight, self._ordered = None, True


def _wait_for_current_stream() -> None:
    import cupy

    cupy.cuda.get_current_stream().synchronize()


def _copy_into(buffer: np.ndarray | None, value: Array) -> np.ndarray:
    """``value`` copied into ``buffer`` when both are NumPy arrays of one shape and dtype,
    else into a new host array."""
    if (buffer is not None and isinstance(value, np.ndarray) and buffer.shape == value.shape
            and buffer.dtype == value.dtype):
        np.copyto(buffer, value)
        return buffer
    return host_copy(value)


def _all_cupy_on_current_device(params: Mapping[str, Array]) -> bool:
    if not params or not all(array_api_compat.is_cupy_array(v) for v in params.values()):
        return False
    import cupy

    current = cupy.cuda.Device().id
    return all(v.device.id == current for v in params.values())


def _copy_from_cupy(params: Mapping[str, Array], reused: Mapping[str, np.ndarray]
                    ) -> tuple[dict[str, np.ndarray], tuple[Any, Any, Any]]:
    """Start copying ``params`` into page-locked host buffers on a stream of its own, after
    the work already queued on the current stream; returns the buffers and
    ``(current stream, copy stream, event at the copy's end)``."""
    import cupy

    training = cupy.cuda.get_current_stream()
    copier = cupy.cuda.Stream(non_blocking=True)
    copier.wait_event(training.record())
    target = {}
    for key, value in params.items():
        host = reused.get(key)
        if host is None or host.shape != value.shape or host.dtype != value.dtype:
            host = _page_locked_empty(value.shape, value.dtype)
        value.get(stream=copier, out=host, blocking=False)
        target[key] = host
    # The copy stream is returned too: it must outlive the copy queued on it.
    return target, (training, copier, copier.record())


def _page_locked_empty(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialised NumPy array in page-locked host memory (from CuPy's pinned pool),
    or in ordinary memory where the system has no page-locked memory left (the copy into
    it then waits for the device: slower, never wrong)."""
    import cupy

    count = math.prod(shape)
    try:
        memory = cupy.cuda.alloc_pinned_memory(max(count, 1) * dtype.itemsize)
    except (cupy.cuda.runtime.CUDARuntimeError, MemoryError):
        return np.empty(shape, dtype)
    return np.frombuffer(memory, dtype, count).reshape(shape)
