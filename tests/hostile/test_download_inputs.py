"""Hostile downloads: load_mnist against a mirror that lies, breaks off, stalls or is gone,
and a cache that was damaged. Everything is offline: the mirror is the fake one of
tests/test_datasets.py on 127.0.0.1, told to misbehave for one request at a time.

No download path extracts an archive (the .gz files are decompressed in memory by
read_idx), so members with '..', absolute paths or symlinks are covered where xpnet does
open an archive: the .npz model files, in test_file_inputs.py.
"""

import hashlib
import os
import socket
import threading

import numpy as np
import pytest

from xpnet.datasets import DataFileError, load_mnist
from xpnet.datasets import mnist as mnist_module


pooch = pytest.importorskip("pooch")

LABELS = "train-labels-idx1-ubyte.gz"
ALL_FILES = sorted(mnist_module.MNIST_SHA256)


def serve_bytes(data, *, length=None):
    """A fault: answer 200 with ``data``, announcing ``length`` bytes (default: its size)."""
    def fault(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data) if length is None else length))
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
        handler.close_connection = True
    return fault


def cut_short(mirror, name):
    """A fault: the connection breaks off after half of the file."""
    data = (mirror.root / name).read_bytes()
    return serve_bytes(data[:len(data) // 2], length=len(data))


RELEASE = threading.Event()


def never_answer(handler):
    """A fault: read the request, send nothing (until the test, done, releases it)."""
    RELEASE.wait(10)
    handler.close_connection = True


def not_found(handler):
    handler.send_error(404)


def endless(handler):
    """A fault: stream zeros for ever, with no Content-Length (until the client hangs up)."""
    handler.send_response(200)
    handler.end_headers()
    handler.close_connection = True
    try:
        while True:
            handler.wfile.write(bytes(1 << 16))
    except OSError:  # the client hung up
        pass


def cache_files(cache):
    """Every file under ``cache`` (temporary ones included), by name."""
    return sorted(p.name for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


def closed_port_url():
    """An http:// address on 127.0.0.1 where nothing listens: the network is gone."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def assert_mnist(result, mirror):
    X_train, Y_train, X_test, Y_test = result
    np.testing.assert_array_equal(Y_train.argmax(axis=0), mirror.arrays[LABELS])
    np.testing.assert_allclose(X_test[:, 0],
                               mirror.arrays["t10k-images-idx3-ubyte.gz"][0].ravel() / 255)


# ---- the mirror misbehaves ---------------------------------------------------------------------

def test_a_download_with_the_wrong_checksum_is_refused_showing_both_digests(
        hostile, mnist_mirror, tmp_path):
    tampered = b"\x1f\x8b not the labels at all"
    mnist_mirror.faults[f"/{LABELS}"] = serve_bytes(tampered)
    cache = tmp_path / "cache"
    with hostile.raises(DataFileError, LABELS, mnist_mirror.hashes[LABELS],
                        hashlib.sha256(tampered).hexdigest(), "nothing was cached",
                        "XPNET_MNIST_URL"):
        load_mnist(cache_dir=cache)
    assert LABELS not in cache_files(cache)
    assert all(name in ALL_FILES for name in cache_files(cache)), "a temporary file was left"


def test_an_interrupted_download_leaves_no_file_and_a_retry_works(hostile, mnist_mirror,
                                                                  tmp_path):
    mnist_mirror.faults[f"/{LABELS}"] = cut_short(mnist_mirror, LABELS)
    cache = tmp_path / "cache"
    with hostile.raises(OSError, LABELS, "check the network connection", "XPNET_MNIST_URL"):
        load_mnist(cache_dir=cache)
    assert LABELS not in cache_files(cache)
    assert all(name in ALL_FILES for name in cache_files(cache)), "a temporary file was left"
    assert_mnist(load_mnist(cache_dir=cache), mnist_mirror)  # the fault was one-shot
    assert cache_files(cache) == ALL_FILES


@pytest.mark.parametrize("fault, words", [
    (not_found, ("404",)),
    (never_answer, ("timed out",)),
], ids=["404", "no answer"])
def test_a_mirror_that_fails_a_request_gives_an_error_saying_what_to_do(
        hostile, mnist_mirror, tmp_path, monkeypatch, fault, words):
    monkeypatch.setattr(mnist_module, "DOWNLOAD_TIMEOUT", 0.5)
    mnist_mirror.faults[f"/{LABELS}"] = fault
    cache = tmp_path / "cache"
    RELEASE.clear()
    try:
        with hostile.raises(OSError, LABELS, *words, "check the network connection",
                            "XPNET_MNIST_URL"):
            load_mnist(cache_dir=cache)
    finally:
        RELEASE.set()
    assert LABELS not in cache_files(cache)


def test_a_mirror_that_never_stops_sending_is_cut_off_at_the_size_cap(
        hostile, mnist_mirror, tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_module, "MAX_DOWNLOAD_BYTES", 1 << 20)
    mnist_mirror.faults[f"/{LABELS}"] = endless
    cache = tmp_path / "cache"
    with hostile.raises(DataFileError, LABELS, "more than 1048576 bytes", "nothing was cached",
                        "XPNET_MNIST_URL"):
        load_mnist(cache_dir=cache)
    assert all(name in ALL_FILES for name in cache_files(cache)), "a temporary file was left"


# ---- the cache ---------------------------------------------------------------------------------

def test_a_bit_flipped_cached_file_is_downloaded_again_once(hostile, mnist_mirror, tmp_path):
    cache = tmp_path / "cache"
    load_mnist(cache_dir=cache)
    cached = cache / LABELS
    damaged = bytearray(cached.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    cached.write_bytes(bytes(damaged))
    mnist_mirror.requests.clear()
    assert_mnist(load_mnist(cache_dir=cache), mnist_mirror)
    assert mnist_mirror.requests == [f"/{LABELS}"]
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == mnist_mirror.hashes[LABELS]
    hostile.handled()


def test_offline_with_a_complete_cache_loads_from_it(hostile, mnist_mirror, tmp_path,
                                                     monkeypatch):
    cache = tmp_path / "cache"
    load_mnist(cache_dir=cache)
    monkeypatch.setenv("XPNET_MNIST_URL", closed_port_url())
    assert_mnist(load_mnist(cache_dir=cache), mnist_mirror)
    hostile.handled()


@pytest.mark.parametrize("cached", [[], [LABELS]], ids=["empty cache", "partial cache"])
def test_offline_without_a_complete_cache_says_what_to_do(hostile, mnist_mirror, tmp_path,
                                                          monkeypatch, cached):
    cache = tmp_path / "cache"
    cache.mkdir()
    for name in cached:
        (cache / name).write_bytes((mnist_mirror.root / name).read_bytes())
    monkeypatch.setenv("XPNET_MNIST_URL", closed_port_url())
    with hostile.raises(OSError, "could not download", "idx", "check the network connection",
                        "XPNET_MNIST_URL"):
        load_mnist(cache_dir=cache)
    assert cache_files(cache) == sorted(cached)


def test_offline_with_a_damaged_cached_file_keeps_it_and_says_what_to_do(
        hostile, mnist_mirror, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    load_mnist(cache_dir=cache)
    (cache / LABELS).write_bytes(b"damaged")
    monkeypatch.setenv("XPNET_MNIST_URL", closed_port_url())
    with hostile.raises(OSError, LABELS, "check the network connection"):
        load_mnist(cache_dir=cache)
    assert cache_files(cache) == ALL_FILES


# ---- bad arguments -----------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, words", [
    (lambda t: t.joinpath("cache").touch() or t / "cache", NotADirectoryError,
     ("cache_dir", "not a directory", "pass the directory")),
    (lambda t: 42, TypeError, ("cache_dir", "str or pathlib.Path")),
], ids=["a file", "an int"])
def test_a_cache_dir_that_cannot_be_one_is_refused_naming_it(hostile, mnist_mirror, tmp_path,
                                                             make, error, words):
    with hostile.raises(error, *words):
        load_mnist(cache_dir=make(tmp_path))
    assert mnist_mirror.requests == []


@pytest.mark.parametrize("url", ["gopher://127.0.0.1/mnist/", "127.0.0.1/mnist", "file:///mnist"])
def test_a_mirror_address_that_cannot_be_downloaded_from_names_the_variable(
        hostile, mnist_mirror, tmp_path, monkeypatch, url):
    monkeypatch.setenv("XPNET_MNIST_URL", url)
    with hostile.raises(ValueError, "XPNET_MNIST_URL", "https://"):
        load_mnist(cache_dir=tmp_path / "cache")
    assert cache_files(tmp_path / "cache") == []


def test_a_mirror_address_with_spaces_and_no_trailing_slash_works(hostile, mnist_mirror,
                                                                  tmp_path, monkeypatch):
    monkeypatch.setenv("XPNET_MNIST_URL", f"  {os.environ['XPNET_MNIST_URL']}  ")
    assert_mnist(load_mnist(cache_dir=tmp_path / "cache"), mnist_mirror)
    hostile.handled()
