"""Shared fixtures: one ``xp`` fixture spans every backend this machine can run."""

import collections
import functools
import gzip
import hashlib
import http.server
import os
import struct
import subprocess
import sys
import threading
import types

# JAX computes in float32 unless 64-bit mode is on before it is imported; the
# gradient checks and cross-backend comparisons need float64.
os.environ.setdefault("JAX_ENABLE_X64", "1")

import numpy as np
import pytest

import xpnet
from xpnet import backend as backend_module
from xpnet.datasets import mnist as mnist_module
from xpnet.errors import BackendUnavailableError

CPU_BACKENDS = ["numpy", "array_api_strict", "torch", "jax"]
ALL_BACKENDS = CPU_BACKENDS + [pytest.param("cupy", marks=pytest.mark.gpu)]


def pytest_collection_modifyitems(config, items):
    if any("gpu" in item.keywords for item in items) and not xpnet.gpu_available():
        skip = pytest.mark.skip(reason=f"no usable GPU: {backend_module._cupy_problem()}")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


def skip_reason(report):
    """The reason a skipped test's report gives (pytest stores ``(path, line, "Skipped: ...")``)."""
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter):
    # Hundreds of tests skip for a few reasons (a backend or a GPU missing here): one line per
    # reason with its count keeps the failures (-rfE) and pytest's closing counts readable.
    counts = collections.Counter(skip_reason(r) for r in terminalreporter.stats.get("skipped", []))
    if counts:
        terminalreporter.section("skipped tests, by reason")
        for reason, count in counts.most_common():
            terminalreporter.line(f"{count:5d} x {reason}")


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


def run_without_jax_64_bit_types(code):
    """Run Python ``code`` in a fresh interpreter with JAX in its default mode (no float64:
    this suite turns 64-bit types on); returns its stdout, once it exited with status 0."""
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def random_targets(rng, output, n_out, m):
    """Valid targets for the loss that ``output`` implies, as a float64 NumPy array."""
    if output == "sigmoid":
        return (rng.rand(n_out, m) > 0.5).astype(np.float64)
    if output == "softmax":
        return np.eye(n_out)[:, rng.randint(n_out, size=m)]
    return rng.randn(n_out, m)


# ---- IDX files and a fake MNIST mirror (datasets tests and the hostile downloads) ---------

IDX_CODES = {"uint8": 0x08, "int8": 0x09, "int16": 0x0B, "int32": 0x0C, "float32": 0x0D,
             "float64": 0x0E}


def idx_bytes(array, code=None):
    """``array`` in IDX layout, written here independently of the reader."""
    array = np.asarray(array)
    code = IDX_CODES[array.dtype.name] if code is None else code
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, compress=False):
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


class _MirrorHandler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        fault = self.server.faults.pop(self.path, None)
        if fault is not None:  # a test's one-shot misbehaviour answers this request instead
            fault(self)
            return
        super().do_GET()

    def log_message(self, format, *args):  # keep the test output quiet
        pass


@pytest.fixture
def mnist_mirror(tmp_path, monkeypatch):
    """A fake MNIST mirror on 127.0.0.1 serving tiny IDX files whose checksums are pinned.

    ``faults[path] = f`` makes the next request for ``path`` answered by ``f(handler)``.
    """
    root = tmp_path / "mirror"
    root.mkdir()
    rng = np.random.RandomState(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.randint(256, size=(6, 28, 28)).astype(np.uint8),
        "train-labels-idx1-ubyte.gz": np.array([5, 0, 4, 1, 9, 2], dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.randint(256, size=(3, 28, 28)).astype(np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.array([7, 2, 1], dtype=np.uint8),
    }
    hashes = {}
    for name, array in arrays.items():
        path = write_idx(root / name, array, compress=True)
        hashes[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setattr(mnist_module, "MNIST_SHA256", hashes)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_MirrorHandler, directory=str(root)))
    server.requests = []
    server.faults = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # No trailing slash: load_mnist adds it.
    monkeypatch.setenv("XPNET_MNIST_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    try:
        yield types.SimpleNamespace(root=root, arrays=arrays, hashes=hashes,
                                    requests=server.requests, faults=server.faults)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
